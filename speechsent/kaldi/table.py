"""Kaldi table files: encoding, ``LC_ALL=C`` order, reading and atomic writing, errors (stdlib only).

This module must import in a bare ``python3`` (no numpy, no audio libraries): the ``utils/*.sh`` data-dir
tools run it before any environment exists.

A Kaldi *table* file holds one entry per line: the first blank-separated token is the key, the rest of the
line (blanks around it stripped) is the value. All tables are sorted in ``LC_ALL=C`` byte order of their
keys, with unique keys. Files are decoded as UTF-8 with ``surrogateescape``, so that bytes that are not
UTF-8 survive a read/write round trip unchanged and sort in their byte order (:func:`c_sort_key`).

Writing is atomic (:func:`speechsent.utils.fileio.atomic_write_text`): a temporary file is written in the
same directory, fsync'ed and ``os.replace``'d.

Files written by other tools: a UTF-8 byte-order mark (BOM) at the start of a file and carriage returns
(Windows CRLF line ends) are errors that name the file, the line and the cause, with a one-line fix (Kaldi's
tools read them as part of the first key / the last field: a BOM'd first utterance matches nothing and a
``wav.scp`` path ending in CR names no file). ``utils/fix_data_dir.sh`` removes them (logged).

The files of a data directory and their typed values: :mod:`speechsent.kaldi.data_dir`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TypeVar

from speechsent.utils.fileio import ENCODING, ERRORS, atomic_write_text

__all__ = [
    "BOM",
    "KaldiDataError",
    "RawLines",
    "bom_message",
    "c_sort_key",
    "c_sorted",
    "cr_message",
    "format_number",
    "read_lines",
    "read_table",
    "read_table_keys",
    "read_typed_table",
    "split_fields",
    "split_line",
    "utf16_message",
    "utf16_text",
    "write_lines",
    "write_table",
]

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
    return s.encode(ENCODING, ERRORS)


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
    text = data.decode(ENCODING, ERRORS)
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


def read_table_keys(
    path: str | os.PathLike[str], keys: AbstractSet[str], *, num_fields: int | None = None
) -> dict[str, str]:
    """The entries of ``keys`` in a Kaldi table (first token → rest of the line), read line by line: memory
    holds those entries, not the file, so that a job reading its share of a set's table (e.g. stage 7's
    labeling jobs and the ``text`` of Fisher's ~2 M utterances) stays as small as its share.

    Every line is checked as :func:`read_table` checks it (a BOM at the start, a carriage return, a blank
    line, ``num_fields`` of a kept entry; a :class:`KaldiDataError` naming file and line); a duplicate is an
    error for the kept keys only. The dict keeps the file's order; a key not in the file is absent.
    """
    out: dict[str, str] = {}
    first_line: dict[str, int] = {}
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            if lineno == 1 and raw.startswith(_UTF16_BOMS):
                raise KaldiDataError(utf16_message(path), path, 1)
            line = raw.rstrip(b"\n").decode(ENCODING, ERRORS)
            if lineno == 1 and line.startswith(BOM):
                raise KaldiDataError(bom_message(path), path, 1)
            if "\r" in line:
                lines = read_lines(path).lines  # the error path only: count the file's CRLF lines
                num_crlf = sum(1 for x in lines if x.endswith("\r"))
                raise KaldiDataError(cr_message(path, line, num_crlf, len(lines)), path, lineno)
            kv = split_line(line)
            if kv is None:
                raise KaldiDataError("empty line", path, lineno)
            key, value = kv
            if key not in keys:
                continue
            if key in first_line:
                raise KaldiDataError(f"duplicate key {key!r} (first on line {first_line[key]})", path, lineno)
            if num_fields is not None and 1 + len(split_fields(value)) != num_fields:
                n = 1 + len(split_fields(value))
                raise KaldiDataError(f"expected {num_fields} fields, got {n}: {line!r}", path, lineno)
            first_line[key] = lineno
            out[key] = value
    return out


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


def format_number(x: float) -> str:
    """Shortest round-trip text of a float, without exponent (``12.0``, ``1e-05`` → ``0.00001``)."""
    r = repr(float(x))
    if "e" in r or "E" in r:
        r = format(x, ".12f").rstrip("0")
        if r.endswith("."):
            r += "0"
    return r
