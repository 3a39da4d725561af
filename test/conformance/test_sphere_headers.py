"""SPHERE files written by other tools, read as sph2pipe v2.5 reads them.

Fixtures are written at test time: by libsndfile (``soundfile.write(..., format="NIST")``) in pcm16,
µ-law and A-law, 1 and 2 channels (libsndfile writes ``sample_n_bytes -s1 1`` for µ-law / A-law, its own
field order, no ``sample_checksum`` and NUL padding), and by hand, with every header variation sph2pipe
accepts (field types, spacing, order, optional fields, header sizes, padding) and every defect it refuses
or would turn into garbage.  ``speechsent-sph2pipe -f wav -p [-c N]`` must write exactly the bytes
sph2pipe writes: the RIFF header of the project's sph2pipe-identical writer, then the samples as the
reference decodes them (``soundfile.read(dtype="int16")`` for pcm, the G.711 tables for µ-law / A-law,
which equal libsndfile's and sph2pipe's).  ``sox`` and ``ffmpeg``, when on PATH, decode the same files
to the same samples.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from speechsent.audio.g711 import alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear
from speechsent.audio.io import read_recording
from speechsent.audio.shorten import ShortenFileType, encode_shorten
from speechsent.audio.sph2pipe import wav_header
from speechsent.audio.sphere import SphereError, read_sphere, read_sphere_header, sphere_checksum
from speechsent.bin.sph2pipe import main
from speechsent.kaldi.data_dir import WavEntry

RATE = 8000
N = 1500

# (soundfile subtype, endian, coding)
SOUNDFILE_SUBTYPES = [
    ("PCM_16", "LITTLE", "pcm"),
    ("PCM_16", "BIG", "pcm"),
    ("ULAW", "FILE", "ulaw"),
    ("ALAW", "FILE", "alaw"),
]


def speech(n: int = N, channels: int = 2, seed: int = 0) -> np.ndarray:
    """int16 speech-like audio, a different talker per channel, full scale included."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    out = np.empty((n, channels))
    for ch in range(channels):
        phase = 2 * np.pi * np.cumsum(120 + 60 * ch + 25 * np.sin(2 * np.pi * 0.8 * t)) / RATE
        voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
        out[:, ch] = 9000 * voiced * np.clip(np.sin(2 * np.pi * (3 + ch) * t + ch), 0, None)
        out[:, ch] += rng.normal(0, 40, n)
    out[:2] = np.array([-32768, 32767])[:, None]
    return np.clip(out, -32768, 32767).astype(np.int16)


def sph2pipe_wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    """What ``sph2pipe -f wav -p`` writes for these int16 samples (num_samples, channels)."""
    count, channels = samples.shape
    return wav_header(count, channels, rate, "pcm") + np.ascontiguousarray(samples).astype("<i2").tobytes()


def run_sph2pipe(*args: str | Path) -> int:
    return main([str(a) for a in args])


# ------------------------------------------------------------------------------------
# Written by libsndfile
# ------------------------------------------------------------------------------------


@pytest.fixture(
    params=[(sub, endian, coding, ch) for sub, endian, coding in SOUNDFILE_SUBTYPES for ch in (1, 2)],
    ids=lambda p: f"{p[0]}-{p[1].lower()}-{p[3]}ch",
)
def soundfile_sphere(request, tmp_path) -> tuple[Path, str, np.ndarray]:
    """A SPHERE file libsndfile wrote, its coding, and the reference int16 decoding."""
    subtype, endian, coding, channels = request.param
    path = tmp_path / f"sf_{subtype}_{endian}_{channels}.sph"
    soundfile.write(path, speech(channels=channels), RATE, format="NIST", subtype=subtype, endian=endian)
    reference, rate = soundfile.read(path, dtype="int16", always_2d=True)
    assert rate == RATE and reference.shape == (N, channels)
    if coding != "pcm":  # soundfile's expansion is sph2pipe's G.711 table
        raw = np.frombuffer(path.read_bytes()[1024:], dtype=np.uint8).reshape(-1, channels)
        expand = ulaw_to_linear if coding == "ulaw" else alaw_to_linear
        np.testing.assert_array_equal(reference, expand(raw))
    return path, coding, reference


