"""Shorten (format version 2) decoder and encoder, as embedded in NIST SPHERE files.

(Over 600 lines on purpose: one codec, one module. The encoder mirrors the decoder's state step by step --
the same constants, tables, running means (:func:`_block_offset`, :func:`_update_offset`) and bit
layout -- so they are read and changed together; split apart, some 30 private names would cross modules.
The compiled kernels are cut into named steps of at most 80 lines each.)

Why this module is hand-written
-------------------------------
LDC corpora such as Switchboard and Fisher ship their audio as NIST SPHERE files whose
samples are compressed with Tony Robinson's *shorten* (``sample_coding`` ending in
``embedded-shorten-v2.00``).  No maintained Python library decodes shorten (soundfile /
libsndfile, audioread and torchaudio all reject it, and recent ffmpeg releases refuse the
embedded form), so the usual answer is to shell out to LDC's C tool ``sph2pipe``.  This
module implements the format from its public description instead, so that the toolkit
can read those corpora with nothing but numpy and numba.  The bit-level Rice decoding
and the predictor loops are compiled with numba (``@njit(cache=True)``); the first call
in a fresh environment pays a one-off compile, later processes load the cached machine
code.

Stream format
-------------
A stream starts with the magic ``b"ajkg"`` and a version byte (1 or 2; NIST writes 2),
followed by a bit stream packed MSB-first into 32-bit big-endian words.  It is built from
three integer codes:

``uvar(n)``
    Rice code: a run of ``q`` zero bits closed by a one bit, then ``n`` literal bits
    ``r``; the value is ``(q << n) | r``.
``var(n)``
    Signed value: ``u = uvar(n + 1)``; an odd ``u`` stands for ``~(u >> 1)``, an even one
    for ``u >> 1``.
``ulong``
    ``k = uvar(2)`` followed by ``uvar(k)``.

The header is six ``ulong`` values -- file type, channel count, block size, maximum LPC
order, number of past blocks for the running mean (``nmean``), number of verbatim header
bytes (``nskip``) -- and then ``nskip`` bytes as ``uvar(7)``.  Commands follow, each a
``uvar(2)`` function code:

=========  ==  ==================================================================
DIFF0      0   ``x[i] = e + mean``
DIFF1      1   ``x[i] = e + x[i-1]``
DIFF2      2   ``x[i] = e + 2 x[i-1] - x[i-2]``
DIFF3      3   ``x[i] = e + 3 (x[i-1] - x[i-2]) + x[i-3]``
QUIT       4   end of stream
BLOCKSIZE  5   ``ulong`` new block size (used for the short last block)
BITSHIFT   6   ``uvar(2)`` number of low zero bits removed from later blocks
QLPC       7   ``uvar(2)`` order ``p``, ``p`` coefficients ``var(5)``, then residuals:
               ``x[i] = e + ((32 + sum_j c_j x[i-j-1]) >> 5)`` on mean-removed samples
ZERO       8   a block of zeros
VERBATIM   9   ``uvar(5)`` length, then that many bytes as ``uvar(8)`` (shorten 3 only)
=========  ==  ==================================================================

DIFF/QLPC blocks start with the Rice parameter ``uvar(3)`` and hold one ``var(k)``
residual ``e`` per sample.  Blocks go round-robin over the channels.  Each channel keeps
the last ``max(3, maxnlpc)`` samples of its previous block as predictor history and, in
version 2, the rounded means of its last ``nmean`` blocks; their average (scaled by the
bit shift) is the ``mean`` of DIFF0 and the offset removed before QLPC.  Before output,
decoded values are shifted left by the current bit shift; for the lossless µ-law types
(``AU1``, ``AU2``) the bit shift instead selects a row of a mapping table between µ-law
bytes and a "rank" scale on which the predictors work (see :func:`_ulaw_shift_tables`).

The encoder writes version-2 streams that LDC's ``sph2pipe`` decodes (it knows file
types 0--8 and every command but VERBATIM; the encoder emits VERBATIM only on request).
With ``max_lpc_order=0`` (the default, and what NIST used) it makes shorten 2's own
choices -- per block the polynomial predictor with the smallest absolute residual sum,
the Rice parameter from the mean residual, BITSHIFT for common low zero bits, ZERO for
silent linear blocks -- so its streams are bit-identical to the ones in NIST / LDC
files.  With ``max_lpc_order > 0`` every block is coded with QLPC (Levinson-Durbin on
the block, coefficients quantised to 5 fractional bits, best Rice parameter).  The
encoder mirrors the decoder's state exactly, so the round trip is lossless (except for
the lossy type ``ULAW``, which merges µ-law's two zero codes).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from numba import njit

from speechsent.audio.g711 import alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear

__all__ = [
    "ShortenAudio",
    "ShortenError",
    "ShortenFileType",
    "ShortenInfo",
    "decode_shorten",
    "encode_shorten",
]

# Function codes.
FN_DIFF0 = 0
FN_DIFF1 = 1
FN_DIFF2 = 2
FN_DIFF3 = 3
FN_QUIT = 4
FN_BLOCKSIZE = 5
FN_BITSHIFT = 6
FN_QLPC = 7
FN_ZERO = 8
FN_VERBATIM = 9

# Widths of the Rice codes used for the fixed fields.
_FNSIZE = 2
_ENERGYSIZE = 3
_BITSHIFTSIZE = 2
_LPCQSIZE = 2
_ULONGSIZE = 2
_LPCQUANT = 5
_XBYTESIZE = 7
_VERBATIM_CKSIZE_SIZE = 5
_VERBATIM_BYTE_SIZE = 8
_NWRAP = 3
_ULAW_SHIFTS = 13  # rows of the µ-law bit-shift tables (shifts 0..12)

# Sanity limits: a stream beyond them is corrupt, and the limits keep a corrupt stream
# from asking for absurd amounts of memory or looping for a long time.
_MAX_UNARY = 1 << 26
_MAX_BLOCK_SIZE = 1 << 20
_MAX_CHANNELS = 1 << 10
_MAX_LPC_ORDER = 1 << 10
_MAX_MEAN_BLOCKS = 1 << 10
_MAX_SKIP_BYTES = 1 << 24
_MAX_ENCODER_LPC_ORDER = 64  # shorten's MAX_LPC_ORDER
_MAX_RICE = 31  # var(k) codes with k + 1 > 32 literal bits are not shorten
_LN2_F32 = np.float32(np.log(2.0))  # shorten's (float) M_LN2


class ShortenFileType(enum.IntEnum):
    """Sample type of the original file, as stored in the stream header."""

    AU1 = 0  # µ-law, lossless (original mapping)
    S8 = 1
    U8 = 2
    S16HL = 3  # signed 16 bit, big-endian
    U16HL = 4
    S16LH = 5  # signed 16 bit, little-endian
    U16LH = 6
    ULAW = 7  # µ-law, coded lossily as 13-bit linear
    AU2 = 8  # µ-law, lossless, with the two zero codes kept apart (what NIST writes)
    AU3 = 9  # A-law, lossless (shorten 3 only)
    ALAW = 10  # A-law, coded lossily as 13-bit linear (shorten 3 only)


# Inclusive range of the sample values (as the original file holds them) per file type.
_VALUE_RANGE: dict[ShortenFileType, tuple[int, int]] = {
    ShortenFileType.AU1: (0, 255),
    ShortenFileType.S8: (-128, 127),
    ShortenFileType.U8: (0, 255),
    ShortenFileType.S16HL: (-32768, 32767),
    ShortenFileType.U16HL: (0, 65535),
    ShortenFileType.S16LH: (-32768, 32767),
    ShortenFileType.U16LH: (0, 65535),
    ShortenFileType.ULAW: (0, 255),
    ShortenFileType.AU2: (0, 255),
    ShortenFileType.AU3: (0, 255),
    ShortenFileType.ALAW: (0, 255),
}


class ShortenError(ValueError):
    """A shorten stream is corrupt, truncated or uses something this module does not support."""


@dataclass(frozen=True)
class ShortenInfo:
    """Parameters from a shorten stream header."""

    version: int
    file_type: ShortenFileType
    channels: int
    block_size: int
    max_lpc_order: int
    mean_blocks: int


@dataclass(frozen=True)
class ShortenAudio:
    """Result of :func:`decode_shorten`.

    ``samples`` has shape ``(num_samples, channels)`` and dtype int32 and holds the
    samples as the original file stored them: µ-law or A-law bytes (0..255) for the
    companded types, plain integers for the linear ones.  ``verbatim`` holds the bytes
    a stream carries outside its samples (``nskip`` header bytes and VERBATIM chunks).
    ``complete`` is True when decoding reached the stream's QUIT command, False when it
    stopped early because ``max_samples`` was reached.
    """

    info: ShortenInfo
    samples: np.ndarray
    verbatim: bytes
    complete: bool


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------


def _ulaw_shift_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Build shorten's µ-law bit-shift tables (``maxshift``, ``inward``, ``outward``).

    ``maxshift[b]`` is the largest ``s`` (0..12) such that µ-law byte ``b`` is the
    encoding of some 16-bit value that is a multiple of ``2 ** (s + 3)``.  For each shift
    ``s``, ``inward[s]`` maps bytes to ranks in -128..127: positive-side bytes (0xFF down
    to 0x80) get 0, 1, 2, ... and negative-side bytes (0x7E down to 0x00) get -1, -2, ...,
    in both cases with the bytes whose ``maxshift >= s`` first, so that on a block whose
    bytes all allow shift ``s`` the ranks are small; the negative zero 0x7F sits between
    the two groups of the negative side.  ``outward[s][rank + 128]`` inverts ``inward[s]``.
    """
    linear = np.arange(-32768, 32768, dtype=np.int64)
    codes = linear_to_ulaw(linear)
    maxshift = np.zeros(256, dtype=np.int64)
    for shift in range(_ULAW_SHIFTS):
        maxshift[codes[linear % (1 << (shift + 3)) == 0]] = shift

    inward = np.zeros((_ULAW_SHIFTS, 256), dtype=np.int64)
    outward = np.zeros((_ULAW_SHIFTS, 256), dtype=np.int64)
    positive = np.arange(255, 127, -1)
    negative = np.arange(126, -1, -1)
    for shift in range(_ULAW_SHIFTS):
        fits_pos = maxshift[positive] >= shift
        order_pos = np.concatenate([positive[fits_pos], positive[~fits_pos]])
        inward[shift, order_pos] = np.arange(len(order_pos))
        fits_neg = maxshift[negative] >= shift
        order_neg = np.concatenate([negative[fits_neg], [127], negative[~fits_neg]])
        inward[shift, order_neg] = -1 - np.arange(len(order_neg))
        outward[shift, inward[shift] + 128] = np.arange(256)
    return maxshift, inward, outward


