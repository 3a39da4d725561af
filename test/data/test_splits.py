"""Splits: conversation hash fill, lists, ESPnet's split reproduced (speechsent.data.splits)."""

from __future__ import annotations

from pathlib import Path

import pytest

from speechsent.data.sentiment import SentimentRow
from speechsent.data.splits import (
    ESPNET_LINE_RANGES,
    EspnetTextLine,
    conversation_order,
    espnet_assign,
    hash_split,
    read_split_lists,
)


def _convs(n: int, seconds: float = 300.0) -> dict[str, float]:
    return {f"sw{2001 + i:05d}": seconds + (i % 7) * 10 for i in range(n)}


def test_hash_split_proportions_and_determinism():
    convs = _convs(1000)
    a = hash_split(convs, (86, 5, 5), seed=0)
    assert a == hash_split(dict(reversed(list(convs.items()))), (86, 5, 5), seed=0)
    assert set(a) == set(convs)
    total = sum(convs.values())
    hours = {s: sum(convs[c] for c in convs if a[c] == s) for s in ("train", "test", "holdout")}
    for s in ("test", "holdout"):
        assert total * 5 / 96 <= hours[s] < total * 5 / 96 + 400  # overshoot: less than one conversation
    assert hash_split(convs, (86, 5, 5), seed=1) != a
    # adding a conversation does not reshuffle the others' order
    order = conversation_order(convs, 0)
    bigger = conversation_order({**convs, "sw09999": 1.0}, 0)
    assert [c for c in bigger if c != "sw09999"] == order


def test_hash_split_small_corpus_gets_every_split():
    a = hash_split(_convs(3), (86, 5, 5))
    assert sorted(a.values()) == ["holdout", "test", "train"]
    assert set(hash_split(_convs(5), (1, 0, 0)).values()) == {"train"}
    with pytest.raises(ValueError):
        hash_split(_convs(5), (1, 1))
    with pytest.raises(ValueError):
        hash_split(_convs(5), (0, 0, 0))


def test_read_split_lists(tmp_path: Path):
    (tmp_path / "train").write_text("sw02001\nsw2003 extra fields\n# a comment\n\n")
    (tmp_path / "dev.txt").write_text("sw02005_3\nsw02005_4\n")
    (tmp_path / "swbd_holdout").write_text("sw02009-A_000100-000200\n")
    lists = read_split_lists(tmp_path)
    assert {k: p.name for k, p in lists.files.items()} == {
        "train": "train",
        "test": "dev.txt",
        "holdout": "swbd_holdout",
    }
    assert lists.by_kind["conv"] == {"sw02001": "train", "sw02003": "train"}
    assert lists.by_kind["row"] == {"sw02005_3": "test", "sw02005_4": "test"}
    assert lists.split_of(utt="sw02009-A_000100-000200", row_id="x", conv="sw02009") == ("holdout", "utt")
    assert lists.split_of(utt="u", row_id="sw02005_3", conv="sw02001") == ("test", "row")
    assert lists.split_of(utt="u", row_id="r", conv="sw02001") == ("train", "conv")
    assert lists.split_of(utt="u", row_id="r", conv="sw02011") is None


def test_read_split_lists_errors(tmp_path: Path):
    (tmp_path / "train").write_text("sw02001\n")
    (tmp_path / "test").write_text("sw02005\n")
    with pytest.raises(ValueError, match="no list for split 'holdout'"):
        read_split_lists(tmp_path)
    (tmp_path / "holdout").write_text("sw02009\nnot-an-id\n")
    with pytest.raises(ValueError, match=r"holdout:2: bad id 'not-an-id'"):
        read_split_lists(tmp_path)
    (tmp_path / "holdout").write_text("sw02001\n")
    with pytest.raises(ValueError, match=r"holdout:1: sw02001 is also in the train list"):
        read_split_lists(tmp_path)
    (tmp_path / "holdout").write_text("sw02009\n")
    (tmp_path / "eval").write_text("sw02013\n")
    with pytest.raises(ValueError, match="several lists for split 'holdout'"):
        read_split_lists(tmp_path)
    with pytest.raises(ValueError, match="no such directory"):
        read_split_lists(tmp_path / "nope")


