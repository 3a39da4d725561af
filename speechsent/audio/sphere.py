"""NIST SPHERE audio files: header parsing, reading (plain or shorten-compressed) and writing.

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
the standard G.711 tables (the same values ``sph2pipe -p`` writes).  Unlike sph2pipe,
which warns and carries on, it refuses data that disagree with the header (file size,
decoded sample or channel count, shorten sample type) with a :class:`SphereError` that
names the file.  The writer lays files out as NIST's tools do (field syntax, the
padding after ``end_head``, ``sample_checksum``, shorten streams coded with NIST's
choices): given the same samples and field layout it reproduces NIST's files byte for
byte.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

__all__ = [
    "SphereData",
    "SphereError",
    "SphereHeader",
    "alaw_to_linear",
    "format_sphere_header",
    "linear_to_alaw",
    "linear_to_ulaw",
    "parse_sphere_header",
    "read_sphere",
    "read_sphere_data",
    "read_sphere_header",
    "sphere_checksum",
    "ulaw_to_linear",
    "write_sphere",
]

FieldValue = int | float | str
Coding = Literal["pcm", "ulaw", "alaw"]

SHORTEN_MAGIC = b"ajkg"
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
_ULAW_SEGMENT_STARTS = np.array([2, 4, 8, 16, 32, 64, 128])  # exponent = floor(log2(magnitude >> 7))
_FIELD_LINE = re.compile(r"(\S+) -(i|r|s(\d+)) (.*)", re.DOTALL)


class SphereError(ValueError):
    """A SPHERE file is malformed, truncated or uses an unsupported coding."""


# --------------------------------------------------------------------------------------
# G.711 companding (the tables sph2pipe uses)
# --------------------------------------------------------------------------------------


def ulaw_to_linear(codes: np.ndarray) -> np.ndarray:
    """Expand G.711 µ-law bytes to 16-bit linear (0xFF and 0x7F -> 0, 0x00 -> -32124)."""
    u = ~np.asarray(codes, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    magnitude = ((((u & 0x0F) << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


def linear_to_ulaw(samples: np.ndarray) -> np.ndarray:
    """Compress 16-bit linear samples to G.711 µ-law bytes (Reese & Campbell's encoder)."""
    x = np.asarray(samples, dtype=np.int32)
    sign = np.where(x < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.searchsorted(_ULAW_SEGMENT_STARTS, magnitude >> 7, side="right")
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


def alaw_to_linear(codes: np.ndarray) -> np.ndarray:
    """Expand G.711 A-law bytes to 16-bit linear (0xD5 -> 8, 0x55 -> -8)."""
    a = np.asarray(codes, dtype=np.int32) ^ 0x55
    segment = (a & 0x70) >> 4
    mantissa = (a & 0x0F) << 4
    magnitude = np.where(
        segment == 0,
        mantissa + 8,
        (mantissa + 0x108) << np.maximum(segment - 1, 0),
    )
    return np.where(a & 0x80, magnitude, -magnitude).astype(np.int16)


def linear_to_alaw(samples: np.ndarray) -> np.ndarray:
    """Compress 16-bit linear samples to G.711 A-law bytes (the Sun / SoX encoder)."""
    x = np.asarray(samples, dtype=np.int32) >> 3
    mask = np.where(x >= 0, 0xD5, 0x55)
    magnitude = np.where(x >= 0, x, -x - 1)
    segment_ends = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])
    segment = np.searchsorted(segment_ends, magnitude)
    shift = np.where(segment < 2, 1, segment)
    code = (np.minimum(segment, 7) << 4) | ((magnitude >> shift) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    return ((code ^ mask) & 0xFF).astype(np.uint8)


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

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.sample_count / self.sample_rate

    @property
    def is_shorten(self) -> bool:
        """Whether the header declares shorten-compressed samples."""
        return self.compression is not None and self.compression.startswith("embedded-shorten")


def _parse_value(kind: str, length: str | None, text: str) -> FieldValue:
    if kind == "i":
        return int(text.strip())
    if kind == "r":
        return float(text.strip())
    assert length is not None
    return text[: int(length)]


def parse_sphere_header(data: bytes) -> SphereHeader:
    """Parse a SPHERE header from the first ``header_size`` (or more) bytes of a file.

    Raises :class:`SphereError` (without a file name) when the header is malformed or
    lacks what is needed to read the samples.
    """
    if not data.startswith(b"NIST_1A"):
        raise SphereError("not a NIST SPHERE file (no NIST_1A magic)")
    lines = data.split(b"\n", 2)
    if len(lines) < 3:
        raise SphereError("truncated SPHERE header")
    try:
        header_size = int(lines[1].strip())
    except ValueError:
        raise SphereError("malformed SPHERE header size line") from None
    if not 16 <= header_size <= _MAX_HEADER_SIZE:
        raise SphereError(f"implausible SPHERE header size {header_size}")
    if len(data) < header_size:
        raise SphereError(f"truncated SPHERE header (file shorter than its {header_size}-byte header)")
    body = data[:header_size]
    end = body.find(b"\nend_head")
    if end < 0:
        raise SphereError("SPHERE header has no end_head line")
    text = body[len(lines[0]) + len(lines[1]) + 2 : end + 1].decode("latin-1")

    fields: dict[str, FieldValue] = {}
    kept: list[str] = []
    for number, line in enumerate(text.split("\n"), start=3):
        if line:
            kept.append(line)
        if not line.strip() or line.startswith(";"):
            continue
        match = _FIELD_LINE.fullmatch(line)
        if match is None:
            raise SphereError(f"malformed SPHERE header line {number}: {line!r}")
        name, kind, length, value = match.group(1), match.group(2)[0], match.group(3), match.group(4)
        try:
            fields[name] = _parse_value(kind, length, value)
        except ValueError:
            raise SphereError(f"malformed value in SPHERE header line {number}: {line!r}") from None

    def integer(name: str) -> int | None:
        value = fields.get(name)
        if value is None:
            return None
        if not isinstance(value, int):
            raise SphereError(f"SPHERE field {name} must be an integer (-i)")
        return value

    byte_format = fields.get("sample_byte_format")
    if byte_format is not None:
        byte_format = str(byte_format).strip()
    n_bytes = integer("sample_n_bytes")
    raw_coding = fields.get("sample_coding")
    compression: str | None = None
    if raw_coding is None:
        # As in sph2pipe: without sample_coding, 2-byte samples are pcm.
        if n_bytes != 2 and not (byte_format and len(byte_format) == 2):
            raise SphereError("SPHERE header has no sample_coding and the data are not 2-byte pcm")
        coding: Coding = "pcm"
    else:
        base, _, rest = str(raw_coding).strip().partition(",")
        if base.lower() not in _CODING_NAMES:
            raise SphereError(f"unsupported SPHERE sample_coding {raw_coding!r}")
        coding = _CODING_NAMES[base.lower()]
        compression = rest.strip() or None
        if compression is not None and not compression.startswith("embedded-shorten"):
            raise SphereError(f"unsupported SPHERE compression {compression!r} (only shorten is supported)")
    if n_bytes is None:
        n_bytes = 2 if coding == "pcm" else 1
    if (coding == "pcm") != (n_bytes == 2):
        raise SphereError(f"unsupported SPHERE layout: {coding} with sample_n_bytes {n_bytes}")

    channel_count = integer("channel_count")
    sample_count = integer("sample_count")
    sample_rate = integer("sample_rate")
    for name, value in (
        ("channel_count", channel_count),
        ("sample_count", sample_count),
        ("sample_rate", sample_rate),
    ):
        if value is None:
            raise SphereError(f"SPHERE header lacks {name}")
        if value < (0 if name == "sample_count" else 1):
            raise SphereError(f"invalid SPHERE {name} {value}")
    assert channel_count is not None and sample_count is not None and sample_rate is not None
    return SphereHeader(
        header_size=header_size,
        channel_count=channel_count,
        sample_count=sample_count,
        sample_rate=sample_rate,
        sample_n_bytes=n_bytes,
        sample_byte_format=byte_format,
        sample_coding=coding,
        compression=compression,
        fields=fields,
        lines=tuple(kept),
    )


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
    plausible = 4 * len(stream) // header.channel_count + 4096
    try:
        audio = decode_shorten(
            stream,
            max_samples=None if whole else end,
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


def read_sphere_data(
    path: str | os.PathLike[str],
    *,
    start: int = 0,
    end: int | None = None,
    header_path: str | os.PathLike[str] | None = None,
) -> SphereData:
    """Read samples ``start`` to ``end`` (exclusive; None = to the end) in their stored coding.

    With ``header_path`` the header is read from that file and ``path`` holds only the
    sample data (sph2pipe's ``-h``).  ``end`` beyond the file is clamped to its length.
    Raises :class:`SphereError` naming the file for malformed, truncated or inconsistent
    files.
    """
    path = Path(path)
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
                frame = header.channel_count * header.sample_n_bytes
                if size != count * frame:
                    raise SphereError(
                        f"sample_count mismatch: file holds {size} bytes of samples, header says "
                        f"{count} samples x {header.channel_count} channel(s) x "
                        f"{header.sample_n_bytes} byte(s) = {count * frame} bytes"
                    )
                handle.seek(data_offset + start * frame)
                raw = handle.read((end - start) * frame)
                samples = _unpack_plain(header, raw)
    except SphereError as error:
        raise SphereError(f"{path}: {error}") from None
    return SphereData(header=header, samples=samples, start=start, shortened=shortened)


def _unpack_plain(header: SphereHeader, raw: bytes) -> np.ndarray:
    if header.sample_coding == "pcm":
        if header.sample_byte_format not in ("01", "10"):
            raise SphereError(f"unsupported sample_byte_format {header.sample_byte_format!r} for pcm")
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
) -> tuple[np.ndarray, int]:
    """Read a SPHERE file as 16-bit linear pcm.

    Returns ``(samples, sample_rate)`` with ``samples`` of dtype int16 and shape
    ``(num_samples, num_channels)``; ``channel`` (0-based) selects one channel, giving
    shape ``(num_samples, 1)``.  ``start``/``end`` select samples ``[start, end)``.
    µ-law and A-law are expanded exactly as ``sph2pipe -p`` does.
    """
    data = read_sphere_data(path, start=start, end=end)
    samples = data.to_linear()
    if channel is not None:
        if not 0 <= channel < data.header.channel_count:
            count = data.header.channel_count
            raise ValueError(f"{path}: channel {channel} out of range for {count} channel(s)")
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
    path: str | os.PathLike[str],
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
    Returns the header written.
    """
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
        stored = array
    elif array.dtype == np.uint8:
        stored = array
    elif array.dtype == np.int16:
        stored = linear_to_ulaw(array) if coding == "ulaw" else linear_to_alaw(array)
    else:
        raise TypeError(f"{coding} samples must be int16 linear pcm or uint8 codes")
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
    given = list(fields)
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
    head = format_sphere_header(header_fields, header_size)

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
    Path(path).write_bytes(head + data)
    return parse_sphere_header(head)