_MAXSHIFT, _INWARD, _OUTWARD = _ulaw_shift_tables()
_ALL_LINEAR = np.arange(-32768, 32768, dtype=np.int64)
_LINEAR_TO_ULAW = linear_to_ulaw(_ALL_LINEAR).astype(np.int64)  # index: value + 32768
_LINEAR_TO_ALAW = linear_to_alaw(_ALL_LINEAR).astype(np.int64)
_ULAW_TO_LINEAR = ulaw_to_linear(np.arange(256)).astype(np.int64)
_ALAW_TO_LINEAR = alaw_to_linear(np.arange(256)).astype(np.int64)

# --------------------------------------------------------------------------------------
# Decoder
# --------------------------------------------------------------------------------------

# Error codes returned by the compiled decoder; decode_shorten turns them into text.
_OK = 0
_E_TRUNCATED = 1
_E_MAGIC = 2
_E_VERSION = 3
_E_FILE_TYPE = 4
_E_HEADER = 5
_E_COMMAND = 6
_E_RANGE = 7
_E_CODE = 8
_E_BLOCKSIZE = 9
_E_BITSHIFT = 10
_E_LPC_ORDER = 11
_E_ENERGY = 12
_E_MID_FRAME = 13
_E_VERBATIM = 14

# Reader state, kept in a small int64 array so the compiled helpers can share it:
# byte position, bit accumulator (only unread bits, right-aligned), number of bits in it,
# error code.
_POS, _ACC, _NBITS, _ERR = 0, 1, 2, 3


