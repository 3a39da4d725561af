"""Switchboard Sentiment annotations (LDC2020T14): reading, majority vote, matching to segments (stdlib only).

``data/sentiment_labels.tsv`` has one row per annotated segment, four tab-separated columns::

    sw02005_57<TAB>400.271875<TAB>404.732375<TAB>Negative-{Scared}#Neutral-{Mixed emotions}#Negative-{Scared}

the conversation and a running index, the start and end (seconds) of the segment played to the annotators,
and the votes: ``Label-{reason}`` joined by ``#``, three or more, ``Label`` one of Negative, Neutral,
Positive. The conversation side is not given: it is recovered by matching the times to the MS98 segments of
the conversation (the annotated segments are MS98 segments; :class:`SegmentIndex`).

Facts about the release: 52,293 rows and no header row (LDC's README shows data rows only; ESPnet's
``prepare_sentiment.py`` splits the file by line ranges ending at 52,293 and lhotse reads it with
``header=None`` and does arithmetic on the times). A header row, if a copy of the file has one, is
recognised on the first line (its times are not numbers) and logged, not treated as an error.

The label of a row is the majority vote: the label with strictly more votes than each other label; rows
without one (e.g. a 3-way disagreement, or 2-2 with four votes) have no label and are dropped by the data
preparation (counted).

:func:`write_sentiment_tsv` writes rows in the same format (the synthetic corpus of :mod:`speechsent.synth`
writes its TSV through it): :func:`parse_row` reads each line back to the same row.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from speechsent.data.labels import SENTIMENT_LABELS
from speechsent.kaldi.table import KaldiDataError, c_sort_key, read_lines
from speechsent.utils.fileio import atomic_write_text

__all__ = [
    "Match",
    "SegmentIndex",
    "SentimentFormatError",
    "SentimentRow",
    "SentimentTable",
    "espnet_majority_vote",
    "format_row",
    "majority_vote",
    "match_rows",
    "parse_row_id",
    "parse_votes",
    "read_sentiment_tsv",
    "write_sentiment_tsv",
]

_ROW_ID_RE = re.compile(r"^sw0?(\d{4,5})_(\d+)$")
_LABELS_LOWER = {label.lower(): label for label in SENTIMENT_LABELS}
_VOTE_RE = re.compile(r"\s*([A-Za-z]+)\s*(?:-\s*\{([^{}]*)\})?\s*")


class SentimentFormatError(KaldiDataError):
    """A malformed row of the sentiment TSV (``file:line: reason``)."""


@dataclasses.dataclass(frozen=True)
class SentimentRow:
    """One annotated segment."""

    lineno: int  # 1-based line in the TSV
    row_id: str  # sw02005_57
    conv: str  # sw02005
    start: float
    end: float
    votes: tuple[str, ...]  # Negative | Neutral | Positive, in the file's order
    raw_votes: str  # the fourth column as written

    @property
    def label(self) -> str | None:
        return majority_vote(self.votes)


@dataclasses.dataclass
class SentimentTable:
    """The rows of a sentiment TSV and what was set aside while reading it."""

    path: str
    rows: list[SentimentRow]
    header: str | None = None
    blank_lines: int = 0
    #: ``file:line: reason`` of each malformed row skipped (``skip_bad_rows``).
    bad_rows: list[str] = dataclasses.field(default_factory=list)
    #: Rows with fewer than three votes (kept; the release promises at least three).
    few_votes: int = 0


def parse_row_id(row_id: str) -> str:
    """``sw02005_57`` → the conversation ``sw02005``; ``ValueError`` if it is not of that form."""
    m = _ROW_ID_RE.match(row_id)
    if m is None:
        raise ValueError(f"bad segment id {row_id!r} (expected swNNNNN_K)")
    return f"sw{int(m.group(1)):05d}"


def parse_votes(field: str) -> tuple[str, ...]:
    """``Neutral-{Questioning}#Negative-{Sad}#...`` → ``("Neutral", "Negative", ...)``.

    Votes are separated by ``#`` outside the braces; each is ``Label`` or ``Label-{reason}`` with ``Label``
    one of Negative, Neutral, Positive (case-insensitive). ``ValueError`` on anything else.
    """
    votes: list[str] = []
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in field:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced braces in votes {field!r}")
        if ch == "#" and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth != 0:
        raise ValueError(f"unbalanced braces in votes {field!r}")
    parts.append("".join(current))
    for part in parts:
        m = _VOTE_RE.fullmatch(part)
        if m is None:
            raise ValueError(f"bad vote {part.strip()!r} in {field!r} (expected Label-{{reason}})")
        label = _LABELS_LOWER.get(m.group(1).lower())
        if label is None:
            raise ValueError(
                f"unknown label {m.group(1)!r} in {field!r} (expected one of {', '.join(SENTIMENT_LABELS)})"
            )
        votes.append(label)
    return tuple(votes)


def majority_vote(votes: Iterable[str]) -> str | None:
    """The label with strictly more votes than every other label, or None (a tie at the top)."""
    counts = Counter(votes)
    if not counts:
        return None
    ranked = counts.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def espnet_majority_vote(raw_votes: str) -> str | None:
    """ESPnet ``prepare_sentiment.py``'s vote: occurrences of each label *word* in the whole column (reasons
    included), the unique maximum or None. Used only to reproduce ESPnet's split exactly."""
    counts = {label: raw_votes.count(label) for label in ("Positive", "Neutral", "Negative")}
    top = max(counts.values())
    winners = [label for label, n in counts.items() if n == top]
    return winners[0] if len(winners) == 1 else None


