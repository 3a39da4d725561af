"""Tests for the Kaldi-compatible data-dir scripts: utils/{validate_data_dir,fix_data_dir,copy_data_dir,
combine_data,subset_data_dir}.sh (thin wrappers over speechsent.bin.data_dir)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UTILS = ROOT / "utils"
SCRIPTS = (
    "validate_data_dir.sh",
    "fix_data_dir.sh",
    "copy_data_dir.sh",
    "combine_data.sh",
    "subset_data_dir.sh",
)


def _load_cases():
    path = ROOT / "test" / "kaldi" / "data_dir_cases.py"
    spec = importlib.util.spec_from_file_location("speechsent_test_data_dir_cases", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cases = _load_cases()


def run(script: str, *args, cwd=None, env=None, python=None):
    environ = {**os.environ, **(env or {})}
    environ["SPEECHSENT_PYTHON"] = python or sys.executable
    environ.pop("PYTHONPATH", None)  # the scripts must find the package themselves
    return subprocess.run(
        [str(UTILS / script), *map(str, args)],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def table(path: Path) -> dict[str, str]:
    return dict(line.split(" ", 1) if " " in line else (line, "") for line in path.read_text().splitlines())


@pytest.fixture
def valid(tmp_path):
    return cases.make_valid_dir(tmp_path / "data" / "swbd_train")


# ----------------------------------------------------------------------------------------------------------
# validate_data_dir.sh


def test_validate_valid(valid):
    r = run("validate_data_dir.sh", valid)
    assert r.returncode == 0, r.stderr
    assert "Successfully validated data-directory" in r.stdout


@pytest.mark.parametrize("case", cases.BROKEN, ids=lambda c: c.id)
def test_validate_every_check_fails(tmp_path, case):
    d = cases.make_valid_dir(tmp_path / "d")
    case.mutate(d)
    r = run("validate_data_dir.sh", *case.options, d)
    assert r.returncode != 0, f"{case.id}: exit 0\n{r.stdout}{r.stderr}"
    assert str(d / case.file) in r.stderr, r.stderr
    assert case.fragment in r.stderr, r.stderr


def test_validate_options(valid):
    for name in ("feats.scp", "utt2num_frames", "cmvn.scp", "text"):
        (valid / name).unlink()
    r = run("validate_data_dir.sh", valid)
    assert r.returncode == 1 and "feats.scp" in r.stderr and "text" in r.stderr
    r = run("validate_data_dir.sh", "--no-feats", "--no-text", "--non-print", "--no-spk-sort", valid)
    assert r.returncode == 0, r.stderr
    r = run("validate_data_dir.sh", valid, "--no-text", "--no-feats")  # options after the directory too
    assert r.returncode == 0, r.stderr


def test_validate_bare_system_python(valid):
    """The scripts run with a python3 that has nothing but the standard library."""
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None:
        pytest.skip("no system python3")
    r = run("validate_data_dir.sh", valid, python=python)
    assert r.returncode == 0, r.stderr
    cases._set_value("utt2sentiment", "Happy")(valid)
    r = run("validate_data_dir.sh", valid, python=python)
    assert r.returncode == 1 and "utt2sentiment" in r.stderr


def test_validate_through_symlinks_and_path(valid, tmp_path):
    """A recipe with a symlinked utils/ (or utils/ on PATH) still finds the package."""
    recipe = tmp_path / "egs" / "swbd_sentiment"
    recipe.mkdir(parents=True)
    (recipe / "utils").symlink_to(UTILS)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "validate_data_dir.sh").symlink_to(UTILS / "validate_data_dir.sh")
    env = {**os.environ, "SPEECHSENT_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    r = subprocess.run(
        ["utils/validate_data_dir.sh", str(valid)], cwd=recipe, env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    env["PATH"] = f"{tmp_path / 'bin'}:{env['PATH']}"
    r = subprocess.run(
        ["validate_data_dir.sh", str(valid)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    "args",
    [(), ("--no-such-option", "DIR"), ("DIR", "DIR"), ("--no-feats",)],
    ids=["no-args", "unknown-option", "two-dirs", "option-only"],
)
def test_validate_usage_errors(valid, args):
    r = run("validate_data_dir.sh", *[valid if a == "DIR" else a for a in args])
    assert r.returncode != 0
    assert "Usage:" in r.stderr


def test_validate_no_such_directory(tmp_path):
    r = run("validate_data_dir.sh", tmp_path / "nope")
    assert r.returncode == 1 and "no such directory" in r.stderr


# ----------------------------------------------------------------------------------------------------------
# fix_data_dir.sh


def test_fix_repairs_and_reports(valid):
    cases._swap("text")(valid)
    cases._drop("text", 7)(valid)
    cases._drop("utt2sentiment", 3)(valid)
    cases._append("wav.scp", "sw09999-A /db/none.wav")(valid)
    cases._dup("utt2pseudo", 0)(valid)
    assert run("validate_data_dir.sh", valid).returncode != 0
    r = run("fix_data_dir.sh", valid)
    assert r.returncode == 0, r.stderr
    assert "kept 46 utterances out of 48" in r.stdout
    assert "filtered" in r.stdout and "wav.scp from 9 to 8 lines" in r.stdout
    assert (valid / ".backup" / "text").exists()
    r = run("validate_data_dir.sh", valid)
    assert r.returncode == 0, r.stderr


def test_fix_extra_files(valid):
    cases._copy_keys("utt2spk", "text.asr", "hello", drop=0)(valid)
    r = run("fix_data_dir.sh", "--utt-extra-files", "text.asr", valid)
    assert r.returncode == 0, r.stderr
    assert "kept 47 utterances out of 48" in r.stdout
    r = run("fix_data_dir.sh", "--utt-extra-files=text.asr", "--spk-extra-files", "", valid)
    assert r.returncode == 0 and "kept all 47 utterances." in r.stdout


def test_fix_errors(valid, tmp_path):
    r = run("fix_data_dir.sh")
    assert r.returncode != 0 and "Usage:" in r.stderr
    r = run("fix_data_dir.sh", "--bogus", "x", valid)
    assert r.returncode != 0 and "--bogus" in r.stderr
    (tmp_path / "empty").mkdir()
    r = run("fix_data_dir.sh", tmp_path / "empty")
    assert r.returncode == 1 and "utt2spk" in r.stderr
    cases.put(valid, "utt2sentiment", [])
    r = run("fix_data_dir.sh", valid)
    assert r.returncode == 1 and "no utterances remained" in r.stderr


def _popen_fix(d: Path) -> subprocess.Popen:
    environ = {**os.environ, "SPEECHSENT_PYTHON": sys.executable}
    environ.pop("PYTHONPATH", None)
    return subprocess.Popen(
        [str(UTILS / "fix_data_dir.sh"), str(d)],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_fix_waits_for_another_run(valid):
    """While another fix_data_dir.sh holds the directory's lock, a second one waits, then runs."""
    import fcntl

    cases._swap("text")(valid)
    broken = {p.name: p.read_bytes() for p in valid.iterdir() if p.is_file()}
    lock = os.open(valid / ".fix_data_dir.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = _popen_fix(valid)
        first = proc.stderr.readline()  # the process ends (EOF) if it does not wait
        assert "waiting for another fix_data_dir.sh" in first, first + proc.communicate(timeout=60)[1]
        assert proc.poll() is None
        assert {p.name: p.read_bytes() for p in valid.iterdir() if p.is_file() and p.name in broken} == broken
    finally:
        os.close(lock)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "old files are kept in" in out
    assert {p.name: p.read_bytes() for p in (valid / ".backup").iterdir()} == broken
    assert run("validate_data_dir.sh", valid).returncode == 0
    assert not (valid / ".fix_data_dir.lock").exists()


def test_two_concurrent_fixes_lose_nothing(tmp_path):
    """Two fix_data_dir.sh on one directory at the same time: the originals survive in .backup."""
    for round_ in range(3):
        d = cases.make_valid_dir(tmp_path / f"d{round_}")
        cases._swap("text")(d)
        cases._drop("utt2sentiment", 3)(d)
        broken = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
        procs = [_popen_fix(d) for _ in range(2)]
        results = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], results
        assert {p.name: p.read_bytes() for p in (d / ".backup").iterdir()} == broken
        assert not (d / ".backup.1").exists()  # the second run found nothing left to change
        assert sum("nothing to change" in out for out, _ in results) == 1, results
        assert run("validate_data_dir.sh", d).returncode == 0


