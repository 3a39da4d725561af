"""NIST SPHERE reading and writing: headers, G.711 tables, every coding, corrupt files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from speechsent.audio.g711 import alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear
from speechsent.audio.shorten import ShortenFileType, encode_shorten
from speechsent.audio.sphere import (
    SphereError,
    format_sphere_header,
    parse_sphere_header,
    read_sphere,
    read_sphere_data,
    read_sphere_header,
    sphere_checksum,
    write_sphere,
)

RATE = 8000


def conversation(n: int = 6000, channels: int = 2, seed: int = 0) -> np.ndarray:
    """int16 speech-like audio, a different talker per channel, with pauses."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    out = np.empty((n, channels))
    for ch in range(channels):
        phase = 2 * np.pi * np.cumsum(110 + 50 * ch + 20 * np.sin(2 * np.pi * 0.5 * t)) / RATE
        voiced = sum(np.sin(k * phase) / k for k in range(1, 9))
        envelope = np.clip(np.sin(2 * np.pi * (2.5 + ch) * t + ch), 0, None)
        out[:, ch] = 9000 * voiced * envelope + rng.normal(0, 30, n)
    out[0] = -32768  # full scale, both signs
    out[1] = 32767
    return np.clip(out, -32768, 32767).astype(np.int16)


def header_bytes(*lines: str, size: int = 1024) -> bytes:
    text = "NIST_1A\n" + f"{size:7d}\n" + "".join(line + "\n" for line in lines) + "end_head\n"
    return text.encode("latin-1").ljust(size, b" ")


# ------------------------------------------------------------------------------------
# Headers
# ------------------------------------------------------------------------------------


def test_parse_header_typed_fields():
    header = parse_sphere_header(
        header_bytes(
            "database_id -s8 TIDIGITS",
            "recording_date -s11  9-SEP-1982",
            "channel_count -i 2",
            "sample_count -i 37120",
            "sample_rate -i 20000",
            "sample_n_bytes -i 1",
            "sample_byte_format -s1 1",
            "gain -r 1.5",
            "; a comment",
            "sample_coding -s27 ulaw,embedded-shorten-v2.00",
        )
    )
    assert header.channel_count == 2 and header.sample_count == 37120 and header.sample_rate == 20000
    assert header.sample_coding == "ulaw" and header.compression == "embedded-shorten-v2.00"
    assert header.is_shorten and header.sample_n_bytes == 1 and header.sample_byte_format == "1"
    assert header.fields["recording_date"] == " 9-SEP-1982"
    assert header.fields["gain"] == 1.5 and header.fields["database_id"] == "TIDIGITS"
    assert list(header.fields)[:2] == ["database_id", "recording_date"]
    assert header.lines[1] == "recording_date -s11  9-SEP-1982"
    assert header.duration == pytest.approx(1.856)


def test_parse_header_defaults_and_aliases():
    pcm = parse_sphere_header(
        header_bytes(
            "channel_count -i 1", "sample_count -i 5", "sample_rate -i 16000", "sample_byte_format -s2 10"
        )
    )
    assert pcm.sample_coding == "pcm" and pcm.sample_n_bytes == 2 and not pcm.is_shorten
    mulaw = parse_sphere_header(
        header_bytes(
            "channel_count -i 1", "sample_count -i 5", "sample_rate -i 8000", "sample_coding -s6 mu-law"
        )
    )
    assert mulaw.sample_coding == "ulaw" and mulaw.sample_n_bytes == 1


def test_header_larger_than_1024(tmp_path):
    filler = [f"comment_{i} -s40 {'x' * 40}" for i in range(30)]
    head = header_bytes(
        *filler, "channel_count -i 1", "sample_count -i 3", "sample_rate -i 8000", "sample_n_bytes -i 1",
        "sample_coding -s4 ulaw", size=2048,
    )  # fmt: skip
    path = tmp_path / "big.sph"
    path.write_bytes(head + bytes([0xFF, 0x00, 0x80]))
    assert read_sphere_header(path).header_size == 2048
    samples, rate = read_sphere(path)
    assert rate == 8000 and samples[:, 0].tolist() == [0, -32124, 32124]