def test_soundfile_header_is_what_the_issue_describes(soundfile_sphere):
    """The fixtures really use libsndfile's layout (else the tests below would prove nothing)."""
    path, coding, _ = soundfile_sphere
    head = path.read_bytes()[:1024]
    assert b"sample_checksum" not in head and head.endswith(b"\0")
    if coding == "pcm":
        assert b"sample_n_bytes -i 2\n" in head
    else:
        assert b"sample_n_bytes -s1 1\n" in head and b"sample_byte_format" not in head
    header = read_sphere_header(path)
    assert header.sample_coding == coding and header.sample_n_bytes == (2 if coding == "pcm" else 1)
    assert header.sample_count == N and header.sample_checksum is None


def test_read_equals_soundfile(soundfile_sphere):
    path, _, reference = soundfile_sphere
    samples, rate = read_sphere(path)
    assert rate == RATE and samples.dtype == np.int16
    np.testing.assert_array_equal(samples, reference)


def test_sph2pipe_wav_bytes(soundfile_sphere, tmp_path):
    path, _, reference = soundfile_sphere
    channels = reference.shape[1]
    for option in (None, 1, 2):
        out = tmp_path / f"out{option}.wav"
        args = ["-f", "wav", "-p"] + ([] if option is None else ["-c", str(option)]) + [path, out]
        assert run_sph2pipe(*args) == 0
        expected = reference if option is None or channels == 1 else reference[:, option - 1 : option]
        assert out.read_bytes() == sph2pipe_wav(expected), f"-c {option}"
        again, rate = soundfile.read(out, dtype="int16", always_2d=True)
        assert rate == RATE
        np.testing.assert_array_equal(again, expected)