def _parse_time(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise ValueError(f"bad time {text!r}: not a number") from None
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"bad time {text!r}: not a finite number >= 0")
    return x


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_row(line: str, lineno: int) -> SentimentRow:
    """One TSV line → :class:`SentimentRow`; ``ValueError`` (without location) when malformed."""
    fields = line.split("\t")
    if len(fields) != 4:
        raise ValueError(f"expected 4 tab-separated columns (id, start, end, votes), got {len(fields)}")
    row_id, start_s, end_s, votes_s = (f.strip() for f in fields)
    conv = parse_row_id(row_id)
    start, end = _parse_time(start_s), _parse_time(end_s)
    if end <= start:
        raise ValueError(f"end time {end_s} is not after start time {start_s}")
    votes = parse_votes(votes_s)
    return SentimentRow(lineno, row_id, conv, start, end, votes, votes_s)


def format_time(seconds: float) -> str:
    """A time as a TSV row gives it: the shortest form of the value rounded to 6 decimals (``400.271875``,
    ``0.0``)."""
    return repr(round(float(seconds), 6))


def format_row(row: SentimentRow) -> str:
    """The TSV line of ``row`` (without its newline): ``row_id``, start, end, the votes as written."""
    return f"{row.row_id}\t{format_time(row.start)}\t{format_time(row.end)}\t{row.raw_votes}"


def write_sentiment_tsv(path: str | os.PathLike[str], rows: Iterable[SentimentRow]) -> None:
    """``rows`` as ``sentiment_labels.tsv`` (no header, one :func:`format_row` line each), atomically."""
    atomic_write_text(path, "".join(format_row(row) + "\n" for row in rows))


def read_sentiment_tsv(path: str | os.PathLike[str], *, skip_bad_rows: bool = False) -> SentimentTable:
    """Read ``sentiment_labels.tsv``.

    A malformed row (not 4 columns, a bad id, a time that is not a number >= 0, end <= start, a vote with an
    unknown label) raises :class:`SentimentFormatError` ``file:line: reason``; with ``skip_bad_rows`` it is
    skipped and listed in ``bad_rows``. Blank lines are counted; a header on the first line is recognised.
    """
    raw = read_lines(path)
    table = SentimentTable(str(path), [])
    first = True
    for lineno, line in enumerate(raw.lines, start=1):
        line = line.rstrip("\r")
        if not line.strip():
            table.blank_lines += 1
            continue
        if first:
            first = False
            fields = line.split("\t")
            if len(fields) == 4 and not _is_number(fields[1].strip()) and not _is_number(fields[2].strip()):
                table.header = line
                continue
        try:
            row = parse_row(line, lineno)
        except ValueError as e:
            if not skip_bad_rows:
                raise SentimentFormatError(str(e), path, lineno) from None
            table.bad_rows.append(f"{path}:{lineno}: {e}")
            continue
        if len(row.votes) < 3:
            table.few_votes += 1
        table.rows.append(row)
    return table


# ----------------------------------------------------------------------------------------------------------
# Matching rows to segments


@dataclasses.dataclass(frozen=True)
class Match:
    """The segment a row matched: its key, and the distance ``|Δstart| + |Δend|`` in seconds."""

    key: str
    distance: float
    candidates: int  # segments within the tolerance


class SegmentIndex:
    """Segments of each conversation sorted by start time, for matching by times in O(log n).

    ``add(conv, start, end, key)`` then :meth:`match`. Building is O(N log N) (one sort per conversation,
    done lazily on the first match); a match bisects the starts and looks only at the segments whose start
    is within the tolerance.
    """

    def __init__(self) -> None:
        self._items: dict[str, list[tuple[float, float, str]]] = {}
        self._starts: dict[str, list[float]] = {}
        self._sorted = False

    def add(self, conv: str, start: float, end: float, key: str) -> None:
        self._items.setdefault(conv, []).append((start, end, key))
        self._sorted = False

    def _sort(self) -> None:
        for conv, items in self._items.items():
            items.sort(key=lambda it: (it[0], it[1], c_sort_key(it[2])))
            self._starts[conv] = [it[0] for it in items]
        self._sorted = True

    def __contains__(self, conv: str) -> bool:
        return conv in self._items

    def match(self, conv: str, start: float, end: float, tolerance: float) -> Match | None:
        """The segment of ``conv`` with start and end each within ``tolerance`` s of the given ones; of
        several, the closest (smallest ``|Δstart| + |Δend|``, then the first key in ``LC_ALL=C`` order)."""
        if not self._sorted:
            self._sort()
        items = self._items.get(conv)
        if not items:
            return None
        tol = tolerance + 1e-9  # times written with 6 decimals: do not lose an exact-tolerance match
        starts = self._starts[conv]
        i = bisect.bisect_left(starts, start - tol)
        best: tuple[float, bytes, str] | None = None
        n = 0
        while i < len(items) and items[i][0] <= start + tol:
            s, e, key = items[i]
            if abs(e - end) <= tol:
                n += 1
                cand = (abs(s - start) + abs(e - end), c_sort_key(key), key)
                if best is None or cand[:2] < best[:2]:
                    best = cand
            i += 1
        if best is None:
            return None
        return Match(best[2], best[0], n)


def match_rows(
    rows: Sequence[SentimentRow], index: SegmentIndex, tolerance: float
) -> list[tuple[SentimentRow, Match | None]]:
    """Each row with its match (or None)."""
    return [(row, index.match(row.conv, row.start, row.end, tolerance)) for row in rows]