def test_fix_second_run_keeps_the_first_backup(valid):
    cases._swap("text")(valid)
    originals = (valid / "text").read_bytes()
    assert run("fix_data_dir.sh", valid).returncode == 0
    cases._drop("text", 2)(valid)
    r = run("fix_data_dir.sh", valid)
    assert r.returncode == 0, r.stderr
    assert f"old files are kept in {valid / '.backup.1'}" in r.stdout
    assert (valid / ".backup" / "text").read_bytes() == originals


def test_fix_bom_and_crlf_and_latin1(valid):
    """Files written by other tools: fix_data_dir.sh repairs them (logged), keeping the first utterance."""
    (valid / "text").write_bytes(b"\xef\xbb\xbf" + (valid / "text").read_bytes().replace(b"\n", b"\r\n"))
    r = run("fix_data_dir.sh", valid)
    assert r.returncode == 0, r.stderr
    assert "kept all 48 utterances." in r.stdout
    assert "byte-order mark" in r.stdout and "CRLF" in r.stdout
    lines = cases.get(valid, "text")
    lines[0] += " caf\u00e9"
    (valid / "text").write_bytes("".join(line + "\n" for line in lines).encode("latin-1"))
    r = run("fix_data_dir.sh", valid)
    assert r.returncode == 0, r.stderr
    assert "kept 47 utterances out of 48" in r.stdout and "not valid UTF-8" in r.stderr
    assert run("validate_data_dir.sh", valid).returncode == 0


