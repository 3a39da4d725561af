"""LDC's sph2pipe v2.5 in Python: its flags, output headers and conversion (behind ``speechsent-sph2pipe``).

:func:`sph2pipe` converts a NIST SPHERE file (plain or shorten-compressed; pcm, µ-law or A-law) to SPHERE,
WAV, AU, AIFF or raw samples; :func:`add_arguments` defines sph2pipe's single-dash options, whose values
:func:`parse_format`, :func:`parse_seconds` and :func:`parse_samples` read, and :func:`resolve_range`
turns ``-t`` / ``-s`` into a sample range exactly as sph2pipe does.

WAV and AU/AIFF headers and the samples are byte-identical to sph2pipe's; byte order is little-endian for
``wav``, big-endian for ``au``/``aif`` and the machine's own for ``raw``/``sph``.  Differences from
sph2pipe, all in what it gets wrong: ``-t`` takes plain seconds only (sph2pipe silently reads
``hh:mm:ss`` as its first number; here a second colon is an error), A-law ``au`` output is labelled
A-law (encoding 27, not µ-law), and a corrupt or truncated input fails with a message before anything is
written, instead of yielding partial or garbage audio.  When the whole file is converted (no ``-t`` /
``-s``) and its header has a ``sample_checksum``, the samples must sum to it (NIST's definition; see
:mod:`speechsent.audio.sphere`): a mismatch is an error, which ``verify_checksum=False``
(``--no_checksum``) turns off for a file whose checksum field is wrong but whose samples are fine.  The
header is read as :mod:`speechsent.audio.sphere` describes: as tolerant as sph2pipe on field types,
spacing, order and optional fields, stricter on what decides the samples.

The output file is opened only once every sample is decoded, and written in place (not through
:func:`speechsent.utils.fileio.atomic_write`): like sph2pipe's, it may be a device or a FIFO
(``/dev/stdout``, a named pipe).  numpy and the decoder (numba) are imported only when a file is
converted, so a parser built with :func:`add_arguments` answers ``--help`` fast.
"""

from __future__ import annotations

import argparse
import math
import os
import struct
import sys
from typing import TYPE_CHECKING, BinaryIO, Literal

if TYPE_CHECKING:
    import numpy as np

    from speechsent.audio.sphere import SphereHeader

__all__ = [
    "Coding",
    "OutputFormat",
    "add_arguments",
    "parse_format",
    "parse_samples",
    "parse_seconds",
    "resolve_range",
    "sph2pipe",
    "wav_header",
]

OutputFormat = Literal["sph", "raw", "wav", "au", "aif"]
Coding = Literal["pcm", "ulaw", "alaw"]
_NATIVE_ORDER = "01" if sys.byteorder == "little" else "10"
# -f values: the prefix sph2pipe compares (case-insensitively) and the format it selects.
_FORMAT_PREFIXES: tuple[tuple[str, OutputFormat], ...] = (
    ("rif", "wav"),
    ("wav", "wav"),
    ("raw", "raw"),
    ("sph", "sph"),
    ("au", "au"),
    ("aif", "aif"),
    ("mac", "aif"),
)


def parse_format(value: str) -> OutputFormat:
    """``-f`` argument: sph2pipe matches the first three (``au``: two) letters."""
    for prefix, name in _FORMAT_PREFIXES:
        if value.lower().startswith(prefix):
            return name
    raise argparse.ArgumentTypeError(f"unknown output format {value!r} (sph, raw, wav, au or aif)")


def _parse_span(value: str, convert: type[float] | type[int], what: str) -> tuple[float | None, float | None]:
    if value.count(":") != 1:
        raise argparse.ArgumentTypeError(f"expected BEGIN:END in {what}, got {value!r}")
    begin_text, end_text = value.split(":")
    bounds: list[float | None] = []
    for text in (begin_text, end_text):
        if not text.strip():
            bounds.append(None)
            continue
        try:
            number = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number {text!r} in {what} {value!r}") from None
        if not math.isfinite(number) or number < 0:
            raise argparse.ArgumentTypeError(f"{what} bounds must be non-negative, got {value!r}")
        bounds.append(number)
    begin, end = bounds
    if begin and end and begin >= end:
        raise argparse.ArgumentTypeError(f"begin {begin} >= end {end} in {what} {value!r}")
    return begin, end


