"""Audio written by other tools, in every coding they write, read by speechsent as the reference reads it.

Fixtures are written at test time: by libsndfile (``soundfile``) in every subtype of WAV, WAVEX, FLAC, OGG,
AIFF, CAF, W64, RF64 and AU, and by ``sox`` / ``ffmpeg`` when they are on PATH. Each is read through every
reader of the project (a file path, a ``wav.scp`` path entry, a ``cat FILE |`` pipe, an ``ark:offset``
entry of a Kaldi wav ark, the inference loader) and compared with the reference decoding:
``soundfile.read(dtype="float32")`` ×32768, rounded and clipped (the project's int16 scale), and for the
sox / ffmpeg fixtures also the tool's own decoding to 16-bit raw.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile

from speechsent.audio.io import read_audio_file, read_recording
from speechsent.inference.audio_inputs import load_file
from speechsent.kaldi.data_dir import WavEntry

RATE = 16000

# (format, subtype, max difference in int16 steps from the float32 reference,
#  min SNR in dB of the decoded samples against the signal written: the coding's own precision)
CODINGS = [
    ("WAV", "PCM_U8", 0, 30),
    ("WAV", "PCM_16", 0, 80),
    ("WAV", "PCM_24", 0, 80),
    ("WAV", "PCM_32", 1, 80),  # the float32 reference rounds 32-bit values to 24 bits first
    ("WAV", "FLOAT", 0, 80),
    ("WAV", "DOUBLE", 1, 80),  # idem, doubles
    ("WAV", "ULAW", 0, 30),
    ("WAV", "ALAW", 0, 30),
    ("WAVEX", "PCM_24", 0, 80),
    ("WAVEX", "FLOAT", 0, 80),
    ("FLAC", "PCM_S8", 0, 30),
    ("FLAC", "PCM_16", 0, 80),
    ("FLAC", "PCM_24", 0, 80),
    ("OGG", "VORBIS", 1, 10),
    ("AIFF", "PCM_S8", 0, 30),
    ("AIFF", "PCM_16", 0, 80),
    ("AIFF", "PCM_24", 0, 80),
    ("AIFF", "PCM_32", 1, 80),
    ("AIFF", "FLOAT", 0, 80),
    ("AIFF", "DOUBLE", 1, 80),
    ("AIFF", "ULAW", 0, 30),
    ("AIFF", "ALAW", 0, 30),
    ("CAF", "PCM_16", 0, 80),
    ("CAF", "PCM_24", 0, 80),
    ("CAF", "FLOAT", 0, 80),
    ("CAF", "DOUBLE", 1, 80),
    ("CAF", "ULAW", 0, 30),
    ("W64", "PCM_24", 0, 80),
    ("W64", "FLOAT", 0, 80),
    ("W64", "DOUBLE", 1, 80),
    ("RF64", "PCM_16", 0, 80),
    ("RF64", "FLOAT", 0, 80),
    ("AU", "PCM_16", 0, 80),
    ("AU", "FLOAT", 0, 80),
    ("AU", "ULAW", 0, 30),
]
WAV_CODINGS = [(subtype, tolerance) for fmt, subtype, tolerance, _ in CODINGS if fmt == "WAV"]


def _signal(seconds: float = 1.0) -> np.ndarray:
    """Two channels of speech-like float audio in (-1, 1): a voiced chirp with formant-ish harmonics and an
    envelope, plus noise; the second channel differs (quieter, another chirp) so that channels cannot be
    swapped unnoticed. Some samples reach -1 dBFS, many are quiet (where float vs int scaling shows)."""
    rng = np.random.default_rng(12)
    t = np.arange(int(seconds * RATE)) / RATE
    f0 = 110 + 90 * t / seconds
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 3 * t))
    a = 0.45 * voiced * envelope + rng.normal(0, 0.01, t.size)
    b = 0.3 * np.sin(2 * np.pi * (300 + 1500 * t / seconds) * t) * envelope + rng.normal(0, 0.02, t.size)
    x = np.stack([a, b], axis=1)
    return 0.89 * x / np.max(np.abs(x))


def _reference(path: Path) -> np.ndarray:
    """The reference samples on the project's int16 scale: libsndfile's float decoding ×32768."""
    ref, _ = soundfile.read(str(path), dtype="float32", always_2d=True)
    return np.clip(np.rint(ref.astype(np.float64) * 32768), -32768, 32767).astype(np.int16)


def _snr_db(decoded: np.ndarray, signal: np.ndarray) -> float:
    clean = signal * 32768
    noise = decoded.astype(np.float64) - clean
    return float(10 * np.log10(np.sum(clean**2) / max(np.sum(noise**2), 1e-9)))


def _assert_close(got: np.ndarray, want: np.ndarray, tolerance: int, what: str) -> None:
    assert got.dtype == np.int16, what
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    diff = np.abs(got.astype(np.int32) - want.astype(np.int32))
    assert int(diff.max()) <= tolerance, f"{what}: up to {int(diff.max())} steps off (allowed {tolerance})"
    if tolerance:  # off by one step only where the reference had to round twice
        assert np.mean(diff > 0) < 0.01, f"{what}: {np.mean(diff > 0):.1%} of the samples differ"


@pytest.fixture(scope="module")
def signal() -> np.ndarray:
    return _signal()


@pytest.fixture(scope="module")
def written(tmp_path_factory, signal) -> dict[tuple[str, str], Path]:
    """Every coding of CODINGS written once by libsndfile."""
    folder = tmp_path_factory.mktemp("soundfile")
    paths = {}
    for fmt, subtype, _, _ in CODINGS:
        path = folder / f"{subtype.lower()}.{fmt.lower()}"
        soundfile.write(str(path), signal, RATE, format=fmt, subtype=subtype)
        paths[fmt, subtype] = path
    return paths


@pytest.mark.parametrize(
    ("fmt", "subtype", "tolerance", "min_snr"), CODINGS, ids=[f"{c[0]}-{c[1]}" for c in CODINGS]
)
def test_every_reader_gives_the_float_reference(written, signal, fmt, subtype, tolerance, min_snr):
    path = written[fmt, subtype]
    want = _reference(path)
    # The coding's precision against what was written: not silence, not another scale, channels in order.
    assert _snr_db(want, signal) >= min_snr, f"{path.name}: the reference itself is off"
    recording = read_audio_file(path)
    assert recording.rate == RATE
    _assert_close(recording.samples, want, tolerance, f"{path.name} as a file")
    assert _snr_db(recording.samples, signal) >= min_snr
    entry = read_recording(WavEntry.from_path("reco", str(path)))
    np.testing.assert_array_equal(entry.samples, recording.samples)
    piped = read_recording(WavEntry.from_command("reco", f"cat {path} |"))
    np.testing.assert_array_equal(piped.samples, recording.samples)
    # The inference loader: the chosen channel, on the int16 scale divided by 32768.
    mono = load_file(path, RATE, channel=1)
    assert mono.dtype == np.float32
    np.testing.assert_array_equal(mono * 32768, recording.samples[:, 1].astype(np.float32))


@pytest.mark.parametrize(("subtype", "tolerance"), WAV_CODINGS, ids=[c[0] for c in WAV_CODINGS])
def test_kaldi_wav_ark_entries(tmp_path, signal, subtype, tolerance):
    """A wav ark as Kaldi writes it (``key WAV-bytes`` back to back): each entry by its offset."""
    ark = tmp_path / "wav.ark"
    offsets = {}
    with ark.open("wb") as handle:
        for key, gain in (("first", 0.5), ("second", 1.0)):
            handle.write(f"{key} ".encode())
            offsets[key] = handle.tell()
            sound = tmp_path / f"{key}.wav"
            soundfile.write(str(sound), gain * signal, RATE, format="WAV", subtype=subtype)
            handle.write(sound.read_bytes())
    for key in offsets:
        got = read_recording(WavEntry.from_path(key, f"{ark}:{offsets[key]}"))
        assert got.rate == RATE
        _assert_close(
            got.samples, _reference(tmp_path / f"{key}.wav"), tolerance, f"{subtype} ark entry {key}"
        )


def test_kaldiio_audio_ark_entries(tmp_path, signal):
    """Arks of kaldiio ``write_function="soundfile"`` (``AUDIO`` entries: wav of any subtype, flac), which
    kaldiio itself reads as float64."""
    import kaldiio

    for fmt, subtype in (("wav", "PCM_16"), ("wav", "FLOAT"), ("wav", "PCM_24"), ("flac", "PCM_16")):
        name = f"{fmt}_{subtype}"
        kwargs = {"format": fmt, "subtype": subtype}
        arrays = {"a": (RATE, 0.5 * signal), "b": (RATE, signal)}
        kaldiio.save_ark(
            str(tmp_path / f"{name}.ark"),
            arrays,
            scp=str(tmp_path / f"{name}.scp"),
            write_function="soundfile",
            write_kwargs=kwargs,
        )
        for line in (tmp_path / f"{name}.scp").read_text().splitlines():
            key, spec = line.split(maxsplit=1)
            alone = tmp_path / f"{name}_{key}.{fmt}"
            soundfile.write(str(alone), arrays[key][1], RATE, **kwargs)
            got = read_recording(WavEntry.from_path(key, spec))
            _assert_close(got.samples, _reference(alone), 0, f"{name} kaldiio entry {key}")


def test_float_copy_of_pcm16_speech_is_the_same_audio(tmp_path):
    """A float32 (and float64) copy of a PCM16 file of speech gives exactly the PCM16 samples: the models see
    the same audio, so they give the same probabilities."""
    try:
        from speechsent.synth.espeak import get_espeak

        engine = get_espeak()
        speech = engine.synthesize("I really did not expect the service to be this good, thank you.")
        rate = engine.sample_rate
    except Exception as error:  # the library is a dependency; without it, a speech-like signal does
        pytest.skip(f"eSpeak NG not usable here: {error}")
    assert speech.dtype == np.int16 and np.max(np.abs(speech)) > 1000
    pcm16 = tmp_path / "speech.wav"
    soundfile.write(str(pcm16), speech, rate, subtype="PCM_16")
    for subtype in ("FLOAT", "DOUBLE"):
        copy = tmp_path / f"speech_{subtype}.wav"
        data, _ = soundfile.read(str(pcm16), dtype="float32" if subtype == "FLOAT" else "float64")
        soundfile.write(str(copy), data, rate, subtype=subtype)
        np.testing.assert_array_equal(read_audio_file(copy).samples[:, 0], speech)
        for target in (rate, 16000, 8000):
            np.testing.assert_array_equal(load_file(copy, target), load_file(pcm16, target))


# --------------------------------------------------------------------------------------------------------
# sox and ffmpeg
# --------------------------------------------------------------------------------------------------------


def _decode_raw(argv: list[str]) -> np.ndarray:
    proc = subprocess.run(argv, capture_output=True, check=True)
    return np.frombuffer(proc.stdout, dtype="<i2")


@pytest.fixture(scope="module")
def pcm16_source(tmp_path_factory, signal) -> Path:
    path = tmp_path_factory.mktemp("tools") / "source.wav"
    soundfile.write(str(path), signal, RATE, subtype="PCM_16")
    return path


SOX_CODINGS = [
    ("float32.wav", ["-e", "floating-point", "-b", "32"]),
    ("float64.wav", ["-e", "floating-point", "-b", "64"]),
    ("pcm24.wav", ["-e", "signed-integer", "-b", "24"]),
    ("pcm32.wav", ["-e", "signed-integer", "-b", "32"]),
    ("ulaw.wav", ["-e", "u-law"]),
    ("alaw.wav", ["-e", "a-law"]),
    ("pcm8.wav", ["-e", "unsigned-integer", "-b", "8"]),
    ("pcm24.flac", ["-b", "24"]),
    ("pcm24.aiff", ["-b", "24"]),
    ("float32.au", ["-e", "floating-point", "-b", "32"]),
]


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not on PATH")
@pytest.mark.parametrize(("name", "options"), SOX_CODINGS, ids=[c[0] for c in SOX_CODINGS])
def test_sox_written_files(tmp_path, pcm16_source, name, options):
    """Files sox writes, read as sox decodes them (to 16 bits, without dither) and as libsndfile does."""
    path = tmp_path / name
    # -D: no dither (sox would add it when reducing the width), so that its own decoding is deterministic.
    subprocess.run(["sox", "-D", str(pcm16_source), *options, str(path)], check=True, capture_output=True)
    got = read_audio_file(path).samples
    by_sox = _decode_raw(["sox", "-D", str(path), "-t", "raw", "-e", "signed-integer", "-b", "16", "-"])
    by_sox = by_sox.reshape(-1, got.shape[1])
    # sox rounds halves up, numpy to even: one step apart at most, where the coding is wider than 16 bits.
    _assert_close(got, by_sox, 1, f"{name} vs sox")
    _assert_close(got, _reference(path), 1, f"{name} vs soundfile")
    if options[-1] in ("32", "64", "24"):  # wider codings of 16-bit samples: exactly the source
        np.testing.assert_array_equal(
            got, soundfile.read(str(pcm16_source), dtype="int16", always_2d=True)[0]
        )


FFMPEG_CODINGS = [
    ("f32.wav", ["-c:a", "pcm_f32le"]),
    ("f64.wav", ["-c:a", "pcm_f64le"]),
    ("s24.wav", ["-c:a", "pcm_s24le"]),
    ("s32.wav", ["-c:a", "pcm_s32le"]),
    ("u8.wav", ["-c:a", "pcm_u8"]),
    ("mulaw.wav", ["-c:a", "pcm_mulaw"]),
    ("alaw.wav", ["-c:a", "pcm_alaw"]),
    ("s24.flac", ["-c:a", "flac", "-sample_fmt", "s32"]),
    ("f32be.aiff", ["-c:a", "pcm_f32be"]),
    ("s24be.caf", ["-c:a", "pcm_s24be"]),
]


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not on PATH")
@pytest.mark.parametrize(("name", "options"), FFMPEG_CODINGS, ids=[c[0] for c in FFMPEG_CODINGS])
def test_ffmpeg_written_files(tmp_path, pcm16_source, name, options):
    """Files ffmpeg writes (WAVE_FORMAT_EXTENSIBLE headers, fact chunks, ...) read as ffmpeg decodes them."""
    path = tmp_path / name
    quiet = ["-hide_banner", "-loglevel", "error", "-nostdin"]
    subprocess.run(["ffmpeg", *quiet, "-i", str(pcm16_source), *options, str(path)], check=True)
    got = read_audio_file(path).samples
    by_ffmpeg = _decode_raw(["ffmpeg", *quiet, "-i", str(path), "-f", "s16le", "-c:a", "pcm_s16le", "-"])
    _assert_close(got, by_ffmpeg.reshape(-1, got.shape[1]), 0, f"{name} vs ffmpeg")
    _assert_close(got, _reference(path), 0, f"{name} vs soundfile")
    piped = read_recording(WavEntry.from_command("reco", f"cat {path} |"))
    np.testing.assert_array_equal(piped.samples, got)