def test_fix_fails_when_the_result_does_not_validate(valid):
    cases._text_line(0, "<s> hello")(valid)
    r = run("fix_data_dir.sh", valid)
    assert r.returncode == 1
    assert "illegal symbol <s>" in r.stderr and "still fails validation after fixing" in r.stderr


def test_validate_audio_headers_need_numpy_or_soundfile(tmp_path):
    """A bare python3 cannot read audio headers: a warning says so (exit 0); the environment's reads them."""
    sf = pytest.importorskip("soundfile")
    import numpy as np

    d = tmp_path / "d"
    d.mkdir()
    for reco in ("a", "b"):
        sf.write(tmp_path / f"{reco}.wav", np.zeros(16000, dtype=np.int16), 8000)  # 2 s
    cases.put(d, "wav.scp", [f"a {tmp_path / 'a.wav'}", f"b {tmp_path / 'b.wav'}"])
    cases.put(d, "segments", ["a_1 a 0.0 1.0", "b_1 b 1.0 2.6"])
    cases.put(d, "utt2spk", ["a_1 a", "b_1 b"])
    cases.put(d, "spk2utt", ["a a_1", "b b_1"])
    cases.put(d, "text", ["a_1 hi", "b_1 ho"])
    r = run("validate_data_dir.sh", "--no-feats", d)
    assert r.returncode == 1 and "b_1: ends at 2.6 s, b lasts 2.000 s by the header of" in r.stderr
    r = run("validate_data_dir.sh", "--no-feats", "--no-audio-headers", d)  # reco2dur only: none here
    assert r.returncode == 0 and "WARNING" not in r.stderr, r.stderr
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None or subprocess.run([python, "-c", "import numpy"], capture_output=True).returncode == 0:
        pytest.skip("no system python3 without numpy")
    r = run("validate_data_dir.sh", "--no-feats", d, python=python)
    assert r.returncode == 0, r.stderr
    assert (
        "WARNING" in r.stderr and "audio headers of 2 recording(s) without reco2dur were not read" in r.stderr
    )


# ----------------------------------------------------------------------------------------------------------
# copy_data_dir.sh


def test_copy(valid, tmp_path):
    dst = tmp_path / "copy"
    r = run("copy_data_dir.sh", "--utt-prefix=sp0.9-", "--spk-prefix", "sp0.9-", valid, dst)
    assert r.returncode == 0, r.stderr
    assert "copied data" in r.stdout
    for name in ("utt2sentiment", "utt2pseudo", "utt2pseudo_prob", "utt2dur", "text"):
        assert table(dst / name) == {"sp0.9-" + k: v for k, v in table(valid / name).items()}
    assert table(dst / "utt2uniq") == {"sp0.9-" + k: k for k in table(valid / "utt2spk")}
    assert run("validate_data_dir.sh", dst).returncode == 0


def test_copy_validate_opts(valid, tmp_path):
    cases._respeak_first(valid)
    for name in ("spk2gender", "cmvn.scp"):
        (valid / name).unlink()
    r = run("copy_data_dir.sh", valid, tmp_path / "c1")
    assert r.returncode != 0 and "not sorted by speaker" in r.stderr
    r = run("copy_data_dir.sh", "--validate-opts", "--no-spk-sort", valid, tmp_path / "c2")
    assert r.returncode == 0, r.stderr


