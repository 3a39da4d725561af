"""Kaldi data directories: typed reading and atomic writing (stdlib only).

This module must import in a bare ``python3`` (no numpy, no audio libraries): the ``utils/*.sh`` data-dir
tools run it before any environment exists.

A Kaldi *table* file holds one entry per line: the first blank-separated token is the key, the rest of the
line (blanks around it stripped) is the value. All tables are sorted in ``LC_ALL=C`` byte order of their
keys, with unique keys. Files are decoded as UTF-8 with ``surrogateescape``, so that bytes that are not
UTF-8 survive a read/write round trip unchanged and sort in their byte order (:func:`c_sort_key`).

Writing is atomic: a temporary file is written in the same directory, fsync'ed and ``os.replace``'d.

Files written by other tools: a UTF-8 byte-order mark (BOM) at the start of a file and carriage returns
(Windows CRLF line ends) are errors that name the file, the line and the cause, with a one-line fix (Kaldi's
tools read them as part of the first key / the last field: a BOM'd first utterance matches nothing and a
``wav.scp`` path ending in CR names no file). ``utils/fix_data_dir.sh`` removes them (logged).

The data-directory files (``docs/contracts.md``; what is refused: the README's "Inputs")::

    wav.scp           <reco> <path> | <reco> <command> |     (<utt> ... when there is no segments file)
    segments          <utt> <reco> <start> <end>             (seconds)
    utt2spk           <utt> <spk>
    spk2utt           <spk> <utt1> <utt2> ...                (derived from utt2spk)
    text              <utt> <words ...>
    utt2dur           <utt> <seconds>
    reco2dur          <reco> <seconds>
    utt2num_frames    <utt> <int>
    utt2sentiment     <utt> Negative|Neutral|Positive
    utt2pseudo        <utt> Negative|Positive
    utt2pseudo_prob   <utt> <float in [0, 1]>
    feats.scp cmvn.scp vad.scp spk2gender utt2lang utt2uniq utt2warp spk2warp reco2file_and_channel
    stm glm ctm       (not tables; copied verbatim, stm filtered by recording)
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

from speechsent.data.labels import (
    PSEUDO_LABELS,
    SENTIMENT_LABELS,
    check_probability,
    check_pseudo_label,
    check_sentiment_label,
)
from speechsent.utils.fileio import atomic_write_bytes, atomic_write_text

__all__ = [
    "BOM",
    "ENCODING",
    "PSEUDO_LABELS",
    "RECO_FILES",
    "SENTIMENT_LABELS",
    "SPK_FILES",
    "UTT_FILES",
    "VERBATIM_FILES",
    "DataDir",
    "KaldiDataError",
    "RawLines",
    "Segment",
    "WavEntry",
    "atomic_write_bytes",
    "atomic_write_text",
    "bom_message",
    "c_sort_key",
    "c_sorted",
    "cr_message",
    "format_number",
    "parse_duration",
    "parse_num_frames",
    "parse_probability",
    "parse_pseudo_label",
    "parse_segment",
    "parse_sentiment_label",
    "parse_spk2utt_value",
    "parse_wav_entry",
    "read_lines",
    "read_table",
    "read_typed_table",
    "split_fields",
    "split_line",
    "utf16_message",
    "utf16_text",
    "utt2spk_to_spk2utt",
    "write_lines",
    "write_table",
]

ENCODING = "utf-8"
_ERRORS = "surrogateescape"

#: Tables indexed by utterance id (``segments`` included; ``wav.scp`` too when there is no segments file).
UTT_FILES: tuple[str, ...] = (
    "utt2spk",
    "text",
    "segments",
    "feats.scp",
    "vad.scp",
    "utt2lang",
    "utt2uniq",
    "utt2dur",
    "utt2num_frames",
    "utt2warp",
    "utt2sentiment",
    "utt2pseudo",
    "utt2pseudo_prob",
)
#: Tables indexed by speaker id (``spk2utt`` is derived from ``utt2spk``).
SPK_FILES: tuple[str, ...] = ("spk2utt", "cmvn.scp", "spk2gender", "spk2warp")
#: Tables indexed by recording id when a segments file exists (by utterance id otherwise).
RECO_FILES: tuple[str, ...] = ("wav.scp", "reco2file_and_channel", "reco2dur")
#: Files that are not key/value tables: copied byte for byte (``stm`` filtered by recording in subsets).
VERBATIM_FILES: tuple[str, ...] = ("stm", "glm", "ctm")

T = TypeVar("T")

_BLANKS = " \t"

#: The UTF-8 byte-order mark as decoded (bytes EF BB BF): what a Windows editor's "UTF-8 with BOM" (Python's
#: ``utf-8-sig``) puts at the start of a file.
BOM = "\ufeff"


def bom_message(path: str | os.PathLike[str]) -> str:
    """What is wrong with a file that starts with a UTF-8 BOM, and the one-line fix."""
    return (
        "the file starts with a UTF-8 byte-order mark (BOM, bytes EF BB BF, as a Windows editor writes "
        "'UTF-8 with BOM'): Kaldi's tools read it as part of the first key; remove it with "
        f"sed -i '1s/^\\xEF\\xBB\\xBF//' {path} (or utils/fix_data_dir.sh)"
    )


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def utf16_text(data: bytes) -> str | None:
    """The text of a file that starts with a UTF-16 byte-order mark (a Windows editor's "Unicode"), else
    ``None``."""
    if not data.startswith(_UTF16_BOMS):
        return None
    try:
        return data.decode("utf-16")
    except UnicodeDecodeError:
        return None


def utf16_message(path: str | os.PathLike[str]) -> str:
    """What is wrong with a UTF-16 file, and the one-line fix."""
    return (
        "the file is UTF-16 (it starts with the byte-order mark FF FE or FE FF, as a Windows editor writes "
        "'Unicode'): Kaldi's tools read UTF-8; convert it with iconv -f UTF-16 -t UTF-8 (or "
        "utils/fix_data_dir.sh)"
    )


def cr_message(
    path: str | os.PathLike[str], line: str, num_crlf: int | None = None, num_lines: int = 0
) -> str:
    """What is wrong with a line holding a carriage return (CR, ``\\r``), and the one-line fix.

    ``num_crlf``: how many lines of the file end in CR (said when given).
    """
    if line.endswith("\r"):
        count = f" ({num_crlf} of its {num_lines} lines)" if num_crlf is not None else ""
        return (
            f"line ends in a carriage return (CR, \\r): the file has Windows (CRLF) line ends{count}; "
            "Kaldi's tools keep the CR as part of the last field (a wav.scp path then names no file); "
            f"convert it with sed -i 's/\\r$//' {path} (or utils/fix_data_dir.sh)"
        )
    return (
        "line contains a carriage return (CR, \\r) inside it (Kaldi's awk keeps it in a field, its perl "
        f"and C++ split fields at it); remove it (e.g. sed -i 's/\\r/ /g' {path}, or utils/fix_data_dir.sh)"
    )


class KaldiDataError(ValueError):
    """A malformed data-directory file; the message starts with ``file:line:`` where known."""

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None, lineno: int | None = None):
        self.path = None if path is None else str(path)
        self.lineno = lineno
        self.reason = message
        if self.path is not None and lineno is not None:
            message = f"{self.path}:{lineno}: {message}"
        elif self.path is not None:
            message = f"{self.path}: {message}"
        super().__init__(message)


# ----------------------------------------------------------------------------------------------------------
# Sorting, splitting


def c_sort_key(s: str) -> bytes:
    """Sort key giving ``LC_ALL=C`` (byte) order for a string decoded with :data:`ENCODING`."""
    return s.encode(ENCODING, _ERRORS)


def c_sorted(items: Iterable[str]) -> list[str]:
    """The strings in ``LC_ALL=C`` byte order."""
    return sorted(items, key=c_sort_key)


def split_fields(line: str) -> list[str]:
    """Blank-separated fields (space and tab, as awk and Kaldi's readers split)."""
    if "\t" in line:
        line = line.replace("\t", " ")
    if "  " not in line and line[:1] != " " and line[-1:] != " ":
        return line.split(" ") if line else []
    return [f for f in line.split(" ") if f]


def split_line(line: str) -> tuple[str, str] | None:
    """``(key, value)`` of one table line (without its newline); ``None`` for a blank line.

    The value is the rest of the line with the blanks around it stripped (inner spacing kept).
    """
    s = line.strip(_BLANKS)
    if not s:
        return None
    i = s.find(" ")
    j = s.find("\t")
    if i < 0:
        if j < 0:
            return s, ""
        i = j
    elif 0 <= j < i:
        i = j
    return s[:i], s[i + 1 :].lstrip(_BLANKS)


@dataclasses.dataclass(frozen=True)
class RawLines:
    """A file's lines, decoded, without their newlines."""

    path: str
    lines: list[str]
    #: False when the file is non-empty and its last line has no newline.
    final_newline: bool
    #: The raw bytes of each line (for encoding checks).
    raw: list[bytes]
    #: The whole file, decoded.
    text: str = dataclasses.field(default="", repr=False)


def read_lines(path: str | os.PathLike[str]) -> RawLines:
    """Read a file into :class:`RawLines` (decoded with ``surrogateescape``, so never a decode error)."""
    data = Path(path).read_bytes()
    final_newline = not data or data.endswith(b"\n")
    raw = data.split(b"\n")
    text = data.decode(ENCODING, _ERRORS)
    lines = text.split("\n")
    if raw and raw[-1] == b"":
        raw.pop()
        lines.pop()
    return RawLines(str(path), lines, final_newline, raw, text)


# ----------------------------------------------------------------------------------------------------------
# Reading tables


def _iter_entries(
    path: str | os.PathLike[str],
    *,
    require_sorted: bool,
    allow_duplicates: bool,
    num_fields: int | None,
    min_fields: int | None,
) -> Iterator[tuple[int, str, str]]:
    raw = read_lines(path)
    seen: dict[str, int] = {}
    prev: bytes | None = None
    prev_key = ""
    if raw.lines and raw.lines[0].startswith(BOM):
        raise KaldiDataError(bom_message(path), path, 1)
    if raw.raw and raw.raw[0].startswith(_UTF16_BOMS):
        raise KaldiDataError(utf16_message(path), path, 1)
    has_cr = "\r" in raw.text
    for lineno, line in enumerate(raw.lines, start=1):
        if has_cr and "\r" in line:
            num_crlf = sum(1 for x in raw.lines if x.endswith("\r"))
            raise KaldiDataError(cr_message(path, line, num_crlf, len(raw.lines)), path, lineno)
        kv = split_line(line)
        if kv is None:
            raise KaldiDataError("empty line", path, lineno)
        key, value = kv
        if num_fields is not None or min_fields is not None:
            n = 1 + len(split_fields(value))
            if num_fields is not None and n != num_fields:
                raise KaldiDataError(f"expected {num_fields} fields, got {n}: {line!r}", path, lineno)
            if min_fields is not None and n < min_fields:
                raise KaldiDataError(
                    f"expected at least {min_fields} fields, got {n}: {line!r}", path, lineno
                )
        if key in seen:
            if allow_duplicates:
                continue
            raise KaldiDataError(f"duplicate key {key!r} (first on line {seen[key]})", path, lineno)
        seen[key] = lineno
        kb = c_sort_key(key)
        if require_sorted and prev is not None and kb < prev:
            raise KaldiDataError(
                f"not sorted (LC_ALL=C): key {key!r} after {prev_key!r}; run utils/fix_data_dir.sh",
                path,
                lineno,
            )
        prev, prev_key = kb, key
        yield lineno, key, value


def read_table(
    path: str | os.PathLike[str],
    *,
    require_sorted: bool = False,
    allow_duplicates: bool = False,
    num_fields: int | None = None,
    min_fields: int | None = None,
) -> dict[str, str]:
    """Read a Kaldi table: first token → rest of the line.

    Raises :class:`KaldiDataError` (``file:line: ...``) for a UTF-8 BOM at the start, a carriage return
    (CRLF line ends), a blank line, a wrong number of fields
    (``num_fields``/``min_fields`` count the key), a duplicate key (unless ``allow_duplicates``: the first
    entry wins, as ``sort -u`` keeps it) and, with ``require_sorted``, a key out of ``LC_ALL=C`` order.
    The dict keeps the file's order.
    """
    return {
        key: value
        for _, key, value in _iter_entries(
            path,
            require_sorted=require_sorted,
            allow_duplicates=allow_duplicates,
            num_fields=num_fields,
            min_fields=min_fields,
        )
    }


def read_typed_table(
    path: str | os.PathLike[str],
    parse: Callable[[str, str], T],
    *,
    require_sorted: bool = False,
    allow_duplicates: bool = False,
) -> dict[str, T]:
    """Read a table and convert each entry with ``parse(key, value)``.

    A ``ValueError`` from ``parse`` becomes a :class:`KaldiDataError` naming the file and line.
    """
    out: dict[str, T] = {}
    for lineno, key, value in _iter_entries(
        path,
        require_sorted=require_sorted,
        allow_duplicates=allow_duplicates,
        num_fields=None,
        min_fields=None,
    ):
        try:
            out[key] = parse(key, value)
        except ValueError as e:
            raise KaldiDataError(str(e), path, lineno) from None
    return out


# ----------------------------------------------------------------------------------------------------------
# Writing


def write_lines(path: str | os.PathLike[str], lines: Iterable[str]) -> None:
    """Write lines (without newlines) atomically, in the given order, each ending in a newline."""
    out = []
    for line in lines:
        if "\n" in line:
            raise ValueError(f"{path}: line contains a newline: {line!r}")
        out.append(line + "\n")
    atomic_write_text(path, "".join(out))


def write_table(
    path: str | os.PathLike[str],
    mapping: Mapping[str, object] | Iterable[tuple[str, object]],
) -> None:
    """Write a table ``key value`` per line, ``LC_ALL=C`` sorted by key, atomically.

    Values are written with ``str()`` (floats with :func:`format_number`); an empty value writes the key
    alone. Keys must be non-empty without blanks; values without newlines; duplicate keys are an error.
    """
    items = list(mapping.items()) if isinstance(mapping, Mapping) else list(mapping)
    seen: set[str] = set()
    lines = []
    for key, value in items:
        if not key or any(c in key for c in " \t\n\r"):
            raise ValueError(f"{path}: bad key {key!r}")
        if key in seen:
            raise ValueError(f"{path}: duplicate key {key!r}")
        seen.add(key)
        v = format_number(value) if isinstance(value, float) else str(value)
        if "\n" in v:
            raise ValueError(f"{path}: value for {key!r} contains a newline")
        lines.append((c_sort_key(key), f"{key} {v}" if v else key))
    lines.sort(key=lambda kv: kv[0])
    write_lines(path, (line for _, line in lines))


# ----------------------------------------------------------------------------------------------------------
# Typed records and value parsers


def format_number(x: float) -> str:
    """Shortest round-trip text of a float, without exponent (``12.0``, ``1e-05`` → ``0.00001``)."""
    r = repr(float(x))
    if "e" in r or "E" in r:
        r = format(x, ".12f").rstrip("0")
        if r.endswith("."):
            r += "0"
    return r


def _finite(value: str, what: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise ValueError(f"bad {what} {value!r}: not a number") from None
    if not math.isfinite(x):
        raise ValueError(f"bad {what} {value!r}: not finite")
    return x


@dataclasses.dataclass(frozen=True)
class Segment:
    """One line of ``segments``: utterance ``utt`` is ``reco`` from ``start`` to ``end`` seconds."""

    utt: str
    reco: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_value(self) -> str:
        """The table value (everything after the key)."""
        return f"{self.reco} {format_number(self.start)} {format_number(self.end)}"

    def to_line(self) -> str:
        return f"{self.utt} {self.to_value()}"


@dataclasses.dataclass(frozen=True)
class WavEntry:
    """One line of ``wav.scp``: a file path, or a command whose stdout is the audio (``cmd |``)."""

    reco: str
    path_or_command: str
    is_pipe: bool

    @property
    def command(self) -> str:
        """The command of a pipe entry without its trailing ``|`` (the path for a file entry)."""
        return self.path_or_command[:-1].rstrip(_BLANKS) if self.is_pipe else self.path_or_command

    @classmethod
    def from_path(cls, reco: str, path: str) -> WavEntry:
        return cls(reco, path, False)

    @classmethod
    def from_command(cls, reco: str, command: str) -> WavEntry:
        command = command.rstrip(_BLANKS)
        if not command.endswith("|"):
            command += " |"
        return cls(reco, command, True)

    def to_value(self) -> str:
        return self.path_or_command

    def to_line(self) -> str:
        return f"{self.reco} {self.path_or_command}"


def parse_segment(utt: str, value: str) -> Segment:
    """``segments`` value ``reco start end`` → :class:`Segment` (``0 <= start < end``)."""
    f = split_fields(value)
    if len(f) != 3:
        raise ValueError(f"expected 4 fields (utt reco start end), got {1 + len(f)}")
    start = _finite(f[1], "segment start")
    end = _finite(f[2], "segment end")
    if start < 0:
        raise ValueError(f"segment start {f[1]} < 0")
    if end <= start:
        raise ValueError(f"segment end {f[2]} <= start {f[1]}")
    return Segment(utt, f[0], start, end)


def parse_wav_entry(reco: str, value: str) -> WavEntry:
    """``wav.scp`` value → :class:`WavEntry` (a pipe when it ends in ``|``)."""
    if not value:
        raise ValueError("no path or command")
    return WavEntry(reco, value, value.endswith("|"))


def parse_duration(_key: str, value: str) -> float:
    """A duration in seconds: a finite number > 0 (``utt2dur``, ``reco2dur``)."""
    f = split_fields(value)
    if len(f) != 1:
        raise ValueError(f"expected 2 fields, got {1 + len(f)}")
    x = _finite(f[0], "duration")
    if x <= 0:
        raise ValueError(f"bad duration {f[0]!r}: not > 0")
    return x


def parse_num_frames(_key: str, value: str) -> int:
    """A frame count: an integer > 0 (``utt2num_frames``)."""
    f = split_fields(value)
    if len(f) != 1:
        raise ValueError(f"expected 2 fields, got {1 + len(f)}")
    try:
        n = int(f[0])
    except ValueError:
        raise ValueError(f"bad number of frames {f[0]!r}: not an integer") from None
    if n <= 0:
        raise ValueError(f"bad number of frames {f[0]!r}: not > 0")
    return n


def _single(value: str) -> str:
    f = split_fields(value)
    if len(f) != 1:
        raise ValueError(f"expected 2 fields, got {1 + len(f)}")
    return f[0]


def parse_sentiment_label(_key: str, value: str) -> str:
    """An ``utt2sentiment`` value: one of :data:`SENTIMENT_LABELS`."""
    return check_sentiment_label(_single(value))


def parse_pseudo_label(_key: str, value: str) -> str:
    """An ``utt2pseudo`` value: one of :data:`PSEUDO_LABELS`."""
    return check_pseudo_label(_single(value))


def parse_probability(_key: str, value: str) -> float:
    """An ``utt2pseudo_prob`` value: a number in [0, 1]."""
    return check_probability(_single(value))


def parse_spk2utt_value(_key: str, value: str) -> list[str]:
    """A ``spk2utt`` value: one or more utterance ids."""
    utts = split_fields(value)
    if not utts:
        raise ValueError("speaker with no utterances")
    return utts


def _parse_str(_key: str, value: str) -> str:
    return value


def _parse_single(_key: str, value: str) -> str:
    return _single(value)


def _parse_r2fc(_key: str, value: str) -> tuple[str, str]:
    f = split_fields(value)
    if len(f) != 2:
        raise ValueError(f"expected 3 fields (reco file channel), got {1 + len(f)}")
    return f[0], f[1]


def utt2spk_to_spk2utt(utt2spk: Mapping[str, str]) -> dict[str, list[str]]:
    """Invert ``utt2spk``: speakers and each speaker's utterances, both ``LC_ALL=C`` sorted."""
    spk2utt: dict[str, list[str]] = {}
    for utt in c_sorted(utt2spk):
        spk2utt.setdefault(utt2spk[utt], []).append(utt)
    return {spk: spk2utt[spk] for spk in c_sorted(spk2utt)}


# ----------------------------------------------------------------------------------------------------------
# DataDir


_TYPED_PARSERS: dict[str, Callable[[str, str], object]] = {
    "utt2spk": _parse_single,
    "spk2utt": parse_spk2utt_value,
    "wav.scp": parse_wav_entry,
    "segments": parse_segment,
    "utt2dur": parse_duration,
    "reco2dur": parse_duration,
    "utt2num_frames": parse_num_frames,
    "utt2sentiment": parse_sentiment_label,
    "utt2pseudo": parse_pseudo_label,
    "utt2pseudo_prob": parse_probability,
    "reco2file_and_channel": _parse_r2fc,
    "spk2gender": _parse_single,
    "utt2lang": _parse_single,
    "utt2uniq": _parse_single,
}


class DataDir:
    """A Kaldi data directory with lazy, typed, cached access to its files.

    Reading is lazy: a file is read on first access (duplicate keys and malformed values raise
    :class:`KaldiDataError` naming ``file:line``; input order is not required to be sorted, use
    :func:`speechsent.data.ops.validate` to check a directory). Accessors of absent optional files return
    ``None``; ``utt2spk`` is required.

    Changes are made with :meth:`set_table` (or the typed ``set_*`` helpers) and :meth:`remove`, and
    written by :meth:`write`, which writes every table atomically and ``LC_ALL=C`` sorted and regenerates
    ``spk2utt`` from ``utt2spk``.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._tables: dict[str, dict[str, str]] = {}
        self._typed: dict[str, dict[str, object]] = {}
        self._dirty: set[str] = set()
        self._removed: set[str] = set()

    def __repr__(self) -> str:
        return f"DataDir({str(self.path)!r})"

    # -- generic access -------------------------------------------------------------------------------

    def file(self, name: str) -> Path:
        return self.path / name

    def has(self, name: str) -> bool:
        """Whether the file exists (or was set in memory and not removed)."""
        if name in self._removed:
            return False
        return name in self._tables or self.file(name).is_file()

    def table(self, name: str) -> dict[str, str] | None:
        """The raw table ``key → value`` (file order), or ``None`` if absent."""
        if name in self._removed:
            return None
        if name not in self._tables:
            f = self.file(name)
            if not f.is_file():
                return None
            self._tables[name] = read_table(f)
        return self._tables[name]

    def require(self, name: str) -> dict[str, str]:
        """Like :meth:`table` but an absent file is a :class:`KaldiDataError`."""
        t = self.table(name)
        if t is None:
            raise KaldiDataError("no such file", self.file(name))
        return t

    def typed(self, name: str, parse: Callable[[str, str], T] | None = None) -> dict[str, T] | None:
        """The table with each value converted by ``parse`` (a known file's parser by default)."""
        if parse is None:
            if name in self._typed:
                return self._typed[name]  # type: ignore[return-value]
            parse = _TYPED_PARSERS.get(name, _parse_str)  # type: ignore[assignment]
            cache = True
        else:
            cache = False
        assert parse is not None
        if name in self._removed:
            return None
        if name in self._tables and (name in self._dirty or not self.file(name).is_file()):
            out: dict[str, T] = {}
            for key, value in self._tables[name].items():
                try:
                    out[key] = parse(key, value)
                except ValueError as e:
                    raise KaldiDataError(f"{key}: {e}", self.file(name)) from None
        else:
            f = self.file(name)
            if not f.is_file():
                return None
            out = read_typed_table(f, parse)
        if cache:
            self._typed[name] = out  # type: ignore[assignment]
        return out

    def set_table(self, name: str, mapping: Mapping[str, object] | Iterable[tuple[str, object]]) -> None:
        """Replace a table in memory (written by :meth:`write`)."""
        items = mapping.items() if isinstance(mapping, Mapping) else mapping
        table: dict[str, str] = {}
        for key, value in items:
            if key in table:
                raise ValueError(f"{self.file(name)}: duplicate key {key!r}")
            table[key] = format_number(value) if isinstance(value, float) else str(value)
        self._tables[name] = table
        self._typed.pop(name, None)
        self._dirty.add(name)
        self._removed.discard(name)
        if name == "utt2spk":
            self._typed.pop("spk2utt", None)
            self._tables.pop("spk2utt", None)

    def remove(self, name: str) -> None:
        """Mark a file for deletion by :meth:`write`."""
        self._tables.pop(name, None)
        self._typed.pop(name, None)
        self._dirty.discard(name)
        self._removed.add(name)

    def present_files(self) -> list[str]:
        """Names of the known tables and verbatim files present (on disk or in memory)."""
        names = set(UTT_FILES) | set(SPK_FILES) | set(RECO_FILES) | set(VERBATIM_FILES) | set(self._tables)
        return sorted(n for n in names if self.has(n))

    # -- typed accessors ------------------------------------------------------------------------------

    @property
    def utt2spk(self) -> dict[str, str]:
        t = self.typed("utt2spk")
        if t is None:
            raise KaldiDataError("no such file", self.file("utt2spk"))
        return t  # type: ignore[return-value]

    @property
    def spk2utt(self) -> dict[str, list[str]]:
        """From ``spk2utt`` if present and not stale, else derived from ``utt2spk``."""
        if "utt2spk" not in self._dirty:
            t = self.typed("spk2utt")
            if t is not None:
                return t  # type: ignore[return-value]
        return utt2spk_to_spk2utt(self.utt2spk)

    @property
    def utt_ids(self) -> list[str]:
        """Utterance ids (keys of ``utt2spk``), ``LC_ALL=C`` sorted."""
        return c_sorted(self.utt2spk)

    @property
    def spk_ids(self) -> list[str]:
        """Speaker ids (values of ``utt2spk``), unique, ``LC_ALL=C`` sorted."""
        return c_sorted(set(self.utt2spk.values()))

    @property
    def wav_scp(self) -> dict[str, WavEntry] | None:
        return self.typed("wav.scp")  # type: ignore[return-value]

    @property
    def segments(self) -> dict[str, Segment] | None:
        return self.typed("segments")  # type: ignore[return-value]

    @property
    def text(self) -> dict[str, str] | None:
        return self.typed("text")  # type: ignore[return-value]

    @property
    def utt2dur(self) -> dict[str, float] | None:
        return self.typed("utt2dur")  # type: ignore[return-value]

    @property
    def reco2dur(self) -> dict[str, float] | None:
        return self.typed("reco2dur")  # type: ignore[return-value]

    @property
    def utt2num_frames(self) -> dict[str, int] | None:
        return self.typed("utt2num_frames")  # type: ignore[return-value]

    @property
    def utt2sentiment(self) -> dict[str, str] | None:
        return self.typed("utt2sentiment")  # type: ignore[return-value]

    @property
    def utt2pseudo(self) -> dict[str, str] | None:
        return self.typed("utt2pseudo")  # type: ignore[return-value]

    @property
    def utt2pseudo_prob(self) -> dict[str, float] | None:
        return self.typed("utt2pseudo_prob")  # type: ignore[return-value]

    @property
    def feats_scp(self) -> dict[str, str] | None:
        return self.typed("feats.scp")  # type: ignore[return-value]

    @property
    def cmvn_scp(self) -> dict[str, str] | None:
        return self.typed("cmvn.scp")  # type: ignore[return-value]

    @property
    def spk2gender(self) -> dict[str, str] | None:
        return self.typed("spk2gender")  # type: ignore[return-value]

    @property
    def utt2lang(self) -> dict[str, str] | None:
        return self.typed("utt2lang")  # type: ignore[return-value]

    @property
    def utt2uniq(self) -> dict[str, str] | None:
        return self.typed("utt2uniq")  # type: ignore[return-value]

    @property
    def reco2file_and_channel(self) -> dict[str, tuple[str, str]] | None:
        return self.typed("reco2file_and_channel")  # type: ignore[return-value]

    @property
    def reco_ids(self) -> list[str]:
        """Recording ids: from ``segments`` if present, else the utterance ids (Kaldi's convention)."""
        seg = self.segments
        if seg is not None:
            return c_sorted({s.reco for s in seg.values()})
        return self.utt_ids

    def durations(self) -> dict[str, float]:
        """Utterance durations in seconds: ``utt2dur`` if present, else ``segments`` end − start."""
        d = self.utt2dur
        if d is not None:
            return dict(d)
        seg = self.segments
        if seg is not None:
            return {u: s.duration for u, s in seg.items()}
        raise KaldiDataError(f"no utt2dur or segments file in {self.path}: durations unknown")

    # -- typed setters --------------------------------------------------------------------------------

    def set_utt2spk(self, mapping: Mapping[str, str]) -> None:
        self.set_table("utt2spk", mapping)

    def set_text(self, mapping: Mapping[str, str]) -> None:
        self.set_table("text", mapping)

    def set_segments(self, segments: Iterable[Segment] | Mapping[str, Segment]) -> None:
        segs = segments.values() if isinstance(segments, Mapping) else segments
        self.set_table("segments", ((s.utt, s.to_value()) for s in segs))

    def set_wav_scp(self, entries: Iterable[WavEntry] | Mapping[str, WavEntry]) -> None:
        ents = entries.values() if isinstance(entries, Mapping) else entries
        self.set_table("wav.scp", ((e.reco, e.to_value()) for e in ents))

    def set_utt2dur(self, mapping: Mapping[str, float]) -> None:
        self.set_table("utt2dur", {k: float(v) for k, v in mapping.items()})

    def set_reco2dur(self, mapping: Mapping[str, float]) -> None:
        self.set_table("reco2dur", {k: float(v) for k, v in mapping.items()})

    def set_utt2sentiment(self, mapping: Mapping[str, str]) -> None:
        self.set_table("utt2sentiment", {k: check_sentiment_label(str(v)) for k, v in mapping.items()})

    def set_utt2pseudo(self, mapping: Mapping[str, str], probs: Mapping[str, float] | None = None) -> None:
        """Set ``utt2pseudo`` (and ``utt2pseudo_prob`` when ``probs`` is given; removed otherwise)."""
        self.set_table("utt2pseudo", {k: check_pseudo_label(str(v)) for k, v in mapping.items()})
        if probs is None:
            self.remove("utt2pseudo_prob")
        else:
            self.set_table("utt2pseudo_prob", {k: check_probability(v) for k, v in probs.items()})

    # -- writing --------------------------------------------------------------------------------------

    def write(self, path: str | os.PathLike[str] | None = None) -> None:
        """Write the directory (to ``path``, default in place), every file atomically.

        In place: the tables set or changed in memory are written, removed files deleted, ``spk2utt``
        regenerated from ``utt2spk``. To another directory: every present table and verbatim file is
        written (tables re-sorted), ``spk2utt`` regenerated.
        """
        target = Path(path) if path is not None else self.path
        in_place = target.resolve() == self.path.resolve() if target.exists() else False
        target.mkdir(parents=True, exist_ok=True)
        if in_place:
            names = sorted(self._dirty)
        else:
            names = [n for n in self.present_files() if n not in VERBATIM_FILES or n in self._tables]
        for name in names:
            if name == "spk2utt":
                continue
            table = self.table(name)
            assert table is not None
            write_table(target / name, table)
        if not in_place:
            for name in VERBATIM_FILES:
                if self.has(name) and name not in self._tables:
                    shutil.copyfile(self.file(name), target / name)
        else:
            for name in self._removed:
                with contextlib.suppress(FileNotFoundError):
                    (target / name).unlink()
        if self.has("utt2spk"):
            spk2utt = utt2spk_to_spk2utt(self.utt2spk)
            write_table(target / "spk2utt", {s: " ".join(u) for s, u in spk2utt.items()})
            self._tables.pop("spk2utt", None)
            self._typed.pop("spk2utt", None)
        if in_place:
            self._dirty.clear()
            self._removed.clear()
