"""Train / validation / evaluation splits of the labeled Switchboard segments (stdlib only).

Three ways, each deterministic:

``conversation`` (default): conversation-disjoint, with the paper's proportions of labeled audio (86 h
    SWBD-train, 5 h SWBD-test, 5 h SWBD-holdout: 86/96, 5/96, 5/96 of whatever is labeled). The labeled
    conversations are ordered by ``sha256("<seed>:<conversation>")`` and filled greedily: each goes to
    ``test`` while it holds fewer labeled seconds than its target, then to ``holdout`` likewise, and the rest
    to ``train``. Each of test/holdout overshoots its target by less than one conversation (a few minutes),
    and with three or more labeled conversations each split gets at least one. Adding or removing a
    conversation moves only the conversations after it in the hash order.
``lists``: files ``train``, ``test``, ``holdout`` (also ``.txt``, ``swbd_`` prefixed, or named ``dev``/
    ``valid`` for test and ``heldout``/``eval`` for holdout) in a directory, one id per line (first field):
    a conversation (``sw02005``), a sentiment row (``sw02005_57``) or an utterance (``sw02005-A_040027-
    040473``). The most specific id of a labeled segment decides its split. For the authors' split.
``espnet``: the split of ESPnet's ``egs2/swbd_sentiment/asr1/local/prepare_sentiment.py``, reproduced
    (:func:`espnet_assign`).

Facts of ESPnet's split: it is by line number of ``sentiment_labels.tsv`` (0-based ``enumerate``): lines
``[0, 47056)`` → ``train``, ``[47056, 49673)`` → ``dev``, ``[49673, 52293)`` → ``test`` (ESPnet's ``dev`` is
our ``swbd_test`` (validation), its ``test`` our ``swbd_holdout`` (evaluation)); conversations that straddle
a boundary have utterances on both sides. Each row with a majority label (its count of the words Positive /
Neutral / Negative in the whole vote column, reasons included; unique maximum) is matched to a line of
Kaldi's ``data/train/text`` (the sorted MS98 segments that Kaldi keeps) by scanning *forward from the line
of the previous match* (reset at each of the three ranges) for the first line of the same conversation whose
id times (centiseconds) lie in ``[ceil(100 (t - 0.05)), ceil(100 (t + 0.05))]`` for both start and end. The
cursor never goes back, so a row whose segment sorts before the previous match (e.g. side A after a side-B
match) is dropped silently. :func:`espnet_assign` reproduces exactly that, including the drops, so that the
membership is ESPnet's; the data preparation counts what it drops.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from speechsent.data.sentiment import SentimentRow, espnet_majority_vote
from speechsent.utils.seeded import conversation_order

__all__ = [
    "ESPNET_LINE_RANGES",
    "PAPER_HOURS",
    "SPLITS",
    "EspnetAssignment",
    "EspnetTextLine",
    "SplitLists",
    "conversation_order",
    "espnet_assign",
    "hash_split",
    "read_split_lists",
]

#: Our split names (data dirs ``swbd_<split>``): train, validation, evaluation.
SPLITS: tuple[str, ...] = ("train", "test", "holdout")
#: Hours of labeled audio of SWBD-train, SWBD-test and SWBD-holdout in the paper.
PAPER_HOURS: tuple[float, float, float] = (86.0, 5.0, 5.0)
#: ESPnet's TSV line ranges (0-based, end excluded), in our split names.
ESPNET_LINE_RANGES: dict[str, tuple[int, int]] = {
    "train": (0, 47056),
    "test": (47056, 49673),
    "holdout": (49673, 52293),
}
ESPNET_EPS = 0.05

_LIST_NAMES: dict[str, tuple[str, ...]] = {
    "train": ("train",),
    "test": ("test", "dev", "valid", "validation"),
    "holdout": ("holdout", "heldout", "eval", "evaluation"),
}
_CONV_RE = re.compile(r"^sw0?(\d{4,5})$")
_ROW_RE = re.compile(r"^sw0?(\d{4,5})_(\d+)$")
_UTT_RE = re.compile(r"^sw\d{5}-[AB]_\d{6}-\d{6}$")


def hash_split(
    conv_seconds: Mapping[str, float],
    proportions: Sequence[float] = PAPER_HOURS,
    seed: int | str = 0,
) -> dict[str, str]:
    """Conversation → ``train``/``test``/``holdout``: greedy fill in hash order (see the module doc).

    ``conv_seconds`` is the labeled audio of each conversation; ``proportions`` the relative sizes of
    train, test and holdout (hours or fractions).
    """
    if len(proportions) != 3 or any(p < 0 for p in proportions) or sum(proportions) <= 0:
        raise ValueError(f"proportions must be three numbers >= 0 with a positive sum, got {proportions}")
    total = sum(conv_seconds.values())
    psum = float(sum(proportions))
    targets = {name: total * p / psum for name, p in zip(SPLITS, proportions, strict=True)}
    filled = dict.fromkeys(SPLITS, 0.0)
    out: dict[str, str] = {}
    for conv in conversation_order(conv_seconds, seed):
        for name in ("test", "holdout"):
            if targets[name] > 0 and filled[name] < targets[name]:
                break
        else:
            name = "train"
        out[conv] = name
        filled[name] += conv_seconds[conv]
    return out


# ----------------------------------------------------------------------------------------------------------
# Lists


@dataclasses.dataclass
class SplitLists:
    """Ids of each split, by kind: ``conv`` (sw02005), ``row`` (sw02005_57), ``utt`` (Kaldi id)."""

    files: dict[str, Path]
    by_kind: dict[str, dict[str, str]]  # kind -> id -> split

    def split_of(self, *, utt: str, row_id: str, conv: str) -> tuple[str, str] | None:
        """``(split, kind)`` of a labeled segment: by utterance id, else row id, else conversation."""
        for kind, key in (("utt", utt), ("row", row_id), ("conv", conv)):
            split = self.by_kind[kind].get(key)
            if split is not None:
                return split, kind
        return None


def _normalize_list_id(token: str) -> tuple[str, str] | None:
    m = _CONV_RE.match(token)
    if m:
        return "conv", f"sw{int(m.group(1)):05d}"
    m = _ROW_RE.match(token)
    if m:
        return "row", f"sw{int(m.group(1)):05d}_{m.group(2)}"
    if _UTT_RE.match(token):
        return "utt", token
    return None


def _list_lines(path: Path) -> list[str]:
    """The lines of an id list written by anyone: a UTF-8 BOM (a Windows editor's, a spreadsheet
    export's) and CRLF line ends are tolerated, as the ids are plain ASCII and nothing is lost; bytes that
    are not UTF-8 are an error naming the line (``str.splitlines`` is not used: it also splits at U+2028)."""
    data = path.read_bytes()
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(
                f"{path}:{lineno}: not UTF-8 (byte 0x{raw[error.start]:02x} at column {error.start + 1})"
            ) from None
    text = data.decode("utf-8").removeprefix("\ufeff")
    return [line.removesuffix("\r") for line in text.split("\n")]


def read_split_lists(directory: str | os.PathLike[str]) -> SplitLists:
    """Read the ``train``/``test``/``holdout`` id lists of ``directory`` (see the module doc).

    ``ValueError`` (``file:line: reason``) for an id of no known kind, an id in two lists, a split with no
    file or with two candidate files.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"{directory}: no such directory")
    files: dict[str, Path] = {}
    for split, names in _LIST_NAMES.items():
        found = []
        for name in names:
            for candidate in (name, f"{name}.txt", f"swbd_{name}", f"swbd_{name}.txt", f"{name}.list"):
                p = directory / candidate
                if p.is_file():
                    found.append(p)
        if not found:
            raise ValueError(f"{directory}: no list for split {split!r} (expected a file named {names[0]!r})")
        if len(found) > 1:
            raise ValueError(f"{directory}: several lists for split {split!r}: {', '.join(map(str, found))}")
        files[split] = found[0]
    by_kind: dict[str, dict[str, str]] = {"conv": {}, "row": {}, "utt": {}}
    where: dict[str, str] = {}
    for split, path in files.items():
        for lineno, line in enumerate(_list_lines(path), start=1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            parsed = _normalize_list_id(fields[0])
            if parsed is None:
                raise ValueError(
                    f"{path}:{lineno}: bad id {fields[0]!r} (expected a conversation sw02005, a sentiment "
                    "row sw02005_57 or an utterance sw02005-A_040027-040473)"
                )
            kind, key = parsed
            previous = by_kind[kind].get(key)
            if previous is not None and previous != split:
                raise ValueError(f"{path}:{lineno}: {key} is also in the {previous} list ({where[key]})")
            by_kind[kind][key] = split
            where.setdefault(key, f"{path}:{lineno}")
    return SplitLists(files, by_kind)


# ----------------------------------------------------------------------------------------------------------
# ESPnet


@dataclasses.dataclass(frozen=True)
class EspnetTextLine:
    """A line of Kaldi's Switchboard ``text`` as ESPnet's script sees it: id, conversation, id times."""

    utt: str
    conv: str
    start_cs: int
    end_cs: int


@dataclasses.dataclass
class EspnetAssignment:
    """ESPnet's membership: per split ``utt → (label, row)``, and the rows it loses, by reason."""

    splits: dict[str, dict[str, tuple[str, SentimentRow]]]
    no_majority: list[SentimentRow]
    unmatched: list[SentimentRow]  # no line at or after the cursor (includes those lost to the cursor)
    lost_to_cursor: list[SentimentRow]  # of the unmatched: a matching line exists, before the cursor
    duplicates: list[SentimentRow]  # matched a line already matched in the same split
    out_of_range: list[SentimentRow]  # line number past ESPnet's last range


def _espnet_window(t: float) -> tuple[int, int]:
    # float2str(x) = ceil(x * 100) zero-padded to 6 digits, compared as strings; for 6-digit values (times up
    # to 9999.99 s) and a negative lower bound ("0000-5" sorts below every "0....." string) that is the
    # numeric comparison below.
    return math.ceil((t - ESPNET_EPS) * 100), math.ceil((t + ESPNET_EPS) * 100)


def espnet_assign(
    rows: Sequence[SentimentRow],
    text_lines: Iterable[EspnetTextLine],
    line_ranges: Mapping[str, tuple[int, int]] = ESPNET_LINE_RANGES,
) -> EspnetAssignment:
    """Reproduce ESPnet's ``prepare_sentiment.py`` membership in O((N + M) log M) (see the module doc).

    ``rows`` are the TSV rows (``lineno`` is 1-based: ESPnet's line index is ``lineno - 1``); ``text_lines``
    the segments of Kaldi's text (any order; sorted here in ``LC_ALL=C`` order of the id, the order of the
    file ESPnet scans).
    """
    lines = sorted(text_lines, key=lambda t: t.utt.encode())
    # conversation -> (first, last+1) line index; lines of a conversation are contiguous (ids start with it)
    blocks: dict[str, list[int]] = {}
    for i, t in enumerate(lines):
        b = blocks.setdefault(t.conv, [i, i + 1])
        b[1] = i + 1
    # per conversation: its lines sorted by (start_cs, index) for bisecting the start window
    by_start: dict[str, tuple[list[int], list[int]]] = {}
    for conv, (b0, b1) in blocks.items():
        order = sorted(range(b0, b1), key=lambda i: (lines[i].start_cs, i))
        by_start[conv] = ([lines[i].start_cs for i in order], order)

    out = EspnetAssignment({s: {} for s in line_ranges}, [], [], [], [], [])
    ranges = sorted(line_ranges.items(), key=lambda kv: kv[1][0])
    rows_sorted = sorted(rows, key=lambda r: r.lineno)
    placed: set[int] = set()
    for split, (lo, hi) in ranges:
        cursor = 0
        dest = out.splits[split]
        for row in rows_sorted:
            index = row.lineno - 1
            if not lo <= index < hi:
                continue
            placed.add(row.lineno)
            label = espnet_majority_vote(row.raw_votes)
            if label is None:
                out.no_majority.append(row)
                continue
            entry = by_start.get(row.conv)
            if entry is None:
                out.unmatched.append(row)
                continue
            s_lo, s_hi = _espnet_window(row.start)
            e_lo, e_hi = _espnet_window(row.end)
            starts, order = entry
            found: int | None = None
            earlier = False
            j = bisect.bisect_left(starts, s_lo)
            while j < len(order) and starts[j] <= s_hi:
                i = order[j]
                if e_lo <= lines[i].end_cs <= e_hi:
                    if i >= cursor:
                        if found is None or i < found:
                            found = i
                    else:
                        earlier = True
                j += 1
            if found is None:
                out.unmatched.append(row)
                if earlier:
                    out.lost_to_cursor.append(row)
                continue
            cursor = found
            utt = lines[found].utt
            if utt in dest:
                out.duplicates.append(row)  # ESPnet writes it twice; fix_data_dir.sh keeps the first
                continue
            dest[utt] = (label, row)
    out.out_of_range = [r for r in rows_sorted if r.lineno not in placed]
    return out