def test_copy_usage_errors(valid, tmp_path):
    for args in (
        (),
        (valid,),
        (valid, tmp_path / "a", tmp_path / "b"),
        ("--utt-prefix",),
        ("--nope", "x", valid, "d"),
    ):
        r = run("copy_data_dir.sh", *args)
        assert r.returncode != 0, args
    r = run("copy_data_dir.sh", valid, valid)
    assert r.returncode == 1 and "different" in r.stderr


# ----------------------------------------------------------------------------------------------------------
# combine_data.sh


def _halves(valid: Path, tmp_path: Path) -> tuple[Path, Path]:
    utts = sorted(table(valid / "utt2spk"))
    (tmp_path / "odd").write_text("".join(u + "\n" for u in utts[1::2]))
    (tmp_path / "even").write_text("".join(u + "\n" for u in utts[::2]))
    a, b = tmp_path / "a", tmp_path / "b"
    assert run("subset_data_dir.sh", "--utt-list", tmp_path / "even", valid, a).returncode == 0
    assert run("subset_data_dir.sh", "--utt-list", tmp_path / "odd", valid, b).returncode == 0
    return a, b


def test_combine(valid, tmp_path):
    a, b = _halves(valid, tmp_path)
    cases._copy_keys("utt2spk", "utt2category", "swbd")(a)
    cases._copy_keys("utt2spk", "utt2category", "swbd")(b)
    dst = tmp_path / "ab"
    r = run("combine_data.sh", "--extra-files", "utt2category", dst, a, b)
    assert r.returncode == 0, r.stderr
    assert "combined utt2sentiment" in r.stdout and "combined utt2pseudo" in r.stdout
    assert "combined utt2category" in r.stdout
    for name in os.listdir(valid):
        assert (dst / name).read_bytes() == (valid / name).read_bytes(), name
    assert run("validate_data_dir.sh", dst).returncode == 0


def test_combine_skip_fix_and_missing_file(valid, tmp_path):
    a, b = _halves(valid, tmp_path)
    (b / "utt2pseudo").unlink()
    (b / "utt2pseudo_prob").unlink()
    r = run("combine_data.sh", "--skip-fix", "true", tmp_path / "ab", a, b)
    assert r.returncode == 0, r.stderr
    assert "not combining utt2pseudo as it does not exist everywhere" in r.stdout
    assert "kept all" not in r.stdout  # no fix
    assert not (tmp_path / "ab" / "utt2pseudo").exists()
    assert run("validate_data_dir.sh", tmp_path / "ab").returncode == 0


def test_combine_usage_errors(valid, tmp_path):
    assert run("combine_data.sh", tmp_path / "x").returncode != 0
    r = run("combine_data.sh", "--skip-fix", "maybe", tmp_path / "x", valid)
    assert r.returncode != 0
    r = run("combine_data.sh", valid, valid)
    assert r.returncode == 1 and "also a source" in r.stderr


# ----------------------------------------------------------------------------------------------------------
# subset_data_dir.sh


def test_subset_kaldi_forms(valid, tmp_path):
    utts = sorted(table(valid / "utt2spk"))
    for opt, n, expected in (
        ("--first", 5, utts[:5]),
        ("--last", 3, utts[-3:]),
        (None, 4, [utts[i] for i in (11, 23, 35, 47)]),  # Kaldi's even spread (subset_scp.pl)
    ):
        dst = tmp_path / f"s{opt}"
        args = ([opt] if opt else []) + [valid, n, dst]
        r = run("subset_data_dir.sh", *args)
        assert r.returncode == 0, r.stderr
        assert f"reducing #utt from 48 to {n}" in r.stdout
        assert sorted(table(dst / "utt2spk")) == expected
        assert set(table(dst / "utt2sentiment")) == set(expected)
        assert run("validate_data_dir.sh", dst).returncode == 0