@njit(cache=True)
def _fail(st, code):
    """Record the first error only: later reads fail as a consequence of it."""
    if st[_ERR] == _OK:
        st[_ERR] = code


@njit(cache=True)
def _refill(buf, end, st):
    pos = st[_POS]
    acc = st[_ACC]
    nbits = st[_NBITS]
    while nbits <= 48 and pos < end:
        acc = (acc << 8) | buf[pos]
        pos += 1
        nbits += 8
    st[_POS] = pos
    st[_ACC] = acc
    st[_NBITS] = nbits


@njit(cache=True)
def _uvar(buf, end, st, nbin):
    """Read ``uvar(nbin)``; on error set ``st[_ERR]`` and return 0."""
    high = 0
    while True:
        nbits = st[_NBITS]
        if nbits == 0:
            _refill(buf, end, st)
            nbits = st[_NBITS]
            if nbits == 0:
                _fail(st, _E_TRUNCATED)
                return 0
        acc = st[_ACC]
        if acc == 0:  # every buffered bit is a zero of the unary part
            high += nbits
            st[_NBITS] = 0
            if high > _MAX_UNARY:
                _fail(st, _E_CODE)
                return 0
            continue
        top = nbits - 1
        while (acc >> top) & 1 == 0:
            top -= 1
        high += nbits - 1 - top
        st[_ACC] = acc & ((1 << top) - 1)
        st[_NBITS] = top
        break
    if nbin == 0:
        return high
    if st[_NBITS] < nbin:
        _refill(buf, end, st)
        if st[_NBITS] < nbin:
            _fail(st, _E_TRUNCATED)
            return 0
    rest = st[_NBITS] - nbin
    low = st[_ACC] >> rest
    st[_ACC] = st[_ACC] & ((1 << rest) - 1)
    st[_NBITS] = rest
    return (high << nbin) | low


@njit(cache=True)
def _var(buf, end, st, nbin):
    u = _uvar(buf, end, st, nbin + 1)
    if u & 1:
        return ~(u >> 1)
    return u >> 1


@njit(cache=True)
def _ulong(buf, end, st):
    nbit = _uvar(buf, end, st, _ULONGSIZE)
    if nbit > 32:
        _fail(st, _E_CODE)
        return 0
    return _uvar(buf, end, st, nbit)


