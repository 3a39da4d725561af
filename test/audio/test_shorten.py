"""Shorten v2 decoder and encoder: round trips, every command and file type, corrupt streams."""

from __future__ import annotations

import shutil
import struct
import subprocess

import numpy as np
import pytest

from speechsent.audio.g711 import linear_to_alaw, linear_to_ulaw, ulaw_to_linear
from speechsent.audio.shorten import (
    _INWARD,
    _MAXSHIFT,
    _OUTWARD,
    _VALUE_RANGE,
    ShortenError,
    ShortenFileType,
    decode_shorten,
    encode_shorten,
)

T = ShortenFileType


def speech_like(n: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """int16 speech-like signal: harmonics under a syllabic envelope, with pauses and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 8000
    out = np.empty((n, channels))
    for ch in range(channels):
        phase = 2 * np.pi * np.cumsum(120 + 40 * ch + 15 * np.sin(2 * np.pi * 0.7 * t)) / 8000
        voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
        envelope = np.clip(np.sin(2 * np.pi * (3 + ch) * t), 0, None) ** 2
        out[:, ch] = 7000 * voiced * envelope + rng.normal(0, 40, n)
    return np.clip(out, -32768, 32767).astype(np.int16)


def values_for(file_type: ShortenFileType, linear: np.ndarray) -> np.ndarray:
    """Map int16 linear samples to the sample values a file of ``file_type`` holds."""
    linear = linear.astype(np.int64)
    if file_type in (T.AU1, T.AU2, T.ULAW):
        return linear_to_ulaw(linear).astype(np.int64)
    if file_type in (T.AU3, T.ALAW):
        return linear_to_alaw(linear).astype(np.int64)
    if file_type is T.S8:
        return linear >> 8
    if file_type is T.U8:
        return (linear >> 8) + 128
    if file_type in (T.U16HL, T.U16LH):
        return linear + 32768
    return linear


def roundtrip(values: np.ndarray, file_type: ShortenFileType, **kwargs) -> tuple[np.ndarray, bytes]:
    stream = encode_shorten(values, file_type, **kwargs)
    decoded = decode_shorten(stream)
    assert decoded.complete
    assert decoded.info.file_type is file_type
    return decoded.samples, stream


class BitWriter:
    """Minimal shorten bit writer for hand-made (including deliberately broken) streams."""

    def __init__(self, version: int = 2) -> None:
        self.bits: list[str] = []
        self.version = version

    def uvar(self, value: int, nbin: int) -> BitWriter:
        self.bits.append(
            "0" * (value >> nbin) + "1" + (format(value & ((1 << nbin) - 1), f"0{nbin}b") if nbin else "")
        )
        return self

    def var(self, value: int, nbin: int) -> BitWriter:
        return self.uvar(((~value) << 1) | 1 if value < 0 else value << 1, nbin + 1)

    def ulong(self, value: int) -> BitWriter:
        nbit = value.bit_length()
        return self.uvar(nbit, 2).uvar(value, nbit)

    def header(self, ftype=5, nchan=1, blocksize=4, maxnlpc=0, nmean=0, skip=b"") -> BitWriter:
        for value in (ftype, nchan, blocksize, maxnlpc, nmean, len(skip)):
            self.ulong(value)
        for byte in skip:
            self.uvar(byte, 7)
        return self

    def to_bytes(self, flush: bool = True) -> bytes:
        bits = "".join(self.bits)
        if flush:
            bits += "1" + "0" * 31
            bits = bits[: len(bits) // 32 * 32]
        bits += "0" * (-len(bits) % 8)
        body = int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
        return b"ajkg" + bytes([self.version]) + body


# ------------------------------------------------------------------------------------
# Round trips
# ------------------------------------------------------------------------------------

LOSSLESS_TYPES = [t for t in ShortenFileType if t is not T.ULAW]


@pytest.mark.parametrize("file_type", LOSSLESS_TYPES, ids=lambda t: t.name)
@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize("max_lpc_order", [0, 3])
def test_roundtrip_speech_every_type(file_type, channels, max_lpc_order):
    values = values_for(file_type, speech_like(3001, channels, seed=channels))
    decoded, stream = roundtrip(values, file_type, max_lpc_order=max_lpc_order)
    np.testing.assert_array_equal(decoded, values)
    assert decoded.dtype == np.int32 and decoded.shape == values.shape
    raw_bytes = values.size * (2 if file_type in (T.S16HL, T.S16LH, T.U16HL, T.U16LH) else 1)
    assert len(stream) < raw_bytes  # speech does compress


@pytest.mark.parametrize("file_type", LOSSLESS_TYPES, ids=lambda t: t.name)
def test_roundtrip_random_full_range(file_type):
    lo, hi = _VALUE_RANGE[file_type]
    rng = np.random.default_rng(1)
    values = rng.integers(lo, hi + 1, size=(2000, 2))
    values[:5] = lo
    values[5:10] = hi
    decoded, _ = roundtrip(values, file_type, max_lpc_order=2)
    np.testing.assert_array_equal(decoded, values)


def test_lossy_ulaw_type_only_merges_the_two_zeros():
    codes = np.arange(256)
    decoded, _ = roundtrip(codes, T.ULAW)
    expected = codes.copy()
    expected[0x7F] = 0xFF  # the negative zero becomes the positive one
    np.testing.assert_array_equal(decoded[:, 0], expected)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 255, 256, 257, 1000])
@pytest.mark.parametrize("block_size", [4, 7, 256])
def test_lengths_and_block_sizes(n, block_size):
    values = speech_like(n, 2).astype(np.int64)
    decoded, _ = roundtrip(values, T.S16LH, block_size=block_size, max_lpc_order=min(2, block_size - 1))
    assert decoded.shape == (n, 2)
    np.testing.assert_array_equal(decoded, values)


@pytest.mark.parametrize("mean_blocks", [0, 1, 4, 9])
def test_running_mean_with_dc_offset(mean_blocks):
    values = speech_like(4000, 2).astype(np.int64) // 4 + 5000
    decoded, _ = roundtrip(values, T.S16HL, mean_blocks=mean_blocks)
    np.testing.assert_array_equal(decoded, values)
    unsigned = values + 20000
    decoded, _ = roundtrip(unsigned, T.U16LH, mean_blocks=mean_blocks, max_lpc_order=2)
    np.testing.assert_array_equal(decoded, unsigned)


def test_zero_blocks_and_silence():
    values = np.zeros((256 * 100, 2), dtype=np.int64)
    values[1000:1100, 1] = 77  # one non-silent stretch
    decoded, stream = roundtrip(values, T.S16LH)
    np.testing.assert_array_equal(decoded, values)
    assert len(stream) < 300
    # Like shorten, the encoder never uses ZERO for µ-law: silence costs 2 bits a sample.
    codes = np.full((256 * 50, 2), 0xFF)
    decoded, stream = roundtrip(codes, T.AU2)
    np.testing.assert_array_equal(decoded, codes)
    assert codes.size // 4 < len(stream) < codes.size // 4 + 200


def test_bitshift_removes_common_low_zero_bits():
    base = speech_like(5000).astype(np.int64) // 64
    decoded, plain = roundtrip(base, T.S16LH)
    np.testing.assert_array_equal(decoded, base)
    shifted = base * 64
    decoded, stream = roundtrip(shifted, T.S16LH)
    np.testing.assert_array_equal(decoded, shifted)
    assert len(stream) <= len(plain) + 16  # the 6 zero bits cost (almost) nothing
    mixed = shifted.copy()
    mixed[2000:2300] += 1  # bit shift drops back to 0 for these blocks, then returns
    decoded, _ = roundtrip(mixed, T.S16LH, max_lpc_order=2)
    np.testing.assert_array_equal(decoded, mixed)


def test_ulaw_bitshift_tables_are_used_and_invertible():
    for shift in range(13):
        np.testing.assert_array_equal(_OUTWARD[shift][_INWARD[shift] + 128], np.arange(256))
    assert _MAXSHIFT[0xFF] == 12 and _MAXSHIFT[0x7F] == 0
    # µ-law codes of linear values that are multiples of 2**(s + 3) allow bit shift s.
    linear = (speech_like(6000).astype(np.int64) >> 9) << 9
    codes = linear_to_ulaw(linear).astype(np.int64)
    assert _MAXSHIFT[codes].min() >= 6
    for file_type in (T.AU1, T.AU2):
        decoded, _ = roundtrip(codes, file_type)
        np.testing.assert_array_equal(decoded, codes)


def test_au2_keeps_negative_zero_apart():
    codes = np.array([0x7F, 0xFF, 0x7F, 0x7E, 0x00, 0x80, 0xFF, 0x7F] * 40)
    decoded, _ = roundtrip(codes, T.AU2)
    np.testing.assert_array_equal(decoded[:, 0], codes)
    assert np.array_equal(ulaw_to_linear(codes[:2]), [0, 0])


def test_verbatim_chunks_and_skip_bytes():
    payload = bytes(range(256)) * 3 + b"tail"
    values = speech_like(700).astype(np.int64)
    stream = encode_shorten(values, T.S16LH, verbatim=payload)
    decoded = decode_shorten(stream)
    assert decoded.verbatim == payload
    np.testing.assert_array_equal(decoded.samples, values)
    # nskip header bytes (copied verbatim by decoders), then a DIFF1 block and QUIT.
    w = BitWriter().header(ftype=5, blocksize=4, skip=b"HDR")
    w.uvar(1, 2).uvar(2, 3)
    for e in (5, -1, 0, 3):
        w.var(e, 2)
    w.uvar(4, 2)
    decoded = decode_shorten(w.to_bytes())
    assert decoded.verbatim == b"HDR"
    np.testing.assert_array_equal(decoded.samples[:, 0], [5, 4, 4, 7])


def test_hand_made_stream_every_command():
    """DIFF0-3, QLPC, ZERO, BITSHIFT, BLOCKSIZE on known values (v2 mean and LPC offset)."""
    w = BitWriter().header(ftype=5, blocksize=4, maxnlpc=2, nmean=2)
    w.uvar(0, 2).uvar(3, 3)  # DIFF0, mean 0 at first
    for e in (10, 20, 30, 40):
        w.var(e, 3)
    # mean of the block: (2 + 100) / 4 = 25 -> offsets [0, 25] -> coffset = (1 + 25) / 2 = 13
    w.uvar(0, 2).uvar(1, 3)
    for e in (1, -1, 2, 0):
        w.var(e, 1)
    w.uvar(1, 2).uvar(0, 3)  # DIFF1 from history 14
    for e in (1, 1, -1, 0):
        w.var(e, 0)
    w.uvar(2, 2).uvar(0, 3)  # DIFF2: history 15, 16, 15, 15
    for e in (0, 1, 0, 0):
        w.var(e, 0)
    w.uvar(3, 2).uvar(0, 3)  # DIFF3
    for e in (0, 0, 0, 0):
        w.var(e, 0)
    w.uvar(6, 2).uvar(2, 2)  # BITSHIFT 2
    w.uvar(8, 2)  # ZERO
    w.uvar(5, 2).ulong(2)  # BLOCKSIZE 2
    w.uvar(7, 2).uvar(0, 3).uvar(1, 2).var(32, 5)  # QLPC order 1, coefficient 1.0
    w.var(0, 0).var(1, 0)
    w.uvar(4, 2)
    decoded = decode_shorten(w.to_bytes()).samples[:, 0]

    expected = [10, 20, 30, 40, 14, 12, 15, 13]
    hist = [14, 12, 15, 13]
    out = []
    for e in (1, 1, -1, 0):  # DIFF1
        hist.append(hist[-1] + e)
        out.append(hist[-1])
    for e in (0, 1, 0, 0):  # DIFF2
        hist.append(e + 2 * hist[-1] - hist[-2])
        out.append(hist[-1])
    for e in (0, 0, 0, 0):  # DIFF3
        hist.append(e + 3 * (hist[-1] - hist[-2]) + hist[-3])
        out.append(hist[-1])
    expected += [*out, 0, 0, 0, 0]
    # QLPC after ZERO: history is zeros, mean offsets are [mean(DIFF3 block), 0] with
    # shift 2 applied when stored and removed (rounded) when used.
    diff3_mean = (2 + sum(out[-4:])) // 4
    offsets = [diff3_mean << 0, 0]  # the DIFF3 block was stored under bit shift 0
    coffset = ((1 + sum(offsets)) // 2 >> 1) >> 1
    x1 = 0 + ((32 + 32 * (0 - coffset)) >> 5)
    x2 = 1 + ((32 + 32 * x1) >> 5)
    expected += [(x1 + coffset) << 2, (x2 + coffset) << 2]
    np.testing.assert_array_equal(decoded, expected)


def test_version_1_stream():
    """Version 1: plain truncating mean, no LPC rounding offset."""
    w = BitWriter(version=1).header(ftype=5, blocksize=4, nmean=1)
    w.uvar(0, 2).uvar(3, 3)
    for e in (-10, -11, -12, -13):
        w.var(e, 3)
    w.uvar(0, 2).uvar(0, 3)  # DIFF0 with mean trunc(-46 / 4) = -11
    for e in (0, 1, 0, 0):
        w.var(e, 0)
    w.uvar(4, 2)
    decoded = decode_shorten(w.to_bytes())
    assert decoded.info.version == 1
    np.testing.assert_array_equal(decoded.samples[:, 0], [-10, -11, -12, -13, -11, -10, -11, -11])


def test_partial_decode_and_input_types():
    values = speech_like(5000, 2).astype(np.int64)
    stream = encode_shorten(values, T.S16LH)
    part = decode_shorten(stream, max_samples=1000)
    assert not part.complete and 1000 <= len(part.samples) < 1000 + 256
    np.testing.assert_array_equal(part.samples, values[: len(part.samples)])
    for data in (bytearray(stream), memoryview(stream), np.frombuffer(stream, dtype=np.uint8)):
        np.testing.assert_array_equal(decode_shorten(data).samples, values)
    with pytest.raises(TypeError):
        decode_shorten(np.zeros(4, dtype=np.int16))


def test_encoder_rejects_bad_input():
    with pytest.raises(ValueError, match="out of range"):
        encode_shorten(np.array([40000]), T.S16LH)
    with pytest.raises(ValueError, match="out of range"):
        encode_shorten(np.array([256]), T.AU2)
    with pytest.raises(TypeError):
        encode_shorten(np.array([0.5]), T.S16LH)
    with pytest.raises(ValueError, match="block_size"):
        encode_shorten(np.zeros(10, dtype=np.int16), T.S16LH, block_size=2)
    with pytest.raises(ValueError, match="max_lpc_order"):
        encode_shorten(np.zeros(10, dtype=np.int16), T.S16LH, block_size=8, max_lpc_order=8)
    with pytest.raises(ValueError):
        encode_shorten(np.zeros(10, dtype=np.int16), 11)


# ------------------------------------------------------------------------------------
# Corrupt and truncated streams
# ------------------------------------------------------------------------------------


def test_every_truncation_is_an_error():
    stream = encode_shorten(speech_like(600, 2).astype(np.int64), T.S16LH, block_size=64)
    for cut in range(len(stream)):
        with pytest.raises(ShortenError):
            decode_shorten(stream[:cut])


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (b"", "truncated"),
        (b"ajk", "truncated"),
        (b"ajkx\x02" + bytes(8), "magic"),
        (b"RIFF\x02" + bytes(8), "magic"),
        (b"ajkg\x03" + bytes(8), "version 3"),
        (b"ajkg\x00" + bytes(8), "version 0"),
        (BitWriter().header(ftype=12).to_bytes(), "sample type 12"),
        (BitWriter().header(nchan=0).to_bytes(), "header"),
        (BitWriter().header(blocksize=0).to_bytes(), "header"),
        (BitWriter().header().uvar(10, 2).to_bytes(), "function code"),
        (BitWriter().header().uvar(0, 2).uvar(40, 3).to_bytes(), "Rice parameter"),
        (BitWriter().header().uvar(6, 2).uvar(40, 2).to_bytes(), "bit shift"),
        (BitWriter().header(ftype=8).uvar(6, 2).uvar(13, 2).to_bytes(), "bit shift"),
        (BitWriter().header().uvar(7, 2).uvar(0, 3).uvar(1, 2).to_bytes(), "LPC order"),
        (BitWriter().header().uvar(5, 2).ulong(0).to_bytes(), "block size"),
        (BitWriter().header(nchan=2).uvar(8, 2).uvar(4, 2).to_bytes(), "middle of a multi-channel frame"),
        (BitWriter().header(nchan=2).uvar(8, 2).uvar(5, 2).ulong(8).to_bytes(), "block size"),
        (
            BitWriter().header().uvar(0, 2).uvar(0, 3).var(40000, 0).var(0, 0).var(0, 0).var(0, 0).to_bytes(),
            "out of range",
        ),
        (
            BitWriter()
            .header(ftype=0)
            .uvar(0, 2)
            .uvar(0, 3)
            .var(200, 0)
            .var(0, 0)
            .var(0, 0)
            .var(0, 0)
            .to_bytes(),
            "out of range",
        ),
        (BitWriter().header().uvar(9, 2).uvar(1, 5).uvar(300, 8).to_bytes(), "verbatim"),
        (BitWriter().header().uvar(8, 2).to_bytes(flush=False), "truncated"),
        (b"ajkg\x02" + bytes(4096), "truncated"),
        (b"ajkg\x02" + bytes((1 << 23) + 1024), "over-long"),
    ],
)
def test_corrupt_streams_raise(stream, message):
    with pytest.raises(ShortenError, match=message):
        decode_shorten(stream)


def test_random_corruption_never_crashes():
    values = values_for(T.AU2, speech_like(3000, 2))
    stream = bytearray(encode_shorten(values, T.AU2))
    rng = np.random.default_rng(7)
    outcomes = set()
    for _ in range(300):
        damaged = bytearray(stream)
        for pos in rng.integers(5, len(damaged), size=3):
            damaged[pos] ^= 1 << int(rng.integers(8))
        try:
            decoded = decode_shorten(bytes(damaged))
        except ShortenError:
            outcomes.add("error")
        else:
            outcomes.add("decoded")
            assert decoded.samples.min() >= 0 and decoded.samples.max() <= 255
    assert "error" in outcomes
    garbage = b"ajkg\x02" + np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    with pytest.raises(ShortenError):
        decode_shorten(garbage)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
@pytest.mark.parametrize("file_type", [T.S16LH, T.S16HL, T.U8], ids=lambda t: t.name)
def test_ffmpeg_decodes_our_streams(tmp_path, file_type):
    """An independent decoder (ffmpeg's) reads the encoder's streams, QLPC and means included."""
    width = 1 if file_type is T.U8 else 2
    for channels, lpc, mean_blocks, block_size in [
        (1, 0, 4, 256),
        (2, 0, 0, 100),
        (3, 8, 4, 17),
        (2, 32, 4, 256),
    ]:
        values = values_for(file_type, speech_like(4001, channels, seed=lpc))
        # ffmpeg wants the WAV header that shorten 3 keeps in a VERBATIM chunk.
        size = values.size * width
        block = channels * width
        fmt_chunk = struct.pack("<IHHIIHH", 16, 1, channels, 8000, 8000 * block, block, 8 * width)
        wav = (
            b"RIFF"
            + struct.pack("<I", 36 + size)
            + b"WAVEfmt "
            + fmt_chunk
            + b"data"
            + struct.pack("<I", size)
        )
        stream = encode_shorten(
            values, file_type, max_lpc_order=lpc, mean_blocks=mean_blocks, block_size=block_size, verbatim=wav
        )
        path = tmp_path / "x.shn"
        path.write_bytes(stream)
        fmt, dtype = ("u8", np.uint8) if width == 1 else ("s16le", "<i2")
        result = subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "shn", "-i", str(path), "-f", fmt, "-"],
            capture_output=True,
            check=True,
        )
        decoded = np.frombuffer(result.stdout, dtype=dtype).reshape(-1, channels)
        np.testing.assert_array_equal(decoded, values)
