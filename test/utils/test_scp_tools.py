"""Tests for utils/split_scp.pl, utt2spk_to_spk2utt.pl, spk2utt_to_utt2spk.pl, filter_scp.pl."""

import subprocess
from pathlib import Path

import pytest

UTILS = Path(__file__).resolve().parents[2] / "utils"


def tool(name, *args, cwd, stdin=None):
    return subprocess.run(
        [str(UTILS / name), *map(str, args)], cwd=cwd, input=stdin,
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def write(path: Path, lines):
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def read(path: Path):
    return path.read_text().splitlines()


@pytest.fixture
def scp(tmp_path):
    return write(tmp_path / "wav.scp", [f"utt{i:02d} /data/utt{i:02d}.wav" for i in range(1, 11)])


# ---------------------------------------------------------------- split_scp.pl


def test_split_equal_pieces_keep_order(tmp_path, scp):
    r = tool("split_scp.pl", scp, "a", "b", "c", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    pieces = [read(tmp_path / n) for n in "abc"]
    assert [len(p) for p in pieces] == [4, 3, 3]  # the remainder goes to the first pieces
    assert [line for p in pieces for line in p] == read(scp)


def test_split_j_option(tmp_path, scp):
    everything = []
    for j in range(3):
        r = tool("split_scp.pl", "-j", 3, j, scp, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        everything += r.stdout.splitlines()
    assert everything == read(scp)
    r = tool("split_scp.pl", "-j", 3, 3, "--one-based", scp, tmp_path / "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert read(tmp_path / "out") == read(scp)[7:]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-j", 3, 3], "Invalid job number/index values for '-j 3 3'"),
        (["-j", 3, 0, "--one-based"], "Invalid job number/index values for '-j 3 0 --one-based'"),
        (["-j", "x", 0], "Invalid job number/index values for '-j x 0'"),
    ],
)
def test_split_bad_j(tmp_path, scp, args, message):
    r = tool("split_scp.pl", *args, scp, cwd=tmp_path)
    assert r.returncode != 0
    assert message in r.stderr


def test_split_errors(tmp_path, scp):
    r = tool("split_scp.pl", scp, *[f"o{i}" for i in range(11)], cwd=tmp_path)
    assert r.returncode != 0
    assert "You are splitting into too many pieces! [reduce $nj]" in r.stderr
    empty = write(tmp_path / "empty.scp", [])
    r = tool("split_scp.pl", empty, "o1", cwd=tmp_path)
    assert r.returncode == 1
    assert "error: empty input scp file" in r.stderr
    r = tool("split_scp.pl", scp, cwd=tmp_path)
    assert r.returncode != 0 and r.stderr.startswith("Usage: split_scp.pl")
    r = tool("split_scp.pl", tmp_path / "nope.scp", "o1", cwd=tmp_path)
    assert r.returncode != 0 and "Error opening input scp file" in r.stderr


def _utt2spk(tmp_path, sizes):
    """Speakers s0, s1, ... with the given numbers of utterances."""
    lines, n = [], 0
    for s, size in enumerate(sizes):
        for _ in range(size):
            n += 1
            lines.append((f"u{n:03d}", f"s{s}"))
    write(tmp_path / "utt2spk", [f"{u} {s}" for u, s in lines])
    write(tmp_path / "in.scp", [f"{u} x{u}" for u, _ in lines])
    return dict(lines)


