"""The per-file formats of a data directory and their bulk check (shared by validate and fix; stdlib only).

Each table file has a field count and a value check (:data:`FORMATS`); :func:`check_line` checks one line.
Most files are clean: :func:`bulk_load` checks a whole file with whole-file string operations that run in
C and gives its columns (``None`` sends it through the line-by-line checks that report each problem).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import operator
from collections.abc import Callable, Iterable

from speechsent.data.labels import PSEUDO_LABELS, SENTIMENT_LABELS
from speechsent.kaldi.data_dir import (
    Segment,
    parse_duration,
    parse_num_frames,
    parse_probability,
    parse_pseudo_label,
    parse_segment,
    parse_sentiment_label,
    table_kind,
)
from speechsent.kaldi.table import RawLines, c_sort_key, c_sorted, split_fields

__all__ = [
    "DEFAULT_FORMAT",
    "DUR_TOLERANCE",
    "FORMATS",
    "PARTIAL_UTT_FILES",
    "Bulk",
    "Format",
    "bulk_load",
    "check_line",
    "examples",
    "fast_load",
    "format_of",
    "non_decreasing",
    "parsed_dict",
]

#: Slack for comparing durations written with limited precision.
DUR_TOLERANCE = 0.01
#: How many example ids a problem message lists.
_MAX_EXAMPLES = 3


def _check_wav(key: str, value: str) -> None:
    if value.startswith("~"):
        raise ValueError("do not use tilde (~) in wav.scp: fopen does not expand it")


def _check_gender(_key: str, value: str) -> None:
    if value not in ("m", "f"):
        raise ValueError(f"bad gender {value!r}: expected m or f")


def _check_warp(_key: str, value: str) -> None:
    try:
        w = float(value)
    except ValueError:
        raise ValueError(f"bad warp factor {value!r}: not a number") from None
    if not 0.5 < w < 1.5:
        raise ValueError(f"bad warp factor {value!r}: not in (0.5, 1.5)")


def _check_r2fc(_key: str, value: str) -> None:
    channel = split_fields(value)[1]
    if channel not in ("A", "B", "1"):
        raise ValueError(f"bad channel {channel!r}: expected A or B")


@dataclasses.dataclass(frozen=True)
class Format:
    num_fields: int | None = None  # exact field count, key included
    min_fields: int | None = None
    check: Callable[[str, str], object] | None = None  # raises ValueError
    allowed: frozenset[str] | None = None  # the values check accepts, for the bulk path
    #: Check of a whole clean table at once (the bulk path), given the value fields column by column (a
    #: fixed field count) or ``[values]``: raises ValueError for any bad value, else returns parsed columns.
    bulk: Callable[[list[list[str]]], tuple[list, ...]] | None = None
    #: ``{key: parsed object}`` from the keys and the columns ``bulk`` returned (default: the first column).
    assemble: Callable[[list[str], tuple[list, ...]], dict[str, object]] | None = None


def _bulk_floats(values: list[str]) -> list[float]:
    xs = list(map(float, values))
    if not all(map(math.isfinite, xs)):
        raise ValueError("not finite")
    return xs


def _bulk_duration(fields: list[list[str]]) -> tuple[list, ...]:
    xs = _bulk_floats(fields[0])
    if xs and min(xs) <= 0:
        raise ValueError("not > 0")
    return (xs,)


def _bulk_probability(fields: list[list[str]]) -> tuple[list, ...]:
    xs = _bulk_floats(fields[0])
    if xs and (min(xs) < 0 or max(xs) > 1):
        raise ValueError("not in [0, 1]")
    return (xs,)


def _bulk_num_frames(fields: list[list[str]]) -> tuple[list, ...]:
    ns = list(map(int, fields[0]))
    if ns and min(ns) <= 0:
        raise ValueError("not > 0")
    return (ns,)


def _bulk_segments(fields: list[list[str]]) -> tuple[list, ...]:
    recos, starts_s, ends_s = fields  # exactly 3 value fields: checked before
    starts = _bulk_floats(starts_s)
    ends = _bulk_floats(ends_s)
    if starts and min(starts) < 0:
        raise ValueError("start < 0")
    if not all(map(operator.lt, starts, ends)):
        raise ValueError("end <= start")
    return recos, starts, ends


def _assemble_segments(keys: list[str], cols: tuple[list, ...]) -> dict[str, object]:
    return dict(zip(keys, map(Segment, keys, *cols), strict=True))


def _bulk_wav(fields: list[list[str]]) -> tuple[list, ...]:
    if any(map(str.startswith, fields[0], itertools.repeat("~"))):
        raise ValueError("tilde")
    return ()


FORMATS: dict[str, Format] = {
    "utt2spk": Format(num_fields=2),
    "spk2utt": Format(min_fields=2),
    "text": Format(min_fields=1),
    "wav.scp": Format(min_fields=2, check=_check_wav, bulk=_bulk_wav),
    "segments": Format(num_fields=4, check=parse_segment, bulk=_bulk_segments, assemble=_assemble_segments),
    "feats.scp": Format(min_fields=2),
    "cmvn.scp": Format(min_fields=2),
    "vad.scp": Format(min_fields=2),
    "utt2lang": Format(num_fields=2),
    "utt2uniq": Format(num_fields=2),
    "utt2dur": Format(num_fields=2, check=parse_duration, bulk=_bulk_duration),
    "reco2dur": Format(num_fields=2, check=parse_duration, bulk=_bulk_duration),
    "utt2num_frames": Format(num_fields=2, check=parse_num_frames, bulk=_bulk_num_frames),
    "spk2gender": Format(num_fields=2, check=_check_gender, allowed=frozenset("mf")),
    "spk2warp": Format(num_fields=2, check=_check_warp),
    "utt2warp": Format(num_fields=2, check=_check_warp),
    "reco2file_and_channel": Format(num_fields=3, check=_check_r2fc),
    "utt2sentiment": Format(num_fields=2, check=parse_sentiment_label, allowed=frozenset(SENTIMENT_LABELS)),
    "utt2pseudo": Format(num_fields=2, check=parse_pseudo_label, allowed=frozenset(PSEUDO_LABELS)),
    "utt2pseudo_prob": Format(num_fields=2, check=parse_probability, bulk=_bulk_probability),
}
DEFAULT_FORMAT = Format(min_fields=1)
#: Utterance tables that may cover a subset of utt2spk: pseudo labels exist only for the utterances the
#: labeler had a transcript for.
PARTIAL_UTT_FILES: frozenset[str] = frozenset({"utt2pseudo", "utt2pseudo_prob"})


def format_of(name: str) -> Format:
    """The format of the file ``name`` (a labeler's ``utt2pseudo_<tag>``: utt2pseudo's; unknown: any)."""
    return FORMATS.get(table_kind(name), DEFAULT_FORMAT)


def _num_fields(value: str) -> int:
    """Number of fields of a line whose value (after the key) is ``value``."""
    if not value:
        return 1
    if " " not in value and "\t" not in value:
        return 2
    return 1 + len(split_fields(value))


def check_line(name: str, key: str, value: str) -> tuple[str | None, object]:
    """``(why key value is not a valid line of file name or None, the parsed value or None)``."""
    fmt = format_of(name)
    if fmt.num_fields is not None or fmt.min_fields is not None:
        n = _num_fields(value)
        if fmt.num_fields is not None and n != fmt.num_fields:
            return f"expected {fmt.num_fields} fields, got {n}", None
        if fmt.min_fields is not None and n < fmt.min_fields:
            return f"expected at least {fmt.min_fields} fields, got {n}", None
    if fmt.check is not None:
        try:
            return None, fmt.check(key, value)
        except ValueError as e:
            return str(e), None
    return None, None


def _strictly_increasing(keys: list[str], ascii_text: bool) -> bool:
    """Whether ``keys`` are unique and in ``LC_ALL=C`` order (one pass, in C)."""
    if not ascii_text:  # code point order differs from byte order for surrogate-escaped bytes
        keys = list(map(c_sort_key, keys))
    return all(map(operator.lt, keys, itertools.islice(keys, 1, None)))


def non_decreasing(items: list[str], ascii_text: bool) -> bool:
    """Whether ``items`` are in ``LC_ALL=C`` order, ties allowed (one pass, in C)."""
    if not ascii_text:
        items = list(map(c_sort_key, items))
    return all(map(operator.le, items, itertools.islice(items, 1, None)))


class Bulk:
    """A table in which every line is well-formed (checked with whole-file operations), as columns."""

    def __init__(self, text: str, keys: list[str], fields: list[list[str]] | None, values: list[str] | None):
        self.text = text  # the whole file (its lines are split again only where values are needed)
        self.keys = keys  # the keys, file order (unique, sorted)
        self.fields = fields  # the value fields column by column (a fixed field count), else None
        self._values = values
        self.parsed: tuple[list, ...] | None = None  # the columns the format's bulk check returned
        # a table of at least 2 fields (spk2utt ...): all its fields in file order, and each line's spaces
        self.tokens: list[str] | None = None
        self.counts: list[int] = []

    @property
    def values(self) -> list[str]:
        """The value (rest of the line after the key) of each line."""
        if self._values is None:
            if self.fields is not None and len(self.fields) == 1:
                self._values = self.fields[0]
            else:
                # as the line-by-line path splits them: blanks around the line and the value stripped
                lines = self.text.split("\n")
                if lines[-1] == "":
                    lines.pop()
                blank = itertools.repeat(" ")
                parts = map(str.partition, map(str.strip, lines, blank), blank)
                self._values = list(map(str.lstrip, map(_VALUE, parts), blank))
        return self._values


_KEY = operator.itemgetter(0)
_VALUE = operator.itemgetter(2)


def bulk_load(text: str, lines: list[str], name: str, ref_keys: list[str] | None = None) -> Bulk | None:
    """A table whose every line is well-formed, checked in bulk (as :class:`Bulk`); else ``None``.

    Most files are clean: this checks them with whole-file string operations and maps that run in C, many
    times faster than the line-by-line loop that then finds and reports the problems: no CR or tab; no empty
    line; single spaces between fields (the value of a table of at least one field, text, may be spaced
    in any way: it is stripped as the loop strips it); field counts; unique keys in ``LC_ALL=C`` order;
    values. ``lines`` are the lines of ``text`` (without the final newline's empty string). ``ref_keys``:
    the keys the table is expected to have (unique and sorted: utt2spk's); when it has exactly those, its
    keys are that list (and a table of at least one field, text, is not split into fields at all).
    """
    if not lines or "\r" in text or "\t" in text:
        return None
    n = len(lines)
    fmt = format_of(name)
    k = fmt.num_fields
    fields: list[list[str]] | None = None
    values: list[str] | None = None
    tokens: list[str] | None = None
    counts: list[int] = []
    blank = itertools.repeat(" ")
    if ref_keys is not None and len(ref_keys) != n:
        ref_keys = None
    if k is not None:
        # exactly k - 1 spaces on every line, and no empty field (no blanks doubled, leading or trailing):
        # then the tokens of the file are its columns
        if text.count(" ") != (k - 1) * n:
            return None
        if list(map(str.count, lines, blank)).count(k - 1) != n:
            return None
        body = text[:-1] if text.endswith("\n") else text
        tokens = body.replace("\n", " ").split(" ")
        if not all(tokens):
            return None
        keys = tokens[0::k]
        fields = [tokens[i::k] for i in range(1, k)]
        tokens = None
    elif fmt.min_fields is not None and fmt.min_fields > 1:
        # at least min_fields fields (spk2utt, wav.scp ...): no empty field (no blanks doubled, leading or
        # trailing); then a line has as many value fields as spaces, and the line after holds the next key
        body = text[:-1] if text.endswith("\n") else text
        tokens = body.replace("\n", " ").split(" ")
        if not all(tokens):
            return None
        counts = list(map(str.count, lines, blank))
        if min(counts) < fmt.min_fields - 1:
            return None
        first = list(itertools.accumulate(map(operator.add, counts, itertools.repeat(1)), initial=0))
        first.pop()
        keys = list(map(tokens.__getitem__, first))
    elif (
        ref_keys is not None
        and all(map(str.startswith, lines, ref_keys))
        and all(map(str.startswith, lines, blank, map(len, ref_keys)))
    ):
        keys = ref_keys  # every line starts with the same line's key of the reference, then a space
    else:  # at least a key (text: any spacing in the value)
        keys = list(map(_KEY, map(str.partition, lines, blank)))
        if not all(keys):  # an empty line, or one that starts with a blank
            return None
    if ref_keys is not None and (keys is ref_keys or keys == ref_keys):
        keys = ref_keys  # unique and sorted; one list for both
    elif not _strictly_increasing(keys, text.isascii()):
        return None
    bulk = Bulk(text, keys, fields, values)
    if tokens is not None:
        bulk.tokens, bulk.counts = tokens, counts
    return bulk if _values_ok(bulk, fmt) else None


def _values_ok(bulk: Bulk, fmt: Format) -> bool:
    """Whether every value of ``bulk`` passes ``fmt``'s check, in bulk; keeps the parsed columns."""
    if fmt.allowed is not None:
        return fmt.allowed.issuperset(bulk.values)
    if fmt.bulk is not None:
        try:
            bulk.parsed = fmt.bulk(bulk.fields if bulk.fields is not None else [bulk.values])
        except ValueError:
            return False
        bulk.fields = None  # parsed: the values are split from the text again where needed
    elif fmt.check is not None:
        check = fmt.check
        try:
            objs = list(map(check, bulk.keys, bulk.values))
        except ValueError:
            return False
        if objs[0] is not None:
            bulk.parsed = (objs,)
    return True


def fast_load(raw: RawLines, name: str) -> tuple[dict[str, str], dict[str, object]] | None:
    """``(values, parsed)`` of a table in which every line is well-formed, checked in bulk; else ``None``."""
    bulk = bulk_load(raw.text, raw.lines, name)
    if bulk is None:
        return None
    return dict(zip(bulk.keys, bulk.values, strict=True)), parsed_dict(name, bulk)


def parsed_dict(name: str, bulk: Bulk) -> dict[str, object]:
    if not bulk.parsed:
        return {}
    assemble = format_of(name).assemble
    if assemble is not None:
        return assemble(bulk.keys, bulk.parsed)
    return dict(zip(bulk.keys, bulk.parsed[0], strict=True))


def examples(ids: Iterable[str]) -> str:
    ids = c_sorted(ids)
    shown = ", ".join(ids[:_MAX_EXAMPLES])
    return shown + (", ..." if len(ids) > _MAX_EXAMPLES else "")
