"""MS98 transcripts and Switchboard audio discovery (speechsent.data.ms98)."""

from __future__ import annotations

from pathlib import Path

import pytest

from speechsent.data import ms98
from speechsent.data.ms98 import (
    Ms98FormatError,
    centiseconds,
    find_ms98_files,
    find_sph_files,
    kaldi_keeps_line,
    map_word,
    mark_overlaps,
    normalize_words,
    read_ms98_file,
    read_ms98_tree,
    swbd_utt_id,
)


def test_utterance_id_as_kaldi_forms_it():
    # sw2001A-ms98-a-0002 0.977625 11.561375 -> sw02001-A_000098-001156 (Kaldi's documented example)
    assert centiseconds(0.977625) == 98
    assert centiseconds(11.561375) == 1156
    assert centiseconds(0.125) == 13  # int(100 t + 0.5): halves round up
    assert swbd_utt_id("sw02001", "A", 98, 1156) == "sw02001-A_000098-001156"


@pytest.mark.parametrize(
    ("word", "mapped"),
    [
        ("hello", "hello"),
        ("[laughter-story]", "story"),
        ("[LAUGHTER-Story]-", "Story-"),
        ("[it'n/isn't]", "it'n"),
        ("[lem[guini]-/linguini]", "lem-"),
        ("-[an]y", "-y"),
        ("[an]y", "-y"),
        ("ab[solute]-", "ab-"),
        ("ab[solute]", "ab-"),
        ("th[e]-", "th-"),
        ("ex[specially]-/especially]", "ex"),
        ("{yuppiedom}", "yuppiedom"),
        ("ammu[n]it-", "ammn-t-"),  # the Perl rule's actual output ($1 = last bracketed char, $3 empty)
        ("them_1", "them"),
        ("them_1's", "them's"),
        ("[noise]", "[noise]"),
        ("[vocalized-noise]", "[vocalized-noise]"),
        ("[laughter]", "[laughter]"),
        ("uh-huh", "uh-huh"),
    ],
)
def test_map_word_follows_swbd1_map_words(word, mapped):
    assert map_word(word) == mapped


def test_normalize_words_removes_silence_asides_and_tags():
    words, spoken = normalize_words(
        [
            "[silence]",
            "<b_aside>",
            "uh",
            "[laughter-yes]",
            "[noise]",
            "I",
            "th[e]-",
            "[vocalized-noise]",
            "<e_aside>",
            "them_1",
        ]
    )
    assert words == ["uh", "yes", "i", "th-", "them"]
    assert spoken
    assert normalize_words(["[silence]"]) == ([], False)
    assert normalize_words(["<b_aside>", "[silence]", "<e_aside>"]) == ([], False)
    assert normalize_words(["[noise]", "[laughter]"]) == ([], True)


def test_kaldi_keeps_line_reproduces_its_silence_substitution():
    assert not kaldi_keeps_line("[silence]")
    assert kaldi_keeps_line("[noise]")
    assert kaldi_keeps_line("hello [silence]")
    assert not kaldi_keeps_line("<b_aside> [silence] <e_aside>")
    # two adjacent [silence]: Kaldi's regex consumes the blank between them and keeps the second
    assert kaldi_keeps_line("[silence] [silence]")
    assert normalize_words(["[silence]", "[silence]"]) == ([], False)


def _write_side(root: Path, number: int, side: str, lines: list[str]) -> Path:
    d = root / str(number)[:2] / str(number)
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"sw{number}{side}-ms98-a-trans.text"
    p.write_text("".join(f"sw{number}{side}-ms98-a-{i + 1:04d} {line}\n" for i, line in enumerate(lines)))
    return p