def parse_seconds(value: str) -> tuple[float | None, float | None]:
    """``-t`` argument: ``BEGIN:END`` in seconds, either side optional."""
    return _parse_span(value, float, "seconds")


def parse_samples(value: str) -> tuple[int | None, int | None]:
    """``-s`` argument: ``BEGIN:END`` in samples, either side optional."""
    begin, end = _parse_span(value, int, "samples")
    return (None if begin is None else int(begin)), (None if end is None else int(end))


def resolve_range(
    sample_count: int,
    sample_rate: int,
    *,
    seconds: tuple[float | None, float | None] | None = None,
    samples: tuple[int | None, int | None] | None = None,
) -> tuple[int, int]:
    """The ``[start, end)`` sample range that sph2pipe's ``-t`` / ``-s`` select.

    A begin past the end of the file is an error (ValueError); an end that is missing,
    zero, or at or past the end of the file means the end of the file.
    """
    begin_sec, end_sec = seconds or (None, None)
    begin_samp, end_samp = samples or (None, None)
    begin_sec, end_sec = begin_sec or 0.0, end_sec or 0.0
    begin_samp, end_samp = begin_samp or 0, end_samp or 0
    total_sec = sample_count / sample_rate
    if begin_sec > total_sec or begin_samp > sample_count:
        raise ValueError("start point > length of file")
    start = begin_samp if begin_samp else int(begin_sec * sample_rate)
    if end_samp > sample_count or end_sec >= total_sec or end_samp + end_sec == 0:
        end = sample_count
    elif end_samp > 0:
        end = end_samp
    else:
        end = int(end_sec * sample_rate)
    return start, max(start, min(end, sample_count))


# --------------------------------------------------------------------------------------
# Output headers
# --------------------------------------------------------------------------------------


def wav_header(count: int, channels: int, rate: int, coding: Coding) -> bytes:
    width = 2 if coding == "pcm" else 1
    block = channels * width
    data_size = count * block
    if coding == "pcm":
        fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, channels, rate, block * rate, block, 16)
        return (
            struct.pack("<4sI4s", b"RIFF", data_size + 36, b"WAVE")
            + fmt
            + b"data"
            + struct.pack("<I", data_size)
        )
    tag = 7 if coding == "ulaw" else 6
    fmt = struct.pack("<4sIHHIIHHH", b"fmt ", 18, tag, channels, rate, block * rate, block, 8, 0)
    fact = struct.pack("<4sII", b"fact", 4, count)
    return (
        struct.pack("<4sI4s", b"RIFF", data_size + 50, b"WAVE")
        + fmt
        + fact
        + struct.pack("<4sI", b"data", data_size)
    )


def _au_header(count: int, channels: int, rate: int, coding: Coding) -> bytes:
    width = 2 if coding == "pcm" else 1
    encoding = {"pcm": 3, "ulaw": 1, "alaw": 27}[coding]
    return struct.pack(">4sIIIII", b".snd", 24, count * channels * width, encoding, rate, channels)


def _ieee_extended(value: int) -> bytes:
    """An integer sample rate as the 80-bit IEEE 754 extended float AIFF uses."""
    if value <= 0:
        return bytes(10)
    exponent = value.bit_length() - 1
    return struct.pack(">HQ", 16383 + exponent, value << (63 - exponent))


def _aiff_header(count: int, channels: int, rate: int) -> bytes:
    data_size = count * channels * 2
    return (
        struct.pack(">4sI4s4sIHIH", b"FORM", data_size + 46, b"AIFF", b"COMM", 18, channels, count, 16)
        + _ieee_extended(rate)
        + struct.pack(">4sIII", b"SSND", data_size + 8, 0, 0)
    )


