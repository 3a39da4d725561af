"""speechsent-sph2pipe: sph2pipe v2.5's options, output formats and errors."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from speechsent.audio.g711 import alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear
from speechsent.audio.sphere import read_sphere, read_sphere_header, sphere_checksum, write_sphere
from speechsent.bin.sph2pipe import get_parser, main

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = ROOT / ".." / "shared" / "testdata" / "sphere"
RATE = 8000


def conversation(n: int = 8000, channels: int = 2) -> np.ndarray:
    t = np.arange(n) / RATE
    rng = np.random.default_rng(5)
    talk = [
        np.sin(2 * np.pi * (150 + 70 * ch) * t) * np.clip(np.sin(2 * np.pi * 3 * t + ch), 0, None)
        for ch in range(channels)
    ]
    out = 12000 * np.stack(talk, axis=1) + rng.normal(0, 50, (n, channels))
    out[:3] = np.array([-32768, 32767, 0])[:, None]  # full scale, both signs
    return np.clip(out, -32768, 32767).astype(np.int16)


@pytest.fixture()
def ulaw_shn(tmp_path) -> tuple[Path, np.ndarray]:
    """2-channel 8 kHz µ-law shorten (Fisher-like) and its µ-law codes."""
    codes = linear_to_ulaw(conversation())
    path = tmp_path / "fe.sph"
    write_sphere(path, codes, RATE, coding="ulaw", shorten=True, fields=[("database_id", "fisher")])
    return path, codes


@pytest.fixture()
def pcm_be(tmp_path) -> tuple[Path, np.ndarray]:
    pcm = conversation()
    path = tmp_path / "pcm.sph"
    write_sphere(path, pcm, RATE, byte_format="10")
    return path, pcm


def run(*args: str | Path) -> int:
    return main([str(a) for a in args])


# ------------------------------------------------------------------------------------
# Argument handling
# ------------------------------------------------------------------------------------


def test_parser_follows_sph2pipe():
    parser = get_parser()
    args = parser.parse_args(["-f", "WAVE", "-p", "-c", "2", "-t", "1:2.5", "in.sph", "out.wav"])
    assert (args.out_format, args.coding, args.channel, args.seconds) == ("wav", "pcm", "2", (1.0, 2.5))
    assert (args.infile, args.outfile, args.header_file) == ("in.sph", "out.wav", None)
    args = parser.parse_args(["-h", "hdr.sph", "-s", ":100", "-u", "data.raw"])
    assert (args.header_file, args.samples, args.coding, args.outfile) == (
        "hdr.sph",
        (None, 100),
        "ulaw",
        None,
    )
    assert parser.parse_args(["x"]).out_format == "sph"
    formats = ("rif", "raw", "SPH", "au", "aiff", "mac")
    assert [parser.parse_args(["-f", v, "x"]).out_format for v in formats] == [
        "wav", "raw", "sph", "au", "aif", "aif"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["-f", "mp3", "x.sph"],
        ["-c", "3", "x.sph"],
        ["-t", "5", "x.sph"],
        ["-t", "2:1", "x.sph"],
        ["-t", "0:01:30:0:02:00", "x.sph"],
        ["-t", "-1:2", "x.sph"],
        ["-s", "1.5:3", "x.sph"],
        ["-s", "10:5", "x.sph"],
        ["-t", "1:2", "-s", "1:2", "x.sph"],
        ["-p", "-u", "x.sph"],
        ["a", "b", "c"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage: speechsent-sph2pipe" in capsys.readouterr().err


# ------------------------------------------------------------------------------------
# Output formats and conversions
# ------------------------------------------------------------------------------------


def test_wav_pcm(ulaw_shn, tmp_path):
    path, codes = ulaw_shn
    out = tmp_path / "out.wav"
    assert run("-f", "wav", "-p", path, out) == 0
    data = out.read_bytes()
    assert data[:4] == b"RIFF" and struct.unpack("<I", data[4:8])[0] == len(data) - 8
    assert len(data) == 44 + codes.size * 2
    with wave.open(str(out)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (
            2,
            2,
            RATE,
            len(codes),
        )
        frames = np.frombuffer(w.readframes(len(codes)), "<i2").reshape(-1, 2)
    np.testing.assert_array_equal(frames, ulaw_to_linear(codes))


def test_wav_ulaw_header(ulaw_shn, tmp_path):
    path, codes = ulaw_shn
    out = tmp_path / "out.wav"
    assert run("-f", "wav", "-c", "2", path, out) == 0
    data = out.read_bytes()
    n = len(codes)
    fmt = struct.pack("<IHHIIHHH", 18, 7, 1, RATE, RATE, 1, 8, 0)  # µ-law, mono, 8 bit, cbSize 0
    fact = b"fact" + struct.pack("<II", 4, n)
    expected = b"RIFF" + struct.pack("<I", n + 50) + b"WAVEfmt " + fmt + fact + b"data" + struct.pack("<I", n)
    assert data[:58] == expected
    assert data[58:] == codes[:, 1].tobytes()


@pytest.mark.parametrize("flag", ["-c", None])
def test_raw_channels_and_ranges(ulaw_shn, tmp_path, flag):
    path, codes = ulaw_shn
    linear = ulaw_to_linear(codes)
    out = tmp_path / "out.raw"
    args = ["-f", "raw", "-p", "-t", "0.25:0.5"] + ([flag, "1"] if flag else []) + [path, out]
    assert run(*args) == 0
    expected = linear[2000:4000, :1] if flag else linear[2000:4000]
    assert out.read_bytes() == expected.astype("=i2").tobytes()
    assert run("-f", "raw", "-s", "10:20", "-c", "2", path, out) == 0
    assert out.read_bytes() == codes[10:20, 1].tobytes()
    assert run("-f", "raw", "-s", "7990:", path, out) == 0
    assert out.read_bytes() == codes[7990:].tobytes()


def test_mono_input_ignores_channel_option(tmp_path):
    pcm = conversation(500, 1)
    path = tmp_path / "mono.sph"
    write_sphere(path, pcm, RATE, shorten=True)
    out = tmp_path / "o.raw"
    assert run("-f", "raw", "-c", "2", path, out) == 0
    assert out.read_bytes() == pcm.astype("=i2").tobytes()


def test_coding_conversions(pcm_be, tmp_path):
    path, pcm = pcm_be
    out = tmp_path / "o.raw"
    assert run("-f", "raw", "-u", path, out) == 0
    ulaw = np.frombuffer(out.read_bytes(), np.uint8).reshape(-1, 2)
    expected = linear_to_ulaw(pcm)
    expected[pcm == -32768] = 0x7F  # as sph2pipe's pcm2ulaw
    np.testing.assert_array_equal(ulaw, expected)
    assert run("-f", "raw", "-a", path, out) == 0
    np.testing.assert_array_equal(
        np.frombuffer(out.read_bytes(), np.uint8).reshape(-1, 2), linear_to_alaw(pcm)
    )
    assert run("-f", "raw", path, out) == 0  # big-endian input, native output
    assert out.read_bytes() == pcm.astype("=i2").tobytes()

    alaw_path = tmp_path / "alaw.sph"
    write_sphere(alaw_path, pcm, RATE, coding="alaw")
    alaw = linear_to_alaw(pcm)
    assert run("-f", "raw", "-p", alaw_path, out) == 0
    assert out.read_bytes() == alaw_to_linear(alaw).astype("=i2").tobytes()
    assert run("-f", "raw", "-u", alaw_path, out) == 0
    assert out.read_bytes() == linear_to_ulaw(alaw_to_linear(alaw)).tobytes()


def test_au_and_aiff(pcm_be, tmp_path):
    path, pcm = pcm_be
    out = tmp_path / "o.au"
    assert run("-f", "au", "-c", "1", path, out) == 0
    data = out.read_bytes()
    assert data[:24] == b".snd" + struct.pack(">IIIII", 24, len(pcm) * 2, 3, RATE, 1)
    assert data[24:] == pcm[:, 0].astype(">i2").tobytes()
    assert run("-f", "au", "-a", path, out) == 0
    assert struct.unpack(">I", out.read_bytes()[12:16])[0] == 27  # A-law

    aif = tmp_path / "o.aif"
    assert run("-f", "aif", "-u", path, aif) == 0  # AIFF is always pcm
    data = aif.read_bytes()
    n = len(pcm)
    assert data[:12] == b"FORM" + struct.pack(">I", n * 4 + 46) + b"AIFF"
    assert data[12:28] == b"COMM" + struct.pack(">IHIH", 18, 2, n, 16)
    assert data[28:38] == bytes.fromhex("400bfa00000000000000")  # 8000.0 as 80-bit float
    assert data[38:54] == b"SSND" + struct.pack(">III", n * 4 + 8, 0, 0)
    assert data[54:] == pcm.astype(">i2").tobytes()


def test_sph_output(ulaw_shn, tmp_path):
    path, codes = ulaw_shn
    out = tmp_path / "o.sph"
    assert run("-p", "-c", "1", "-s", "100:2100", path, out) == 0
    header = read_sphere_header(out)
    assert header.header_size == 1024 and not header.is_shorten
    assert (header.channel_count, header.sample_count, header.sample_coding, header.sample_n_bytes) == (
        1, 2000, "pcm", 2
    )  # fmt: skip
    assert header.sample_byte_format == ("01" if sys.byteorder == "little" else "10")
    assert header.fields["database_id"] == "fisher" and header.fields["sample_sig_bits"] == 16
    assert "sample_checksum" not in header.fields
    head = out.read_bytes()[:1024]
    tail = head[head.index(b"end_head\n") + 9 :]
    assert set(tail) <= {ord(" "), ord("\n")}
    samples, rate = read_sphere(out)
    assert rate == RATE
    np.testing.assert_array_equal(samples, ulaw_to_linear(codes[100:2100, :1]))
    # Uncompressed µ-law copy keeps the coding and both channels.
    assert run(path, out) == 0
    again = read_sphere_header(out)
    assert again.sample_coding == "ulaw" and again.compression is None and again.channel_count == 2
    np.testing.assert_array_equal(read_sphere(out)[0], ulaw_to_linear(codes))


def test_sph_output_rewrites_fields_of_any_type(tmp_path):
    """A libsndfile header (``sample_n_bytes -s1 1``, NUL padding) converted to pcm describes the output."""
    import soundfile

    path = tmp_path / "sf.sph"
    soundfile.write(path, conversation(800), RATE, format="NIST", subtype="ULAW")
    assert b"sample_n_bytes -s1 1\n" in path.read_bytes()[:1024]
    out = tmp_path / "o.sph"
    assert run("-p", "-c", "2", path, out) == 0
    text = out.read_bytes()[:1024].decode("latin-1")
    assert "sample_n_bytes -i 2\n" in text and "-s1 1" not in text and "\0" not in text
    header = read_sphere_header(out)
    assert (header.channel_count, header.sample_n_bytes, header.sample_coding) == (1, 2, "pcm")
    expected, _ = soundfile.read(path, dtype="int16", always_2d=True)
    np.testing.assert_array_equal(read_sphere(out)[0], expected[:, 1:])


def test_no_checksum_option(ulaw_shn, tmp_path, capsys):
    path, codes = ulaw_shn
    data = path.read_bytes()
    good = read_sphere_header(path).sample_checksum
    assert good is not None
    bad = (good + 1) % 65536
    head = data[:1024].replace(
        f"sample_checksum -i {good}\n".encode(), f"sample_checksum -i {bad}\n".encode()
    )
    path.write_bytes(head.ljust(1024, b" ")[:1024] + data[1024:])
    out = tmp_path / "o.wav"
    assert run("-f", "wav", "-p", path, out) == 1 and not out.exists()
    assert f"sample_checksum mismatch: header says {bad}" in capsys.readouterr().err
    assert run("--no_checksum", "-f", "wav", "-p", path, out) == 0
    with wave.open(str(out)) as reader:
        pcm = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2").reshape(-1, 2)
    np.testing.assert_array_equal(pcm, ulaw_to_linear(codes))
    assert "--no_checksum" in get_parser().format_help()


def test_headerless_input_with_header_file(pcm_be, tmp_path):
    path, pcm = pcm_be
    raw = tmp_path / "data.raw"
    raw.write_bytes(path.read_bytes()[1024:])
    out = tmp_path / "o.raw"
    assert run("-h", path, "-f", "raw", "-s", "5:9", raw, out) == 0
    assert out.read_bytes() == pcm[5:9].astype("=i2").tobytes()


# ------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------


def test_errors_name_the_file_and_write_nothing(ulaw_shn, tmp_path, capsys):
    path, _ = ulaw_shn
    data = path.read_bytes()
    out = tmp_path / "out.wav"
    cases = {
        "truncated.sph": (data[: len(data) // 2], "truncated shorten stream"),
        "badmagic.sph": (data[:1024] + b"xxxx" + data[1028:], "bad magic"),
        "count.sph": (
            data.replace(b"sample_count -i 8000", b"sample_count -i 8001"),
            "sample_count mismatch",
        ),
        "coding.sph": (data.replace(b"-s27 ulaw,", b"-s27 gsm6,"), "unsupported SPHERE sample_coding"),
        "header.sph": (b"NIST_1B" + data[7:], "not a NIST SPHERE file"),
    }
    for name, (content, reason) in cases.items():
        bad = tmp_path / name
        bad.write_bytes(content)
        assert run("-f", "wav", "-p", bad, out) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"speechsent-sph2pipe: {bad}: ") and reason in err, err
        assert not out.exists()
    assert run("-f", "wav", tmp_path / "missing.sph", out) == 1
    assert "missing.sph: No such file or directory" in capsys.readouterr().err
    assert run("-t", "2:", path, out) == 1
    assert "start point > length" in capsys.readouterr().err


# ------------------------------------------------------------------------------------
# As a command
# ------------------------------------------------------------------------------------


def command(*args: str | Path, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "speechsent.bin.sph2pipe", *map(str, args)],
        env=env,
        capture_output=True,
        **kwargs,
    )


def test_stdout_and_closed_pipe(ulaw_shn, tmp_path):
    path, codes = ulaw_shn
    result = command("-f", "wav", "-p", path)
    assert result.returncode == 0 and result.stderr == b""
    assert result.stdout[44:] == ulaw_to_linear(codes).astype("<i2").tobytes()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    pipeline = subprocess.run(
        [
            "bash",
            "-c",
            f'"{sys.executable}" -m speechsent.bin.sph2pipe -f raw -p "{path}" | head -c 100 | wc -c; '
            "exit ${PIPESTATUS[0]}",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert pipeline.stdout.strip() == "100"
    assert pipeline.returncode == 0 and pipeline.stderr == ""


def test_help_is_light():
    result = command("--help", text=True)
    assert result.returncode == 0 and "-t b:e" in result.stdout and "hdrfile" in result.stdout
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, speechsent.bin.sph2pipe as m; m.get_parser().format_help(); "
            "print(sorted(x for x in ('numpy', 'numba', 'scipy') if x in sys.modules))",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert probe.stdout.strip() == "[]"


@pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="shared SPHERE conformance vectors not present")
def test_conformance_with_real_nist_files(tmp_path):
    """Real NIST files: `-f wav -p` output equals what LDC's sph2pipe wrote, byte for byte, and
    write_sphere, given the same samples and header layout, writes the very same file."""
    from speechsent.audio.sphere import read_sphere_data

    files = sorted(CONFORMANCE.glob("*.sph"))
    assert files
    computed = {
        "channel_count",
        "sample_count",
        "sample_rate",
        "sample_n_bytes",
        "sample_byte_format",
        "sample_coding",
    }
    for sph in files:
        out = tmp_path / (sph.stem + ".wav")
        assert run("-f", "wav", "-p", sph, out) == 0
        assert out.read_bytes() == (CONFORMANCE / f"{sph.stem}.ref.wav").read_bytes(), sph.name

        data = read_sphere_data(sph)  # verifies sample_checksum: NIST's definition on NIST's files
        header = data.header
        assert header.sample_checksum is not None, sph.name
        assert header.sample_checksum == sphere_checksum(data.samples), sph.name
        layout = [(name, None if name in computed else value) for name, value in header.fields.items()]
        copy = tmp_path / sph.name
        write_sphere(
            copy,
            data.samples,
            header.sample_rate,
            coding=header.sample_coding,
            shorten=data.shortened,
            byte_format=header.sample_byte_format if header.sample_coding == "pcm" else "01",
            fields=layout,
        )
        assert copy.read_bytes() == sph.read_bytes(), sph.name