BASIC = ("channel_count -i 1", "sample_count -i 1", "sample_rate -i 1")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"RIFF....WAVEfmt ", "NIST_1A"),
        (b"NIST_1A\n", "truncated"),
        (b"NIST_1A\n   abc\n" + b" " * 1024, "header size"),
        (b"NIST_1A\n      8\n" + b" " * 1024, "implausible"),
        (b"NIST_1A\n   1024\nsample_count -i 1\n", "shorter than"),
        (b"NIST_1A\n   1024\nsample_count -i 1\n".ljust(1024, b" "), "end_head"),
        (header_bytes("sample_count 12"), "malformed SPHERE header line"),
        (header_bytes("sample_count -i twelve"), "malformed value"),
        (header_bytes("channel_count -i 1", "sample_rate -i 8000", "sample_coding -s3 pcm"), "sample_count"),
        (header_bytes("channel_count -i 1", "sample_count -i 1", "sample_coding -s3 pcm"), "sample_rate"),
        (header_bytes("channel_count -s3 one", *BASIC[1:], "sample_n_bytes -i 2"), "'one' is not an integer"),
        (header_bytes("channel_count -r 1.5", *BASIC[1:], "sample_n_bytes -i 2"), "'1.5' is not an integer"),
        (header_bytes("channel_count -i 0", *BASIC[1:], "sample_n_bytes -i 2"), "invalid"),
        (header_bytes(*BASIC, "sample_coding -s4 pcmx"), "unsupported"),
        (header_bytes(*BASIC, "sample_coding -s25 pcm,embedded-wavpack-1.0"), "compression"),
        (header_bytes(*BASIC, "sample_n_bytes -i 1"), "no sample_coding"),
        (header_bytes(*BASIC, "sample_n_bytes -i 4", "sample_coding -s3 pcm"), "sample_n_bytes 4"),
        (header_bytes(*BASIC, "sample_n_bytes -i 2", "sample_coding -s4 ulaw"), "ulaw with sample_n_bytes 2"),
        (header_bytes(*BASIC, "channel_count -i 2", "sample_coding -s3 pcm"), "channel_count twice"),
        (header_bytes(*BASIC, "sample_coding -s27 alaw,embedded-shorten-v2.00"), "A-law"),
        (header_bytes(*BASIC, "sample_coding -s3 pcm", "sample_checksum -s3 abc"), "not an integer"),
        (header_bytes(*BASIC, "sample_coding -s3 pcm").replace(b"end_head", b"end_headx"), "end_head"),
        (
            header_bytes(*BASIC, "sample_coding -s3 pcm").replace(b"   1024", b"     40"),
            "past its header size",
        ),
    ],
)
def test_bad_headers(data, message):
    with pytest.raises(SphereError, match=message):
        parse_sphere_header(data)


def test_parse_header_tolerates_other_writers():
    """libsndfile's layout, numbers of any type, blanks, CRLF, NUL padding, odd end_head lines."""
    header = parse_sphere_header(
        b"NIST_1A\r\n   1024\r\n"
        b"channel_count -s1 2\r\n"
        b"sample_rate\t-r\t8000.0\r\n"
        b"sample_coding  -s4   ulaw\r\n"
        b"sample_n_bytes -s1 1\r\n"
        b"sample_count -i  12   \r\n"
        b"recording_date -s11  9-SEP-1982\r\n"
        b"database_id -s3 Switchboard\r\n"
        b"gain -r loud\r\n"
        b"free text that is not a field\r\n"
        b"sample_checksum -i 999999999\r\n"
        b"  end_head \r\n".ljust(1024, b"\0")
    )
    assert (header.channel_count, header.sample_rate, header.sample_count) == (2, 8000, 12)
    assert header.sample_coding == "ulaw" and header.sample_n_bytes == 1
    assert header.fields["recording_date"] == " 9-SEP-1982"
    assert header.fields["database_id"] == "Switchboard"  # -s3 is wrong: the whole text is kept
    assert header.fields["gain"] == "loud" and "free" not in header.fields
    assert header.sample_checksum is None  # NIST's "not computed yet" placeholder is no checksum
    assert header.lines[-1] == "sample_checksum -i 999999999"
    assert (
        parse_sphere_header(
            header_bytes(*BASIC, "sample_coding -s3 pcm", "sample_checksum -i 7")
        ).sample_checksum
        == 7
    )