def _sphere_header(
    header: SphereHeader, *, count: int, channels: int, coding: Coding, shortened: bool
) -> bytes:
    """sph2pipe's rewrite of the input header for uncompressed output."""
    in_width = header.sample_n_bytes
    out_width = 2 if coding == "pcm" else 1
    lines = ["NIST_1A", f"{header.header_size:7d}"]
    wrote_byte_format = False
    for line in header.lines:
        # sph2pipe matches "name -i " exactly; fields are matched here by name, so that a
        # header written with other types or spacing (libsndfile's "sample_n_bytes -s1 1")
        # is still rewritten to describe the output.
        words = line.split()
        name = words[0] if words else ""
        if name == "sample_checksum":
            continue  # no longer valid, and sph2pipe cannot recompute it
        if name == "channel_count" and channels < header.channel_count:
            line = "channel_count -i 1"
        elif name == "sample_count" and count != header.sample_count:
            line = f"sample_count -i {count}"
        elif name == "sample_n_bytes" and in_width != out_width:
            line = f"sample_n_bytes -i {out_width}"
        elif name == "sample_byte_format" and (
            in_width != out_width or (out_width == 2 and header.sample_byte_format != _NATIVE_ORDER)
        ):
            if out_width == 1:
                continue
            line = f"sample_byte_format -s2 {_NATIVE_ORDER}"
            wrote_byte_format = True
        elif name == "sample_coding" and (shortened or header.sample_coding != coding):
            line = f"sample_coding -s{len(coding)} {coding}"
        elif name == "sample_sig_bits":
            try:
                bits = int(words[2])
            except (ValueError, IndexError):
                bits = 0
            if bits > 8 and coding != "pcm":
                line = "sample_sig_bits -i 8"
            elif bits == 8 and coding == "pcm":
                line = "sample_sig_bits -i 16"
        lines.append(line)
    if not wrote_byte_format and in_width < out_width:
        lines.append(f"sample_byte_format -s2 {_NATIVE_ORDER}")
    lines.append("end_head")
    text = bytearray("\n".join(lines).encode("latin-1") + b"\n")
    size = header.header_size
    if len(text) > size:
        size += 1024
        text[8:15] = f"{size:7d}".encode("ascii")
    while len(text) < size:
        text += b" " if len(text) % 32 else b"\n"
    return bytes(text)


# --------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------


def _convert(samples: np.ndarray, source: Coding, target: Coding) -> np.ndarray:
    from speechsent.audio.g711 import alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear

    if source == target:
        return samples
    linear = samples
    if source == "ulaw":
        linear = ulaw_to_linear(samples)
    elif source == "alaw":
        linear = alaw_to_linear(samples)
    if target == "pcm":
        return linear
    if target == "alaw":
        return linear_to_alaw(linear)
    codes = linear_to_ulaw(linear)
    # sph2pipe's pcm2ulaw negates its 16-bit input in place, so -32768 stays negative and
    # comes out as the negative zero code 0x7F; reproduce that for identical output.
    codes[linear == -32768] = 0x7F
    return codes


def sph2pipe(
    infile: str | os.PathLike[str],
    outfile: str | os.PathLike[str] | None = None,
    *,
    out_format: OutputFormat = "sph",
    out_coding: Coding | None = None,
    channel: int | None = None,
    seconds: tuple[float | None, float | None] | None = None,
    samples: tuple[int | None, int | None] | None = None,
    header_file: str | os.PathLike[str] | None = None,
    stdout: BinaryIO | None = None,
    verify_checksum: bool | None = None,
) -> int:
    """Convert ``infile`` as ``sph2pipe`` would; returns the number of samples per channel written.

    ``channel`` is 0-based (``-c 1`` is 0) and ignored for 1-channel input; ``out_coding``
    None keeps the input's coding; ``seconds`` / ``samples`` are the ``-t`` / ``-s``
    ranges.  Without ``outfile`` the result goes to ``stdout`` (default: standard output).
    ``verify_checksum``: see :func:`speechsent.audio.sphere.read_sphere_data`.
    Raises ``SphereError`` / ``ValueError`` naming the file, or ``OSError``.
    """
    from speechsent.audio.sphere import read_sphere_data, read_sphere_header

    header = read_sphere_header(header_file if header_file is not None else infile)
    try:
        start, end = resolve_range(header.sample_count, header.sample_rate, seconds=seconds, samples=samples)
    except ValueError as error:
        raise ValueError(f"{infile}: {error}") from None
    data = read_sphere_data(
        infile, start=start, end=end, header_path=header_file, verify_checksum=verify_checksum
    )
    values = data.samples
    if channel is not None and header.channel_count > 1:
        if not 0 <= channel < header.channel_count:
            raise ValueError(f"{infile}: channel {channel + 1} out of range")
        values = values[:, channel : channel + 1]
    coding: Coding = "pcm" if out_format == "aif" else (out_coding or header.sample_coding)
    values = _convert(values, header.sample_coding, coding)
    head, body = _encode(values, header, out_format, coding, shortened=data.shortened)
    if outfile is None:
        stream = stdout if stdout is not None else sys.stdout.buffer
        stream.write(head)
        stream.write(body)
        stream.flush()
    else:
        with open(outfile, "wb") as handle:
            handle.write(head)
            handle.write(body)
    return len(values)


