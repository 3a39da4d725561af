"""Kaldi data-directory operations: validate, fix, copy, combine, subset (stdlib only).

These are the implementations behind ``utils/validate_data_dir.sh``, ``utils/fix_data_dir.sh``,
``utils/copy_data_dir.sh``, ``utils/combine_data.sh`` and ``utils/subset_data_dir.sh`` (through
``speechsent.bin.data_dir``). They follow Kaldi's scripts of the same names, with these differences:

* :func:`validate` reports *every* problem it finds (not only the first) and each failed check is an error:
  Kaldi's script exits 0 on some of them (see :func:`validate`). It also checks our files ``utt2sentiment``,
  ``utt2pseudo`` and ``utt2pseudo_prob``.
* every operation carries ``utt2sentiment``, ``utt2pseudo`` and ``utt2pseudo_prob`` along (they are
  utterance-indexed tables like ``text``);
* :func:`fix` makes every present utterance-indexed table constrain the utterance list (Kaldi only intersects
  a few and merely filters the others, which can leave a directory that does not validate), and drops
  malformed lines (e.g. a segment with end <= start) so that its output validates;
* :func:`subset` selects by hours (``--hours H --seed S``: nested across H for a seed), randomly
  (``--random N --seed S``) and by shortest from ``utt2dur``/``segments`` (Kaldi reads feats).

Everything is written atomically and ``LC_ALL=C`` sorted (:mod:`speechsent.data.kaldi_dir`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import itertools
import math
import operator
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from speechsent.data.audio_headers import header_path, header_reader
from speechsent.data.kaldi_dir import (
    BOM,
    ENCODING,
    PSEUDO_LABELS,
    RECO_FILES,
    SENTIMENT_LABELS,
    SPK_FILES,
    UTT_FILES,
    VERBATIM_FILES,
    DataDir,
    KaldiDataError,
    RawLines,
    Segment,
    bom_message,
    c_sort_key,
    c_sorted,
    cr_message,
    parse_duration,
    parse_num_frames,
    parse_probability,
    parse_pseudo_label,
    parse_segment,
    parse_sentiment_label,
    read_lines,
    read_table,
    split_fields,
    split_line,
    utf16_message,
    utf16_text,
    utt2spk_to_spk2utt,
    write_lines,
    write_table,
)
from speechsent.utils.seeded import seeded_order

__all__ = [
    "MAX_OVERSHOOT",
    "CombineReport",
    "FixReport",
    "SubsetReport",
    "ValidateOptions",
    "combine",
    "copy",
    "fix",
    "seeded_order",
    "select_evenly",
    "select_first",
    "select_hours",
    "select_last",
    "select_per_speaker",
    "select_random",
    "select_shortest",
    "select_speakers",
    "subset",
    "subset_by_utts",
    "validate",
]

#: A segment may end this many seconds after its recording's end (Kaldi's ``extract-segments
#: --max-overshoot`` default: longer overshoots are rejected there).
MAX_OVERSHOOT = 0.5
#: Slack for comparing durations written with limited precision.
DUR_TOLERANCE = 0.01
#: Words that must not occur in ``text`` (Kaldi: sentence boundaries and the LM disambiguation symbol).
ILLEGAL_TEXT_SYMBOLS = ("<s>", "</s>", "#0")
#: How many example ids a problem message lists.
_MAX_EXAMPLES = 3


# ==========================================================================================================
# Per-file formats (shared by validate and fix)


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
class _Format:
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


_FORMATS: dict[str, _Format] = {
    "utt2spk": _Format(num_fields=2),
    "spk2utt": _Format(min_fields=2),
    "text": _Format(min_fields=1),
    "wav.scp": _Format(min_fields=2, check=_check_wav, bulk=_bulk_wav),
    "segments": _Format(num_fields=4, check=parse_segment, bulk=_bulk_segments, assemble=_assemble_segments),
    "feats.scp": _Format(min_fields=2),
    "cmvn.scp": _Format(min_fields=2),
    "vad.scp": _Format(min_fields=2),
    "utt2lang": _Format(num_fields=2),
    "utt2uniq": _Format(num_fields=2),
    "utt2dur": _Format(num_fields=2, check=parse_duration, bulk=_bulk_duration),
    "reco2dur": _Format(num_fields=2, check=parse_duration, bulk=_bulk_duration),
    "utt2num_frames": _Format(num_fields=2, check=parse_num_frames, bulk=_bulk_num_frames),
    "spk2gender": _Format(num_fields=2, check=_check_gender, allowed=frozenset("mf")),
    "spk2warp": _Format(num_fields=2, check=_check_warp),
    "utt2warp": _Format(num_fields=2, check=_check_warp),
    "reco2file_and_channel": _Format(num_fields=3, check=_check_r2fc),
    "utt2sentiment": _Format(num_fields=2, check=parse_sentiment_label, allowed=frozenset(SENTIMENT_LABELS)),
    "utt2pseudo": _Format(num_fields=2, check=parse_pseudo_label, allowed=frozenset(PSEUDO_LABELS)),
    "utt2pseudo_prob": _Format(num_fields=2, check=parse_probability, bulk=_bulk_probability),
}
_DEFAULT_FORMAT = _Format(min_fields=1)
#: Utterance tables that may cover a subset of utt2spk: pseudo labels exist only for the utterances the
#: labeler had a transcript for.
PARTIAL_UTT_FILES: frozenset[str] = frozenset({"utt2pseudo", "utt2pseudo_prob"})


def _num_fields(value: str) -> int:
    """Number of fields of a line whose value (after the key) is ``value``."""
    if not value:
        return 1
    if " " not in value and "\t" not in value:
        return 2
    return 1 + len(split_fields(value))


def _check_line(name: str, key: str, value: str) -> tuple[str | None, object]:
    """``(why key value is not a valid line of file name or None, the parsed value or None)``."""
    fmt = _FORMATS.get(name, _DEFAULT_FORMAT)
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


def _non_decreasing(items: list[str], ascii_text: bool) -> bool:
    """Whether ``items`` are in ``LC_ALL=C`` order, ties allowed (one pass, in C)."""
    if not ascii_text:
        items = list(map(c_sort_key, items))
    return all(map(operator.le, items, itertools.islice(items, 1, None)))


class _Bulk:
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


def _bulk_load(text: str, lines: list[str], name: str, ref_keys: list[str] | None = None) -> _Bulk | None:
    """A table whose every line is well-formed, checked in bulk (as :class:`_Bulk`); else ``None``.

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
    fmt = _FORMATS.get(name, _DEFAULT_FORMAT)
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
    bulk = _Bulk(text, keys, fields, values)
    if tokens is not None:
        bulk.tokens, bulk.counts = tokens, counts
    if fmt.allowed is not None:
        if not fmt.allowed.issuperset(bulk.values):
            return None
    elif fmt.bulk is not None:
        try:
            bulk.parsed = fmt.bulk(fields if fields is not None else [bulk.values])
        except ValueError:
            return None
        bulk.fields = None  # parsed: the values are split from the text again where needed
    elif fmt.check is not None:
        check = fmt.check
        try:
            objs = list(map(check, keys, bulk.values))
        except ValueError:
            return None
        if objs[0] is not None:
            bulk.parsed = (objs,)
    return bulk


def _fast_load(raw: RawLines, name: str) -> tuple[dict[str, str], dict[str, object]] | None:
    """``(values, parsed)`` of a table in which every line is well-formed, checked in bulk; else ``None``."""
    bulk = _bulk_load(raw.text, raw.lines, name)
    if bulk is None:
        return None
    return dict(zip(bulk.keys, bulk.values, strict=True)), _parsed_dict(name, bulk)


def _parsed_dict(name: str, bulk: _Bulk) -> dict[str, object]:
    if not bulk.parsed:
        return {}
    assemble = _FORMATS.get(name, _DEFAULT_FORMAT).assemble
    if assemble is not None:
        return assemble(bulk.keys, bulk.parsed)
    return dict(zip(bulk.keys, bulk.parsed[0], strict=True))


@dataclasses.dataclass(frozen=True)
class _Length:
    """A recording's length: from ``reco2dur`` (seconds), or from its audio header (samples at a rate)."""

    seconds: float
    samples: int | None = None
    rate: int | None = None
    source: str = "reco2dur"


def _recording_lengths(
    wav_path: Path,
    recos: Iterable[str],
    wav: Mapping[str, str],
    reco2dur: Mapping[str, str],
    *,
    read_headers: bool = True,
) -> tuple[dict[str, _Length], list[str]]:
    """The lengths of ``recos`` that are known, and warnings about those that could not be known.

    ``reco2dur`` takes precedence; the other recordings' audio headers are read where the ``wav.scp`` entry
    names a file without running anything (:func:`speechsent.data.audio_headers.header_path`: a plain path
    or a sph2pipe pipe's input), when numpy or soundfile is importable and ``read_headers``.
    """
    lengths: dict[str, _Length] = {}
    for r, d in reco2dur.items():
        with contextlib.suppress(ValueError):
            lengths[r] = _Length(float(d))
    need = [r for r in c_sorted(set(recos)) if r not in lengths and r in wav]
    if not need or not read_headers:
        return lengths, []
    paths = {r: p for r in need if (p := header_path(wav[r])) is not None}
    if not paths:
        return lengths, []
    reader = header_reader()
    if reader is None:
        return lengths, [
            f"{wav_path}: the audio headers of {len(paths)} recording(s) without reco2dur were not read "
            "(this python has neither numpy nor soundfile: run tools/setup.sh, or write reco2dur): their "
            "segments are not checked against the recordings' lengths"
        ]
    failed: dict[str, str] = {}
    read: dict[str, _Length | str] = {}  # by path: both sides of a conversation read once
    for r, path in paths.items():
        if path not in read:
            try:
                a = reader(path)
                read[path] = _Length(a.seconds, a.samples, a.rate, a.path)
            except (OSError, ValueError) as e:
                read[path] = str(e)
        got = read[path]
        if isinstance(got, str):
            failed[r] = got
        else:
            lengths[r] = got
    if not failed:
        return lengths, []
    r0 = next(iter(failed))
    return lengths, [
        f"{wav_path}: the audio header of {len(failed)} recording(s) could not be read (e.g. {r0}: "
        f"{failed[r0]}): their segments are not checked against the recordings' lengths"
    ]