def test_format_header_like_nist():
    head = format_sphere_header([("database_id", "fisher"), ("channel_count", 2), ("gain", 0.5)])
    assert len(head) == 1024
    text = head.decode("latin-1")
    assert text.startswith(
        "NIST_1A\n   1024\ndatabase_id -s6 fisher\nchannel_count -i 2\ngain -r 0.5\nend_head\n"
    )
    padding = text[text.index("end_head\n") + 9 :]
    assert padding == "\n" * 24 + " " * len(padding[24:]) and len(padding) > 24
    big = format_sphere_header([(f"field_{i}", "y" * 60) for i in range(20)])
    assert len(big) == 2048 and big[8:16] == b"   2048\n"
    with pytest.raises(ValueError):
        format_sphere_header([("bad name", 1)])
    with pytest.raises(ValueError):
        format_sphere_header([("text", "two\nlines")])
    with pytest.raises(ValueError):
        format_sphere_header([(f"f{i}", "z" * 80) for i in range(20)], header_size=1024)


# ------------------------------------------------------------------------------------
# Write / read round trips
# ------------------------------------------------------------------------------------


def expected_linear(pcm: np.ndarray, coding: str) -> np.ndarray:
    if coding == "ulaw":
        return ulaw_to_linear(linear_to_ulaw(pcm))
    if coding == "alaw":
        return alaw_to_linear(linear_to_alaw(pcm))
    return pcm


@pytest.mark.parametrize(
    ("coding", "shorten", "byte_format"),
    [
        ("pcm", False, "01"),
        ("pcm", False, "10"),
        ("pcm", True, "01"),
        ("pcm", True, "10"),
        ("ulaw", False, "01"),
        ("ulaw", True, "01"),
        ("alaw", False, "01"),
    ],
)
@pytest.mark.parametrize("channels", [1, 2])
def test_write_read_round_trip(tmp_path, coding, shorten, byte_format, channels):
    pcm = conversation(5003, channels)
    path = tmp_path / "x.sph"
    header = write_sphere(path, pcm, RATE, coding=coding, shorten=shorten, byte_format=byte_format)
    assert header == read_sphere_header(path)
    assert header.sample_count == 5003 and header.channel_count == channels and header.header_size == 1024
    assert header.is_shorten == shorten
    samples, rate = read_sphere(path)
    assert rate == RATE and samples.dtype == np.int16 and samples.shape == (5003, channels)
    np.testing.assert_array_equal(samples, expected_linear(pcm, coding))
    data = read_sphere_data(path)
    assert data.shortened == shorten
    assert header.fields["sample_checksum"] == sphere_checksum(data.samples)
    if not shorten:
        n_bytes = 2 if coding == "pcm" else 1
        assert path.stat().st_size == 1024 + 5003 * channels * n_bytes
    # ranges and channel selection
    part, _ = read_sphere(path, start=1000, end=1300)
    np.testing.assert_array_equal(part, expected_linear(pcm, coding)[1000:1300])
    last, _ = read_sphere(path, channel=channels - 1, start=4990)
    np.testing.assert_array_equal(last, expected_linear(pcm, coding)[4990:, channels - 1 :])
    assert read_sphere(path, start=5003)[0].shape == (0, channels)


def test_byte_order_on_disk(tmp_path):
    pcm = np.array([[1], [-2], [0x1234]], dtype=np.int16)
    for order, dtype in (("01", "<i2"), ("10", ">i2")):
        path = tmp_path / f"{order}.sph"
        write_sphere(path, pcm, 16000, byte_format=order)
        assert path.read_bytes()[1024:] == pcm.astype(dtype).tobytes()
        assert read_sphere_header(path).sample_byte_format == order


def test_fisher_like_file(tmp_path):
    """2-channel 8 kHz µ-law shorten, as LDC's Fisher release; codes given directly."""
    codes = linear_to_ulaw(conversation(RATE * 2))
    path = tmp_path / "fe_03_00001.sph"
    header = write_sphere(path, codes, RATE, coding="ulaw", shorten=True, fields=[("database_id", "fisher")])
    text = path.read_bytes()[:1024].decode("latin-1")
    assert "sample_coding -s27 ulaw,embedded-shorten-v2.00\n" in text
    assert "sample_n_bytes -i 1\n" in text and "sample_byte_format -s1 1\n" in text
    assert header.fields["sample_checksum"] == int(codes.astype(np.int64).sum() % 65536)
    assert path.read_bytes()[1024:1029] == b"ajkg\x02"
    data = read_sphere_data(path)
    assert data.samples.dtype == np.uint8
    np.testing.assert_array_equal(data.samples, codes)
    assert path.stat().st_size < 1024 + codes.size * 0.8  # compressed