def _encode(
    values: np.ndarray, header: SphereHeader, out_format: OutputFormat, coding: Coding, *, shortened: bool
) -> tuple[bytes, bytes]:
    """The output header of ``out_format`` and the samples ``values`` (already in ``coding``) as bytes."""
    import numpy as np

    count, channels = values.shape
    if out_format == "wav":
        head, order = wav_header(count, channels, header.sample_rate, coding), "<"
    elif out_format == "au":
        head, order = _au_header(count, channels, header.sample_rate, coding), ">"
    elif out_format == "aif":
        head, order = _aiff_header(count, channels, header.sample_rate), ">"
    elif out_format == "sph":
        head = _sphere_header(header, count=count, channels=channels, coding=coding, shortened=shortened)
        order = "="
    else:
        head, order = b"", "="
    if coding == "pcm":
        body = np.ascontiguousarray(values, dtype=np.dtype(np.int16).newbyteorder(order)).tobytes()
    else:
        body = np.ascontiguousarray(values, dtype=np.uint8).tobytes()
    return head, body


# --------------------------------------------------------------------------------------
# Command-line options
# --------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """sph2pipe's options (and ``--help``, ``--no_checksum``) on ``parser``, made with ``add_help=False``.

    ``-h`` is sph2pipe's header file, so help is ``--help`` only.  The namespace gets ``header_file``,
    ``seconds`` / ``samples`` (``(begin, end)`` or None), ``channel`` (``"1"``, ``"2"`` or None),
    ``coding``, ``out_format``, ``verify_checksum``, ``debug`` (accepted and ignored, as sph2pipe's
    ``-d``), ``infile`` and ``outfile``.
    """
    parser.add_argument("--help", action="help", help="show this help message and exit")
    parser.add_argument(
        "-h",
        dest="header_file",
        metavar="hdrfile",
        help="read the SPHERE header from hdrfile; infile is headerless",
    )
    span = parser.add_mutually_exclusive_group()
    span.add_argument(
        "-t",
        dest="seconds",
        metavar="b:e",
        type=parse_seconds,
        help="output from b to e seconds (floats; either may be empty; end excluded)",
    )
    span.add_argument(
        "-s",
        dest="samples",
        metavar="b:e",
        type=parse_samples,
        help="output samples b up to (not including) e (either may be empty)",
    )
    parser.add_argument(
        "-c", dest="channel", choices=("1", "2"), help="output only channel 1 or 2 of a 2-channel file"
    )
    coding = parser.add_mutually_exclusive_group()
    coding.add_argument(
        "-p", dest="coding", action="store_const", const="pcm", help="output 16-bit linear pcm"
    )
    coding.add_argument("-u", dest="coding", action="store_const", const="ulaw", help="output 8-bit mu-law")
    coding.add_argument("-a", dest="coding", action="store_const", const="alaw", help="output 8-bit A-law")
    parser.add_argument(
        "-f",
        dest="out_format",
        metavar="typ",
        type=parse_format,
        default="sph",
        help="output format: sph, raw, wav (rif), au, aif (mac) (default: sph)",
    )
    parser.add_argument(
        "--no_checksum",
        dest="verify_checksum",
        action="store_false",
        help="do not verify the header's sample_checksum (verified by default when the whole file is "
        "read; also: SPEECHSENT_SPHERE_CHECKSUM=ignore)",
    )
    parser.add_argument("-d", dest="debug", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("infile", help="input SPHERE file")
    parser.add_argument("outfile", nargs="?", help="output file (default: standard output)")