def _past_end(
    keys: Sequence[str],
    recos: Sequence[str],
    starts: Sequence[float],
    ends: Sequence[float],
    lengths: Mapping[str, _Length],
) -> tuple[list[tuple[str, str, float, float]], list[tuple[str, str, float, float]]]:
    """The segments ``(utt, reco, start, end)`` that start at or after their recording's end, and those that
    end :data:`MAX_OVERSHOOT` s or more after it, as Kaldi's ``extract-segments`` (and
    :func:`speechsent.audio.io.cut_segment`) reject them: in samples ``int(t * rate)`` where the header gave
    the length (an end past it by less is truncated there), in seconds from ``reco2dur``."""
    starts_after: list[tuple[str, str, float, float]] = []
    ends_after: list[tuple[str, str, float, float]] = []
    if all(n.rate is None for n in lengths.values()):
        # reco2dur only (the common case): one pass in C finds whether anything is wrong
        durs = list(map(lengths.get, recos, itertools.repeat(None)))
        secs = [math.inf if n is None else n.seconds for n in durs]
        if not any(map(operator.ge, starts, secs)) and not any(
            map(operator.ge, ends, map(operator.add, secs, itertools.repeat(MAX_OVERSHOOT)))
        ):
            return starts_after, ends_after
    for u, r, start, end in zip(keys, recos, starts, ends, strict=True):
        n = lengths.get(r)
        if n is None:
            continue
        if n.rate is not None and n.samples is not None:
            num = n.samples
            if int(start * n.rate) >= num:
                starts_after.append((u, r, start, end))
            elif int(end * n.rate) >= num + int(MAX_OVERSHOOT * n.rate):
                ends_after.append((u, r, start, end))
        elif start >= n.seconds:
            starts_after.append((u, r, start, end))
        elif end >= n.seconds + MAX_OVERSHOOT:
            ends_after.append((u, r, start, end))
    return starts_after, ends_after


def _past_end_message(
    kind: str, found: list[tuple[str, str, float, float]], lengths: Mapping[str, _Length]
) -> str:
    u, r, start, end = found[0]
    n = lengths[r]
    src = "reco2dur" if n.rate is None else f"the header of {n.source}"
    if kind == "start":
        return (
            f"{len(found)} segment(s) start at or after the end of their recording (Kaldi's extract-segments "
            f"skips them) (e.g. {u}: starts at {start} s, {r} lasts {n.seconds:.3f} s by {src})"
        )
    return (
        f"{len(found)} segment(s) end {MAX_OVERSHOOT} s or more after their recording ends (Kaldi's "
        f"extract-segments skips them; it truncates shorter overshoots) (e.g. {u}: ends at {end} s, {r} "
        f"lasts {n.seconds:.3f} s by {src})"
    )


def _examples(ids: Iterable[str]) -> str:
    ids = c_sorted(ids)
    shown = ", ".join(ids[:_MAX_EXAMPLES])
    return shown + (", ..." if len(ids) > _MAX_EXAMPLES else "")


# ==========================================================================================================
# validate


@dataclasses.dataclass(frozen=True)
class ValidateOptions:
    """The options of ``validate_data_dir.sh``."""

    no_feats: bool = False
    no_text: bool = False
    no_wav: bool = False
    no_spk_sort: bool = False
    non_print: bool = False
    no_audio_headers: bool = False

    @classmethod
    def from_args(cls, args: Iterable[str]) -> ValidateOptions:
        """Parse ``validate_data_dir.sh`` flags (``--no-feats`` or ``--no_feats`` ...)."""
        fields = {f.name for f in dataclasses.fields(cls)}
        kw = {}
        for a in args:
            name = a.lstrip("-").replace("-", "_")
            if not a.startswith("--") or name not in fields:
                raise ValueError(f"unknown validate_data_dir.sh option {a!r}")
            kw[name] = True
        return cls(**kw)

    def to_args(self) -> list[str]:
        return ["--" + f.name.replace("_", "-") for f in dataclasses.fields(self) if getattr(self, f.name)]


class _Table:
    """A loaded table.

    ``keys``: the first entry of each key, file order, well-formed or not; ``values`` (key → value of that
    entry), ``ok`` (the well-formed entries only) and ``parsed`` (what the format check returned for them:
    :class:`Segment`, float ...) are built on first use when the bulk path loaded the table (``bulk``: every
    line well-formed; its columns).
    """

    def __init__(
        self,
        name: str,
        path: Path,
        nlines: int,
        ascii_text: bool,
        *,
        bulk: _Bulk | None = None,
        values: dict[str, str] | None = None,
        ok: dict[str, str] | None = None,
        parsed: dict[str, object] | None = None,
    ):
        self.name = name
        self.path = path
        self.nlines = nlines
        self.ascii = ascii_text  # the file is ASCII: str order is LC_ALL=C order
        self.bulk = bulk
        self.keys: list[str] = bulk.keys if bulk is not None else list(values or ())
        self._values = values
        self._ok = ok
        self._parsed = parsed
        self.data: bytes | None = None  # the file's bytes and text, where kept (text)
        self.text: str | None = None

    @property
    def values(self) -> dict[str, str]:
        if self._values is None:
            assert self.bulk is not None
            self._values = dict(zip(self.keys, self.bulk.values, strict=True))
        return self._values

    @property
    def ok(self) -> dict[str, str]:
        if self._ok is None:
            self._ok = self.values  # bulk: every line is well-formed
        return self._ok

    @property
    def parsed(self) -> dict[str, object]:
        if self._parsed is None:
            assert self.bulk is not None
            self._parsed = _parsed_dict(self.name, self.bulk)
        return self._parsed

    def columns(self) -> tuple[list[str], tuple[list, ...]]:
        """``(keys, parsed columns)`` of the well-formed entries, file order (segments: recos, starts, ends;
        utt2dur/reco2dur: seconds)."""
        if self.bulk is not None and self.bulk.parsed:
            return self.keys, self.bulk.parsed
        parsed = self.parsed
        if self.name == "segments":
            segs: list[Segment] = list(parsed.values())  # type: ignore[arg-type]
            return list(parsed), ([s.reco for s in segs], [s.start for s in segs], [s.end for s in segs])
        return list(parsed), (list(parsed.values()),)

    def speakers(self) -> list[str]:
        """The values of the well-formed entries, file order (utt2spk: the speakers)."""
        if self.bulk is not None and self.bulk.fields is not None:
            return self.bulk.fields[0]
        return list(self.ok.values())


class _LineIssues:
    """Problems of one file, one entry per kind: ``[first line, message, count]`` (call it to add one)."""

    def __init__(self) -> None:
        self.first: dict[str, list] = {}

    def __call__(self, kind: str, lineno: int, msg: str) -> None:
        entry = self.first.get(kind)
        if entry is None:
            self.first[kind] = [lineno, msg, 1]
        else:
            entry[2] += 1


#: The ASCII characters that are not printable, other than the whitespace text may hold (tab, CR, newline).
_ASCII_NON_PRINTABLE = bytes(c for c in range(32) if c not in (9, 10, 13)) + b"\x7f"


def _text_is_clean(data: bytes, text: str) -> bool:
    """Whether :meth:`_Validator.check_text` finds nothing in this file, by whole-file checks in C.

    UTF-8 (ASCII, or a strict decode), printable once tab/CR/newline are blanks, and none of the
    :data:`ILLEGAL_TEXT_SYMBOLS` anywhere; ``False`` sends the file through the line-by-line checks.
    """
    if text.isascii():
        if len(data.translate(None, _ASCII_NON_PRINTABLE)) != len(data):
            return False
    else:
        try:
            data.decode(ENCODING)
        except UnicodeDecodeError:
            return False
        blanked = text.replace("\n", " ")
        if "\t" in blanked:
            blanked = blanked.replace("\t", " ")
        if "\r" in blanked:
            blanked = blanked.replace("\r", " ")
        if not blanked.isprintable():
            return False
    return not (("<" in text or "#" in text) and any(sym in text for sym in ILLEGAL_TEXT_SYMBOLS))


def _spk2utt_matches(utt2spk_t: _Table, spk2utt_t: _Table) -> bool:
    """Fast check (C-level list operations) that spk2utt holds exactly utt2spk's mapping.

    True when spk2utt, line after line, lists utt2spk's utterances in utt2spk's order, each with its speaker
    (as spk2utt made from an utt2spk sorted by speaker); ``False`` means "not known": compare as mappings.
    """
    bulk = spk2utt_t.bulk
    if utt2spk_t.bulk is None or bulk is None or bulk.tokens is None:
        return False
    # the utterances: the tokens but the first of each line (a mask of False, then count times True)
    repeat = itertools.repeat
    line_masks = map(itertools.chain, repeat((False,)), map(repeat, repeat(True), bulk.counts))
    if list(itertools.compress(bulk.tokens, itertools.chain.from_iterable(line_masks))) != utt2spk_t.keys:
        return False
    speakers = list(itertools.chain.from_iterable(map(itertools.repeat, spk2utt_t.keys, bulk.counts)))
    return speakers == utt2spk_t.speakers()