def test_split_by_speaker_keeps_speakers_together(tmp_path):
    spk = _utt2spk(tmp_path, [5, 1, 1, 1, 1, 1, 5, 2, 3])
    r = tool("split_scp.pl", "--utt2spk=utt2spk", "in.scp", "p1", "p2", "p3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    pieces = [read(tmp_path / p) for p in ("p1", "p2", "p3")]
    assert [line for p in pieces for line in p] == read(tmp_path / "in.scp")
    owners = [{spk[line.split()[0]] for line in p} for p in pieces]
    assert all(owners) and not (owners[0] & owners[1] or owners[1] & owners[2] or owners[0] & owners[2])
    sizes = [len(p) for p in pieces]
    assert max(sizes) - min(sizes) <= 5  # balanced as far as speakers allow
    assert sizes == [7, 8, 5]  # what Kaldi's boundary-moving algorithm gives (worked by hand)


def test_split_by_speaker_groups_scattered_lines(tmp_path):
    write(tmp_path / "utt2spk", ["a1 A", "b1 B", "a2 A", "b2 B"])
    write(tmp_path / "in.scp", ["a1 1", "b1 2", "a2 3", "b2 4"])
    r = tool("split_scp.pl", "--utt2spk", "utt2spk", "in.scp", "p1", "p2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert read(tmp_path / "p1") == ["a1 1", "a2 3"]
    assert read(tmp_path / "p2") == ["b1 2", "b2 4"]


def test_split_by_speaker_errors(tmp_path):
    _utt2spk(tmp_path, [2, 2])
    r = tool("split_scp.pl", "--utt2spk=utt2spk", "in.scp", "p1", "p2", "p3", cwd=tmp_path)
    assert r.returncode != 0
    assert ("Refusing to split data because number of speakers 2 is less than the number "
            "of output .scp files 3") in r.stderr  # fmt: skip
    write(tmp_path / "in.scp", ["zz 1"])
    r = tool("split_scp.pl", "--utt2spk=utt2spk", "in.scp", "p1", cwd=tmp_path)
    assert r.returncode != 0 and "No utterance zz in utt2spk file utt2spk" in r.stderr
    write(tmp_path / "utt2spk", ["zz"])
    r = tool("split_scp.pl", "--utt2spk=utt2spk", "in.scp", "p1", cwd=tmp_path)
    assert r.returncode != 0 and "Bad line zz" in r.stderr


def test_split_by_duration(tmp_path):
    write(tmp_path / "in.scp", ["a x", "b x", "c x", "d x", "e x"])
    write(tmp_path / "utt2dur", ["a 10.0", "b 1.0", "c 1.0", "d 1.0", "e 7.5"])
    r = tool("split_scp.pl", "--utt2dur=utt2dur", "in.scp", "p1", "p2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert read(tmp_path / "p1") == ["a x"]
    assert read(tmp_path / "p2") == ["b x", "c x", "d x", "e x"]


def test_split_from_stdin(tmp_path, scp):
    r = tool("split_scp.pl", "-", "p1", "p2", cwd=tmp_path, stdin=scp.read_text())
    assert r.returncode == 0, r.stderr
    assert read(tmp_path / "p1") + read(tmp_path / "p2") == read(scp)


# ---------------------------------------------------------------- utt2spk <-> spk2utt


def test_utt2spk_to_spk2utt_and_back(tmp_path):
    u2s = write(tmp_path / "utt2spk", ["b1 B", "a1 A", "b2 B", "a2  A", "c1\tC"])
    r = tool("utt2spk_to_spk2utt.pl", u2s, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "B b1 b2\nA a1 a2\nC c1\n"  # first-appearance order
    r2 = tool("utt2spk_to_spk2utt.pl", cwd=tmp_path, stdin=u2s.read_text())
    assert r2.stdout == r.stdout
    back = tool("spk2utt_to_utt2spk.pl", cwd=tmp_path, stdin=r.stdout)
    assert back.returncode == 0
    assert back.stdout == "b1 B\nb2 B\na1 A\na2 A\nc1 C\n"


def test_spk2utt_several_files_and_pipe(tmp_path):
    write(tmp_path / "s1", ["A a1 a2"])
    write(tmp_path / "s2", ["B b1"])
    r = tool("spk2utt_to_utt2spk.pl", "s1", "cat s2 |", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "a1 A\na2 A\nb1 B\n"


def test_conversion_errors(tmp_path):
    r = tool("utt2spk_to_spk2utt.pl", cwd=tmp_path, stdin="a A extra\n")
    assert r.returncode != 0 and "Invalid line in utt2spk file: a A extra" in r.stderr
    r = tool("utt2spk_to_spk2utt.pl", "x", "y", cwd=tmp_path)
    assert r.returncode != 0 and "Usage: utt2spk_to_spk2utt.pl [ utt2spk ] > spk2utt" in r.stderr
    r = tool("spk2utt_to_utt2spk.pl", cwd=tmp_path, stdin="A\n")
    assert r.returncode != 0 and "Invalid line in spk2utt file: A" in r.stderr


# ---------------------------------------------------------------- filter_scp.pl


def test_filter_include_and_exclude(tmp_path, scp):
    ids = write(tmp_path / "ids", ["utt03 anything", "utt07", "nothere"])
    r = tool("filter_scp.pl", ids, scp, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["utt03 /data/utt03.wav", "utt07 /data/utt07.wav"]
    r = tool("filter_scp.pl", "--exclude", ids, scp, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 8 and "utt03" not in r.stdout


def test_filter_field_and_stdin(tmp_path):
    data = "foo 1\nbar 2\n  baz 3\n"
    r = tool("filter_scp.pl", "-f", 2, write(tmp_path / "ids", ["2", "3"]), cwd=tmp_path, stdin=data)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "bar 2\n  baz 3\n"
    r = tool("filter_scp.pl", "--exclude", "-f", "1", write(tmp_path / "ids2", ["baz"]), "-",
             cwd=tmp_path, stdin=data)  # fmt: skip
    assert r.stdout == "foo 1\nbar 2\n"
    r = tool("filter_scp.pl", "-f", 3, tmp_path / "ids", cwd=tmp_path, stdin=data)
    assert r.returncode != 0 and "Invalid scp file line foo 1" in r.stderr


def test_filter_errors(tmp_path, scp):
    r = tool("filter_scp.pl", cwd=tmp_path)
    assert r.returncode != 0
    assert r.stderr.startswith("Usage: filter_scp.pl [--exclude] [-f <field-to-filter-on>]")
    r = tool("filter_scp.pl", "a", "b", "c", cwd=tmp_path)
    assert r.returncode != 0 and r.stderr.startswith("Usage: filter_scp.pl")
    r = tool("filter_scp.pl", "-f", "0", "ids", scp, cwd=tmp_path)
    assert r.returncode != 0 and "invalid field index '0' to -f" in r.stderr
    r = tool("filter_scp.pl", tmp_path / "missing", scp, cwd=tmp_path)
    assert r.returncode != 0 and "Could not open id-list file" in r.stderr


def test_perl_scripts_compile_under_strict():
    for script in sorted(UTILS.glob("*.pl")) + sorted(UTILS.glob("lib/*.pm")):
        text = script.read_text()
        assert "use strict;" in text and "use warnings;" in text, script
        r = subprocess.run(["perl", "-I", str(UTILS / "lib"), "-c", str(script)],
                           capture_output=True, text=True, timeout=30)  # fmt: skip
        assert r.returncode == 0, r.stderr