def test_field_layout(tmp_path):
    """Computed fields can be placed among the caller's to reproduce an existing layout."""
    path = tmp_path / "layout.sph"
    codes = linear_to_ulaw(conversation(300))
    layout = [
        ("sample_count", None),
        ("sample_n_bytes", None),
        ("channel_count", None),
        ("sample_byte_format", None),
        ("sample_rate", None),
        ("database_id", "fisher"),
        ("sample_coding", None),
        ("sample_checksum", 0),
    ]
    header = write_sphere(path, codes, RATE, coding="ulaw", shorten=True, fields=layout)
    assert list(header.fields) == [name for name, _ in layout]
    assert header.fields["sample_checksum"] == 0 and "sample_sig_bits" not in header.fields
    assert header.fields["sample_count"] == 300 and header.fields["sample_byte_format"] == "1"
    # A checksum of the caller's own is written as given; a wrong one is refused on reading.
    with pytest.raises(
        SphereError,
        match=rf"layout\.sph: sample_checksum mismatch: header says 0, .* {sphere_checksum(codes)}",
    ):
        read_sphere_data(path)
    np.testing.assert_array_equal(read_sphere_data(path, verify_checksum=False).samples, codes)
    with pytest.raises(ValueError, match="must place sample_rate"):
        write_sphere(path, codes, RATE, coding="ulaw", fields=[f for f in layout if f[0] != "sample_rate"])
    with pytest.raises(ValueError, match="has no value"):
        write_sphere(path, codes, RATE, coding="ulaw", fields=[("speaker", None)])
    pcm_layout = [("channel_count", None), ("sample_count", None), ("sample_rate", None)]
    pcm_layout += [("sample_n_bytes", None), ("sample_coding", None)]
    with pytest.raises(ValueError, match="must place sample_byte_format"):
        write_sphere(path, conversation(10), RATE, fields=pcm_layout)


def test_write_rejects_bad_input(tmp_path):
    path = tmp_path / "x.sph"
    pcm = conversation(100, 1)
    with pytest.raises(TypeError):
        write_sphere(path, pcm.astype(np.float32), RATE)
    with pytest.raises(TypeError):
        write_sphere(path, pcm.astype(np.int32), RATE, coding="ulaw")
    with pytest.raises(ValueError, match="cannot be shorten"):
        write_sphere(path, pcm, RATE, coding="alaw", shorten=True)
    with pytest.raises(ValueError, match="sample_count"):
        write_sphere(path, pcm, RATE, fields=[("sample_count", 3)])
    with pytest.raises(ValueError):
        write_sphere(path, pcm, RATE, coding="mp3")
    with pytest.raises(ValueError):
        write_sphere(path, pcm, 0)
    assert not path.exists()


# ------------------------------------------------------------------------------------
# Corrupt, truncated and inconsistent files
# ------------------------------------------------------------------------------------


@pytest.fixture()
def fisher_file(tmp_path) -> Path:
    path = tmp_path / "conv.sph"
    write_sphere(path, conversation(4000), RATE, coding="ulaw", shorten=True)
    return path


