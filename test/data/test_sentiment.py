"""Sentiment TSV reading, majority vote and time matching (speechsent.data.sentiment)."""

from __future__ import annotations

from pathlib import Path

import pytest

from speechsent.data.sentiment import (
    SegmentIndex,
    SentimentFormatError,
    espnet_majority_vote,
    format_row,
    majority_vote,
    match_rows,
    parse_row,
    parse_row_id,
    parse_votes,
    read_sentiment_tsv,
    write_sentiment_tsv,
)

ROW = "sw02005_57\t400.271875\t404.732375\tNegative-{Scared}#Neutral-{Mixed emotions}#Negative-{Scared}"


def test_parse_votes():
    assert parse_votes("Negative-{Scared}#Neutral-{Mixed emotions}#Negative-{Scared}") == (
        "Negative",
        "Neutral",
        "Negative",
    )
    assert parse_votes("Positive-{Laughter}#positive-{a # in a reason}#Neutral#Neutral-{}") == (
        "Positive",
        "Positive",
        "Neutral",
        "Neutral",
    )
    for bad, match in (
        ("Happy-{x}#Neutral-{y}#Neutral-{z}", "unknown label 'Happy'"),
        ("Neutral-{x#Neutral-{y}", "unbalanced"),
        ("Neutral-{x}}", "unbalanced"),
        ("Neutral-{x}#", "bad vote"),
        ("Neutral {x}", "bad vote"),
    ):
        with pytest.raises(ValueError, match=match):
            parse_votes(bad)


@pytest.mark.parametrize(
    ("votes", "label"),
    [
        (("Negative", "Neutral", "Negative"), "Negative"),
        (("Positive", "Positive", "Positive"), "Positive"),
        (("Negative", "Neutral", "Positive"), None),  # 3-way disagreement
        (("Neutral", "Neutral", "Positive", "Positive"), None),  # 2-2
        (("Neutral", "Positive", "Positive", "Negative"), "Positive"),
        ((), None),
    ],
)
def test_majority_vote(votes, label):
    assert majority_vote(votes) == label


def test_espnet_majority_vote_counts_words_in_reasons_too():
    assert espnet_majority_vote("Negative-{Sad}#Neutral-{x}#Negative-{y}") == "Negative"
    assert espnet_majority_vote("Negative-{Sad}#Neutral-{x}#Positive-{y}") is None
    assert espnet_majority_vote("Neutral-{Positive mood}#Neutral-{x}#Positive-{y}") is None


def test_parse_row_id():
    assert parse_row_id("sw02005_57") == "sw02005"
    assert parse_row_id("sw2005_3") == "sw02005"
    with pytest.raises(ValueError):
        parse_row_id("fe_03_00001_1")


def test_read_sentiment_tsv(tmp_path: Path):
    p = tmp_path / "sentiment_labels.tsv"
    p.write_text(
        "id\tstart\tend\tsentiment\n"
        + ROW
        + "\n\n"
        + "sw02006_14\t320.189375\t324.952125\tPositive-{Laughter}#Positive-{Laughter}\n"
    )
    t = read_sentiment_tsv(p)
    assert t.header == "id\tstart\tend\tsentiment"
    assert t.blank_lines == 1
    assert t.few_votes == 1
    assert [(r.lineno, r.row_id, r.conv, r.label) for r in t.rows] == [
        (2, "sw02005_57", "sw02005", "Negative"),
        (4, "sw02006_14", "sw02006", "Positive"),
    ]
    assert t.rows[0].start == 400.271875 and t.rows[0].end == 404.732375
    # without a header, the first line is data
    p.write_text(ROW + "\r\n")
    t = read_sentiment_tsv(p)
    assert t.header is None and len(t.rows) == 1 and t.rows[0].raw_votes.endswith("Negative-{Scared}")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("sw02005_57\t400.2\t404.7", "expected 4 tab-separated columns"),
        ("sw02005_57\t400.2\t404.7\tNeutral-{x}\textra", "expected 4 tab-separated columns"),
        ("sw02005_57 400.2 404.7 Neutral-{x}", "expected 4 tab-separated columns"),
        ("sw02005_57\t400.2\t404.7\tAngry-{x}#Neutral-{y}#Neutral-{z}", "unknown label 'Angry'"),
        ("sw02005_57\tabc\t404.7\tNeutral-{x}", "bad time 'abc'"),
        ("sw02005_57\t400.2\tnan\tNeutral-{x}", "bad time 'nan'"),
        ("sw02005_57\t-1\t404.7\tNeutral-{x}", "bad time '-1'"),
        ("sw02005_57\t404.7\t400.2\tNeutral-{x}", "not after start time"),
        ("sw02005_57\t400.2\t400.2\tNeutral-{x}", "not after start time"),
        ("swbd_57\t400.2\t404.7\tNeutral-{x}", "bad segment id"),
    ],
)
def test_read_sentiment_tsv_bad_rows(tmp_path: Path, line: str, reason: str):
    p = tmp_path / "sentiment_labels.tsv"
    p.write_text(ROW + "\n" + line + "\n" + ROW.replace("_57", "_58") + "\n")
    with pytest.raises(SentimentFormatError, match=rf"^{p}:2: .*{reason}"):
        read_sentiment_tsv(p)
    t = read_sentiment_tsv(p, skip_bad_rows=True)
    assert [r.lineno for r in t.rows] == [1, 3]
    assert len(t.bad_rows) == 1 and t.bad_rows[0].startswith(f"{p}:2: ")