@njit(cache=True)
def _cdiv(a, b):
    """C integer division (truncating toward zero) for ``b > 0``."""
    if a >= 0:
        return a // b
    return -((-a) // b)


@njit(cache=True)
def _shift_down(x, n):
    """Shorten's ROUNDEDSHIFTDOWN: ``(x >> (n - 1)) >> 1`` (arithmetic), ``x`` for n == 0."""
    if n == 0:
        return x
    return (x >> (n - 1)) >> 1


@njit(cache=True)
def _initial_mean(ftype):
    if ftype == 2:  # U8
        return 0x80
    if ftype == 4 or ftype == 6:  # U16HL, U16LH
        return 0x8000
    return 0


@njit(cache=True)
def _linear_limits(ftype):
    """Inclusive range of shifted decoded values for the non-AU1/AU2 file types."""
    if ftype == 1 or ftype == 9:  # S8, AU3 (rank -128..127)
        return -128, 127
    if ftype == 2:
        return 0, 255
    if ftype == 3 or ftype == 5:
        return -32768, 32767
    if ftype == 4 or ftype == 6:
        return 0, 65535
    return -4096, 4095  # ULAW and ALAW: 13-bit linear


@njit(cache=True)
def _decode_header(buf, end, st, header):
    """Read the stream header's six ulongs into ``header[1:6]``; ``(error, nskip)``."""
    ftype = _ulong(buf, end, st)
    nchan = _ulong(buf, end, st)
    blocksize = _ulong(buf, end, st)
    maxnlpc = _ulong(buf, end, st)
    nmean = _ulong(buf, end, st)
    nskip = _ulong(buf, end, st)
    header[1] = ftype
    header[2] = nchan
    header[3] = blocksize
    header[4] = maxnlpc
    header[5] = nmean
    if st[_ERR] != _OK:
        return st[_ERR], nskip
    if ftype > 10:
        return _E_FILE_TYPE, nskip
    if (
        nchan < 1
        or nchan > _MAX_CHANNELS
        or blocksize < 1
        or blocksize > _MAX_BLOCK_SIZE
        or maxnlpc > _MAX_LPC_ORDER
        or nmean > _MAX_MEAN_BLOCKS
        or nskip > _MAX_SKIP_BYTES
    ):
        return _E_HEADER, nskip
    return _OK, nskip


@njit(cache=True)
def _read_bytes(buf, end, st, extra, n_extra, count, nbin):
    """Read ``count`` bytes coded as ``uvar(nbin)`` into ``extra`` from ``n_extra`` on (grown as needed);
    ``(error, extra, n_extra)``."""
    if n_extra + count > extra.shape[0]:
        grown_extra = np.zeros(2 * (n_extra + count), dtype=np.uint8)
        grown_extra[:n_extra] = extra[:n_extra]
        extra = grown_extra
    for _ in range(count):
        byte = _uvar(buf, end, st, nbin)
        if st[_ERR] != _OK:
            return st[_ERR], extra, n_extra
        if byte > 255:
            return _E_VERBATIM, extra, n_extra
        extra[n_extra] = byte
        n_extra += 1
    return _OK, extra, n_extra


@njit(cache=True)
def _block_offset(offset, chan, nmean, version, bitshift):
    """The mean that predicts a channel's next block (shorten's ``coffset``)."""
    if nmean == 0:
        return offset[chan, 0]
    total = 0 if version < 2 else nmean // 2
    for i in range(nmean):
        total += offset[chan, i]
    coffset = _cdiv(total, nmean)
    if version >= 2:
        coffset = _shift_down(coffset, bitshift)
    return coffset


@njit(cache=True)
def _update_offset(offset, chan, nmean, version, cbuf, base, n, bitshift):
    """Push the mean of the block ``cbuf[base:base+n]`` into the channel's running means."""
    if nmean == 0:
        return
    total = 0 if version < 2 else n // 2
    for i in range(n):
        total += cbuf[base + i]
    for i in range(1, nmean):
        offset[chan, i - 1] = offset[chan, i]
    if version < 2:
        offset[chan, nmean - 1] = _cdiv(total, n)
    else:
        offset[chan, nmean - 1] = _cdiv(total, n) << bitshift


@njit(cache=True)
def _decode_block(cmd, buf, end, st, cbuf, base, blocksize, resn, coffset, qlpc, maxnlpc, lpcqoffset):
    """Decode one block of a channel into ``cbuf[base:base+blocksize]``; the error (``st``: the reader's)."""
    if cmd == FN_ZERO:
        for i in range(blocksize):
            cbuf[base + i] = 0
    elif cmd == FN_DIFF0:
        for i in range(blocksize):
            cbuf[base + i] = _var(buf, end, st, resn) + coffset
    elif cmd == FN_DIFF1:
        for i in range(blocksize):
            cbuf[base + i] = _var(buf, end, st, resn) + cbuf[base + i - 1]
    elif cmd == FN_DIFF2:
        for i in range(blocksize):
            j = base + i
            cbuf[j] = _var(buf, end, st, resn) + 2 * cbuf[j - 1] - cbuf[j - 2]
    elif cmd == FN_DIFF3:
        for i in range(blocksize):
            j = base + i
            cbuf[j] = _var(buf, end, st, resn) + 3 * (cbuf[j - 1] - cbuf[j - 2]) + cbuf[j - 3]
    else:  # FN_QLPC
        nlpc = _uvar(buf, end, st, _LPCQSIZE)
        if nlpc > maxnlpc:
            return _E_LPC_ORDER
        for i in range(nlpc):
            qlpc[i] = _var(buf, end, st, _LPCQUANT)
        for i in range(nlpc):
            cbuf[base + i - nlpc] -= coffset
        for i in range(blocksize):
            if st[_ERR] != _OK:
                break  # a truncated or corrupt stream: skip the predictor's O(order) work
            acc = lpcqoffset
            j = base + i
            for k in range(nlpc):
                acc += qlpc[k] * cbuf[j - k - 1]
            cbuf[j] = _var(buf, end, st, resn) + (acc >> _LPCQUANT)
        if coffset != 0:
            for i in range(blocksize):
                cbuf[base + i] += coffset
    return st[_ERR]


@njit(cache=True)
def _emit_block(out, row, chan, cbuf, base, blocksize, ftype, bitshift, outward, lin_to_ulaw, lin_to_alaw):
    """Map a decoded block to output values in ``out[row:row+blocksize, chan]``; the error."""
    is_au = ftype == 0 or ftype == 8
    lo, hi = _linear_limits(ftype)
    for i in range(blocksize):
        v = cbuf[base + i]
        if is_au:
            if v > 127 or v < -129 or (ftype == 0 and v == -129):
                return _E_RANGE
            if ftype == 0 or v >= 0:
                byte = outward[bitshift, v + 128]
            elif v == -1:
                byte = 0x7F  # the negative µ-law zero
            else:
                byte = outward[bitshift, v + 129]
            out[row + i, chan] = byte
        else:
            if v > (1 << 40) or v < -(1 << 40):
                return _E_RANGE
            w = v << bitshift
            if w < lo or w > hi:
                return _E_RANGE
            if ftype == 7:
                out[row + i, chan] = lin_to_ulaw[min(w << 3, 32767) + 32768]
            elif ftype == 10:
                out[row + i, chan] = lin_to_alaw[min(w << 3, 32767) + 32768]
            elif ftype == 9:
                out[row + i, chan] = ((127 - w) ^ 0xD5) if w < 0 else ((w + 128) ^ 0x55)
            else:
                out[row + i, chan] = w
    return _OK


@njit(cache=True)
def _decode_kernel(buf, max_samples, capacity, outward, lin_to_ulaw, lin_to_alaw):
    """Decode a whole stream.

    Returns ``(error, byte_position, samples, num_samples, header, extra, num_extra)``.
    ``header`` is ``[version, file_type, channels, block_size, max_lpc_order, nmean,
    reached_quit]``.
    """
    header = np.zeros(7, dtype=np.int64)
    extra = np.zeros(64, dtype=np.uint8)
    empty = np.zeros((0, 1), dtype=np.int32)
    n = buf.shape[0]
    if n < 5:
        return _E_TRUNCATED, n, empty, 0, header, extra, 0
    if buf[0] != 97 or buf[1] != 106 or buf[2] != 107 or buf[3] != 103:  # "ajkg"
        return _E_MAGIC, 0, empty, 0, header, extra, 0
    version = np.int64(buf[4])
    header[0] = version
    if version != 1 and version != 2:
        return _E_VERSION, 4, empty, 0, header, extra, 0
    # The bit stream is read in whole 32-bit words; a partial last word is never used.
    end = 5 + ((n - 5) // 4) * 4
    st = np.zeros(4, dtype=np.int64)
    st[_POS] = 5
    err, nskip = _decode_header(buf, end, st, header)
    if err == _OK and nskip > 0:
        extra = np.zeros(nskip + 64, dtype=np.uint8)
        err, extra, _ = _read_bytes(buf, end, st, extra, 0, nskip, _XBYTESIZE)
    if err != _OK:
        return err, st[_POS], empty, 0, header, extra, 0
    return _decode_commands(
        buf, end, st, header, extra, nskip, max_samples, capacity, outward, lin_to_ulaw, lin_to_alaw
    )


@njit(cache=True)
def _grown_rows(out, ndone, rows):
    """``out`` with room for at least ``rows`` rows (at least twice as many), its first ``ndone`` kept."""
    grown = np.empty((max(2 * out.shape[0], rows), out.shape[1]), dtype=np.int32)
    grown[:ndone] = out[:ndone]
    return grown


@njit(cache=True)
def _decode_commands(
    buf, end, st, header, extra, n_extra, max_samples, capacity, outward, lin_to_ulaw, lin_to_alaw
):
    """Decode the commands after the stream header (see :func:`_decode_kernel`)."""
    version, ftype, nchan = header[0], header[1], header[2]
    blocksize, maxnlpc, nmean = header[3], header[4], header[5]
    is_au = ftype == 0 or ftype == 8
    nwrap = max(_NWRAP, maxnlpc)
    hist = np.zeros((nchan, nwrap + blocksize), dtype=np.int64)
    offset = np.full((nchan, max(1, nmean)), _initial_mean(ftype), dtype=np.int64)
    qlpc = np.zeros(max(1, maxnlpc), dtype=np.int64)
    lpcqoffset = (1 << _LPCQUANT) if version >= 2 else 0
    out = np.empty((max(capacity, blocksize), nchan), dtype=np.int32)
    ndone = 0
    chan = 0
    bitshift = 0
    while True:
        cmd = _uvar(buf, end, st, _FNSIZE)
        err = st[_ERR]
        if err == _OK and cmd == FN_QUIT:
            if chan != 0:
                return _E_MID_FRAME, st[_POS], out, ndone, header, extra, n_extra
            header[6] = 1
            return _OK, st[_POS], out, ndone, header, extra, n_extra
        if err != _OK:
            pass
        elif cmd <= FN_DIFF3 or cmd in (FN_QLPC, FN_ZERO):
            if chan == 0 and ndone + blocksize > out.shape[0]:
                out = _grown_rows(out, ndone, ndone + blocksize)
            resn = 0
            if cmd != FN_ZERO:
                resn = _uvar(buf, end, st, _ENERGYSIZE)
                if resn > _MAX_RICE:
                    return _E_ENERGY, st[_POS], out, ndone, header, extra, n_extra
            coffset = _block_offset(offset, chan, nmean, version, bitshift)
            cbuf = hist[chan]
            err = _decode_block(
                cmd, buf, end, st, cbuf, nwrap, blocksize, resn, coffset, qlpc, maxnlpc, lpcqoffset
            )
            if err != _OK:
                return err, st[_POS], out, ndone, header, extra, n_extra
            _update_offset(offset, chan, nmean, version, cbuf, nwrap, blocksize, bitshift)
            # Map to output values before the wrap overwrites short blocks' history.
            err = _emit_block(
                out, ndone, chan, cbuf, nwrap, blocksize, ftype, bitshift, outward, lin_to_ulaw, lin_to_alaw
            )
            for i in range(-nwrap, 0):
                cbuf[nwrap + i] = cbuf[nwrap + i + blocksize]
            if err == _OK and chan == nchan - 1:
                ndone += blocksize
                if max_samples >= 0 and ndone >= max_samples:
                    return _OK, st[_POS], out, ndone, header, extra, n_extra
                chan = 0
            elif err == _OK:
                chan += 1
        elif cmd == FN_BLOCKSIZE:
            newsize = _ulong(buf, end, st)
            if st[_ERR] == _OK and (newsize < 1 or newsize > _MAX_BLOCK_SIZE or chan != 0):
                err = _E_BLOCKSIZE
            elif st[_ERR] == _OK and nwrap + newsize > hist.shape[1]:
                grown_hist = np.zeros((nchan, nwrap + newsize), dtype=np.int64)
                grown_hist[:, :nwrap] = hist[:, :nwrap]
                hist = grown_hist
            blocksize = newsize
        elif cmd == FN_BITSHIFT:
            bitshift = _uvar(buf, end, st, _BITSHIFTSIZE)
            if st[_ERR] == _OK and bitshift > (12 if is_au else 31):
                err = _E_BITSHIFT
        elif cmd == FN_VERBATIM:
            length = _uvar(buf, end, st, _VERBATIM_CKSIZE_SIZE)
            if st[_ERR] == _OK and length > (end - st[_POS]) + 8:  # each byte takes at least 9 bits
                err = _E_TRUNCATED
            elif st[_ERR] == _OK:
                err, extra, n_extra = _read_bytes(buf, end, st, extra, n_extra, length, _VERBATIM_BYTE_SIZE)
        else:
            err = _E_COMMAND
        if err == _OK:
            err = st[_ERR]
        if err != _OK:
            return err, st[_POS], out, ndone, header, extra, n_extra


_ERROR_TEXT = {
    _E_TRUNCATED: "truncated shorten stream (premature end of data)",
    _E_MAGIC: "not a shorten stream (bad magic number, expected 'ajkg')",
    _E_VERSION: "unsupported shorten format version",
    _E_FILE_TYPE: "unknown shorten sample type",
    _E_HEADER: "corrupt shorten header (implausible channel count, block size, LPC order or mean)",
    _E_COMMAND: "corrupt shorten stream (unknown function code)",
    _E_RANGE: "corrupt shorten stream (decoded sample out of range for its sample type)",
    _E_CODE: "corrupt shorten stream (over-long variable-length code)",
    _E_BLOCKSIZE: "corrupt shorten stream (invalid block size command)",
    _E_BITSHIFT: "corrupt shorten stream (bit shift out of range)",
    _E_LPC_ORDER: "corrupt shorten stream (LPC order above the header's maximum)",
    _E_ENERGY: "corrupt shorten stream (Rice parameter out of range)",
    _E_MID_FRAME: "corrupt shorten stream (ends in the middle of a multi-channel frame)",
    _E_VERBATIM: "corrupt shorten stream (invalid verbatim byte)",
}


def _as_byte_array(data: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8 or data.ndim != 1:
            raise TypeError("a shorten stream given as an array must be one-dimensional uint8")
        return np.ascontiguousarray(data)
    return np.frombuffer(data, dtype=np.uint8)


def decode_shorten(
    data: bytes | bytearray | memoryview | np.ndarray,
    *,
    max_samples: int | None = None,
    expected_samples: int | None = None,
) -> ShortenAudio:
    """Decode a shorten stream (format version 1 or 2) held in memory.

    ``max_samples`` stops decoding once at least that many samples per channel are
    decoded (the result may hold up to one block more); it is also what bounds the work
    and memory a corrupt stream can cause (a ZERO block of up to 2**20 samples costs 5
    bits), so a caller that knows the expected length should pass it (plus one, to see
    a stream that holds more).  A stream that decodes without error may still be corrupt:
    shorten has no checksum of its own (SPHERE headers have ``sample_checksum``).
    ``expected_samples`` only sizes the output buffer up front.  Raises
    :class:`ShortenError` for a corrupt, truncated or unsupported stream.
    """
    buf = _as_byte_array(data)
    limit = -1 if max_samples is None else max(0, int(max_samples))
    capacity = 4096 if expected_samples is None else max(1, int(expected_samples))
    err, position, out, ndone, header, extra, n_extra = _decode_kernel(
        buf, limit, capacity, _OUTWARD, _LINEAR_TO_ULAW, _LINEAR_TO_ALAW
    )
    if err != _OK:
        detail = _ERROR_TEXT[int(err)]
        if err == _E_VERSION:
            detail += f" {int(header[0])}"
        elif err == _E_FILE_TYPE:
            detail += f" {int(header[1])}"
        raise ShortenError(f"{detail} at byte {int(position)} of the shorten stream")
    info = ShortenInfo(
        version=int(header[0]),
        file_type=ShortenFileType(int(header[1])),
        channels=int(header[2]),
        block_size=int(header[3]),
        max_lpc_order=int(header[4]),
        mean_blocks=int(header[5]),
    )
    return ShortenAudio(
        info=info,
        samples=out[:ndone],
        verbatim=bytes(extra[:n_extra]),
        complete=bool(header[6]),
    )


# --------------------------------------------------------------------------------------
# Encoder
# --------------------------------------------------------------------------------------


@njit(cache=True)
def _put_bits(out, wst, value, nbits):
    """Append the low ``nbits`` (<= 40) bits of ``value``; ``wst`` = [bytes, acc, nacc]."""
    acc = (wst[1] << nbits) | (value & ((1 << nbits) - 1))
    nacc = wst[2] + nbits
    nbytes = wst[0]
    while nacc >= 8:
        nacc -= 8
        out[nbytes] = (acc >> nacc) & 0xFF
        nbytes += 1
    wst[0] = nbytes
    wst[1] = acc & ((1 << nacc) - 1)
    wst[2] = nacc


@njit(cache=True)
def _ensure_room(out, wst, extra):
    if wst[0] + extra + 16 <= out.shape[0]:
        return out
    grown = np.zeros(2 * out.shape[0] + extra + 16, dtype=np.uint8)
    grown[: wst[0]] = out[: wst[0]]
    return grown


@njit(cache=True)
def _put_uvar(out, wst, value, nbin):
    high = value >> nbin
    while high > 32:
        _put_bits(out, wst, 0, 32)
        high -= 32
    if high > 0:
        _put_bits(out, wst, 0, high)
    _put_bits(out, wst, (1 << nbin) | (value & ((1 << nbin) - 1)), nbin + 1)


@njit(cache=True)
def _put_var(out, wst, value, nbin):
    if value < 0:
        _put_uvar(out, wst, ((~value) << 1) | 1, nbin + 1)
    else:
        _put_uvar(out, wst, value << 1, nbin + 1)


@njit(cache=True)
def _put_ulong(out, wst, value):
    nbit = 0
    while (value >> nbit) != 0:
        nbit += 1
    _put_uvar(out, wst, nbit, _ULONGSIZE)
    _put_uvar(out, wst, value, nbit)


@njit(cache=True)
def _rice_bits(res, n, k):
    """Bits that ``var(k)`` codes of ``res[:n]`` take."""
    bits = n * (k + 2)
    for i in range(n):
        r = res[i]
        bits += ((r << 1) if r >= 0 else (((-r) << 1) - 1)) >> (k + 1)
    return bits


@njit(cache=True)
def _best_rice_parameter(res, n):
    """The Rice parameter that codes ``res[:n]`` in the fewest bits."""
    total = 0
    for i in range(n):
        r = res[i]
        total += (r << 1) if r >= 0 else (((-r) << 1) - 1)
    guess = 0
    while (total // max(n, 1)) >> (guess + 1) > 0:
        guess += 1
    best_k = max(0, guess - 2)
    best_bits = _rice_bits(res, n, best_k)
    for k in range(best_k + 1, min(_MAX_RICE, guess + 1) + 1):
        bits = _rice_bits(res, n, k)
        if bits < best_bits:
            best_k, best_bits = k, bits
    return best_k


@njit(cache=True)
def _poly_choice(cbuf, base, n, coffset):
    """Shorten 2's choice of polynomial predictor and Rice parameter for a block.

    The predictor with the smallest sum of absolute residuals wins (ties go to the higher
    order) and the Rice parameter is ``round(log2(ln 2 * mean |residual|))``, computed
    in the same single/double precision mix as shorten's C code, so that the stream is
    the one NIST's encoder writes.
    """
    last0 = cbuf[base - 1] - coffset
    last1 = cbuf[base - 1] - cbuf[base - 2]
    last2 = last1 - (cbuf[base - 2] - cbuf[base - 3])
    sum0 = 0
    sum1 = 0
    sum2 = 0
    sum3 = 0
    for i in range(n):
        diff0 = cbuf[base + i] - coffset
        diff1 = diff0 - last0
        diff2 = diff1 - last1
        sum0 += abs(diff0)
        sum1 += abs(diff1)
        sum2 += abs(diff2)
        sum3 += abs(diff2 - last2)
        last0 = diff0
        last1 = diff1
        last2 = diff2
    if sum0 < min(sum1, sum2, sum3):
        fn, total = FN_DIFF0, sum0
    elif sum1 < min(sum2, sum3):
        fn, total = FN_DIFF1, sum1
    elif sum2 < sum3:
        fn, total = FN_DIFF2, sum2
    else:
        fn, total = FN_DIFF3, sum3
    k = 0
    if total > 0:
        scaled = np.float32(_LN2_F32 * np.float32(total))
        resbit = np.float32(np.log(np.float64(scaled) / n) / np.log(2.0))
        if resbit > 0:
            k = min(int(np.floor(np.float64(resbit) + 0.5)), _MAX_RICE)
    return fn, k


@njit(cache=True)
def _lpc_coefficients(x, base, n, coffset, order, q):
    """Quantised LPC predictor of ``order`` for ``x[base:base+n] - coffset`` into ``q``.

    Returns the order actually used (0 if the block has no energy).
    """
    r = np.zeros(order + 1)
    for lag in range(order + 1):
        s = 0.0
        for i in range(lag, n):
            s += float(x[base + i] - coffset) * float(x[base + i - lag] - coffset)
        r[lag] = s
    if r[0] <= 0.0:
        return 0
    a = np.zeros(order + 1)
    tmp = np.zeros(order + 1)
    err = r[0] * (1.0 + 1e-9)
    for m in range(1, order + 1):
        acc = r[m]
        for j in range(1, m):
            acc -= a[j] * r[m - j]
        k = acc / err
        tmp[:] = a
        a[m] = k
        for j in range(1, m):
            a[j] = tmp[j] - k * tmp[m - j]
        err *= 1.0 - k * k
        if err <= 0.0:
            return 0
    for j in range(order):
        q[j] = min(max(int(np.floor(a[j + 1] * (1 << _LPCQUANT) + 0.5)), -(1 << 15)), 1 << 15)
    return order


@njit(cache=True)
def _put_verbatim(out, wst, verbatim):
    """VERBATIM commands (chunks of up to 256 bytes) carrying ``verbatim``; the (grown) output."""
    pos = 0
    while pos < verbatim.shape[0]:
        chunk = min(256, verbatim.shape[0] - pos)
        out = _ensure_room(out, wst, 2 * chunk + 16)
        _put_uvar(out, wst, FN_VERBATIM, _FNSIZE)
        _put_uvar(out, wst, chunk, _VERBATIM_CKSIZE_SIZE)
        for i in range(chunk):
            _put_uvar(out, wst, verbatim[pos + i], _VERBATIM_BYTE_SIZE)
        pos += chunk
    return out


@njit(cache=True)
def _load_block(values, start, nb, chan, cbuf, base, ftype, maxshift, inward, bitshift):
    """Put a channel's block into ``cbuf[base:base+nb]`` in the predictor domain, shifted by its common
    low zero bits; ``(shift, zero)`` (``zero``: a silent linear block, coded as ZERO)."""
    if ftype == 0 or ftype == 8:  # µ-law: the rank mapping
        shift = 12
        for i in range(nb):
            s = maxshift[values[start + i, chan]]
            if s < shift:
                shift = s
        for i in range(nb):
            b = values[start + i, chan]
            if ftype == 0 or b > 0x7F:
                v = inward[shift, b]
            elif b == 0x7F:
                v = -1
            else:
                v = inward[shift, b] - 1
            cbuf[base + i] = v
        return shift, False  # shorten codes silent µ-law blocks normally, never as ZERO
    bits = 0
    for i in range(nb):
        bits |= values[start + i, chan]
    if bits == 0:
        for i in range(nb):
            cbuf[base + i] = 0
        return bitshift, True
    shift = 0
    while (bits >> shift) & 1 == 0:
        shift += 1
    for i in range(nb):
        cbuf[base + i] = values[start + i, chan] >> shift
    return shift, False


@njit(cache=True)
def _residuals(cbuf, base, nb, coffset, maxnlpc, qlpc, res, lpcqoffset):
    """The block's predictor and its residuals in ``res[:nb]``: ``(function code, Rice parameter, LPC
    order)`` (shorten 2's polynomial choice when ``maxnlpc`` is 0, else QLPC)."""
    if maxnlpc == 0:
        fn, k = _poly_choice(cbuf, base, nb, coffset)
        for i in range(nb):
            j = base + i
            x0 = cbuf[j]
            if fn == FN_DIFF0:
                res[i] = x0 - coffset
            elif fn == FN_DIFF1:
                res[i] = x0 - cbuf[j - 1]
            elif fn == FN_DIFF2:
                res[i] = x0 - 2 * cbuf[j - 1] + cbuf[j - 2]
            else:
                res[i] = x0 - 3 * (cbuf[j - 1] - cbuf[j - 2]) - cbuf[j - 3]
        return fn, k, 0
    nlpc = _lpc_coefficients(cbuf, base, nb, coffset, maxnlpc, qlpc)
    for i in range(nb):
        j = base + i
        acc = lpcqoffset
        for m in range(nlpc):
            acc += qlpc[m] * (cbuf[j - m - 1] - coffset)
        res[i] = (cbuf[j] - coffset) - (acc >> _LPCQUANT)
    return FN_QLPC, _best_rice_parameter(res, nb), nlpc


@njit(cache=True)
def _put_block(out, wst, fn, k, nlpc, qlpc, res, nb):
    """The block's command, Rice parameter, LPC coefficients and residuals; the (grown) output."""
    out = _ensure_room(out, wst, _rice_bits(res, nb, k) // 8 + 8 * nlpc + 64)
    _put_uvar(out, wst, fn, _FNSIZE)
    _put_uvar(out, wst, k, _ENERGYSIZE)
    if fn == FN_QLPC:
        _put_uvar(out, wst, nlpc, _LPCQSIZE)
        for m in range(nlpc):
            _put_var(out, wst, qlpc[m], _LPCQUANT)
    for i in range(nb):
        _put_var(out, wst, res[i], k)
    return out


@njit(cache=True)
def _encode_kernel(values, ftype, blocksize, maxnlpc, nmean, verbatim, maxshift, inward):
    """Encode ``values`` (shape (n, nchan), file-type sample values mapped to the
    predictor domain except for the µ-law rank mapping, done here per block)."""
    nsamp = values.shape[0]
    nchan = values.shape[1]
    out = np.zeros(1024 + nsamp * nchan * 3, dtype=np.uint8)
    wst = np.zeros(3, dtype=np.int64)
    out[0] = 97  # "ajkg"
    out[1] = 106
    out[2] = 107
    out[3] = 103
    out[4] = 2  # format version
    wst[0] = 5
    for field in (ftype, nchan, blocksize, maxnlpc, nmean, 0):  # the last: nskip
        _put_ulong(out, wst, field)
    out = _put_verbatim(out, wst, verbatim)

    nwrap = max(_NWRAP, maxnlpc)
    hist = np.zeros((nchan, nwrap + blocksize), dtype=np.int64)
    offset = np.full((nchan, max(1, nmean)), _initial_mean(ftype), dtype=np.int64)
    res = np.zeros(blocksize, dtype=np.int64)
    qlpc = np.zeros(max(1, maxnlpc), dtype=np.int64)
    lpcqoffset = 1 << _LPCQUANT
    bitshift = 0
    start = 0
    cur_block = blocksize
    while start < nsamp:
        nb = min(blocksize, nsamp - start)
        out = _ensure_room(out, wst, 64)  # command codes; residuals reserve below
        if nb != cur_block:
            _put_uvar(out, wst, FN_BLOCKSIZE, _FNSIZE)
            _put_ulong(out, wst, nb)
            cur_block = nb
        for chan in range(nchan):
            cbuf = hist[chan]
            shift, zero = _load_block(values, start, nb, chan, cbuf, nwrap, ftype, maxshift, inward, bitshift)
            if shift != bitshift:
                _put_uvar(out, wst, FN_BITSHIFT, _FNSIZE)
                _put_uvar(out, wst, shift, _BITSHIFTSIZE)
                bitshift = shift
            coffset = _block_offset(offset, chan, nmean, 2, bitshift)
            if zero:
                _put_uvar(out, wst, FN_ZERO, _FNSIZE)
            else:
                fn, k, nlpc = _residuals(cbuf, nwrap, nb, coffset, maxnlpc, qlpc, res, lpcqoffset)
                out = _put_block(out, wst, fn, k, nlpc, qlpc, res, nb)
            _update_offset(offset, chan, nmean, 2, cbuf, nwrap, nb, bitshift)
            for i in range(-nwrap, 0):
                cbuf[nwrap + i] = cbuf[nwrap + i + nb]
        start += nb

    out = _ensure_room(out, wst, 16)
    _put_uvar(out, wst, FN_QUIT, _FNSIZE)
    # Shorten's flush: one more uvar(0, 31) (a one bit and 31 zeros), then only whole
    # 32-bit words are kept.
    _put_uvar(out, wst, 0, 31)
    words = (wst[0] - 5) // 4
    return out[: 5 + 4 * words].copy()


def encode_shorten(
    samples: np.ndarray,
    file_type: ShortenFileType | int,
    *,
    block_size: int = 256,
    max_lpc_order: int = 0,
    mean_blocks: int | None = None,
    verbatim: bytes = b"",
) -> bytes:
    """Encode samples as a shorten version-2 stream.

    ``samples`` is ``(num_samples,)`` or ``(num_samples, channels)`` and holds values as
    the original file would (µ-law / A-law bytes for the companded types, integers in the
    type's range for the linear ones).  With the defaults (block size 256, no LPC, the
    running mean over ``mean_blocks`` = 4 past blocks for linear types and none for
    µ-law) the stream is the one NIST's shorten-embedding tools write for the same
    samples.  ``max_lpc_order > 0`` codes every block with a quantised LPC predictor
    instead.  A non-empty ``verbatim`` is written as VERBATIM chunks at the start of the
    stream (where shorten 3 keeps a WAV header); LDC's ``sph2pipe`` does not know that
    command, nor the A-law types 9 and 10, so leave it empty for SPHERE files.
    """
    ftype = ShortenFileType(file_type)
    array = np.asarray(samples)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] < 1:
        raise ValueError("samples must have shape (num_samples,) or (num_samples, channels)")
    if array.shape[1] > _MAX_CHANNELS:
        raise ValueError(f"at most {_MAX_CHANNELS} channels are supported")
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError("shorten encodes integer samples only")
    lo, hi = _VALUE_RANGE[ftype]
    if array.size and (int(array.min()) < lo or int(array.max()) > hi):
        raise ValueError(f"samples out of range [{lo}, {hi}] for shorten type {ftype.name}")
    if not 4 <= block_size <= _MAX_BLOCK_SIZE:
        raise ValueError(f"block_size must be in [4, {_MAX_BLOCK_SIZE}]")
    if not 0 <= max_lpc_order <= _MAX_ENCODER_LPC_ORDER or max_lpc_order >= block_size:
        raise ValueError(f"max_lpc_order must be in [0, {_MAX_ENCODER_LPC_ORDER}] and below block_size")
    if mean_blocks is None:
        mean_blocks = 0 if ftype in (ShortenFileType.AU1, ShortenFileType.AU2) else 4
    if not 0 <= mean_blocks <= _MAX_MEAN_BLOCKS:
        raise ValueError(f"mean_blocks must be in [0, {_MAX_MEAN_BLOCKS}]")

    values = array.astype(np.int64)
    # Map the companded types that shorten codes as linear values.
    if ftype is ShortenFileType.ULAW:
        values = _ULAW_TO_LINEAR[values] >> 3
    elif ftype is ShortenFileType.ALAW:
        values = _ALAW_TO_LINEAR[values] >> 3
    elif ftype is ShortenFileType.AU3:
        values = np.where(values < 128, 127 - (values ^ 0xD5), (values ^ 0x55) - 128)
    stream = _encode_kernel(
        np.ascontiguousarray(values),
        int(ftype),
        int(block_size),
        int(max_lpc_order),
        int(mean_blocks),
        np.frombuffer(verbatim, dtype=np.uint8).astype(np.int64),
        _MAXSHIFT,
        _INWARD,
    )
    return stream.tobytes()