def test_subset_other_modes(valid, tmp_path):
    r = run("subset_data_dir.sh", "--per-spk", valid, 2, tmp_path / "p")
    assert r.returncode == 0 and len(table(tmp_path / "p" / "utt2spk")) == 16
    r = run("subset_data_dir.sh", "--speakers", valid, 7, tmp_path / "s")
    assert r.returncode == 0 and len(table(tmp_path / "s" / "spk2utt")) == 2
    r = run("subset_data_dir.sh", "--shortest", valid, 8, tmp_path / "sh")
    assert r.returncode == 0 and set(table(tmp_path / "sh" / "utt2dur").values()) == {"2.50"}
    (tmp_path / "spks").write_text("sw02001-B\nsw04017-A\n")
    r = run("subset_data_dir.sh", "--spk-list", tmp_path / "spks", valid, tmp_path / "sl")
    assert r.returncode == 0 and sorted(table(tmp_path / "sl" / "wav.scp")) == ["sw02001-B", "sw04017-A"]
    for d in ("p", "s", "sh", "sl"):
        assert run("validate_data_dir.sh", tmp_path / d).returncode == 0


def test_subset_random_seeded(valid, tmp_path):
    r1 = run("subset_data_dir.sh", "--random", "--seed", 3, valid, 10, tmp_path / "r1")
    r2 = run("subset_data_dir.sh", "--random", "--seed=3", valid, 20, tmp_path / "r2")
    r3 = run("subset_data_dir.sh", "--random", "--seed", 4, valid, 10, tmp_path / "r3")
    assert r1.returncode == r2.returncode == r3.returncode == 0
    u1, u2, u3 = (set(table(tmp_path / d / "utt2spk")) for d in ("r1", "r2", "r3"))
    assert len(u1) == 10 and u1 < u2 and u1 != u3


def test_subset_hours(valid, tmp_path):
    previous: set[str] = set()
    for hours in ("0.02", "0.04", "0.06", "0.1"):
        dst = tmp_path / f"h{hours}"
        r = run("subset_data_dir.sh", "--hours", hours, "--seed", 1, valid, dst)
        assert r.returncode == 0, r.stderr
        durs = table(dst / "utt2dur")
        assert sum(float(x) for x in durs.values()) <= float(hours) * 3600
        assert previous <= set(durs)
        previous = set(durs)
        assert set(table(dst / "utt2sentiment")) == set(durs) == set(table(dst / "utt2pseudo"))
        assert run("validate_data_dir.sh", dst).returncode == 0
    r = run("subset_data_dir.sh", "--hours=0.04", "--seed=1", valid, tmp_path / "again")
    assert (tmp_path / "again" / "utt2spk").read_bytes() == (tmp_path / "h0.04" / "utt2spk").read_bytes()


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("SRC", 3),
        ("--first", "SRC", "DST"),
        ("--first", "--last", "SRC", 3, "DST"),
        ("--seed", 1, "--first", "SRC", 3, "DST"),
        ("--utt-list",),
        ("--hours", "SRC", "DST"),
        ("--hours", 1, "SRC", 3, "DST"),
        ("--nope", "SRC", 3, "DST"),
        ("SRC", "abc", "DST"),
        ("SRC", 0, "DST"),
        ("--hours", "-1", "SRC", "DST"),
        ("--hours", "0", "SRC", "DST"),
        ("--hours", "lots", "SRC", "DST"),
    ],
    ids=lambda a: " ".join(map(str, a)) or "no-args",
)
def test_subset_usage_errors(valid, tmp_path, args):
    args = [valid if a == "SRC" else tmp_path / "dst" if a == "DST" else a for a in args]
    r = run("subset_data_dir.sh", *args)
    assert r.returncode != 0
    assert "Usage:" in r.stderr
    assert not (tmp_path / "dst" / "utt2spk").exists()


def test_subset_too_many(valid, tmp_path):
    r = run("subset_data_dir.sh", valid, 49, tmp_path / "d")
    assert r.returncode == 1 and "more utterances than you originally had" in r.stderr


# ----------------------------------------------------------------------------------------------------------
# all scripts


@pytest.mark.parametrize("script", SCRIPTS)
def test_help(script):
    r = run(script, "--help")
    assert r.returncode == 0
    assert "Usage" in r.stdout + r.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_executable(script):
    assert os.access(UTILS / script, os.X_OK)


def test_shellcheck():
    shellcheck = shutil.which("shellcheck") or shutil.which(
        "shellcheck", path=str(Path(sys.executable).parent)
    )
    if shellcheck is None:
        pytest.skip("shellcheck not installed")
    r = subprocess.run(
        [shellcheck, "-x", *(UTILS / s for s in SCRIPTS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