def test_sph2pipe_command_writes_the_same_bytes(soundfile_sphere, tmp_path):
    """The command itself, to standard output, as a ``wav.scp`` pipe runs it."""
    path, _, reference = soundfile_sphere
    result = subprocess.run(
        [sys.executable, "-m", "speechsent.bin.sph2pipe", "-f", "wav", "-p", "-c", "1", str(path)],
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == sph2pipe_wav(reference[:, :1])


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")
def test_sox_decodes_the_same_samples(soundfile_sphere):
    path, _, reference = soundfile_sphere
    result = subprocess.run(
        ["sox", "-V1", str(path), "-t", "raw", "-e", "signed", "-b", "16", "-L", "-"],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0 and b"unsupported coding" in result.stderr:
        pytest.skip(f"this sox does not read it: {result.stderr.decode().strip()}")  # SoX 14.4: no A-law
    assert result.returncode == 0, result.stderr.decode()
    sox = np.frombuffer(result.stdout, dtype="<i2").reshape(-1, reference.shape[1])
    np.testing.assert_array_equal(read_sphere(path)[0], sox)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
def test_ffmpeg_decodes_the_same_samples(soundfile_sphere):
    path, _, reference = soundfile_sphere
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-"], capture_output=True, check=True
    )
    ffmpeg = np.frombuffer(result.stdout, dtype="<i2").reshape(-1, reference.shape[1])
    np.testing.assert_array_equal(read_sphere(path)[0], ffmpeg)


def test_wav_scp_pipe_in_process(tmp_path):
    """A ``sph2pipe -f wav -p -c 2 F.sph |`` entry on a libsndfile µ-law 2-channel file: channel 2."""
    path = tmp_path / "sw02001.sph"
    soundfile.write(path, speech(), RATE, format="NIST", subtype="ULAW")
    reference, _ = soundfile.read(path, dtype="int16", always_2d=True)
    for command, channel in (
        (f"sph2pipe -f wav -p -c 2 {path} |", 1),
        (f"sph2pipe -f wav -p {path} |", None),
    ):
        recording = read_recording(WavEntry.from_command("sw02001", command))
        assert recording.rate == RATE
        expected = reference if channel is None else reference[:, channel : channel + 1]
        np.testing.assert_array_equal(recording.samples, expected)


def test_libsndfile_multibyte_pcm_is_refused_clearly(tmp_path):
    """1-, 3- and 4-byte pcm (libsndfile writes them) are beyond sph2pipe: a clear error, never garbage."""
    for subtype, width in (("PCM_24", 3), ("PCM_32", 4), ("PCM_S8", 1)):
        path = tmp_path / f"{subtype}.sph"
        soundfile.write(path, speech(200, 1), RATE, format="NIST", subtype=subtype)
        with pytest.raises(SphereError, match=rf"{path.name}: .*pcm with sample_n_bytes {width}"):
            read_sphere(path)


# ------------------------------------------------------------------------------------
# Written by hand
# ------------------------------------------------------------------------------------


def sphere_file(
    lines: list[str],
    data: bytes,
    *,
    size: int = 1024,
    pad: bytes = b" ",
    end: str = "end_head",
    eol: str = "\n",
) -> bytes:
    text = f"NIST_1A{eol}{size:7d}{eol}" + "".join(line + eol for line in lines) + end + eol
    head = text.encode("latin-1")
    assert len(head) <= size
    return head + (pad * size)[: size - len(head)] + data


def pcm_fields(count: int, channels: int, order: str = "01") -> list[str]:
    return [
        "database_id -s13 Switchboard-1",
        f"channel_count -i {channels}",
        f"sample_count -i {count}",
        f"sample_rate -i {RATE}",
        "sample_n_bytes -i 2",
        f"sample_byte_format -s2 {order}",
        "sample_sig_bits -i 16",
        "sample_coding -s3 pcm",
    ]


def ulaw_fields(count: int, channels: int) -> list[str]:
    return [
        f"channel_count -i {channels}",
        f"sample_count -i {count}",
        f"sample_rate -i {RATE}",
        "sample_n_bytes -i 1",
        "sample_byte_format -s1 1",
        "sample_sig_bits -i 8",
        "sample_coding -s4 ulaw",
    ]


def replace(lines: list[str], name: str, new: str | None) -> list[str]:
    """``lines`` with the field ``name`` replaced by ``new`` (None: removed)."""
    out = [new if line.split()[0] == name else line for line in lines]
    return [line for line in out if line is not None]


PCM = speech(N, 2, seed=3)
CODES = linear_to_ulaw(speech(N, 2, seed=4))
PCM_LE = PCM.astype("<i2").tobytes()
PCM_BE = PCM.astype(">i2").tobytes()
ULAW = CODES.tobytes()
ULAW_LINEAR = ulaw_to_linear(CODES)
P = pcm_fields(N, 2)
U = ulaw_fields(N, 2)
P_SUM = f"sample_checksum -i {sphere_checksum(PCM)}"
U_SUM = f"sample_checksum -i {sphere_checksum(CODES)}"
SHORTEN_ULAW = "sample_coding -s27 ulaw,embedded-shorten-v2.00"
SHORTEN_PCM = "sample_coding -s26 pcm,embedded-shorten-v2.00"
STRING_COUNTS = replace(
    replace(replace(P, "channel_count", "channel_count -s1 2"), "sample_rate", "sample_rate -s4 8000"),
    "sample_count",
    f"sample_count -s{len(str(N))} {N}",
)
REAL_COUNTS = replace(
    replace(P, "sample_rate", "sample_rate -r 8000.0"), "sample_n_bytes", "sample_n_bytes -r 2"
)
WRONG_LENGTHS = replace(
    replace(U, "sample_coding", "sample_coding -s2 ulaw"), "sample_byte_format", "sample_byte_format -s9 1"
)
OTHER_LINES = [
    "; a comment",
    "speaker_id -s4 1001",
    "gain -r not-a-number",
    "free text, not a field",
    "x -q 1",
]
MINIMAL_ULAW = [
    "channel_count -i 2",
    f"sample_count -i {N}",
    f"sample_rate -i {RATE}",
    "sample_coding -s4 ulaw",
]

# id -> (header lines, data, reference int16 samples, sphere_file() options).
# "(sph2pipe refuses)" marks variants read here although sph2pipe v2.5 does not (see the module
# docstring of speechsent.audio.sphere): the values are unambiguous.
ACCEPTED: dict[str, tuple[list[str], bytes, np.ndarray, dict]] = {
    "nist-layout-with-checksum": ([*P, P_SUM], PCM_LE, PCM, {}),
    "big-endian": (pcm_fields(N, 2, "10"), PCM_BE, PCM, {}),
    "ulaw-nist": ([*U, U_SUM], ULAW, ULAW_LINEAR, {}),
    "n_bytes-as-string": (replace(U, "sample_n_bytes", "sample_n_bytes -s1 1"), ULAW, ULAW_LINEAR, {}),
    "counts-as-strings (sph2pipe refuses)": (STRING_COUNTS, PCM_LE, PCM, {}),
    "counts-as-reals (sph2pipe refuses)": (REAL_COUNTS, PCM_LE, PCM, {}),
    "two-blanks-before-value": (
        [x.replace(" -i ", " -i  ").replace(" -s3 ", " -s3  ") for x in P],
        PCM_LE,
        PCM,
        {},
    ),
    "two-blanks-before-type (sph2pipe refuses)": (
        [x.replace(" -", "  -", 1) for x in P],
        PCM_LE,
        PCM,
        {},
    ),
    "tabs (sph2pipe refuses)": ([x.replace(" ", "\t", 1) for x in P], PCM_LE, PCM, {}),
    "trailing-blanks": ([x + "   " for x in P[1:]], PCM_LE, PCM, {}),
    "crlf (sph2pipe refuses)": (P, PCM_LE, PCM, {"eol": "\r\n"}),
    "reversed-order": (P[::-1], PCM_LE, PCM, {}),
    "no-sample_coding-2-bytes": (replace(P, "sample_coding", None), PCM_LE, PCM, {}),
    "no-coding-no-n_bytes-2-char-byte-format": (
        replace(replace(P, "sample_coding", None), "sample_n_bytes", None),
        PCM_LE,
        PCM,
        {},
    ),
    "no-n_bytes-ulaw": (replace(U, "sample_n_bytes", None), ULAW, ULAW_LINEAR, {}),
    "no-byte-format-ulaw": (replace(U, "sample_byte_format", None), ULAW, ULAW_LINEAR, {}),
    "byte-format-10-ulaw (ignored)": (
        replace(U, "sample_byte_format", "sample_byte_format -s2 10"),
        ULAW,
        ULAW_LINEAR,
        {},
    ),
    "minimal-ulaw": (MINIMAL_ULAW, ULAW, ULAW_LINEAR, {}),
    "mu-law-name (sph2pipe refuses)": (
        replace(U, "sample_coding", "sample_coding -s6 mu-law"),
        ULAW,
        ULAW_LINEAR,
        {},
    ),
    "wrong-string-lengths": ([*WRONG_LENGTHS, "database_id -s3 Switchboard-1"], ULAW, ULAW_LINEAR, {}),
    "comments-unknown-and-malformed-other-lines": ([*OTHER_LINES, *P], PCM_LE, PCM, {}),
    "header-2048": ([*(f"comment_{i} -s40 {'x' * 40}" for i in range(25)), *P], PCM_LE, PCM, {"size": 2048}),
    "header-1100": (P, PCM_LE, PCM, {"size": 1100}),
    "header-512": (P, PCM_LE, PCM, {"size": 512}),
    "nul-padding": (P, PCM_LE, PCM, {"pad": b"\0"}),
    "newline-padding": (P, PCM_LE, PCM, {"pad": b"\n"}),
    "junk-padding": (P, PCM_LE, PCM, {"pad": b"sample_count -i 7\n"}),
    "end_head-with-blanks (sph2pipe refuses)": (P, PCM_LE, PCM, {"end": "  end_head  "}),
    "shorten-ulaw-libsndfile-style": (
        replace(replace(U, "sample_coding", SHORTEN_ULAW), "sample_n_bytes", "sample_n_bytes -s1 1"),
        encode_shorten(CODES, ShortenFileType.AU2),
        ULAW_LINEAR,
        {},
    ),
    "shorten-pcm-no-byte-format (sph2pipe refuses)": (
        [*replace(replace(P, "sample_coding", SHORTEN_PCM), "sample_byte_format", None), P_SUM],
        encode_shorten(PCM, ShortenFileType.S16HL),
        PCM,
        {},
    ),
}


@pytest.mark.parametrize("variant", list(ACCEPTED))
def test_header_variants_read_as_sph2pipe(variant, tmp_path):
    lines, data, reference, options = ACCEPTED[variant]
    path = tmp_path / "v.sph"
    path.write_bytes(sphere_file(lines, data, **options))
    samples, rate = read_sphere(path)
    assert rate == RATE
    np.testing.assert_array_equal(samples, reference)
    for option in (None, 2):
        out = tmp_path / f"v{option}.wav"
        args = ["-f", "wav", "-p"] + ([] if option is None else ["-c", str(option)]) + [path, out]
        assert run_sph2pipe(*args) == 0
        expected = reference if option is None else reference[:, option - 1 : option]
        assert out.read_bytes() == sph2pipe_wav(expected)


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")
@pytest.mark.parametrize(
    "variant", ["nist-layout-with-checksum", "big-endian", "ulaw-nist", "n_bytes-as-string"]
)
def test_sox_agrees_on_hand_made_files(variant, tmp_path):
    lines, data, reference, options = ACCEPTED[variant]
    path = tmp_path / "v.sph"
    path.write_bytes(sphere_file(lines, data, **options))
    result = subprocess.run(
        ["sox", "-V1", str(path), "-t", "raw", "-e", "signed", "-b", "16", "-L", "-"],
        capture_output=True,
        check=True,
    )
    np.testing.assert_array_equal(np.frombuffer(result.stdout, dtype="<i2").reshape(-1, 2), reference)


SHORTEN_ALAW = "sample_coding -s27 alaw,embedded-shorten-v2.00"
PAST_END = sphere_file(P, PCM_LE).replace(b"   1024", b"    100", 1)

# id -> (file bytes, message): files sph2pipe refuses, or would turn into garbage.
REFUSED: dict[str, tuple[bytes, str]] = {
    "no-channel_count": (sphere_file(replace(P, "channel_count", None), PCM_LE), "lacks channel_count"),
    "no-sample_count": (sphere_file(replace(P, "sample_count", None), PCM_LE), "lacks sample_count"),
    "no-sample_rate": (sphere_file(replace(P, "sample_rate", None), PCM_LE), "lacks sample_rate"),
    "pcm-without-byte-format": (
        sphere_file(replace(P, "sample_byte_format", None), PCM_LE),
        "without sample_byte_format",
    ),
    "pcm-byte-format-1": (
        sphere_file(replace(P, "sample_byte_format", "sample_byte_format -s1 1"), PCM_LE),
        "unsupported sample_byte_format '1'",
    ),
    "ulaw-2-bytes": (
        sphere_file(replace(U, "sample_n_bytes", "sample_n_bytes -i 2"), ULAW * 2),
        "ulaw with sample_n_bytes 2",
    ),
    "no-coding-1-byte": (sphere_file(replace(U, "sample_coding", None), ULAW), "no sample_coding"),
    "unknown-coding": (sphere_file(replace(U, "sample_coding", "sample_coding -s3 gsm"), ULAW), "'gsm'"),
    "other-compression": (
        sphere_file(replace(P, "sample_coding", "sample_coding -s25 pcm,embedded-wavpack-1.0"), PCM_LE),
        "compression",
    ),
    "alaw-shortened": (
        sphere_file(
            replace(U, "sample_coding", SHORTEN_ALAW),
            encode_shorten(linear_to_alaw(PCM), ShortenFileType.AU3),
        ),
        "A-law data cannot be shorten-compressed",
    ),
    "data-shorter-than-declared": (sphere_file(P, PCM_LE[:-4]), "shorter than declared"),
    "data-longer-than-declared": (sphere_file(P, PCM_LE + b"\0\0\0\0"), "sample_count mismatch"),
    "shorten-fewer-samples": (
        sphere_file(
            replace(U, "sample_coding", SHORTEN_ULAW), encode_shorten(CODES[:-10], ShortenFileType.AU2)
        ),
        "sample_count mismatch",
    ),
    "no-end_head": (sphere_file(P, PCM_LE, end="end_header"), "no end_head"),
    "end_head-past-header-size": (PAST_END, "past its header size 100"),
    "conflicting-duplicate": (sphere_file([*P, "channel_count -i 1"], PCM_LE), "channel_count twice"),
    "non-integral-rate": (sphere_file(replace(P, "sample_rate", "sample_rate -r 8000.5"), PCM_LE), "8000.5"),
    "file-shorter-than-header": (sphere_file(P, b"")[:600], "shorter than its 1024-byte header"),
    "wrong-checksum": (sphere_file([*U, "sample_checksum -i 1"], ULAW), "sample_checksum mismatch"),
}


@pytest.mark.parametrize("variant", list(REFUSED))
def test_defects_are_clear_errors(variant, tmp_path, capsys):
    content, message = REFUSED[variant]
    path = tmp_path / "bad.sph"
    path.write_bytes(content)
    with pytest.raises(SphereError, match=rf"bad\.sph: .*{message}"):
        read_sphere(path)
    out = tmp_path / "bad.wav"
    assert run_sph2pipe("-f", "wav", "-p", path, out) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"speechsent-sph2pipe: {path}: ") and message in err and "Traceback" not in err
    assert not out.exists()


