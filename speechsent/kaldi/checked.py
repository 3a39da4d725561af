"""A table loaded with the per-line checks of :func:`speechsent.kaldi.validate.validate` (stdlib only).

:func:`load_checked` reads and splits a file once; a clean file is checked in bulk
(:func:`speechsent.kaldi.formats.bulk_load`), any other line by line, which records each kind of problem
with its first line (:class:`LineIssues`). The result is a :class:`CheckedTable`.
"""

from __future__ import annotations

from pathlib import Path

from speechsent.kaldi.data_dir import Segment
from speechsent.kaldi.formats import Bulk, bulk_load, format_of, parsed_dict
from speechsent.kaldi.table import (
    BOM,
    bom_message,
    c_sort_key,
    cr_message,
    split_fields,
    split_line,
    utf16_message,
    utf16_text,
)
from speechsent.utils.fileio import ENCODING, ERRORS

__all__ = [
    "CheckedTable",
    "LineIssues",
    "load_checked",
]


class CheckedTable:
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
        bulk: Bulk | None = None,
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
            self._parsed = parsed_dict(self.name, self.bulk)
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


class LineIssues:
    """Problems of one file, one entry per kind: ``[first line, message, count]`` (call it to add one)."""

    def __init__(self) -> None:
        self.first: dict[str, list] = {}

    def __call__(self, kind: str, lineno: int, msg: str) -> None:
        entry = self.first.get(kind)
        if entry is None:
            self.first[kind] = [lineno, msg, 1]
        else:
            entry[2] += 1


def load_checked(
    path: Path, name: str, ref: CheckedTable | None = None, keep_text: bool = False
) -> tuple[CheckedTable, dict[str, list]] | None:
    """Read the table ``name`` at ``path`` (``None`` if absent) and its format problems: newline, empty
    lines, fields, values, sorting, as ``(table, {kind: [first line, message, count]})``.

    The file is read and split once; a clean file is checked in bulk (:func:`bulk_load`), any other
    line by line, which reports each kind of problem with its first line. ``ref``: the table (utt2spk)
    whose keys this one's are expected to be (shortcuts where they are).
    ``keep_text``: keep the file's bytes and text in the table (``data``, ``text``).
    """
    if not path.is_file():
        return None
    data = path.read_bytes()
    text = data.decode(ENCODING, ERRORS)
    issue = LineIssues()
    issues = issue.first
    utf16 = utf16_text(data)
    if utf16 is not None:  # named, then checked as its text (else: one confusing message per line)
        issue("utf16", 1, utf16_message(path))
        text, data = utf16, utf16.encode(ENCODING, ERRORS)
    if text.startswith(BOM):  # named, then checked without it (else: confusing key mismatches)
        issue("bom", 1, bom_message(path))
        text, data = text[1:], data[3:]
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    final_newline = not data or data.endswith(b"\n")

    ref_keys = ref.keys if ref is not None and ref.bulk is not None else None
    bulk = bulk_load(text, lines, name, ref_keys)
    if bulk is not None:
        table = CheckedTable(name, path, len(lines), text.isascii(), bulk=bulk)
    else:
        table = _load_lines(name, path, lines, text.isascii(), issue)
    if not lines:
        issue("", 0, "empty file")
    elif not final_newline:
        issue("newline", len(lines), "last line has no newline")
    if keep_text:
        table.data, table.text = data, text
    return table, issues


def _load_lines(name: str, path: Path, lines: list[str], ascii_text: bool, issue: LineIssues) -> CheckedTable:
    values: dict[str, str] = {}
    ok: dict[str, str] = {}
    parsed: dict[str, object] = {}
    first_line: dict[str, int] = {}
    fmt = format_of(name)
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
            key < prev_key if key.isascii() and prev_key.isascii() else c_sort_key(key) < c_sort_key(prev_key)
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
    return CheckedTable(name, path, len(lines), ascii_text, values=values, ok=ok, parsed=parsed)