def test_truncated_shorten_file(fisher_file):
    data = fisher_file.read_bytes()
    for cut in (1024, 1026, 1100, len(data) // 2, len(data) - 1):
        fisher_file.write_bytes(data[:cut])
        with pytest.raises(SphereError, match=rf"{fisher_file.name}: .*(truncated|mismatch|magic)"):
            read_sphere(fisher_file)


def test_truncated_header(tmp_path):
    path = tmp_path / "short.sph"
    path.write_bytes(b"NIST_1A\n   1024\nchannel_count -i 1\n")
    with pytest.raises(SphereError, match=r"short\.sph: truncated"):
        read_sphere(path)


def test_sample_count_mismatch(tmp_path, fisher_file):
    data = bytearray(fisher_file.read_bytes())
    for wrong in (b"3999", b"4001"):
        patched = bytes(data).replace(b"sample_count -i 4000", b"sample_count -i " + wrong)
        fisher_file.write_bytes(patched)
        with pytest.raises(SphereError, match="sample_count mismatch"):
            read_sphere(fisher_file)
    plain = tmp_path / "plain.sph"
    write_sphere(plain, conversation(100, 1), RATE)
    raw = plain.read_bytes()
    for body in (raw[:-1], raw + b"\0\0"):
        plain.write_bytes(body)
        with pytest.raises(SphereError, match=r"plain\.sph: sample_count mismatch"):
            read_sphere(plain)


def test_header_says_shorten_but_data_is_not(tmp_path):
    path = tmp_path / "x.sph"
    write_sphere(path, conversation(100, 1), RATE, coding="ulaw")
    data = path.read_bytes().replace(
        b"sample_coding -s4 ulaw", b"sample_coding -s27 ulaw,embedded-shorten-v2.00"
    )
    path.write_bytes(data)
    with pytest.raises(SphereError, match="bad magic"):
        read_sphere(path)


def test_stream_disagrees_with_header(tmp_path):
    pcm = conversation(300, 2)
    head = header_bytes(
        "channel_count -i 1", "sample_count -i 300", "sample_rate -i 8000", "sample_n_bytes -i 1",
        "sample_coding -s27 ulaw,embedded-shorten-v2.00",
    )  # fmt: skip
    path = tmp_path / "chan.sph"
    path.write_bytes(head + encode_shorten(linear_to_ulaw(pcm), ShortenFileType.AU2))
    with pytest.raises(SphereError, match="2 channel"):
        read_sphere(path)
    head = header_bytes(
        "channel_count -i 2", "sample_count -i 300", "sample_rate -i 8000", "sample_n_bytes -i 2",
        "sample_byte_format -s2 01", "sample_coding -s26 pcm,embedded-shorten-v2.00",
    )  # fmt: skip
    path.write_bytes(head + encode_shorten(linear_to_ulaw(pcm), ShortenFileType.AU2))
    with pytest.raises(SphereError, match="AU2 does not match sample_coding pcm"):
        read_sphere(path)


def test_unsigned_shorten_pcm_is_reinterpreted(tmp_path):
    pcm = conversation(700, 1)
    head = header_bytes(
        "channel_count -i 1", "sample_count -i 700", "sample_rate -i 8000", "sample_n_bytes -i 2",
        "sample_byte_format -s2 01", "sample_coding -s26 pcm,embedded-shorten-v2.00",
    )  # fmt: skip
    path = tmp_path / "u16.sph"
    path.write_bytes(head + encode_shorten(pcm.view(np.uint16), ShortenFileType.U16LH))
    np.testing.assert_array_equal(read_sphere(path)[0], pcm)


def test_corrupt_shorten_payload(fisher_file):
    data = bytearray(fisher_file.read_bytes())
    data[1030:1060] = b"\xff" * 30
    fisher_file.write_bytes(bytes(data))
    with pytest.raises(SphereError, match=rf"{fisher_file.name}: corrupt shorten stream|mismatch"):
        read_sphere(fisher_file)


def test_bad_ranges_and_channel(fisher_file):
    with pytest.raises(SphereError, match="start sample 5000"):
        read_sphere(fisher_file, start=5000)
    with pytest.raises(ValueError, match="channel 2 out of range"):
        read_sphere(fisher_file, channel=2)
    assert read_sphere(fisher_file, start=10, end=5)[0].shape == (0, 2)
    assert read_sphere(fisher_file, end=10**9)[0].shape == (4000, 2)


def test_sphere_checksum_is_nists_definition():
    """Sum modulo 65536 of the samples: int16 as unsigned 16-bit values, codes as unsigned bytes."""
    assert sphere_checksum(np.array([[-1], [3]], dtype=np.int16)) == 2
    assert sphere_checksum(np.array([-32768, 32767, 1], dtype=np.int16)) == 0
    assert sphere_checksum(np.full(300, 0xFF, dtype=np.uint8)) == 300 * 255 % 65536
    assert sphere_checksum(np.array([[0x7F, 0x80], [0x01, 0x00]], dtype=np.uint8)) == 0x100


@pytest.mark.parametrize(("coding", "shorten"), [("pcm", False), ("ulaw", False), ("alaw", False),
                                                 ("ulaw", True), ("pcm", True)])  # fmt: skip
def test_checksum_verified_on_whole_reads(tmp_path, monkeypatch, coding, shorten):
    pcm = conversation(2000, 2)
    path = tmp_path / "x.sph"
    header = write_sphere(path, pcm, RATE, coding=coding, shorten=shorten)
    good = int(header.fields["sample_checksum"])
    np.testing.assert_array_equal(read_sphere(path)[0], expected_linear(pcm, coding))
    wrong = (good + 1) % 65536
    write_sphere(path, pcm, RATE, coding=coding, shorten=shorten, fields=[("sample_checksum", wrong)])
    message = rf"x\.sph: sample_checksum mismatch: header says {wrong}, the .*samples sum to {good}"
    with pytest.raises(SphereError, match=message):
        read_sphere(path)
    # Opting out, per call or for every reader; a partial read is not verified.
    np.testing.assert_array_equal(read_sphere(path, verify_checksum=False)[0], expected_linear(pcm, coding))
    np.testing.assert_array_equal(read_sphere(path, start=1)[0], expected_linear(pcm, coding)[1:])
    monkeypatch.setenv("SPEECHSENT_SPHERE_CHECKSUM", "ignore")
    np.testing.assert_array_equal(read_sphere(path)[0], expected_linear(pcm, coding))


def test_checksum_of_big_endian_pcm_is_over_values(tmp_path):
    """As NIST's big-endian test file shows: the sum of the values, not of the bytes as stored."""
    pcm = conversation(500, 1)
    path = tmp_path / "be.sph"
    write_sphere(path, pcm, RATE, byte_format="10")
    assert read_sphere_header(path).sample_checksum == sphere_checksum(pcm)
    np.testing.assert_array_equal(read_sphere(path)[0], pcm)
    swapped = sphere_checksum(pcm.byteswap())
    assert swapped != sphere_checksum(pcm)
    write_sphere(path, pcm, RATE, byte_format="10", fields=[("sample_checksum", swapped)])
    with pytest.raises(SphereError, match="sample_checksum mismatch"):
        read_sphere(path)


def test_corrupt_stream_that_still_decodes_is_caught_by_the_checksum(fisher_file):
    """A bit flip the shorten decoder cannot see (right length, wrong samples) is a checksum error."""
    from speechsent.audio.shorten import ShortenError, decode_shorten

    data = fisher_file.read_bytes()
    original = decode_shorten(data[1024:]).samples
    rng = np.random.default_rng(0)
    for _ in range(2000):
        damaged = bytearray(data)
        pos = int(rng.integers(1029, len(data)))
        damaged[pos] ^= 1 << int(rng.integers(8))
        try:
            decoded = decode_shorten(bytes(damaged[1024:])).samples
        except ShortenError:
            continue
        if decoded.shape == original.shape and not np.array_equal(decoded, original):
            break
    else:
        pytest.fail("no silently wrong decode found")
    fisher_file.write_bytes(bytes(damaged))
    with pytest.raises(SphereError, match=r"conv\.sph: sample_checksum mismatch"):
        read_sphere(fisher_file)


def test_corrupt_stream_work_is_bounded_by_sample_count(tmp_path):
    """Zero blocks of a million samples cost 5 bits each: decoding stops past sample_count."""
    import sys
    import time

    sys.path.insert(0, str(Path(__file__).parent))
    from test_shorten import BitWriter

    writer = BitWriter().header(ftype=8, nchan=1, blocksize=1 << 20)
    for _ in range(2000):
        writer.uvar(8, 2)  # ZERO
    stream = writer.uvar(4, 2).to_bytes()
    path = tmp_path / "zeros.sph"
    path.write_bytes(
        header_bytes("channel_count -i 1", "sample_count -i 100", "sample_rate -i 8000",
                     "sample_coding -s27 ulaw,embedded-shorten-v2.00") + stream
    )  # fmt: skip
    began = time.perf_counter()
    with pytest.raises(SphereError, match="sample_count mismatch"):
        read_sphere(path)
    assert time.perf_counter() - began < 5  # unbounded: 2e9 samples, minutes and gigabytes


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_sphere(tmp_path / "nope.sph")