def test_write_sentiment_tsv_reads_back(tmp_path: Path):
    second = "sw02005_3\t0.0\t1.5\tPositive#Neutral-{}#Positive-{Happy}"
    rows = [parse_row(ROW, 1), parse_row(second, 2)]
    assert format_row(rows[0]) == ROW
    path = tmp_path / "sentiment_labels.tsv"
    write_sentiment_tsv(path, rows)
    assert path.read_text(encoding="utf-8") == f"{ROW}\n{second}\n"
    assert read_sentiment_tsv(path).rows == rows


def test_segment_index_match():
    index = SegmentIndex()
    index.add("sw02001", 0.977625, 11.561375, "sw02001-A_000098-001156")
    index.add("sw02001", 0.99, 11.55, "sw02001-B_000099-001155")  # other side, nearly the same times
    index.add("sw02001", 12.0, 14.0, "sw02001-B_001200-001400")
    index.add("sw02005", 0.977625, 11.561375, "sw02005-A_000098-001156")
    m = index.match("sw02001", 0.98, 11.56, 0.05)
    assert m is not None and m.key == "sw02001-A_000098-001156" and m.candidates == 2
    m = index.match("sw02001", 0.995, 11.552, 0.05)
    assert m is not None and m.key == "sw02001-B_000099-001155"
    assert index.match("sw02001", 12.06, 14.0, 0.05) is None  # start off by more than the tolerance
    assert index.match("sw02001", 12.05, 13.95, 0.05).key == "sw02001-B_001200-001400"  # exactly at it
    assert index.match("sw02001", 12.0, 14.2, 0.05) is None  # end off
    assert index.match("sw09999", 12.0, 14.0, 0.05) is None
    assert index.match("sw02001", 12.0, 14.2, 0.25).key == "sw02001-B_001200-001400"
    assert "sw02005" in index and "sw02006" not in index


def test_segment_index_tie_is_decided_by_key():
    index = SegmentIndex()
    index.add("sw02001", 1.0, 2.0, "sw02001-B_000100-000200")
    index.add("sw02001", 1.0, 2.0, "sw02001-A_000100-000200")
    assert index.match("sw02001", 1.0, 2.0, 0.05).key == "sw02001-A_000100-000200"


def test_match_rows(tmp_path: Path):
    p = tmp_path / "t.tsv"
    p.write_text(ROW + "\n" + "sw02005_58\t500.0\t501.0\tNeutral-{x}#Neutral-{y}#Positive-{z}\n")
    index = SegmentIndex()
    index.add("sw02005", 400.27, 404.73, "sw02005-B_040027-040473")
    got = match_rows(read_sentiment_tsv(p).rows, index, 0.05)
    assert [(r.row_id, m.key if m else None) for r, m in got] == [
        ("sw02005_57", "sw02005-B_040027-040473"),
        ("sw02005_58", None),
    ]


def test_segment_index_scales(tmp_path: Path):
    """50k segments, 50k matches: sort + bisect, no rescans (well under a second)."""
    import time

    index = SegmentIndex()
    for c in range(500):
        for k in range(100):
            index.add(f"sw{2000 + c:05d}", k * 3.0, k * 3.0 + 2.5, f"sw{2000 + c:05d}-A_{k}")
    t0 = time.perf_counter()
    hits = sum(
        index.match(f"sw{2000 + c:05d}", k * 3.0 + 0.01, k * 3.0 + 2.49, 0.05) is not None
        for c in range(500)
        for k in range(100)
    )
    assert hits == 50000
    assert time.perf_counter() - t0 < 5.0