def test_read_split_lists_written_by_other_tools(tmp_path: Path):
    """A Windows editor's BOM and CRLF lines (as a spreadsheet exports them) are read; latin-1 is named."""
    (tmp_path / "train").write_bytes("sw02001\r\nsw02003\r\n".encode("utf-8-sig"))
    (tmp_path / "test").write_bytes(b"\xef\xbb\xbfsw02005_3\n")
    (tmp_path / "holdout").write_text("sw02009\n")
    lists = read_split_lists(tmp_path)
    assert lists.by_kind["conv"] == {"sw02001": "train", "sw02003": "train", "sw02009": "holdout"}
    assert lists.by_kind["row"] == {"sw02005_3": "test"}
    (tmp_path / "holdout").write_bytes("sw02009\n# caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"holdout:2: not UTF-8 \(byte 0xe9 at column 6\)"):
        read_split_lists(tmp_path)


def _row(
    lineno: int, conv: str, start: float, end: float, votes: str = "Positive-{a}#Positive-{b}#Neutral-{c}"
):
    return SentimentRow(lineno, f"{conv}_{lineno}", conv, start, end, (), votes)


def _line(conv: str, side: str, s: int, e: int) -> EspnetTextLine:
    return EspnetTextLine(f"{conv}-{side}_{s:06d}-{e:06d}", conv, s, e)


def test_espnet_line_ranges_are_the_recipes():
    assert ESPNET_LINE_RANGES == {"train": (0, 47056), "test": (47056, 49673), "holdout": (49673, 52293)}


def test_espnet_assign_reproduces_the_forward_only_scan():
    lines = [
        _line("sw02001", "A", 100, 200),
        _line("sw02001", "A", 300, 400),
        _line("sw02001", "B", 210, 290),
        _line("sw02001", "B", 410, 500),
        _line("sw02005", "A", 0, 100),
    ]
    rows = [
        _row(1, "sw02001", 1.0, 2.0),  # A 100-200
        _row(2, "sw02001", 2.1, 2.9),  # B 210-290: the cursor moves into side B
        _row(3, "sw02001", 3.0, 4.0),  # A 300-400: before the cursor -> lost
        _row(4, "sw02001", 4.1, 5.0),  # B 410-500
        _row(5, "sw02001", 4.1, 5.0),  # the same line again: a duplicate
        _row(6, "sw02005", 0.0, 1.0, "Negative-{a}#Neutral-{b}#Positive-{c}"),  # no majority
        _row(7, "sw02005", 0.04, 1.04),  # within ceil(100 (t - 0.05)) .. ceil(100 (t + 0.05))
        _row(8, "sw02009", 0.0, 1.0),  # no such conversation
        _row(9, "sw02001", 1.0, 2.0),  # in the next range: the cursor starts again at 0
        _row(10, "sw02005", 0.0, 1.0),  # past the last range
    ]
    a = espnet_assign(rows, reversed(lines), {"train": (0, 8), "holdout": (8, 9)})
    assert {u: (label, r.lineno) for u, (label, r) in a.splits["train"].items()} == {
        "sw02001-A_000100-000200": ("Positive", 1),
        "sw02001-B_000210-000290": ("Positive", 2),
        "sw02001-B_000410-000500": ("Positive", 4),
        "sw02005-A_000000-000100": ("Positive", 7),
    }
    assert list(a.splits["holdout"]) == ["sw02001-A_000100-000200"]
    assert [r.lineno for r in a.unmatched] == [3, 8]
    assert [r.lineno for r in a.lost_to_cursor] == [3]
    assert [r.lineno for r in a.duplicates] == [5]
    assert [r.lineno for r in a.no_majority] == [6]
    assert [r.lineno for r in a.out_of_range] == [10]


def test_espnet_window_uses_ceil():
    lines = [_line("sw02001", "A", 95, 205)]
    # start 1.0: window ceil(95) .. ceil(105) -> 95 is in; start 1.0 + 0.001: ceil(95.1) = 96 -> out
    assert espnet_assign([_row(1, "sw02001", 1.0, 2.0)], lines, {"train": (0, 5)}).splits["train"]
    assert not espnet_assign([_row(1, "sw02001", 1.001, 2.0)], lines, {"train": (0, 5)}).splits["train"]
