"""How much of a data dir's audio the ASR heard in training: speechsent.kaldi.overlap and
``speechsent-data-dir overlap``."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import data_dir_cases as cases  # test/kaldi's shared cases (pytest puts test/kaldi on sys.path)
import pytest

from speechsent.bin import data_dir as cli
from speechsent.kaldi.overlap import (
    TrainingAudio,
    format_overlap,
    merge_intervals,
    overlap_hours,
    read_intervals,
)
from speechsent.kaldi.table import KaldiDataError

ROOT = Path(__file__).resolve().parents[2]




def write_dir(d: Path, segs: list[tuple[str, str, int, int]], *, wav: dict[str, str] | None = None) -> Path:
    """A data dir of segments ``(utt, reco, start_cs, end_cs)`` (centiseconds), as Kaldi writes them."""
    d.mkdir(parents=True, exist_ok=True)
    lines = sorted(f"{u} {r} {s / 100:.2f} {e / 100:.2f}" for u, r, s, e in segs)
    (d / "segments").write_text("".join(x + "\n" for x in lines))
    (d / "utt2spk").write_text("".join(f"{u} {r}\n" for u, r, _, _ in sorted(segs)))
    recos = sorted({r for _, r, _, _ in segs})
    wav = wav if wav is not None else {r: f"sph2pipe -f wav -p -c 1 /db/{r}.sph |" for r in recos}
    (d / "wav.scp").write_text("".join(f"{r} {wav[r]}\n" for r in sorted(wav)))
    return d


def _random_segs(rng: random.Random, tag: str, recos: list[str], n: int) -> list[tuple[str, str, int, int]]:
    out = []
    for i in range(n):
        start = rng.randrange(0, 3000)
        out.append((f"{tag}{i:04d}", rng.choice(recos), start, start + rng.randrange(1, 400)))
    return out


def _brute_force(train: list[list[tuple]], data: list[tuple]) -> tuple[int, int, int]:
    """(centiseconds of data's audio, of it in training, utterances with a training cell) on a 10 ms grid."""
    heard: dict[str, set[int]] = {}
    for segs in train:
        for _, r, s, e in segs:
            heard.setdefault(r, set()).update(range(s, e))
    own: dict[str, set[int]] = {}
    utts = 0
    for _, r, s, e in data:
        cells = set(range(s, e))
        own.setdefault(r, set()).update(cells)
        utts += bool(cells & heard.get(r, set()))
    total = sum(len(c) for c in own.values())
    both = sum(len(c & heard.get(r, set())) for r, c in own.items())
    return total, both, utts


@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force_on_random_segments(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    recos = [f"sw0{2001 + k}-{side}" for k in range(4) for side in "AB"]
    train = [_random_segs(rng, "a", recos[:6], 60), _random_segs(rng, "b", recos[2:7], 40)]
    data = _random_segs(rng, "d", recos, 80)  # overlapping segments inside the dir too; sw02004-B unheard
    dirs = [write_dir(tmp_path / n, s) for n, s in zip(("a", "b"), train, strict=True)]
    result = overlap_hours(dirs, write_dir(tmp_path / "d", data))
    total, both, utts = _brute_force(train, data)
    assert result.hours == pytest.approx(total / 100 / 3600, abs=1e-9)
    assert result.overlap_hours == pytest.approx(both / 100 / 3600, abs=1e-9)
    assert result.overlap_fraction == pytest.approx(both / total)
    assert 0 < both < total and result.num_utts == 80
    assert result.num_overlapping_utts == utts and 0 < utts < 80
    # the training audio counted once where the two training sets overlap
    train_total, _, _ = _brute_force([], [*train[0], *train[1]])
    assert TrainingAudio(dirs).hours == pytest.approx(train_total / 100 / 3600, abs=1e-9)


def test_merge_intervals_and_utterance_threshold(tmp_path: Path) -> None:
    assert merge_intervals([(5, 6), (0, 2), (1, 3), (3, 4), (4.5, 4.6)]) == [(0, 4), (4.5, 4.6), (5, 6)]
    train = write_dir(tmp_path / "t", [("t1", "r", 100, 200)])
    # 10 ms in training counts an utterance as heard, 9 ms does not (its audio still counts)
    d = write_dir(tmp_path / "d", [("u1", "r", 199, 300), ("u2", "r", 0, 100), ("u3", "r", 150, 160)])
    (d / "segments").write_text("u1 r 1.99 3.00\nu2 r 0.0 1.009\nu3 r 1.5 1.6\n")
    r = overlap_hours([train], d)
    assert r.num_overlapping_utts == 2 and r.overlap_hours * 3600 == pytest.approx(0.01 + 0.009 + 0.1)


def test_kaldi_written_segments_with_tabs_and_trailing_blanks(tmp_path: Path) -> None:
    train = write_dir(tmp_path / "t", [("t1", "sw02001-A", 0, 1000)])
    clean = write_dir(tmp_path / "clean", [("u1", "sw02001-A", 50, 250), ("u2", "sw02001-A", 900, 1200)])
    odd = shutil.copytree(clean, tmp_path / "odd")
    (odd / "segments").write_text("u1\tsw02001-A\t0.50\t2.50 \nu2 sw02001-A  9.0   12.00\t\n")
    want = overlap_hours([train], clean)
    assert overlap_hours([train], odd) == want
    assert want.overlap_hours * 3600 == pytest.approx(3.0) and want.hours * 3600 == pytest.approx(5.0)


def test_dirs_written_by_subset_data_dir_sh(tmp_path: Path) -> None:
    full = cases.make_valid_dir(tmp_path / "data" / "swbd_train")
    part = tmp_path / "data" / "part"
    env = {**os.environ, "SPEECHSENT_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    script = ROOT / "utils" / "subset_data_dir.sh"
    r = subprocess.run([script, "--first", full, "8", part], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # sw02001-A's 6 segments and the first 2 of sw02001-B
    seconds = sum(e - s for s, e in cases.SEGMENT_TIMES) + (11.56 - 0.98) + (15.0 - 12.0)
    whole = overlap_hours([full], part)
    assert whole.overlap_fraction == 1.0 and whole.hours * 3600 == pytest.approx(seconds)
    some = overlap_hours([part], full)
    assert some.overlap_hours * 3600 == pytest.approx(seconds)
    assert some.num_overlapping_utts == whole.num_utts == 8 and some.num_utts == 6 * 2 * 4


def test_prepared_corpus_asr_train_covers_swbd_train_not_test_or_fisher(corpus, tmp_path: Path) -> None:
    from speechsent.data.prepare import prepare_data
    from speechsent.data.prepare_common import PrepareConfig

    data = tmp_path / "data"
    env = corpus.env
    prepare_data(
        PrepareConfig(
            out_dir=data,
            swbd=env["SWBD"],
            swbd_ms98=env["SWBD_MS98"],
            swbd_sentiment=env["SWBD_SENTIMENT"],
            fisher=env["FISHER"].split(),
        )
    )
    audio = TrainingAudio([data / "asr_train"])
    train = audio.overlap(data / "swbd_train")
    assert train.overlap_fraction == 1.0 and train.num_overlapping_utts == train.num_utts > 0
    for name in ("swbd_test", "swbd_holdout", "fisher"):
        r = audio.overlap(data / name)
        assert r.overlap_hours == 0 and r.num_overlapping_utts == 0 and r.hours > 0, name
    assert TrainingAudio([data / "fisher"]).overlap(data / "swbd_train").overlap_hours == 0


def test_without_segments_an_utterance_is_its_recording(tmp_path: Path) -> None:
    train = write_dir(tmp_path / "t", [("t1", "utt1", 100, 300), ("t2", "utt2", 0, 50)])
    d = tmp_path / "d"
    d.mkdir()
    (d / "utt2spk").write_text("utt1 s\nutt2 s\nutt3 s\n")
    (d / "utt2dur").write_text("utt1 2.5\nutt2 1.0\nutt3 4\n")
    r = overlap_hours([train], d)
    assert (r.num_utts, r.num_overlapping_utts) == (3, 2)
    assert r.hours * 3600 == pytest.approx(7.5) and r.overlap_hours * 3600 == pytest.approx(1.5 + 0.5)
    # no utt2dur: reco2dur, else the audio header of the wav.scp entry
    (d / "utt2dur").unlink()
    for utt, seconds in (("utt1", 2.5), ("utt2", 1.0), ("utt3", 4.0)):
        with wave.open(str(d / f"{utt}.wav"), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
            w.writeframes(b"\0\0" * int(seconds * 8000))
    (d / "wav.scp").write_text("".join(f"utt{i} {d}/utt{i}.wav\n" for i in (1, 2)) + f"utt3 cat {d}/x |\n")
    (d / "reco2dur").write_text("utt3 4.0\n")
    got = overlap_hours([train], d)
    assert dataclasses.replace(got, warnings=()) == r and "other wav.scp entries" in got.warnings[0]
    # a length that cannot be known: the error names utt2dur
    (d / "reco2dur").unlink()
    with pytest.raises(KaldiDataError, match=r"d/utt2dur: no such file.*1 of 3 are unknown, e.g. utt3"):
        read_intervals(d)
    (d / "wav.scp").unlink()
    with pytest.raises(KaldiDataError, match=r"d/utt2dur: no such file \(and .* neither segments nor wav"):
        read_intervals(d)


def test_bad_input_names_file_and_line(tmp_path: Path) -> None:
    d = write_dir(tmp_path / "d", [("u1", "r1", 0, 100), ("u2", "r1", 200, 300), ("u3", "r2", 0, 50)])
    train = write_dir(tmp_path / "t", [("t1", "r1", 0, 100)])
    (d / "segments").write_text("u1 r1 0.00 1.00\nu2 r1 3.00 2.00\nu3 r2 0.00 0.50\n")
    with pytest.raises(KaldiDataError, match=r"d/segments:2: segment end 2.00 <= start 3.00"):
        overlap_hours([train], d)
    (d / "segments").write_text("u1 r1 0.00 1.00\nu2 r1 2.00 3.00\nu3 r9 0.00 0.50\n")
    with pytest.raises(KaldiDataError, match=r"d/segments:3: recording 'r9' is not in .*d/wav.scp"):
        overlap_hours([train], d)
    # a training set's errors too
    (train / "utt2dur").write_text("t1 x\n")
    (train / "segments").unlink()
    with pytest.raises(KaldiDataError, match=r"t/utt2dur:1: bad duration"):
        TrainingAudio([train])


def test_other_wav_entries_are_counted_with_one_warning(tmp_path: Path) -> None:
    train = write_dir(tmp_path / "t", [("t1", "r1", 0, 100), ("t2", "r2", 0, 100)])
    wav = {"r1": "/other/r1.wav", "r2": "/other/r2.wav"}
    d = write_dir(tmp_path / "d", [("u1", "r1", 0, 100), ("u2", "r2", 50, 100)], wav=wav)
    r = overlap_hours([train], d)
    assert r.overlap_fraction == 1.0 and len(r.warnings) == 1
    assert "2 recording(s)" in r.warnings[0] and str(d / "wav.scp") in r.warnings[0]
    assert str(train / "wav.scp") in r.warnings[0]
    assert overlap_hours([train], write_dir(tmp_path / "same", [("u1", "r1", 0, 10)])).warnings == ()


def test_command_prints_and_merges_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write_dir(tmp_path / "data" / "fisher", [("f1", "fe_03_00001-A", 0, 360000)])
    b = write_dir(tmp_path / "data" / "asr_train", [("t1", "sw02001-A", 0, 1000)])
    test = write_dir(tmp_path / "data" / "swbd_test", [("u1", "sw02005-A", 0, 1000)])
    train = write_dir(tmp_path / "data" / "swbd_train", [("u1", "sw02001-A", 500, 1500)])
    out = tmp_path / "exp" / "asr_overlap.json"
    out.parent.mkdir()
    assert cli.main(["overlap", "--train", f"{a} {b}", "--out", str(out), str(test)]) == 0
    assert capsys.readouterr().out == (
        f"swbd_test: 0.00 h of 0.00 h (0.0%) heard in ASR training ({a}, {b})\n"
    )
    assert cli.main(["overlap", "--train", f"{a} {b}", "--out", str(out), str(train)]) == 0
    assert "swbd_train: 0.00 h of 0.00 h (50.0%) heard in ASR training" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["asr_train_sets"] == ["fisher", "asr_train"]
    assert doc["asr_train_hours"] == pytest.approx(1 + 10 / 3600, abs=1e-6)
    assert list(doc["sets"]) == ["swbd_test", "swbd_train"]  # merged, sorted
    assert doc["sets"]["swbd_train"] == {
        "hours": round(10 / 3600, 6),
        "overlap_hours": round(5 / 3600, 6),
        "overlap_fraction": 0.5,
        "num_utts": 1,
        "num_overlapping_utts": 1,
    }
    # other training sets: the file is replaced, with a warning
    assert cli.main(["overlap", "--train", str(a), "--out", str(out), str(train), str(test)]) == 0
    err = capsys.readouterr().err
    assert f"WARNING: {out} was computed against other ASR training sets" in err
    doc = json.loads(out.read_text())
    assert doc["asr_train_sets"] == ["fisher"] and doc["sets"]["swbd_train"]["overlap_hours"] == 0.0
    # errors: exit 1, named
    (test / "segments").write_text("u1 sw02005-A 2 1\n")
    assert cli.main(["overlap", "--train", str(a), str(test)]) == 1
    assert "swbd_test/segments:1: segment end 1 <= start 2" in capsys.readouterr().err
    assert cli.main(["overlap", "--train", str(a), str(train), str(tmp_path / "x" / "swbd_train")]) == 1
    assert "two data directories of one name" in capsys.readouterr().err


def test_format_overlap() -> None:
    from speechsent.kaldi.overlap import OverlapResult

    r = OverlapResult(86.0349, 0.0, 0.0, 10, 0)
    line = format_overlap("swbd_train", r, ["data/fisher"])
    assert line == "swbd_train: 0.00 h of 86.03 h (0.0%) heard in ASR training (data/fisher)"


def test_runs_in_a_bare_system_python(tmp_path: Path) -> None:
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None or subprocess.run([python, "-c", "import numpy"], capture_output=True).returncode == 0:
        pytest.skip("no system python3 without numpy")
    t = write_dir(tmp_path / "t", [("t1", "r", 0, 100)])
    d = write_dir(tmp_path / "d", [("u1", "r", 50, 150)])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [python, "-m", "speechsent.bin.data_dir", "overlap", "--train", str(t), str(d)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("d: 0.00 h of 0.00 h (50.0%) heard in ASR training")