class _Validator:
    def __init__(self, data: Path, opts: ValidateOptions):
        self.data = data
        self.opts = opts
        self.problems: list[str] = []
        self.warnings: list[str] = []

    # -- reporting ------------------------------------------------------------------------------------

    def err(self, name: str, msg: str) -> None:
        self.problems.append(f"{self.data / name}: {msg}")

    def _flush(self, path: Path, issues: dict[str, list]) -> None:
        for kind, (lineno, msg, count) in issues.items():
            more = f" (and {count - 1} more line{'s' if count > 2 else ''} like this)" if count > 1 else ""
            self.problems.append(f"{path}:{lineno}: {msg}{more}" if kind else f"{path}: {msg}")

    # -- loading with the per-file checks -------------------------------------------------------------

    def load(self, name: str, ref: _Table | None = None, keep_text: bool = False) -> _Table | None:
        """Read a table, recording its format problems: newline, empty lines, fields, values, sorting.

        The file is read and split once; a clean file is checked in bulk (:func:`_bulk_load`), any other
        line by line, which reports each kind of problem with its first line. ``ref``: the table (utt2spk)
        whose keys this one's are expected to be (shortcuts where they are).
        ``keep_text``: keep the file's bytes and text in the table (``data``, ``text``).
        """
        path = self.data / name
        if not path.is_file():
            return None
        data = path.read_bytes()
        text = data.decode(ENCODING, "surrogateescape")
        issue = _LineIssues()
        issues = issue.first
        utf16 = utf16_text(data)
        if utf16 is not None:  # named, then checked as its text (else: one confusing message per line)
            issue("utf16", 1, utf16_message(path))
            text, data = utf16, utf16.encode(ENCODING, "surrogateescape")
        if text.startswith(BOM):  # named, then checked without it (else: confusing key mismatches)
            issue("bom", 1, bom_message(path))
            text, data = text[1:], data[3:]
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        final_newline = not data or data.endswith(b"\n")

        ref_keys = ref.keys if ref is not None and ref.bulk is not None else None
        bulk = _bulk_load(text, lines, name, ref_keys)
        if bulk is not None:
            table = _Table(name, path, len(lines), text.isascii(), bulk=bulk)
        else:
            table = self._load_lines(name, path, lines, text.isascii(), issue)
        if not lines:
            issue("", 0, "empty file")
        elif not final_newline:
            issue("newline", len(lines), "last line has no newline")
        self._flush(path, issues)
        if keep_text:
            table.data, table.text = data, text
        return table

    def _load_lines(
        self, name: str, path: Path, lines: list[str], ascii_text: bool, issue: _LineIssues
    ) -> _Table:
        values: dict[str, str] = {}
        ok: dict[str, str] = {}
        parsed: dict[str, object] = {}
        first_line: dict[str, int] = {}
        fmt = _FORMATS.get(name, _DEFAULT_FORMAT)
        num_fields, min_fields, check = fmt.num_fields, fmt.min_fields, fmt.check
        prev_key: str | None = None
        num_crlf = sum(1 for line in lines if line.endswith("\r")) if "\r" in "".join(lines) else 0
        for lineno, line in enumerate(lines, start=1):
            if "\r" in line:
                crlf = line.endswith("\r")
                issue("crlf" if crlf else "cr", lineno, cr_message(path, line, num_crlf, len(lines)))
                line = line.replace("\r", " ")
            # split key / value (the common case, without tabs, inline)
            if "\t" in line:
                kv = split_line(line)
                if kv is None:
                    issue("empty", lineno, "empty line")
                    continue
                key, value = kv
            else:
                stripped = line.strip(" ")
                if not stripped:
                    issue("empty", lineno, "empty line")
                    continue
                key, _, value = stripped.partition(" ")
                if value[:1] == " ":
                    value = value.lstrip(" ")
            if key in first_line:
                issue("dup", lineno, f"duplicate key {key!r} (first on line {first_line[key]})")
                continue
            first_line[key] = lineno
            if prev_key is not None and (
                key < prev_key
                if key.isascii() and prev_key.isascii()
                else c_sort_key(key) < c_sort_key(prev_key)
            ):
                issue(
                    "sort",
                    lineno,
                    f"not sorted in LC_ALL=C order: key {key!r} after {prev_key!r} "
                    "(utils/fix_data_dir.sh sorts it)",
                )
            prev_key = key
            values[key] = value
            # fields and value
            problem = None
            if num_fields is not None or min_fields is not None:
                if not value:
                    n = 1
                elif " " not in value and "\t" not in value:
                    n = 2
                else:
                    n = 1 + len(split_fields(value))
                if num_fields is not None and n != num_fields:
                    problem = f"expected {num_fields} fields, got {n}"
                elif min_fields is not None and n < min_fields:
                    problem = f"expected at least {min_fields} fields, got {n}"
            if problem is None and check is not None:
                try:
                    obj = check(key, value)
                except ValueError as e:
                    problem = str(e)
                else:
                    if obj is not None:
                        parsed[key] = obj
            if problem is None:
                ok[key] = value
            else:
                issue("format", lineno, f"malformed line: {problem}: {line!r}")
        return _Table(name, path, len(lines), ascii_text, values=values, ok=ok, parsed=parsed)

    # -- cross-file checks ----------------------------------------------------------------------------

    def same_keys(self, table: _Table, ref_keys: list[str] | set[str], ref_name: str, what: str) -> bool:
        """``table``'s keys must be exactly ``ref_keys`` (the ``what``-ids of ``ref_name``, unique)."""
        if isinstance(ref_keys, list):
            if table.keys == ref_keys:  # the common case: the same ids in the same order, compared in C
                return True
            ref_keys = set(ref_keys)
        keys = set(table.keys)
        if keys == ref_keys:
            return True
        ref = ref_keys
        good = True
        missing = ref - keys
        extra = keys - ref
        if missing:
            self.problems.append(
                f"{table.path}: {len(missing)} {what}-id(s) of {ref_name} missing from {table.name} "
                f"(e.g. {_examples(missing)}); {table.name} has {len(keys)} entries, {ref_name} {len(ref)}"
            )
            good = False
        if extra:
            self.problems.append(
                f"{table.path}: {len(extra)} {what}-id(s) in {table.name} not in {ref_name} "
                f"(e.g. {_examples(extra)}); {table.name} has {len(keys)} entries, {ref_name} {len(ref)}"
            )
            good = False
        return good

    def check_text(self, table: _Table) -> None:
        """The checks of ``text`` beyond a table's: UTF-8, whitespace, printable, illegal symbols."""
        data = table.data
        assert data is not None and table.text is not None
        if _text_is_clean(data, table.text):
            return
        raw_lines = data.split(b"\n")
        if raw_lines and raw_lines[-1] == b"":
            raw_lines.pop()
        issue = _LineIssues()
        issues = issue.first

        for lineno, raw in enumerate(raw_lines, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                issue(
                    "utf8",
                    lineno,
                    f"line is not valid UTF-8 (byte {raw[e.start]:#04x} at offset {e.start}); if the file "
                    "is in another encoding, convert it (e.g. iconv -f latin1 -t utf-8); "
                    "utils/fix_data_dir.sh drops these utterances",
                )
                continue
            kv = split_line(line)
            if kv is None:
                continue
            utt, words = kv
            if line.isprintable() or line.replace("\t", " ").replace("\r", " ").isprintable():
                pass  # the common case, checked in C
            else:
                self._check_chars(line, lineno, utt, issue)
            if any(sym in words for sym in ILLEGAL_TEXT_SYMBOLS):
                fields = split_fields(words)
                for sym in ILLEGAL_TEXT_SYMBOLS:
                    if sym in fields:
                        issue("sym" + sym, lineno, f"text of utterance {utt} contains illegal symbol {sym}")
        self._flush(table.path, issues)

    def _check_chars(self, line: str, lineno: int, utt: str, issue: Callable[[str, int, str], None]) -> None:
        for ch in line:
            if ch in " \t\r":
                continue
            if ch.isspace():
                issue(
                    "space",
                    lineno,
                    f"line for utterance {utt} contains disallowed Unicode whitespace U+{ord(ch):04X}",
                )
                break
            if not self.opts.non_print and not ch.isprintable():
                issue(
                    "print",
                    lineno,
                    f"line for utterance {utt} contains non-printable character U+{ord(ch):04X} "
                    "(--non-print to allow)",
                )
                break


def validate(
    data_dir: str | os.PathLike[str],
    *,
    no_feats: bool = False,
    no_text: bool = False,
    no_wav: bool = False,
    no_spk_sort: bool = False,
    non_print: bool = False,
    warnings: list[str] | None = None,
    no_audio_headers: bool = False,
) -> list[str]:
    """Check a data directory as Kaldi's ``utils/validate_data_dir.sh`` does; return the problems found.

    An empty list means the directory is valid. Each problem names the file (``path:line:`` for a line).
    Warnings (one speaker only; channel ``1`` in reco2file_and_channel; audio headers not read) are appended
    to ``warnings`` when given. The options are the script's: ``no_feats``/``no_text``/``no_wav`` make
    ``feats.scp``/``text``/``wav.scp`` optional (checked when present), ``no_spk_sort`` drops the
    requirement that ``utt2spk`` is also sorted by speaker, ``non_print`` allows non-printable characters in
    ``text``; ``no_audio_headers`` reads no audio header (segments checked against ``reco2dur`` only).

    Checks (Kaldi's, plus ours marked *):

    * every table: ends in a newline, no empty line, no UTF-8 byte-order mark (BOM)* and no carriage return
      (CRLF line ends)*, each named as such with the fix; unique keys in ``LC_ALL=C`` order, the right number
      of fields*;
    * ``utt2spk`` and ``spk2utt`` present, non-empty, the same mapping; ``utt2spk`` sorted by speaker too;
    * ``text`` present (unless no_text), UTF-8*, only tab/space whitespace, printable (unless non_print),
      no ``<s> </s> #0`` word, the utterances of ``utt2spk``;
    * ``segments`` needs ``wav.scp``; ``wav.scp`` present (unless no_wav), with a path*, no ``~`` path;
    * ``segments``: ``utt reco start end``, numbers*, ``0 <= start``* ``< end``, the utterances of
      ``utt2spk``*, every segment's recording in ``wav.scp`` and every ``wav.scp`` recording with a segment;
      a segment starts before its recording's end and ends less than :data:`MAX_OVERSHOOT` s after it* (the
      limits of Kaldi's ``extract-segments`` and :func:`speechsent.audio.io.cut_segment`), where the length
      is known: from ``reco2dur`` when it has the recording, else (unless ``no_audio_headers``) from the
      audio header of a ``wav.scp`` entry that names a file without running anything, a plain path or a
      ``sph2pipe`` pipe's input file (:mod:`speechsent.data.audio_headers`; needs numpy or soundfile: in a
      bare ``python3`` a warning says the headers were not read); recordings whose header cannot be read
      are a warning, never a pipe run;
    * ``reco2file_and_channel`` (channel A or B) and ``reco2dur`` (> 0): the recordings of ``segments``, or
      without segments the utterances (as ``wav.scp``);
    * ``feats.scp`` present (unless no_feats); ``feats.scp vad.scp utt2lang utt2uniq utt2dur utt2num_frames
      utt2warp`` and ours* ``utt2sentiment``: exactly the utterances of utt2spk; ``utt2pseudo``*: a
      subset of them (utterances without a transcript have no pseudo label), ``utt2pseudo_prob``* exactly
      the utterances of ``utt2pseudo``;
    * ``cmvn.scp spk2gender spk2warp``: exactly the speakers of ``spk2utt``;
    * values: ``utt2dur`` > 0 and not longer than its segment*, equal to ``reco2dur`` without segments*;
      ``utt2num_frames`` integer > 0; ``spk2gender`` m/f; warps in (0.5, 1.5); ``utt2sentiment``
      Negative/Neutral/Positive*; ``utt2pseudo`` Negative/Positive*; ``utt2pseudo_prob`` in [0, 1] and only
      with ``utt2pseudo``*.

    Where Kaldi's script lets a failure through with exit status 0 and this one does not: a malformed
    ``utt2spk`` (it runs a bare ``exit`` after ``echo``, i.e. status 0); ``segments`` whose utterances differ
    from ``utt2spk`` when there is no ``text`` (that comparison sits under ``if [ -f text ]``); a present
    ``text`` under ``--no-text`` (not checked at all); ``text`` that is not UTF-8 (``validate_text.pl`` then
    assumes a one-byte encoding and the C.UTF-8 ``grep`` does not match invalid bytes); non-numeric values in
    ``segments``/``utt2dur``/``reco2dur`` (awk compares them as strings); ``wav.scp`` lines without a path.
    """
    opts = ValidateOptions(no_feats, no_text, no_wav, no_spk_sort, non_print, no_audio_headers)
    data = Path(data_dir)
    v = _Validator(data, opts)
    if not data.is_dir():
        return [f"{data}: no such directory"]
    # The common case (clean files) is checked with whole-file and whole-column operations that run in C;
    # where one finds something, the line-by-line or mapping-based check runs to report it. Key sets are
    # compared as lists first (the same ids in the same order), as sets only where those differ.

    # -- utt2spk / spk2utt ------------------------------------------------------------------------------
    for name in ("utt2spk", "spk2utt"):
        if not (data / name).is_file():
            hint = " (make it from utt2spk with utils/fix_data_dir.sh)" if name == "spk2utt" else ""
            v.err(name, f"no such file{hint}")
    utt2spk_t = v.load("utt2spk")
    spk2utt_t = v.load("spk2utt")
    utt_ids: list[str] = utt2spk_t.keys if utt2spk_t else []  # unique, file order
    spk_column = utt2spk_t.speakers() if utt2spk_t else []  # of the well-formed lines, file order
    speakers = set(spk_column)
    if utt2spk_t is not None and len(speakers) == 1:
        v.warnings.append(
            f"{utt2spk_t.path}: only one speaker; this is probably a bad idea "
            "(see 'bold' in http://kaldi-asr.org/doc/data_prep.html)"
        )
    if utt2spk_t is not None and not opts.no_spk_sort and not _non_decreasing(spk_column, utt2spk_t.ascii):
        utt2spk = utt2spk_t.ok
        prev: bytes | None = None
        prev_spk = ""
        for utt in utt2spk_t.keys:  # file order
            spk = utt2spk.get(utt)
            if spk is None:
                continue
            sb = c_sort_key(spk)
            if prev is not None and sb < prev:
                v.err(
                    "utt2spk",
                    f"not sorted by speaker-id as well as by utterance-id (utterance {utt}: speaker {spk} "
                    f"after {prev_spk}); make speaker-ids prefixes of utterance-ids, or pass --no-spk-sort",
                )
                break
            prev, prev_spk = sb, spk
    if utt2spk_t is not None and spk2utt_t is not None and not _spk2utt_matches(utt2spk_t, spk2utt_t):
        utts = set(utt_ids)
        utt2spk = utt2spk_t.ok
        from_spk2utt: dict[str, str] = {}
        twice: set[str] = set()
        for spk, value in spk2utt_t.values.items():
            for utt in split_fields(value):
                if utt in from_spk2utt:
                    twice.add(utt)
                from_spk2utt[utt] = spk
        if twice:
            v.err("spk2utt", f"{len(twice)} utterance(s) listed more than once (e.g. {_examples(twice)})")
        missing = utts - set(from_spk2utt)
        extra = set(from_spk2utt) - utts
        differ = {u for u in utts & set(from_spk2utt) if utt2spk.get(u, from_spk2utt[u]) != from_spk2utt[u]}
        if missing or extra or differ:
            parts = []
            if missing:
                parts.append(
                    f"{len(missing)} utterance(s) of utt2spk not in spk2utt (e.g. {_examples(missing)})"
                )
            if extra:
                parts.append(f"{len(extra)} utterance(s) in spk2utt not in utt2spk (e.g. {_examples(extra)})")
            if differ:
                parts.append(f"{len(differ)} utterance(s) with another speaker (e.g. {_examples(differ)})")
            v.err("spk2utt", "spk2utt and utt2spk do not match: " + "; ".join(parts))
    if spk2utt_t is not None and spk2utt_t.bulk is not None:
        spk2utt_t.bulk.tokens = None  # needed by _spk2utt_matches only

    # -- text -----------------------------------------------------------------------------------------
    if not (data / "text").is_file():
        if not opts.no_text:
            v.err("text", "no such file (if this is by design, pass --no-text)")
    else:
        text_t = v.load("text", ref=utt2spk_t, keep_text=True)
        assert text_t is not None
        v.check_text(text_t)
        text_t.data = text_t.text = None
        if utt2spk_t is not None:
            v.same_keys(text_t, utt_ids, "utt2spk", "utterance")
        del text_t  # the biggest file: let the next ones reuse its memory

    # -- wav.scp, segments, reco2file_and_channel, reco2dur -----------------------------------------------
    has_wav = (data / "wav.scp").is_file()
    has_segments = (data / "segments").is_file()
    if has_segments and not has_wav:
        v.err("segments", "segments file exists but no wav.scp")
    if not has_wav and not opts.no_wav:
        v.err("wav.scp", "no such file (if this is by design, pass --no-wav)")
    wav_t = v.load("wav.scp")
    seg_t = v.load("segments", ref=utt2spk_t)
    recordings: set[str] | None = None
    reco2dur_t = v.load("reco2dur")
    seg_cols: tuple[list[str], tuple[list, ...]] | None = None
    if seg_t is not None:
        if utt2spk_t is not None:
            v.same_keys(seg_t, utt_ids, "utt2spk", "utterance")
        seg_cols = seg_t.columns()
        _, (seg_recos, _, seg_ends) = seg_cols
        recordings = set(seg_recos)
        if wav_t is not None:
            wav_recos = set(wav_t.keys)
            if not recordings <= wav_recos:
                segs: dict[str, Segment] = seg_t.parsed  # type: ignore[assignment]
                unknown = {u for u, s in segs.items() if s.reco not in wav_recos}
                v.err(
                    "segments",
                    f"{len(unknown)} segment(s) refer to a recording not in wav.scp "
                    f"(e.g. {', '.join(f'{u} -> {segs[u].reco}' for u in c_sorted(unknown)[:3])})",
                )
            unused = wav_recos - recordings
            if unused:
                v.err(
                    "wav.scp",
                    f"{len(unused)} recording(s) have no segment (e.g. {_examples(unused)}); "
                    "utils/fix_data_dir.sh drops them",
                )
        lengths, notes = _recording_lengths(
            data / "wav.scp",
            recordings,
            wav_t.ok if wav_t is not None else {},
            reco2dur_t.ok if reco2dur_t is not None else {},
            read_headers=not no_audio_headers,
        )
        v.warnings.extend(notes)
        if lengths:
            seg_keys, (seg_recos, seg_starts, seg_ends) = seg_cols
            starts_after, ends_after = _past_end(seg_keys, seg_recos, seg_starts, seg_ends, lengths)
            for kind, found in (("start", starts_after), ("end", ends_after)):
                if found:
                    v.err("segments", _past_end_message(kind, found, lengths))
    elif wav_t is not None and utt2spk_t is not None:
        v.same_keys(wav_t, utt_ids, "utt2spk", "utterance")
    r2fc_t = v.load("reco2file_and_channel")
    if r2fc_t is not None:
        if r2fc_t.bulk is not None and r2fc_t.bulk.fields is not None:
            num_ones = r2fc_t.bulk.fields[1].count("1")
        else:
            num_ones = sum(split_fields(val)[1] == "1" for val in r2fc_t.ok.values())
        if num_ones:
            v.warnings.append(
                f"{r2fc_t.path}: the channel should be marked as A or B, not 1 ({num_ones} line(s))"
            )
        if recordings is not None:
            v.same_keys(r2fc_t, recordings, "segments", "recording")
        elif utt2spk_t is not None:
            v.same_keys(r2fc_t, utt_ids, "utt2spk", "utterance (recording)")
    if reco2dur_t is not None:
        if recordings is not None:
            v.same_keys(reco2dur_t, recordings, "segments", "recording")
        elif utt2spk_t is not None:
            v.same_keys(reco2dur_t, utt_ids, "utt2spk", "utterance (recording)")

    # -- features -------------------------------------------------------------------------------------
    if not (data / "feats.scp").is_file() and not opts.no_feats:
        v.err("feats.scp", "no such file (if this is by design, pass --no-feats)")

    # -- the other utterance-indexed tables ----------------------------------------------------------------
    loaded: dict[str, _Table] = {}
    for name in (n for n in UTT_FILES if n not in ("utt2spk", "text", "segments")):
        t = v.load(name, ref=utt2spk_t)
        if t is None:
            continue
        loaded[name] = t
        if name == "utt2pseudo_prob" and "utt2pseudo" not in loaded:
            v.err(name, "utt2pseudo_prob without utt2pseudo")
        if name in PARTIAL_UTT_FILES:
            # Pseudo labels exist only for utterances with a transcript to label (the labeler's skips are
            # counted and listed where they were made): a subset of utt2spk, and the prob beside its label.
            if name == "utt2pseudo_prob" and "utt2pseudo" in loaded:
                v.same_keys(t, loaded["utt2pseudo"].keys, "utt2pseudo", "utterance")
            elif utt2spk_t is not None:
                extra = set(t.keys) - set(utt_ids)
                if extra:
                    v.problems.append(
                        f"{t.path}: {len(extra)} utterance-id(s) not in utt2spk (e.g. {_examples(extra)})"
                    )
            continue
        if utt2spk_t is not None:
            v.same_keys(t, utt_ids, "utt2spk", "utterance")

    utt2dur_t = loaded.get("utt2dur")
    if utt2dur_t is not None and seg_t is not None:
        assert seg_cols is not None
        dur_keys, (durs,) = utt2dur_t.columns()
        seg_keys, (_, seg_starts, seg_ends) = seg_cols
        if dur_keys != seg_keys or any(
            map(
                operator.gt,
                durs,
                map(operator.add, map(operator.sub, seg_ends, seg_starts), itertools.repeat(DUR_TOLERANCE)),
            )
        ):
            longer = []
            for u, d in utt2dur_t.parsed.items():
                s = seg_t.parsed.get(u)
                if s is not None and d > s.duration + DUR_TOLERANCE:  # type: ignore[attr-defined,operator]
                    longer.append((u, d, s.duration))  # type: ignore[attr-defined]
            if longer:
                u, d, sd = longer[0]
                v.err(
                    "utt2dur",
                    f"{len(longer)} utterance(s) longer than their segment "
                    f"(e.g. {u}: {d} s, segment {sd:.3f} s)",
                )
    if utt2dur_t is not None and seg_t is None and reco2dur_t is not None:
        dur_keys, (durs,) = utt2dur_t.columns()
        reco_keys, (reco_durs,) = reco2dur_t.columns()
        if dur_keys != reco_keys or any(
            map(
                operator.gt,
                map(abs, map(operator.sub, durs, reco_durs)),
                itertools.repeat(DUR_TOLERANCE),
            )
        ):
            differ = [
                u
                for u, d in utt2dur_t.ok.items()
                if u in reco2dur_t.ok and abs(float(d) - float(reco2dur_t.ok[u])) > DUR_TOLERANCE
            ]
            if differ:
                v.err(
                    "utt2dur",
                    f"{len(differ)} utterance(s) differ from reco2dur (without segments, recording = "
                    f"utterance; e.g. {_examples(differ)})",
                )

    # -- speaker-indexed tables -----------------------------------------------------------------------
    spk_ref = spk2utt_t.keys if spk2utt_t is not None else speakers
    for name in ("cmvn.scp", "spk2gender", "spk2warp"):
        t = v.load(name)
        if t is not None and (spk2utt_t is not None or utt2spk_t is not None):
            v.same_keys(t, spk_ref, "spk2utt", "speaker")

    if warnings is not None:
        warnings.extend(v.warnings)
    return v.problems


# ==========================================================================================================
# Loading leniently and writing (fix, copy, combine, subset)


@dataclasses.dataclass
class _Lenient:
    table: dict[str, str]  # C-sorted, unique, well-formed
    duplicates: int
    malformed: int
    was_sorted: bool
    first_malformed: str = ""
    bom: bool = False  # the file started with a UTF-8 byte-order mark (removed)
    crs: int = 0  # lines that held a carriage return (removed: CRLF line ends; replaced by a blank inside)
    bad_utf8: int = 0  # lines dropped because they are not UTF-8 (text only)
    first_bad_utf8: str = ""
    utf16: bool = False  # the file was UTF-16 (converted)
    num_lines: int = 0  # the file's lines


def _not_utf8(line: str) -> int | None:
    """The first byte of ``line`` (decoded with surrogateescape) that is not UTF-8, else ``None``."""
    if line.isascii():
        return None
    try:
        line.encode(ENCODING)
    except UnicodeEncodeError as e:
        return ord(line[e.start]) - 0xDC00
    return None


def _load_lenient(path: Path, name: str) -> _Lenient:
    """Read a table keeping the first of duplicate keys and dropping malformed lines; sort it.

    A UTF-8 BOM at the start and carriage returns are removed (counted); in ``text``, lines that are not
    UTF-8 are dropped (counted: validate rejects them).
    """
    raw = read_lines(path)
    utf16 = (
        utf16_text(path.read_bytes()) if raw.raw and raw.raw[0][:2] in (b"\xff\xfe", b"\xfe\xff") else None
    )
    if utf16 is not None:
        lines = utf16.split("\n")
        if lines[-1] == "":
            lines.pop()
        raw = RawLines(raw.path, lines, raw.final_newline, raw.raw, utf16)
    lines = raw.lines
    bom = bool(lines) and lines[0].startswith(BOM)
    check_utf8 = name == "text" and _not_utf8(raw.text) is not None
    if utf16 is None and not bom and "\r" not in raw.text and not check_utf8:
        fast = _fast_load(raw, name)
        if fast is not None:
            return _Lenient(fast[0], 0, 0, True, num_lines=len(raw.lines))
    if bom:
        lines = [lines[0][1:], *lines[1:]]
    table: dict[str, str] = {}
    dups = bad = crs = bad_utf8 = 0
    first_bad = first_bad_utf8 = ""
    prev: bytes | None = None
    was_sorted = True
    for lineno, line in enumerate(lines, start=1):
        if "\r" in line:
            crs += 1
            line = line.removesuffix("\r").replace("\r", " ")
        if check_utf8:
            byte = _not_utf8(line)
            if byte is not None:
                bad_utf8 += 1
                if not first_bad_utf8:
                    first_bad_utf8 = f"{path}:{lineno}: byte {byte:#04x}"
                continue
        kv = split_line(line)
        if kv is None:
            continue
        key, value = kv
        kb = c_sort_key(key)
        if prev is not None and kb <= prev:
            was_sorted = False
        prev = kb
        if key in table:
            dups += 1
            continue
        problem, _ = _check_line(name, key, value)
        if problem is not None:
            bad += 1
            if not first_bad:
                first_bad = f"{path}:{lineno}: {problem}"
            continue
        table[key] = value
    ordered = {k: table[k] for k in c_sorted(table)}
    return _Lenient(
        ordered,
        dups,
        bad,
        was_sorted,
        first_bad,
        bom,
        crs,
        bad_utf8,
        first_bad_utf8,
        utf16 is not None,
        len(lines),
    )


def _table_bytes(table: Mapping[str, str]) -> bytes:
    return "".join(f"{k} {v}\n" if v else f"{k}\n" for k, v in table.items()).encode(
        "utf-8", "surrogateescape"
    )


def _write_if_changed(path: Path, table: Mapping[str, str]) -> bool:
    """Write a (sorted) table unless the file already holds exactly that; True if written."""
    ordered = {k: table[k] for k in c_sorted(table)}
    try:
        if path.read_bytes() == _table_bytes(ordered):
            return False
    except FileNotFoundError:
        pass
    write_table(path, ordered)
    return True


def _write_spk2utt(data: Path, utt2spk: Mapping[str, str]) -> None:
    spk2utt = utt2spk_to_spk2utt(utt2spk)
    _write_if_changed(data / "spk2utt", {s: " ".join(u) for s, u in spk2utt.items()})


def _words(files: str | Iterable[str] | None) -> list[str]:
    if files is None:
        return []
    if isinstance(files, str):
        return files.split()
    out: list[str] = []
    for f in files:
        out.extend(f.split())
    return out


# ==========================================================================================================
# Backups and the lock


_BACKUP = ".backup"
#: The lock file of :func:`fix` in the data directory (present only while a fix runs).
LOCK_NAME = ".fix_data_dir.lock"


def _backup_dirs(data: Path) -> list[tuple[int, Path]]:
    """The backup directories of ``data``, oldest first: ``.backup`` (0), ``.backup.1``, ``.backup.2`` ..."""
    found = []
    with contextlib.suppress(FileNotFoundError):
        for p in data.iterdir():
            if p.name == _BACKUP:
                found.append((0, p))
            elif p.name.startswith(_BACKUP + ".") and p.name[len(_BACKUP) + 1 :].isdigit():
                found.append((int(p.name[len(_BACKUP) + 1 :]), p))
    return sorted(f for f in found if f[1].is_dir())


def _new_backup_dir(data: Path) -> Path:
    """A new, empty backup directory: ``.backup`` for the first, then ``.backup.1``, ``.backup.2`` ..."""
    dirs = _backup_dirs(data)
    n = dirs[-1][0] + 1 if dirs else 0
    while True:
        path = data / (_BACKUP if n == 0 else f"{_BACKUP}.{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            n += 1


def _backup(data: Path, names: Iterable[str]) -> tuple[Path, bool]:
    """Keep copies of the files ``names`` of ``data``; ``(the backup directory, whether it is new)``.

    Backups are never overwritten: each run that changes files gets a new numbered directory, unless the
    newest backup already holds exactly these files' bytes (e.g. originals put back and fixed again).
    """
    present = [n for n in names if (data / n).is_file()]
    dirs = _backup_dirs(data)
    if dirs:
        latest = dirs[-1][1]
        if all(
            (latest / n).is_file() and (latest / n).read_bytes() == (data / n).read_bytes() for n in present
        ):
            return latest, False
    backup = _new_backup_dir(data)
    for name in present:
        shutil.copy2(data / name, backup / name)
    return backup, True


@contextlib.contextmanager
def _dir_lock(data: Path, log: Callable[[str], None]) -> Iterator[None]:
    """Hold an exclusive lock on the data directory ``data`` (``fcntl.flock`` on :data:`LOCK_NAME`).

    Another holder makes this wait (said once through ``log``); the lock goes with the process, so a killed
    run never leaves a stale lock. The lock file is removed on release; a waiter that then holds a removed
    file's lock takes the new one instead. Where the file system cannot lock (``ENOLCK`` ...), ``log`` says
    so and the work runs unlocked.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX
        log(f"WARNING: cannot lock {data} on this system: make sure no other fix runs on it")
        yield
        return
    path = data / LOCK_NAME
    waited = False
    fd = -1
    try:
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not waited:
                    log(f"waiting for another fix_data_dir.sh on {data} to finish (lock file {path})")
                    waited = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the previous holder removed it: lock the file now at the path
            fd = -1
    except OSError as e:
        if fd >= 0:
            os.close(fd)
            fd = -1
        if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL, errno.EACCES, errno.EROFS):
            raise
        log(f"WARNING: cannot lock {data} ({e.strerror}): make sure no other fix runs on it")
    try:
        yield
    finally:
        if fd >= 0:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            os.close(fd)


# ==========================================================================================================
# fix


@dataclasses.dataclass
class FixReport:
    """What :func:`fix` did."""

    num_utts_before: int
    num_utts_after: int
    #: File name → number of lines removed from it (duplicates, malformed lines, filtered entries).
    removed_lines: dict[str, int]
    #: Human-readable log lines (Kaldi's wording where there is one).
    messages: list[str]
    #: Where the files were before this run (``.backup``, ``.backup.1`` ...); None when nothing changed.
    backup_dir: Path | None
    #: What :func:`validate` still finds in the fixed directory (empty: it validates), checked with every
    #: ``--no-*`` option and ``--non-print``: what fix does not repair (e.g. ``<s>`` in ``text``).
    problems: list[str] = dataclasses.field(default_factory=list)


def fix(
    data_dir: str | os.PathLike[str],
    *,
    utt_extra_files: str | Iterable[str] | None = None,
    spk_extra_files: str | Iterable[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> FixReport:
    """Repair a data directory in place, as Kaldi's ``utils/fix_data_dir.sh`` does.

    Every table is sorted, duplicate keys dropped (the first entry kept) and malformed lines dropped; a
    UTF-8 byte-order mark and carriage returns (CRLF line ends) are removed, and ``text`` lines that are not
    UTF-8 dropped (each counted in the messages); segments whose recording is not in ``wav.scp``
    (``reco2file_and_channel``, ``reco2dur``) are dropped, and recordings left without segments; segments
    that start after their recording's end or end :data:`MAX_OVERSHOOT` s or more after it (its length
    from ``reco2dur``, else its audio header, as :func:`validate` finds it) are dropped; only the utterances
    present in *every* utterance-indexed table (``utt2spk text segments feats.scp vad.scp utt2lang utt2uniq
    utt2dur utt2num_frames utt2warp utt2sentiment utt2pseudo utt2pseudo_prob``, ``wav.scp`` when there are
    no segments, and ``utt_extra_files``) and whose speaker is in every present speaker-indexed table
    (``cmvn.scp spk2gender spk2warp`` and ``spk_extra_files``) are kept; ``spk2utt`` is regenerated from
    ``utt2spk``. Files whose content does not change are not rewritten.

    Before anything is rewritten, the files are copied to a new backup directory, never over an older one:
    ``<dir>/.backup`` the first time, then ``.backup.1``, ``.backup.2`` ... (a run that changes nothing makes
    none). Runs on the same directory wait for each other (a lock, :data:`LOCK_NAME`; ``log``, by default
    stderr, says when this one waits). The result is validated; what remains is in :attr:`FixReport.problems`.

    Raises :class:`KaldiDataError` if ``utt2spk`` is missing, ``segments`` exists without ``wav.scp``, or no
    utterance would remain (nothing is written then).
    """
    data = Path(data_dir)
    if not data.is_dir():
        raise KaldiDataError("no such directory", data)
    if not (data / "utt2spk").is_file():
        raise KaldiDataError("no such file", data / "utt2spk")
    say = log if log is not None else (lambda msg: print(msg, file=sys.stderr, flush=True))
    with _dir_lock(data, say):
        return _fix_locked(data, _words(utt_extra_files), _words(spk_extra_files))


def _fix_locked(data: Path, utt_extra_files: list[str], spk_extra_files: list[str]) -> FixReport:
    if not (data / "utt2spk").is_file():  # removed while this run waited
        raise KaldiDataError("no such file", data / "utt2spk")
    utt_extra = [f for f in utt_extra_files if f not in UTT_FILES]
    spk_extra = [f for f in spk_extra_files if f not in SPK_FILES]
    has_segments = (data / "segments").is_file()
    if has_segments and not (data / "wav.scp").is_file():
        raise KaldiDataError(f"{data / 'segments'} exists but not {data / 'wav.scp'}")

    utt_names = [n for n in (*UTT_FILES, *utt_extra) if (data / n).is_file()]
    spk_names = [n for n in (*SPK_FILES[1:], *spk_extra) if (data / n).is_file()]
    reco_names = [n for n in RECO_FILES if (data / n).is_file()]
    if not has_segments:  # wav.scp etc. are indexed by utterance
        utt_names += reco_names
        reco_names = []

    messages: list[str] = []
    removed: dict[str, int] = {}
    tables: dict[str, dict[str, str]] = {}
    original_lines: dict[str, int] = {}
    for name in (*utt_names, *spk_names, *reco_names):
        lt = _load_lenient(data / name, name)
        tables[name] = lt.table
        original_lines[name] = lt.num_lines
        if lt.utf16:
            messages.append(f"converted {data / name} from UTF-16 to UTF-8")
        if lt.bom:
            messages.append(
                f"removed the UTF-8 byte-order mark (BOM) at the start of {data / name} (its first line "
                "is kept)"
            )
        if lt.crs:
            messages.append(
                f"removed the carriage returns (Windows CRLF line ends) of {lt.crs} line(s) of {data / name}"
            )
        if lt.bad_utf8:
            messages.append(
                f"WARNING: dropped {lt.bad_utf8} utterance(s) whose text is not valid UTF-8 (e.g. "
                f"{lt.first_bad_utf8}); if {data / name} is in another encoding, convert the original (kept "
                "in the backup) and fix again, e.g. iconv -f latin1 -t utf-8"
            )
        if not lt.was_sorted or lt.duplicates:
            messages.append(f"file {data / name} is not in sorted order or not unique, sorting it")
        if lt.duplicates:
            messages.append(f"removed {lt.duplicates} duplicate key(s) from {data / name} (first entry kept)")
        if lt.malformed:
            messages.append(
                f"removed {lt.malformed} malformed line(s) from {data / name}, e.g. {lt.first_malformed}"
            )

    utt2spk = tables["utt2spk"]
    num_before = original_lines["utt2spk"]
    segments = tables.get("segments")
    segs = {u: parse_segment(u, v) for u, v in (segments or {}).items()}

    # Recordings: present in segments and in every recording-indexed file.
    recos: set[str] | None = None
    if segments is not None:
        recos = {s.reco for s in segs.values()}
        for name in reco_names:
            recos &= set(tables[name])
        lengths, notes = _recording_lengths(
            data / "wav.scp", recos, tables.get("wav.scp", {}), tables.get("reco2dur", {})
        )
        messages.extend(f"WARNING: {n}" for n in notes)
        if lengths:
            keys = list(segs)
            starts_after, ends_after = _past_end(
                keys,
                [segs[u].reco for u in keys],
                [segs[u].start for u in keys],
                [segs[u].end for u in keys],
                lengths,
            )
            for kind, found in (("start", starts_after), ("end", ends_after)):
                if found:
                    messages.append("dropping " + _past_end_message(kind, found, lengths))
            over = {u for u, *_ in (*starts_after, *ends_after)}
            segs = {u: s for u, s in segs.items() if u not in over}
        segs = {u: s for u, s in segs.items() if s.reco in recos}

    utt2dur = tables.get("utt2dur")
    utts = set(utt2spk)
    speakers: set[str] = set()
    while True:
        before = len(utts)
        for name in utt_names:
            utts &= set(segs) if name == "segments" else set(tables[name])
        if utt2dur is not None and segments is not None:
            utts = {u for u in utts if float(utt2dur[u]) <= segs[u].duration + DUR_TOLERANCE}
        speakers = {utt2spk[u] for u in utts}
        for name in spk_names:
            speakers &= set(tables[name])
        utts = {u for u in utts if utt2spk[u] in speakers}
        if segments is not None:
            recos = {segs[u].reco for u in utts}
        if len(utts) == before:
            break

    if not utts:
        raise KaldiDataError("no utterances remained: not proceeding further (no file was changed)", data)

    # What each file becomes; then the backup (if anything changes), then the writes.
    outputs: dict[str, dict[str, str]] = {}
    for names, keys in ((utt_names, utts), (spk_names, speakers), (reco_names, recos)):
        for name in names:
            assert keys is not None
            outputs[name] = {k: v for k, v in tables[name].items() if k in keys}
    kept_utt2spk = {u: utt2spk[u] for u in utts}
    outputs["spk2utt"] = {s: " ".join(u) for s, u in utt2spk_to_spk2utt(kept_utt2spk).items()}
    changed = []
    for name, table in outputs.items():
        try:
            same = (data / name).read_bytes() == _table_bytes({k: table[k] for k in c_sorted(table)})
        except FileNotFoundError:
            same = False
        if not same:
            changed.append(name)
    backup: Path | None = None
    if changed:
        backup, _ = _backup(data, outputs)
    for name in changed:
        write_table(data / name, outputs[name])
    for name in (*utt_names, *spk_names, *reco_names):
        n0, n1 = original_lines[name], len(outputs[name])
        if n0 != n1:
            messages.append(f"filtered {data / name} from {n0} to {n1} lines")
            removed[name] = n0 - n1

    spks = [c_sort_key(kept_utt2spk[u]) for u in c_sorted(kept_utt2spk)]
    if any(a > b for a, b in itertools.pairwise(spks)):
        messages.append(
            "WARNING: utt2spk is not sorted by speaker-id as well as by utterance-id "
            "(make speaker-ids prefixes of utterance-ids, or validate with --no-spk-sort)"
        )
    if len(utts) != num_before:
        messages.append(f"kept {len(utts)} utterances out of {num_before}")
    else:
        messages.append(f"kept all {num_before} utterances.")
    if backup is not None:
        messages.append(f"old files are kept in {backup}")
    else:
        messages.append("nothing to change: no file rewritten, no backup made")
    problems = validate(
        data,
        no_feats=True,
        no_text=True,
        no_wav=True,
        no_spk_sort=True,
        non_print=True,
        no_audio_headers=True,  # read above
    )
    return FixReport(num_before, len(utts), removed, messages, backup, problems)


# ==========================================================================================================
# copy


def _move_stale(dst: Path, keep: set[str], src: Path, messages: list[str]) -> None:
    """Move the known data files of ``dst`` that were not written (absent from the source) to a backup
    directory: the newest one (``.backup``, ``.backup.1`` ...) when it has none of them, else a new one."""
    stale = [
        name
        for name in (*UTT_FILES, *SPK_FILES, *RECO_FILES, *VERBATIM_FILES)
        if name not in keep and (dst / name).is_file()
    ]
    if not stale:
        return
    dirs = _backup_dirs(dst)
    if dirs and not any((dirs[-1][1] / name).exists() for name in stale):
        backup = dirs[-1][1]
    else:
        backup = _new_backup_dir(dst)
    for name in stale:
        os.replace(dst / name, backup / name)
        messages.append(f"file {name} exists in dest {dst} but not in src {src}; moved it to {backup / name}")


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def copy(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    utt_prefix: str = "",
    utt_suffix: str = "",
    spk_prefix: str = "",
    spk_suffix: str = "",
    validate_opts: ValidateOptions | Iterable[str] | None = None,
    messages: list[str] | None = None,
) -> list[str]:
    """Copy a data directory, optionally adding prefixes/suffixes to utterance and speaker ids.

    As Kaldi's ``utils/copy_data_dir.sh``: recording ids stay the same; with a new utterance id an
    ``utt2uniq`` (new id → original id) is written (or the source's carried along); files of the destination
    that the source lacks are moved to ``<dst>/.backup/``; the result is validated (with ``validate_opts``,
    plus ``--no-feats``/``--no-text``/``--no-wav`` when the source lacks that file) and the problems returned.
    Every utterance-indexed table is carried (``utt2sentiment``, ``utt2pseudo``, ``utt2pseudo_prob``,
    ``utt2dur`` ...), speaker-indexed tables renamed, ``wav.scp``/``reco2file_and_channel``/``reco2dur`` kept
    (renamed when there are no segments: they are then utterance-indexed), ``stm glm ctm`` copied.
    """
    src_p, dst_p = Path(src), Path(dst)
    if not (src_p / "utt2spk").is_file():
        raise KaldiDataError("no such file", src_p / "utt2spk")
    if _same_dir(src_p, dst_p):
        raise KaldiDataError(f"<srcdir> and <destdir> must be different ({src_p})")
    if validate_opts is None:
        vopts = ValidateOptions()
    elif isinstance(validate_opts, ValidateOptions):
        vopts = validate_opts
    else:
        vopts = ValidateOptions.from_args(_words(validate_opts))
    log = messages if messages is not None else []

    d = DataDir(src_p)
    utt2spk = d.require("utt2spk")
    utt_map = {u: f"{utt_prefix}{u}{utt_suffix}" for u in utt2spk}
    speakers = set(utt2spk.values())
    spk2utt_src = d.table("spk2utt")
    if spk2utt_src is not None:
        speakers |= set(spk2utt_src)
    spk_map = {s: f"{spk_prefix}{s}{spk_suffix}" for s in speakers}
    has_segments = d.has("segments")

    def remap(name: str, mapping: Mapping[str, str]) -> dict[str, str]:
        table = d.require(name)
        unknown = [k for k in table if k not in mapping]
        if unknown:
            raise KaldiDataError(
                f"{len(unknown)} key(s) not in utt2spk/spk2utt (e.g. {_examples(unknown)}); "
                "run utils/fix_data_dir.sh first",
                src_p / name,
            )
        return {mapping[k]: v for k, v in table.items()}

    out: dict[str, dict[str, str]] = {"utt2spk": {utt_map[u]: spk_map[s] for u, s in utt2spk.items()}}
    utt_names = [n for n in UTT_FILES if n not in ("utt2spk", "utt2uniq")]
    reco_names = list(RECO_FILES)
    if not has_segments:
        utt_names += reco_names
        reco_names = []
    for name in utt_names:
        if d.has(name):
            out[name] = remap(name, utt_map)
    if d.has("utt2uniq"):
        out["utt2uniq"] = remap("utt2uniq", utt_map)
    elif utt_prefix or utt_suffix:
        out["utt2uniq"] = {utt_map[u]: u for u in utt2spk}
    for name in SPK_FILES[1:]:
        if d.has(name):
            out[name] = remap(name, spk_map)
    for name in reco_names:
        if d.has(name):
            out[name] = dict(d.require(name))

    dst_p.mkdir(parents=True, exist_ok=True)
    for name, table in out.items():
        write_table(dst_p / name, table)
    _write_spk2utt(dst_p, out["utt2spk"])
    written = {*out, "spk2utt"}
    for name in VERBATIM_FILES:
        if (src_p / name).is_file():
            shutil.copyfile(src_p / name, dst_p / name)
            written.add(name)
    log.append(f"copied data from {src_p} to {dst_p}")
    _move_stale(dst_p, written, src_p, log)

    vopts = dataclasses.replace(
        vopts,
        no_feats=vopts.no_feats or not d.has("feats.scp"),
        no_text=vopts.no_text or not d.has("text"),
        no_wav=vopts.no_wav or not d.has("wav.scp"),
    )
    return validate(dst_p, **dataclasses.asdict(vopts))


# ==========================================================================================================
# combine


@dataclasses.dataclass
class CombineReport:
    """What :func:`combine` did."""

    messages: list[str]
    #: Files not combined because some source lacks them.
    skipped: list[str]
    fix: FixReport | None


def _merge(
    name: str, srcs: Sequence[Path], tables: Sequence[Mapping[str, str]], sources: dict[str, Path]
) -> dict[str, str]:
    """Union of tables; a key in several sources must have the same value everywhere."""
    merged: dict[str, str] = {}
    for src, table in zip(srcs, tables, strict=True):
        for key, value in table.items():
            if key in merged:
                if merged[key] != value:
                    raise KaldiDataError(
                        f"key {key!r} has different values in {sources[key] / name} ({merged[key]!r}) "
                        f"and {src / name} ({value!r})"
                    )
                continue
            merged[key] = value
            sources[key] = src
    return merged


def _whole_recording_segments(src: Path) -> dict[str, str]:
    """Segments ``utt utt 0 dur`` for a directory without segments (wav.scp indexed by utterance)."""
    d = DataDir(src)
    durs = d.utt2dur or d.reco2dur
    if durs is None:
        raise KaldiDataError(
            f"{src} has no segments file and no utt2dur/reco2dur to make one from (the other sources have "
            "segments)"
        )
    utts = d.require("utt2spk")
    missing = [u for u in utts if u not in durs]
    if missing:
        raise KaldiDataError(
            f"{len(missing)} utterance(s) without a duration (e.g. {_examples(missing)})", src
        )
    return {u: f"{u} 0 {durs[u]!r}" for u in utts}


def combine(
    dst: str | os.PathLike[str],
    srcs: Sequence[str | os.PathLike[str]],
    *,
    extra_files: str | Iterable[str] | None = None,
    skip_fix: bool = False,
) -> CombineReport:
    """Combine data directories into ``dst``, as Kaldi's ``utils/combine_data.sh`` does.

    ``dst`` is emptied first (it must be a data directory, i.e. hold ``utt2spk``, or be empty). A table is
    combined when every source has it (``utt2sentiment``, ``utt2pseudo`` ... included), otherwise skipped with
    a message; ``utt2uniq`` and ``segments`` are made where missing (identity; whole-recording segments from
    ``utt2dur``). A key found in several sources must have the same value in each (else
    :class:`KaldiDataError`). Then :func:`fix` runs unless ``skip_fix``.
    """
    dst_p = Path(dst)
    src_ps = [Path(s) for s in srcs]
    if not src_ps:
        raise KaldiDataError("no source directories")
    for s in src_ps:
        if not (s / "utt2spk").is_file():
            raise KaldiDataError("no such file", s / "utt2spk")
        if _same_dir(s, dst_p):
            raise KaldiDataError(f"destination {dst_p} is also a source")
    if dst_p.exists():
        if not dst_p.is_dir():
            raise KaldiDataError("exists and is not a directory", dst_p)
        if any(dst_p.iterdir()) and not (dst_p / "utt2spk").is_file():
            raise KaldiDataError(
                "refusing to empty a directory that is not a data directory (no utt2spk)", dst_p
            )
        shutil.rmtree(dst_p)
    dst_p.mkdir(parents=True)

    messages: list[str] = []
    skipped: list[str] = []
    extra = [f for f in _words(extra_files) if f != "utt2uniq"]
    out: dict[str, dict[str, str]] = {}

    if any((s / "utt2uniq").is_file() for s in src_ps):
        tables = [
            read_table(s / "utt2uniq")
            if (s / "utt2uniq").is_file()
            else {u: u for u in read_table(s / "utt2spk")}
            for s in src_ps
        ]
        out["utt2uniq"] = _merge("utt2uniq", src_ps, tables, {})
        messages.append("combined utt2uniq")
    if any((s / "segments").is_file() for s in src_ps):
        tables = []
        for s in src_ps:
            if (s / "segments").is_file():
                tables.append(read_table(s / "segments"))
            else:
                messages.append(f"[info]: will generate missing segments for {s}")
                tables.append(_whole_recording_segments(s))
        out["segments"] = _merge("segments", src_ps, tables, {})
        messages.append("combined segments")

    names = [
        n for n in (*UTT_FILES, *RECO_FILES, *SPK_FILES[1:], *extra) if n not in ("utt2uniq", "segments")
    ]
    for name in dict.fromkeys(names):
        present = [(s / name).is_file() for s in src_ps]
        if all(present):
            out[name] = _merge(name, src_ps, [read_table(s / name) for s in src_ps], {})
            messages.append(f"combined {name}")
        elif any(present):
            skipped.append(name)
            messages.append(f"[info]: **not combining {name} as it does not exist everywhere**")

    for name, table in out.items():
        write_table(dst_p / name, table)
    _write_spk2utt(dst_p, out["utt2spk"])

    report = None
    if not skip_fix:
        report = fix(dst_p)
        messages.extend(report.messages)
    return CombineReport(messages, skipped, report)


# ==========================================================================================================
# subset: selection


def select_evenly(utts: Sequence[str], n: int) -> list[str]:
    """``n`` items spread evenly over ``utts`` (Kaldi's ``subset_scp.pl`` default: recursive halving)."""
    _check_n(n, len(utts))
    chosen: list[str] = []
    stack = [(0, len(utts), n)]
    while stack:  # depth-first, left half first: keeps the input order
        start, end, needed = stack.pop()
        if needed == 0:
            continue
        if end - start == 1:
            chosen.append(utts[start])
            continue
        half = (end - start) // 2
        stack.append((start + half, end, needed - needed // 2))
        stack.append((start, start + half, needed // 2))
    return chosen


def select_first(utts: Sequence[str], n: int) -> list[str]:
    _check_n(n, len(utts))
    return list(utts[:n])


def select_last(utts: Sequence[str], n: int) -> list[str]:
    _check_n(n, len(utts))
    return list(utts[len(utts) - n :])


def select_shortest(durations: Mapping[str, float], n: int) -> list[str]:
    """The ``n`` shortest utterances (ties broken by id)."""
    _check_n(n, len(durations))
    return sorted(durations, key=lambda u: (durations[u], c_sort_key(u)))[:n]


def select_random(utts: Iterable[str], n: int, seed: int | str = 0) -> list[str]:
    """``n`` utterances at random (a prefix of :func:`seeded_order`: nested for increasing ``n``)."""
    order = seeded_order(utts, seed)
    _check_n(n, len(order))
    return order[:n]


def select_hours(durations: Mapping[str, float], hours: float, seed: int | str = 0) -> list[str]:
    """A random subset of at most ``hours`` hours: the longest prefix of :func:`seeded_order` that fits.

    Deterministic for a seed, and nested: for the same seed (and source) the subset for fewer hours is a
    subset of the one for more hours (2.5 h ⊂ 5 h ⊂ 7.5 h ...). The shortfall is below one utterance.
    """
    if not hours > 0 or not math.isfinite(hours):
        raise ValueError(f"--hours must be a positive number, got {hours}")
    budget = hours * 3600.0
    chosen = []
    total = 0.0
    for u in seeded_order(durations, seed):
        if total + durations[u] > budget + 1e-9:
            break
        total += durations[u]
        chosen.append(u)
    return chosen


def select_per_speaker(spk2utt: Mapping[str, Sequence[str]], n: int) -> list[str]:
    """Up to ``n`` utterances per speaker, evenly spaced in each speaker's list (Kaldi's ``--per-spk``)."""
    if n <= 0:
        raise ValueError(f"the number of utterances must be > 0, got {n}")
    chosen = []
    for utts in spk2utt.values():
        skip = 1
        while n * (skip + 1) <= len(utts):
            skip += 1
        chosen.extend(utts[i] for i in range(0, min(len(utts), n * skip), skip))
    return chosen


def select_speakers(spk2utt: Mapping[str, Sequence[str]], n: int, seed: int | str = 0) -> list[str]:
    """Random whole speakers until at least ``n`` utterances are reached (Kaldi's ``--speakers``)."""
    if n <= 0:
        raise ValueError(f"the number of utterances must be > 0, got {n}")
    chosen: list[str] = []
    for spk in seeded_order(spk2utt, seed):
        if len(chosen) >= n:
            break
        chosen.extend(spk2utt[spk])
    return chosen


def _check_n(n: int, available: int) -> None:
    if n <= 0:
        raise ValueError(f"the number of utterances must be > 0, got {n}")
    if n > available:
        raise ValueError(f"cannot subset to more utterances than you originally had ({n} > {available})")


# ==========================================================================================================
# subset: writing


@dataclasses.dataclass
class SubsetReport:
    """What :func:`subset` did."""

    num_utts_before: int
    num_utts_after: int
    #: Total duration of the subset in seconds (``None`` when the source has no utt2dur/segments).
    seconds: float | None
    messages: list[str]


def _durations(d: DataDir) -> dict[str, float] | None:
    try:
        return d.durations()
    except KaldiDataError:
        frames = d.utt2num_frames
        return None if frames is None else {u: float(f) for u, f in frames.items()}


def subset_by_utts(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    utts: Iterable[str],
    *,
    messages: list[str] | None = None,
) -> SubsetReport:
    """Write the data directory ``src`` restricted to the utterances ``utts`` into ``dst``.

    Every utterance-indexed table is filtered (``utt2sentiment``, ``utt2pseudo`` ... included), speaker
    tables by the remaining speakers, ``wav.scp``/``reco2file_and_channel``/``reco2dur``/``stm`` by the
    remaining recordings (by utterance without segments); ``glm`` is copied. Known data files of ``dst`` that
    are not written are moved to ``dst/.backup``. Ids of ``utts`` not in ``src`` are ignored.
    """
    src_p, dst_p = Path(src), Path(dst)
    if not (src_p / "utt2spk").is_file():
        raise KaldiDataError("no such file", src_p / "utt2spk")
    if _same_dir(src_p, dst_p):
        raise KaldiDataError(f"<srcdir> and <destdir> must be different ({src_p})")
    log = messages if messages is not None else []
    d = DataDir(src_p)
    utt2spk = d.require("utt2spk")
    keep = set(utts) & set(utt2spk)
    speakers = {utt2spk[u] for u in keep}
    has_segments = d.has("segments")
    out: dict[str, dict[str, str]] = {}
    for name in UTT_FILES:
        if d.has(name):
            out[name] = {k: v for k, v in d.require(name).items() if k in keep}
    for name in SPK_FILES[1:]:
        if d.has(name):
            out[name] = {k: v for k, v in d.require(name).items() if k in speakers}
    recos = {split_fields(v)[0] for v in out["segments"].values()} if has_segments else keep
    for name in RECO_FILES:
        if d.has(name):
            out[name] = {k: v for k, v in d.require(name).items() if k in recos}

    dst_p.mkdir(parents=True, exist_ok=True)
    for name, table in out.items():
        write_table(dst_p / name, table)
    _write_spk2utt(dst_p, out["utt2spk"])
    written = {*out, "spk2utt"}
    if (src_p / "stm").is_file():
        files: set[tuple[str, ...]] = set()
        r2fc = out.get("reco2file_and_channel")
        if r2fc is not None:
            files = {tuple(split_fields(v)) for v in r2fc.values()}
        lines = []
        for line in read_lines(src_p / "stm").lines:
            f = split_fields(line)
            if (
                not f
                or f[0].startswith(";;")
                or (tuple(f[:2]) in files if r2fc is not None else f[0] in recos)
            ):
                lines.append(line)
        write_lines(dst_p / "stm", lines)
        written.add("stm")
    if (src_p / "glm").is_file():
        shutil.copyfile(src_p / "glm", dst_p / "glm")
        written.add("glm")
    _move_stale(dst_p, written, src_p, log)

    durs = _durations(d)
    seconds = None if durs is None else sum(durs.get(u, 0.0) for u in keep)
    log.append(f"reducing #utt from {len(utt2spk)} to {len(keep)}")
    return SubsetReport(len(utt2spk), len(keep), seconds, log)


#: The selection methods of :func:`subset` (``utt_list``/``spk_list`` take a file, ``hours`` a float,
#: the others a number of utterances).
SUBSET_METHODS = (
    "even",
    "first",
    "last",
    "shortest",
    "random",
    "per_spk",
    "speakers",
    "hours",
    "utt_list",
    "spk_list",
)


def _read_id_list(path: str | os.PathLike[str]) -> list[str]:
    ids = []
    for line in read_lines(path).lines:
        f = split_fields(line)
        if f:
            ids.append(f[0])
    return ids


def subset(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    method: str = "even",
    *,
    num: int | None = None,
    hours: float | None = None,
    id_list: str | os.PathLike[str] | None = None,
    seed: int | str = 0,
) -> SubsetReport:
    """Subset a data directory, as Kaldi's ``utils/subset_data_dir.sh`` does, and more.

    ``method`` (one of :data:`SUBSET_METHODS`):

    * ``even`` (Kaldi's default): ``num`` utterances evenly spread over the sorted list;
    * ``first``/``last``: the first/last ``num``; ``shortest``: the ``num`` shortest (``utt2dur``, else
      ``segments``, else ``utt2num_frames``);
    * ``random``: ``num`` utterances at random (``seed``; nested for increasing ``num``);
    * ``per_spk``: up to ``num`` per speaker; ``speakers``: random whole speakers until ``num`` utterances;
    * ``hours``: a random subset of at most ``hours`` hours (``seed``; nested for increasing ``hours``, see
      :func:`select_hours`);
    * ``utt_list``/``spk_list``: the utterances/speakers listed (first field of each line) in ``id_list``.
    """
    src_p = Path(src)
    if not (src_p / "utt2spk").is_file():
        raise KaldiDataError("no such file", src_p / "utt2spk")
    d = DataDir(src_p)
    utts = d.utt_ids
    messages: list[str] = []
    if method in ("utt_list", "spk_list"):
        if id_list is None:
            raise ValueError(f"subset method {method} needs a list file")
        ids = _read_id_list(id_list)
        if method == "utt_list":
            chosen = ids
            unknown = set(ids) - set(utts)
        else:
            spk2utt = d.spk2utt
            chosen = [u for s in ids if s in spk2utt for u in spk2utt[s]]
            unknown = set(ids) - set(spk2utt)
        if unknown:
            messages.append(
                f"WARNING: {len(unknown)} id(s) of {id_list} not in {src_p} (e.g. {_examples(unknown)})"
            )
    elif method == "hours":
        if hours is None:
            raise ValueError("subset method hours needs --hours")
        all_durs = d.durations()  # utt2dur, else segments; KaldiDataError if neither
        missing = [u for u in utts if u not in all_durs]
        if missing:
            raise KaldiDataError(
                f"{len(missing)} utterance(s) without a duration (e.g. {_examples(missing)})", src_p
            )
        durs = {u: all_durs[u] for u in utts}
        chosen = select_hours(durs, hours, seed)
        total = sum(durs.values())
        if total <= hours * 3600.0:
            messages.append(
                f"WARNING: {src_p} has only {total / 3600:.3f} hours (< {hours}): taking all of it"
            )
        got = sum(durs[u] for u in chosen)
        messages.append(
            f"selected {len(chosen)} utterances, {got / 3600:.4f} hours (at most {hours} h, seed {seed})"
        )
    else:
        if num is None:
            raise ValueError(f"subset method {method} needs a number of utterances")
        if method == "even":
            chosen = select_evenly(utts, num)
        elif method == "first":
            chosen = select_first(utts, num)
        elif method == "last":
            chosen = select_last(utts, num)
        elif method == "random":
            chosen = select_random(utts, num, seed)
        elif method == "shortest":
            durs = _durations(d)
            if durs is None:
                raise KaldiDataError(f"--shortest needs utt2dur, segments or utt2num_frames in {src_p}")
            chosen = select_shortest({u: durs[u] for u in utts if u in durs}, num)
        elif method == "per_spk":
            chosen = select_per_speaker(d.spk2utt, num)
        elif method == "speakers":
            chosen = select_speakers(d.spk2utt, num, seed)
        else:
            raise ValueError(f"unknown subset method {method!r}; expected one of {', '.join(SUBSET_METHODS)}")
    return subset_by_utts(src_p, dst, chosen, messages=messages)
