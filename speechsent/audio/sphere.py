"""NIST SPHERE audio files: header parsing, reading (plain or shorten-compressed) and writing.

(Over 600 lines on purpose: one file format. About 110 of them are this docstring, the reference of the
format as read and written that the parser, the reader and the writer share; split apart, the header
tables and the field rules below would cross modules. The G.711 codecs are :mod:`speechsent.audio.g711`.)

Format
------
A SPHERE file is an ASCII header followed by the samples.  The header starts with the
line ``NIST_1A``, then a line holding the header size in bytes (``   1024``: the sample
data start at that offset; NIST's tools always use a multiple of 1024), then one
``name -type value`` line per field, and ends with the line ``end_head``; the rest of
the header block is padding.  Types are ``-i`` (integer), ``-r`` (real) and ``-sN``
(a string of exactly ``N`` bytes, which may contain spaces).  The fields that describe
the samples are:

``channel_count``       number of interleaved channels
``sample_count``        samples per channel
``sample_rate``         samples per second
``sample_n_bytes``      bytes per sample (2 for pcm, 1 for µ-law / A-law)
``sample_byte_format``  ``01`` little-endian, ``10`` big-endian, ``1`` single byte
``sample_coding``       ``pcm``, ``ulaw`` (also ``mu-law``) or ``alaw``, optionally
                        followed by ``,embedded-shorten-vX.YY`` when the samples are a
                        shorten stream (see :mod:`speechsent.audio.shorten`)
``sample_checksum``     sum of the samples (16-bit words for pcm, bytes otherwise)
                        modulo 65536

LDC's Switchboard and Fisher releases are 2-channel, 8 kHz µ-law files, Fisher's
shorten-compressed (``ulaw,embedded-shorten-v2.00``).  Like LDC's ``sph2pipe``, the
reader decides that the data are shorten-compressed from the stream's magic number
``ajkg`` at the start of the data, and expands µ-law and A-law to 16-bit linear with
the standard G.711 tables (the same values ``sph2pipe -p`` writes, and libsndfile's).
The writer lays files out as NIST's tools do (field syntax, the padding after
``end_head``, ``sample_checksum``, shorten streams coded with NIST's choices): given the
same samples and field layout it reproduces NIST's files byte for byte.

Headers written by other tools
------------------------------
Other writers do not follow NIST's layout exactly: libsndfile (``soundfile``) writes
``sample_n_bytes -s1 1`` for µ-law and A-law, its own field order, no
``sample_checksum``, and pads the header with NUL bytes.  The parser is as tolerant as
sph2pipe v2.5 (LDC's reference reader) wherever the samples do not depend on it, and
strict wherever they do; where sph2pipe would guess, or warn and carry on, it stops
with a :class:`SphereError` that names the file.  Field by field:

* Magic and size: the file starts with ``NIST_1A``; the next line holds the header
  size, any value from 16 bytes to 1 MiB (sph2pipe reads any size too; multiples of
  1024 are NIST's habit, not a rule).  The samples start exactly there.  (sph2pipe
  reads at least 1024 bytes, so it refuses files shorter than that, and with a smaller
  header it looks for the shorten magic at byte 1024; neither limitation is copied.)
* ``end_head``: the line that ends the header.  sph2pipe wants exactly ``end_head``;
  here blanks around it, a carriage return or NUL padding right after it are accepted.
  It must lie within the declared header size.
* Field lines are ``name -type value`` in any order, separated by any run of blanks
  or tabs, with or without a trailing carriage return; ``;`` lines are comments.
  sph2pipe reads only the fields it needs and ignores every other line; so does this
  parser: a malformed line of any other field is kept in :attr:`SphereHeader.lines`
  but is not an error.
* Types: the numbers that describe the samples (``channel_count``, ``sample_count``,
  ``sample_rate``, ``sample_n_bytes``, ``sample_checksum``) are read whatever type they
  are declared with: ``-i 2``, ``-s1 2`` or ``-r 2.0`` (a non-integral value is an
  error).  sph2pipe reads them only as ``-i``: it then infers a missing
  ``sample_n_bytes`` from the coding (which is why it reads libsndfile's µ-law files)
  but refuses a file whose other counts are not ``-i``; SoX and ffmpeg ignore the type,
  and so does this parser.  ``sample_coding`` and ``sample_byte_format`` are their first
  word, as sph2pipe's ``%s`` reads them (a wrong ``-sN`` length does not matter).  Other
  ``-sN`` strings are the N bytes after the blank (which may begin with a blank), or
  the whole rest of the line when N is wrong.
* A sample field given twice with different values is an error (sph2pipe takes the
  last one).
* Required, as in sph2pipe: ``channel_count`` (at least 1), ``sample_count`` and
  ``sample_rate`` (at least 1).  A ``sample_count`` of 0 (an empty file, as libsndfile
  writes one) is read as empty; sph2pipe refuses it.
* ``sample_coding``: ``pcm``, ``ulaw`` (or ``mu-law``, ``mulaw``, ``u-law``: NIST's
  library names) or ``alaw`` (``a-law``), case-insensitive.  Absent, the data are pcm
  when ``sample_n_bytes`` is 2, or when it is absent and ``sample_byte_format`` has two
  characters (sph2pipe's rule); otherwise the file is refused.  An unknown coding is
  refused (sph2pipe compares only the first letters, and then falls back to pcm for
  2-byte samples).  After a comma, only ``embedded-shorten-*`` is accepted: sph2pipe
  ignores that part and would write another compression's bytes out as samples.
  A-law data cannot be shortened (sph2pipe refuses it too).
* ``sample_n_bytes``: absent, 2 for pcm and 1 for µ-law / A-law (sph2pipe's rule).
  Present, it must agree with the coding: sph2pipe would copy bytes in the declared
  size and write garbage; 1-, 3- and 4-byte pcm (which libsndfile can write) are
  refused, as sph2pipe cannot convert them either.
* ``sample_byte_format``: ``01`` (little-endian) or ``10`` (big-endian) for
  uncompressed pcm, where it is required (sph2pipe refuses pcm without it, and
  byte-swaps any other value).  It is ignored for µ-law and A-law (NIST writes ``1``)
  and for shortened pcm, whose stream records its own sample type.
* Data size: uncompressed data must be exactly ``sample_count x channel_count x
  sample_n_bytes`` bytes; shorter or longer is an error (sph2pipe warns and resets
  ``sample_count`` to the file size, giving a truncated file or trailing garbage).  A
  shorten stream must decode to exactly ``sample_count`` samples per channel, and hold
  as many channels as ``channel_count`` and a sample type matching ``sample_coding``.

``sample_checksum``
-------------------
NIST's checksum (``sp_compute_short_checksum`` / ``sp_compute_char_checksum`` in the
SPHERE library) is the sum, modulo 65536, of the stored samples of every channel: pcm
samples as their values read as unsigned 16-bit numbers (so the file's byte order does
not matter: NIST's big-endian test file sums as its values do, not as its bytes),
µ-law and A-law codes as unsigned bytes; for a shortened file, the samples after
decompression.  NIST's library checks it when a read reaches the last sample;
sph2pipe never checks it.  Here it is verified whenever every sample of a file is
read and the header has one (uncompressed or shortened, any coding): a mismatch is a
:class:`SphereError` naming the file and both values.  For shortened files this is what
catches a corrupt stream that still decodes to the right number of samples.  Partial
reads (``start``/``end``, sph2pipe's ``-t``/``-s``) are not verified: that would mean
reading (for shorten, decoding) the whole file for each segment.  A value outside
0..65535 (NIST's writer puts 999999999 there until the data are written) is not a
checksum and is not verified.  A file whose samples are fine but whose checksum field
is wrong (an editing tool that kept the old header) is read with
``verify_checksum=False``, ``speechsent-sph2pipe --no_checksum``, or, for every reader
in the toolkit (``wav.scp`` entries included), ``SPEECHSENT_SPHERE_CHECKSUM=ignore`` in
the environment.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np

from speechsent.audio.g711 import alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear

__all__ = [
    "SphereData",
    "SphereError",
    "SphereHeader",
    "format_sphere_header",
    "parse_sphere_header",
    "read_sphere",
    "read_sphere_data",
    "read_sphere_header",
    "sphere_checksum",
    "write_sphere",
]

FieldValue = int | float | str
Coding = Literal["pcm", "ulaw", "alaw"]

SHORTEN_MAGIC = b"ajkg"
CHECKSUM_ENV = "SPEECHSENT_SPHERE_CHECKSUM"  # "verify" (default) or "ignore"
NIST_SHORTEN = "embedded-shorten-v2.00"
_HEADER_BLOCK = 1024
_NIST_PAD_NEWLINES = 24  # NIST's writer follows "end_head" with 24 newlines, then spaces
_MAX_HEADER_SIZE = 1 << 20
_CODING_NAMES: dict[str, Coding] = {
    "pcm": "pcm",
    "ulaw": "ulaw",
    "mu-law": "ulaw",
    "mulaw": "ulaw",
    "u-law": "ulaw",
    "alaw": "alaw",
    "a-law": "alaw",
}
# write_sphere: fields a layout must place, and computed fields a caller may set itself
# (NIST's tools did not always fill in the checksum).
_REQUIRED_FIELDS = frozenset(
    {"channel_count", "sample_count", "sample_rate", "sample_n_bytes", "sample_coding"}
)
_OVERRIDABLE_FIELDS = frozenset({"sample_checksum", "sample_sig_bits"})
# name, blanks, type token, one blank, the value (which may begin with a blank).
_FIELD_LINE = re.compile(r"[ \t]*(\S+)[ \t]+-(i|r|s\d+)(?:[ \t](.*))?", re.DOTALL)
_END_HEAD = re.compile(rb"(?<=\n)[ \t]*end_head(?=[\s\x00]|\Z)")
_MIN_HEADER_SIZE = 16  # "NIST_1A", the size line and "end_head"
# Fields that decide how the samples are read: parsed whatever their declared type,
# checked for consistency; every other field is only kept.
_NUMERIC_FIELDS = frozenset(
    {"channel_count", "sample_count", "sample_rate", "sample_n_bytes", "sample_checksum"}
)
_SAMPLE_FIELDS = _NUMERIC_FIELDS | {"sample_coding", "sample_byte_format"}


class SphereError(ValueError):
    """A SPHERE file is malformed, truncated or uses an unsupported coding."""


# --------------------------------------------------------------------------------------
# Header
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SphereHeader:
    """The parsed header of a SPHERE file.

    ``fields`` maps every header field to its typed value, in header order, and
    ``lines`` keeps the field lines as written (for tools that copy a header);
    ``compression`` is the part of ``sample_coding`` after the comma (e.g.
    ``"embedded-shorten-v2.00"``) or None; ``sample_coding`` is normalised to
    ``pcm`` / ``ulaw`` / ``alaw``.
    """

    header_size: int
    channel_count: int
    sample_count: int
    sample_rate: int
    sample_n_bytes: int
    sample_byte_format: str | None
    sample_coding: Coding
    compression: str | None
    fields: Mapping[str, FieldValue] = field(repr=False)
    lines: tuple[str, ...] = field(repr=False)
    sample_checksum: int | None = None

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.sample_count / self.sample_rate

    @property
    def is_shorten(self) -> bool:
        """Whether the header declares shorten-compressed samples."""
        return self.compression is not None and self.compression.startswith("embedded-shorten")


def _field_line(line: str) -> tuple[str, str, str] | None:
    """Split a header line into name, type token (``-i``, ``-r``, ``-sN``) and value text.

    The value text starts after the one blank that ends the type token (``-sN`` values
    are N bytes from there, and may begin with a blank).  Runs of blanks elsewhere are
    accepted.  Returns None for a line that is not ``name -type value``.
    """
    match = _FIELD_LINE.fullmatch(line)
    if match is None:
        return None
    return match.group(1), match.group(2), match.group(3) or ""


def _integer_value(name: str, kind: str, text: str) -> int:
    """A sample-describing number, whatever its declared type (``-i 2``, ``-s1 2``, ``-r 2.0``)."""
    token = text.strip()
    try:
        return int(token)
    except ValueError:
        pass
    try:
        number = float(token)
    except ValueError:
        number = math.nan
    if math.isfinite(number) and number.is_integer():
        return int(number)
    raise SphereError(f"SPHERE field {name} -{kind}: value {token!r} is not an integer")


def _generic_value(kind: str, text: str) -> FieldValue:
    """Any other field: typed as declared; a value that does not fit its type is kept as text."""
    if kind == "i":
        try:
            return int(text.strip())
        except ValueError:
            return text.strip()
    if kind == "r":
        try:
            return float(text.strip())
        except ValueError:
            return text.strip()
    length = int(kind[1:]) if kind[1:].isdigit() else len(text)
    # -sN is N bytes after the blank; when N is wrong (the rest is not blank) keep the whole text.
    return text[:length] if not text[length:].strip() else text.rstrip()


def parse_sphere_header(data: bytes) -> SphereHeader:
    """Parse a SPHERE header from the first ``header_size`` (or more) bytes of a file.

    Raises :class:`SphereError` (without a file name) when the header is malformed or
    lacks what is needed to read the samples.  See the module docstring for what is
    accepted.
    """
    if not data.startswith(b"NIST_1A"):
        raise SphereError("not a NIST SPHERE file (no NIST_1A magic)")
    lines = data.split(b"\n", 2)
    if len(lines) < 3:
        raise SphereError("truncated SPHERE header")
    try:
        header_size = int(lines[1].strip())
    except ValueError:
        raise SphereError(f"malformed SPHERE header size line {lines[1][:20]!r}") from None
    if not _MIN_HEADER_SIZE <= header_size <= _MAX_HEADER_SIZE:
        raise SphereError(f"implausible SPHERE header size {header_size}")
    if len(data) < header_size:
        raise SphereError(f"truncated SPHERE header (file shorter than its {header_size}-byte header)")
    first = len(lines[0]) + len(lines[1]) + 2
    end = _END_HEAD.search(data, first)
    if end is None:
        raise SphereError("SPHERE header has no end_head line")
    if end.end() > header_size:
        raise SphereError(
            f"SPHERE header's end_head ends at byte {end.end()}, past its header size {header_size}"
        )
    text = data[first : end.start()].decode("latin-1")
    fields, kept = _parse_fields(text)
    byte_format, n_bytes, coding, compression = _sample_layout(fields)
    counts = {}
    for name in ("channel_count", "sample_count", "sample_rate"):
        value = _integer_field(fields, name)
        if value is None:
            raise SphereError(f"SPHERE header lacks {name}")
        if value < (0 if name == "sample_count" else 1):
            raise SphereError(f"invalid SPHERE {name} {value}")
        counts[name] = value
    checksum = _integer_field(fields, "sample_checksum")
    return SphereHeader(
        header_size=header_size,
        channel_count=counts["channel_count"],
        sample_count=counts["sample_count"],
        sample_rate=counts["sample_rate"],
        sample_n_bytes=n_bytes,
        sample_byte_format=byte_format,
        sample_coding=coding,
        compression=compression,
        fields=fields,
        lines=tuple(kept),
        sample_checksum=checksum if checksum is not None and 0 <= checksum <= 0xFFFF else None,
    )


def _parse_fields(text: str) -> tuple[dict[str, FieldValue], list[str]]:
    """The fields of the header text between the size line and ``end_head`` (line numbers from 3), and
    its non-empty lines; the sample-describing fields strictly, any other leniently."""
    fields: dict[str, FieldValue] = {}
    kept: list[str] = []
    for number, raw in enumerate(text.split("\n"), start=3):
        line = raw[:-1] if raw.endswith("\r") else raw
        if line:
            kept.append(line)
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        parts = _field_line(line)
        name = parts[0] if parts is not None else line.split()[0]
        if name not in _SAMPLE_FIELDS:
            if parts is not None:  # lines sph2pipe does not need: kept, but never an error
                fields[name] = _generic_value(parts[1], parts[2])
            continue
        if parts is None:
            raise SphereError(f"malformed SPHERE header line {number}: {line!r}")
        kind, value_text = parts[1], parts[2]
        value: FieldValue
        if name in _NUMERIC_FIELDS:
            try:
                value = _integer_value(name, kind, value_text)
            except SphereError as error:
                raise SphereError(f"malformed value in SPHERE header line {number}: {error}") from None
        else:
            tokens = value_text.split()
            if not tokens:
                raise SphereError(f"malformed value in SPHERE header line {number}: {line!r}")
            value = tokens[0]
        if name in fields and fields[name] != value:
            raise SphereError(f"SPHERE header gives {name} twice, as {fields[name]!r} and {value!r}")
        fields[name] = value
    return fields, kept


def _integer_field(fields: dict[str, FieldValue], name: str) -> int | None:
    value = fields.get(name)
    assert value is None or isinstance(value, int)
    return value


def _sample_layout(fields: dict[str, FieldValue]) -> tuple[str | None, int, Coding, str | None]:
    """``(sample_byte_format, sample_n_bytes, coding, compression)``, checked as sph2pipe reads them."""
    byte_format = fields.get("sample_byte_format")
    byte_format = None if byte_format is None else str(byte_format)
    n_bytes = _integer_field(fields, "sample_n_bytes")
    raw_coding = fields.get("sample_coding")
    compression: str | None = None
    if raw_coding is None:
        # As sph2pipe: without sample_coding, 2-byte samples (or a 2-character byte
        # format) are pcm; anything else cannot be interpreted.
        if n_bytes != 2 and not (n_bytes is None and byte_format and len(byte_format) == 2):
            raise SphereError("SPHERE header has no sample_coding and the data are not 2-byte pcm")
        coding: Coding = "pcm"
    else:
        base, _, rest = str(raw_coding).partition(",")
        if base.lower() not in _CODING_NAMES:
            raise SphereError(f"unsupported SPHERE sample_coding {raw_coding!r} (pcm, ulaw or alaw)")
        coding = _CODING_NAMES[base.lower()]
        compression = rest.strip() or None
        if compression is not None and not compression.startswith("embedded-shorten"):
            raise SphereError(f"unsupported SPHERE compression {compression!r} (only shorten is supported)")
    if n_bytes is None:
        n_bytes = 2 if coding == "pcm" else 1
    if (coding == "pcm") != (n_bytes == 2):
        raise SphereError(
            f"unsupported SPHERE layout: {coding} with sample_n_bytes {n_bytes} "
            "(sph2pipe reads 2-byte pcm and 1-byte ulaw/alaw only)"
        )
    if coding == "alaw" and compression is not None:
        raise SphereError("A-law data cannot be shorten-compressed (sph2pipe refuses it too)")
    return byte_format, n_bytes, coding, compression


def _read_header_bytes(path: Path) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(_HEADER_BLOCK)
        if data.startswith(b"NIST_1A"):
            lines = data.split(b"\n", 2)
            if len(lines) == 3 and lines[1].strip().isdigit():
                size = int(lines[1].strip())
                if _HEADER_BLOCK < size <= _MAX_HEADER_SIZE:
                    data += handle.read(size - len(data))
    return data


def read_sphere_header(path: str | os.PathLike[str]) -> SphereHeader:
    """Read and parse the header of a SPHERE file."""
    path = Path(path)
    try:
        return parse_sphere_header(_read_header_bytes(path))
    except SphereError as error:
        raise SphereError(f"{path}: {error}") from None


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SphereData:
    """Samples of a SPHERE file in their stored coding.

    ``samples`` has shape ``(num_samples, channels)``: int16 for pcm, uint8 µ-law or
    A-law codes otherwise.  ``start`` is the index of its first sample in the file;
    ``shortened`` tells whether the file stores them as a shorten stream.
    """

    header: SphereHeader
    samples: np.ndarray
    start: int
    shortened: bool

    def to_linear(self) -> np.ndarray:
        """The samples as 16-bit linear pcm."""
        if self.header.sample_coding == "ulaw":
            return ulaw_to_linear(self.samples)
        if self.header.sample_coding == "alaw":
            return alaw_to_linear(self.samples)
        return self.samples


def _decode_shortened(header: SphereHeader, stream: np.ndarray, end: int) -> np.ndarray:
    from speechsent.audio.shorten import ShortenError, ShortenFileType, decode_shorten

    whole = end == header.sample_count
    # Size the output from the header, but no further than the stream could possibly hold
    # (each coded sample takes at least two bits), so a bogus sample_count costs nothing.
    # A whole read stops one sample past sample_count: more is an error anyway, and this
    # bounds the work a corrupt stream can cause (zero blocks cost 5 bits for a block).
    plausible = 4 * len(stream) // header.channel_count + 4096
    try:
        audio = decode_shorten(
            stream,
            max_samples=end + 1 if whole else end,
            expected_samples=min(end, plausible),
        )
    except ShortenError as error:
        raise SphereError(str(error)) from None
    info = audio.info
    if info.channels != header.channel_count:
        raise SphereError(
            f"shorten stream has {info.channels} channel(s), header says {header.channel_count}"
        )
    decoded = audio.samples.shape[0]
    if (whole and decoded != header.sample_count) or decoded < end:
        raise SphereError(
            f"sample_count mismatch: shorten stream holds {decoded} samples per channel, "
            f"header says {header.sample_count}"
        )
    expected = {
        "ulaw": (ShortenFileType.AU1, ShortenFileType.AU2, ShortenFileType.ULAW),
        "alaw": (ShortenFileType.AU3, ShortenFileType.ALAW),
        "pcm": (ShortenFileType.S16HL, ShortenFileType.S16LH, ShortenFileType.U16HL, ShortenFileType.U16LH),
    }[header.sample_coding]
    if info.file_type not in expected:
        raise SphereError(
            f"shorten sample type {info.file_type.name} does not match sample_coding {header.sample_coding}"
        )
    samples = audio.samples[:end]
    if header.sample_coding == "pcm":
        # Unsigned 16-bit types hold the same bits as the signed samples.
        return samples.astype(np.uint16).view(np.int16)
    return samples.astype(np.uint8)


def _checksum_policy(verify_checksum: bool | None) -> bool:
    if verify_checksum is not None:
        return verify_checksum
    value = os.environ.get(CHECKSUM_ENV, "verify").strip().lower()
    if value not in ("verify", "ignore", ""):
        raise ValueError(f"{CHECKSUM_ENV}={value!r}: expected 'verify' or 'ignore'")
    return value != "ignore"


def read_sphere_data(
    path: str | os.PathLike[str],
    *,
    start: int = 0,
    end: int | None = None,
    header_path: str | os.PathLike[str] | None = None,
    verify_checksum: bool | None = None,
) -> SphereData:
    """Read samples ``start`` to ``end`` (exclusive; None = to the end) in their stored coding.

    With ``header_path`` the header is read from that file and ``path`` holds only the
    sample data (sph2pipe's ``-h``).  ``end`` beyond the file is clamped to its length.
    When every sample is read and the header has a ``sample_checksum``, the checksum is
    verified unless ``verify_checksum`` is False (None: the environment variable
    ``SPEECHSENT_SPHERE_CHECKSUM``, ``verify`` by default or ``ignore``).  Raises
    :class:`SphereError` naming the file for malformed, truncated, corrupt or
    inconsistent files.
    """
    path = Path(path)
    verify = _checksum_policy(verify_checksum)
    if header_path is None:
        header = read_sphere_header(path)
        data_offset = header.header_size
    else:
        header = read_sphere_header(header_path)
        data_offset = 0
    try:
        count = header.sample_count
        end = count if end is None else min(end, count)
        if not 0 <= start <= count:
            raise SphereError(f"start sample {start} is outside the file's {count} samples")
        end = max(end, start)
        with path.open("rb") as handle:
            handle.seek(data_offset)
            magic = handle.read(len(SHORTEN_MAGIC))
            size = os.fstat(handle.fileno()).st_size - data_offset
            shortened = magic == SHORTEN_MAGIC
            if shortened:
                handle.seek(data_offset)
                stream = np.frombuffer(handle.read(), dtype=np.uint8)
                samples = _decode_shortened(header, stream, end)[start:]
            else:
                if header.is_shorten:
                    raise SphereError(
                        "not a shorten stream (bad magic number, expected 'ajkg') "
                        "although sample_coding says shorten"
                    )
                _check_byte_format(header)
                frame = header.channel_count * header.sample_n_bytes
                if size != count * frame:
                    raise SphereError(
                        f"sample_count mismatch: file holds {size} bytes of samples, header says "
                        f"{count} samples x {header.channel_count} channel(s) x "
                        f"{header.sample_n_bytes} byte(s) = {count * frame} bytes"
                        + (" (data shorter than declared)" if size < count * frame else "")
                    )
                handle.seek(data_offset + start * frame)
                raw = handle.read((end - start) * frame)
                samples = _unpack_plain(header, raw)
        whole = start == 0 and end == count
        if verify and whole and header.sample_checksum is not None:
            computed = sphere_checksum(samples)
            if computed != header.sample_checksum:
                raise SphereError(
                    f"sample_checksum mismatch: header says {header.sample_checksum}, the "
                    f"{'decoded' if shortened else 'stored'} samples sum to {computed} (corrupt data, "
                    f"or a wrong checksum field: {CHECKSUM_ENV}=ignore or speechsent-sph2pipe "
                    "--no_checksum reads it anyway)"
                )
    except SphereError as error:
        raise SphereError(f"{path}: {error}") from None
    return SphereData(header=header, samples=samples, start=start, shortened=shortened)


def _check_byte_format(header: SphereHeader) -> None:
    """Plain pcm needs its byte order; 1-byte codings ignore the field (as sph2pipe)."""
    if header.sample_coding != "pcm":
        return
    if header.sample_byte_format is None:
        raise SphereError("pcm samples without sample_byte_format: their byte order is unknown")
    if header.sample_byte_format not in ("01", "10"):
        raise SphereError(
            f"unsupported sample_byte_format {header.sample_byte_format!r} for 2-byte pcm "
            "(01: little-endian, 10: big-endian)"
        )


def _unpack_plain(header: SphereHeader, raw: bytes) -> np.ndarray:
    if header.sample_coding == "pcm":
        dtype = "<i2" if header.sample_byte_format == "01" else ">i2"
        samples = np.frombuffer(raw, dtype=dtype).astype(np.int16)
    else:
        samples = np.frombuffer(raw, dtype=np.uint8).copy()
    return samples.reshape(-1, header.channel_count)


def read_sphere(
    path: str | os.PathLike[str],
    *,
    channel: int | None = None,
    start: int = 0,
    end: int | None = None,
    verify_checksum: bool | None = None,
) -> tuple[np.ndarray, int]:
    """Read a SPHERE file as 16-bit linear pcm.

    Returns ``(samples, sample_rate)`` with ``samples`` of dtype int16 and shape
    ``(num_samples, num_channels)``; ``channel`` (0-based) selects one channel, giving
    shape ``(num_samples, 1)``.  ``start``/``end`` select samples ``[start, end)``.
    µ-law and A-law are expanded exactly as ``sph2pipe -p`` does.  ``verify_checksum``:
    see :func:`read_sphere_data`.
    """
    data = read_sphere_data(path, start=start, end=end, verify_checksum=verify_checksum)
    samples = data.to_linear()
    if channel is not None:
        if not 0 <= channel < data.header.channel_count:
            count = data.header.channel_count
            raise SphereError(f"{path}: channel {channel} out of range for {count} channel(s)")
        samples = samples[:, channel : channel + 1]
    return np.ascontiguousarray(samples), data.header.sample_rate


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def sphere_checksum(samples: np.ndarray) -> int:
    """NIST's ``sample_checksum``: the sum of the stored samples modulo 65536.

    int16 samples are summed as unsigned 16-bit words, uint8 codes as bytes.
    """
    array = np.asarray(samples)
    if array.dtype == np.int16:
        array = array.view(np.uint16)
    return int(array.astype(np.int64).sum() % 65536)


def _format_field(name: str, value: FieldValue) -> str:
    if not name or any(ch.isspace() for ch in name):
        raise ValueError(f"invalid SPHERE field name {name!r}")
    if isinstance(value, bool):
        raise TypeError(f"SPHERE field {name}: booleans are not a SPHERE type")
    if isinstance(value, int):
        return f"{name} -i {value}"
    if isinstance(value, float):
        return f"{name} -r {value!r}"
    text = str(value)
    if "\n" in text:
        raise ValueError(f"SPHERE field {name}: string values cannot contain newlines")
    return f"{name} -s{len(text.encode('latin-1'))} {text}"


def format_sphere_header(fields: Iterable[tuple[str, FieldValue]], header_size: int | None = None) -> bytes:
    """Format a SPHERE header the way NIST's tools do.

    The header is padded after ``end_head`` with up to 24 newlines and then spaces to
    ``header_size`` (default: the smallest multiple of 1024 that holds the fields).
    """
    body = "".join(_format_field(name, value) + "\n" for name, value in fields) + "end_head\n"
    payload = body.encode("latin-1")
    needed = len(b"NIST_1A\n   1024\n") + len(payload)
    if header_size is None:
        header_size = -(-needed // _HEADER_BLOCK) * _HEADER_BLOCK
    if header_size < needed or header_size > 9_999_999:
        raise ValueError(f"header_size {header_size} cannot hold a {needed}-byte header")
    head = f"NIST_1A\n{header_size:7d}\n".encode("ascii") + payload
    newlines = min(_NIST_PAD_NEWLINES, header_size - len(head))
    return head + b"\n" * newlines + b" " * (header_size - len(head) - newlines)


def write_sphere(
    path: str | os.PathLike[str] | BinaryIO,
    samples: np.ndarray,
    sample_rate: int,
    *,
    coding: Coding = "pcm",
    shorten: bool = False,
    byte_format: Literal["01", "10"] = "01",
    fields: Iterable[tuple[str, FieldValue | None]] = (),
    header_size: int | None = None,
    block_size: int = 256,
) -> SphereHeader:
    """Write a SPHERE file as NIST's tools (and LDC's releases) lay it out.

    ``samples`` has shape ``(num_samples,)`` or ``(num_samples, channels)``.  For pcm it
    must be int16.  For ``ulaw`` / ``alaw`` it is either int16 linear pcm, companded
    here with the G.711 encoder, or uint8 codes written as they are.  ``shorten`` stores
    the samples as a shorten stream (``...,embedded-shorten-v2.00``), coded as NIST's
    encoder does (µ-law as shorten's lossless type AU2; the stream is bit-identical to
    NIST's for the same samples); A-law cannot be shortened.

    The sample-describing fields (``channel_count``, ``sample_count``, ``sample_rate``,
    ``sample_n_bytes``, ``sample_byte_format``, ``sample_sig_bits``, ``sample_coding``,
    ``sample_checksum``) are computed here.  ``fields`` adds other fields, written first
    and in order (e.g. ``("database_id", "fisher")``).  To reproduce an existing layout,
    place computed fields among them as ``(name, None)``: then exactly the fields listed
    are written, in that order (those describing the samples must be placed).
    ``sample_checksum`` and ``sample_sig_bits`` may also be given a value of their own.
    ``path`` may be a binary file object (written at its position). Returns the header written.
    """
    stored = _stored_samples(samples, sample_rate, coding, byte_format)
    if shorten and coding == "alaw":
        raise ValueError("A-law SPHERE files cannot be shorten-compressed (sph2pipe cannot read them)")
    n_bytes = 2 if coding == "pcm" else 1
    computed: dict[str, FieldValue] = {
        "channel_count": stored.shape[1],
        "sample_count": stored.shape[0],
        "sample_rate": int(sample_rate),
        "sample_n_bytes": n_bytes,
        "sample_byte_format": byte_format if coding == "pcm" else "1",
        "sample_sig_bits": 8 * n_bytes,
        "sample_coding": f"{coding},{NIST_SHORTEN}" if shorten else coding,
        "sample_checksum": sphere_checksum(stored),
    }
    head = format_sphere_header(_header_fields(list(fields), computed, coding), header_size)
    if shorten:
        from speechsent.audio.shorten import ShortenFileType, encode_shorten

        if coding == "ulaw":
            file_type = ShortenFileType.AU2
        else:
            file_type = ShortenFileType.S16LH if byte_format == "01" else ShortenFileType.S16HL
        data = encode_shorten(stored, file_type, block_size=block_size)
    elif coding == "pcm":
        data = stored.astype("<i2" if byte_format == "01" else ">i2").tobytes()
    else:
        data = np.ascontiguousarray(stored).tobytes()
    if isinstance(path, (str, os.PathLike)):
        Path(path).write_bytes(head + data)
    else:  # a binary file object (e.g. utils.fileio.atomic_write's temporary file)
        path.write(head + data)
    return parse_sphere_header(head)


def _stored_samples(samples: np.ndarray, sample_rate: int, coding: str, byte_format: str) -> np.ndarray:
    """The samples as stored, ``(num_samples, channels)``: int16 pcm or uint8 codes (companded here)."""
    array = np.asarray(samples)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] < 1:
        raise ValueError("samples must have shape (num_samples,) or (num_samples, channels)")
    if coding not in ("pcm", "ulaw", "alaw"):
        raise ValueError(f"unsupported coding {coding!r}")
    if byte_format not in ("01", "10"):
        raise ValueError("byte_format must be '01' (little-endian) or '10' (big-endian)")
    if sample_rate < 1:
        raise ValueError("sample_rate must be positive")
    if coding == "pcm":
        if array.dtype != np.int16:
            raise TypeError("pcm samples must be int16")
        return array
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.int16:
        return linear_to_ulaw(array) if coding == "ulaw" else linear_to_alaw(array)
    raise TypeError(f"{coding} samples must be int16 linear pcm or uint8 codes")


def _header_fields(
    given: list[tuple[str, FieldValue | None]], computed: dict[str, FieldValue], coding: str
) -> list[tuple[str, FieldValue]]:
    """The header's fields: ``given`` first, in order (``(name, None)`` places a computed field: then only
    the fields listed), then the computed fields not placed."""
    layout = any(value is None for _, value in given)
    header_fields: list[tuple[str, FieldValue]] = []
    for name, value in given:
        if value is None:
            if name not in computed:
                raise ValueError(f"field {name} has no value (only computed fields may be placed with None)")
            header_fields.append((name, computed[name]))
        elif name in computed and name not in _OVERRIDABLE_FIELDS:
            raise ValueError(f"field {name} is computed by write_sphere and cannot be given")
        else:
            header_fields.append((name, value))
    placed = {name for name, _ in header_fields}
    if layout:
        required = _REQUIRED_FIELDS | ({"sample_byte_format"} if coding == "pcm" else set())
        missing = sorted(required - placed)
        if missing:
            raise ValueError(f"a field layout must place {', '.join(missing)}")
    else:
        header_fields += [(name, value) for name, value in computed.items() if name not in placed]
    return header_fields