def test_read_ms98_file_statuses(tmp_path: Path):
    p = _write_side(
        tmp_path,
        2001,
        "A",
        [
            "0.000000 0.977625 [silence]",
            "0.977625 11.561375 hi um yeah [laughter-i'd] like to talk",
            "11.561375 12.000000 [noise] [laughter]",
            "12.000000 12.003000 too short",
            "13.000000 12.500000 reversed",
        ],
    )
    segs = read_ms98_file(p)
    assert [s.status for s in segs] == ["silence_only", "ok", "empty_text", "bad_times", "bad_times"]
    ok = segs[1]
    assert (ok.utt, ok.reco, ok.conv, ok.side) == ("sw02001-A_000098-001156", "sw02001-A", "sw02001", "A")
    assert ok.text == "hi um yeah i'd like to talk"
    assert ok.where == f"{p}:2"
    assert (ok.start, ok.end) == (0.977625, 11.561375)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("sw2001A-ms98-a-0001 0.5", "expected"),
        ("sw2001-ms98-a-0001 0.0 1.0 hi", "bad segment id"),
        ("sw2001B-ms98-a-0001 0.0 1.0 hi", "not of this file's conversation side"),
        ("sw2001A-ms98-a-0001 zero 1.0 hi", "bad time"),
        ("sw2001A-ms98-a-0001 -1.0 1.0 hi", "bad time"),
    ],
)
def test_read_ms98_file_malformed_lines(tmp_path: Path, line: str, reason: str):
    d = tmp_path / "20" / "2001"
    d.mkdir(parents=True)
    p = d / "sw2001A-ms98-a-trans.text"
    p.write_text("sw2001A-ms98-a-0000 0.0 0.5 [silence]\n\n" + line + "\n")
    with pytest.raises(Ms98FormatError, match=rf"^{p}:3: .*{reason}"):
        read_ms98_file(p)
    bad: list[str] = []
    assert len(read_ms98_file(p, bad_lines=bad)) == 1
    assert len(bad) == 1 and bad[0].startswith(f"{p}:3: ")


def test_mark_overlaps(tmp_path: Path):
    p = _write_side(
        tmp_path,
        2001,
        "B",
        [
            "0.000000 1.000000 one",
            "1.000000 2.000000 two touching",  # touching is fine
            "1.500000 2.500000 three overlaps",
            "0.500000 0.800000 [silence]",  # silence is not checked
            "2.000000 3.000000 four",
            "2.001000 3.003000 four again",  # the same id once in centiseconds
        ],
    )
    segs = read_ms98_file(p)
    mark_overlaps(segs)
    assert [s.status for s in segs] == ["ok", "ok", "overlap", "silence_only", "ok", "duplicate_id"]


def test_find_sph_files_follows_links_any_depth_and_case(tmp_path: Path):
    root = tmp_path / "LDC97S62"
    (root / "swb1_d1" / "data").mkdir(parents=True)
    (root / "swb1_d1" / "data" / "sw02001.sph").write_bytes(b"")
    (root / "swb1_d1" / "data" / "readme.txt").write_text("not audio")
    other = tmp_path / "disk2" / "deep" / "er"
    other.mkdir(parents=True)
    (other / "SW02005.SPH").write_bytes(b"")
    (other / "sw2009.sph").write_bytes(b"")
    (root / "swb1_d2").symlink_to(tmp_path / "disk2", target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)  # a cycle is visited once
    (root / "dup").mkdir()
    (root / "dup" / "sw02001.sph").write_bytes(b"")
    found = find_sph_files(root)
    assert sorted(found.files) == ["sw02001", "sw02005", "sw02009"]
    assert found.files["sw02005"] == root / "swb1_d2" / "deep" / "er" / "SW02005.SPH"
    assert all(p.is_absolute() for p in found.files.values())
    assert [p.name for p in found.duplicates] == ["sw02001.sph"]
    with pytest.raises(FileNotFoundError):
        find_sph_files(tmp_path / "missing")


def test_read_ms98_tree(tmp_path: Path):
    _write_side(tmp_path, 2001, "A", ["0.0 1.0 a", "1.0 2.0 b"])
    _write_side(tmp_path, 2001, "B", ["0.0 2.0 [silence]"])
    _write_side(tmp_path, 3155, "A", ["0.0 1.0 c", "0.5 1.5 overlap"])
    (tmp_path / "sw-ms98-dict.text").write_text("a a\n")
    tree = read_ms98_tree(tmp_path)
    assert sorted(tree.files) == ["sw02001-A", "sw02001-B", "sw03155-A"]
    assert [(s.utt, s.status) for s in tree.segments] == [
        ("sw02001-A_000000-000100", "ok"),
        ("sw02001-A_000100-000200", "ok"),
        ("sw02001-B_000000-000200", "silence_only"),
        ("sw03155-A_000000-000100", "ok"),
        ("sw03155-A_000050-000150", "overlap"),
    ]
    assert find_ms98_files(tmp_path).duplicates == []


def test_expected_counts():
    assert ms98.EXPECTED_SPH_COUNTS == (2435, 2438)