def test_wrong_checksum_can_be_ignored(tmp_path, monkeypatch):
    """A file whose samples are fine but whose checksum field is wrong: --no_checksum or the environment."""
    path = tmp_path / "edited.sph"
    path.write_bytes(sphere_file([*U, f"sample_checksum -i {(sphere_checksum(CODES) + 1) % 65536}"], ULAW))
    expected = sph2pipe_wav(ulaw_to_linear(CODES))
    out = tmp_path / "out.wav"
    assert run_sph2pipe("-f", "wav", "-p", path, out) == 1 and not out.exists()
    assert run_sph2pipe("--no_checksum", "-f", "wav", "-p", path, out) == 0
    assert out.read_bytes() == expected
    # A part of the file (-s/-t) is not verified, as sph2pipe never verifies.
    assert run_sph2pipe("-s", "0:100", "-f", "wav", "-p", path, out) == 0
    assert out.read_bytes() == sph2pipe_wav(ulaw_to_linear(CODES[:100]))
    monkeypatch.setenv("SPEECHSENT_SPHERE_CHECKSUM", "ignore")
    np.testing.assert_array_equal(read_sphere(path)[0], ulaw_to_linear(CODES))
    entry = WavEntry.from_command("r", f"sph2pipe -f wav -p -c 1 {path} |")
    np.testing.assert_array_equal(read_recording(entry).samples, ulaw_to_linear(CODES[:, :1]))
    monkeypatch.setenv("SPEECHSENT_SPHERE_CHECKSUM", "sometimes")
    with pytest.raises(ValueError, match="SPEECHSENT_SPHERE_CHECKSUM"):
        read_sphere(path)
