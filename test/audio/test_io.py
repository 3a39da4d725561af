"""Utterance audio from Kaldi data dirs: wav.scp paths, pipes, ark offsets, segments, channels, resampling."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from speechsent.audio import io as audio_io
from speechsent.audio.g711 import alaw_to_linear, linear_to_ulaw, ulaw_to_linear
from speechsent.audio.io import AudioError, UtteranceReader, load_utterance, read_recording
from speechsent.audio.sphere import write_sphere
from speechsent.kaldi.data_dir import DataDir, Segment, WavEntry

RATE = 8000


def _conversation(seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """Two channels of speech-like int16 audio (different per channel)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    a = 6000 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2
    b = 4000 * np.sin(2 * np.pi * 330 * t) + rng.normal(0, 300, t.size)
    return np.stack([a, b], axis=1).round().astype(np.int16)


@pytest.fixture()
def ulaw_sph(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A 2-channel 8 kHz µ-law shorten SPHERE conversation and its expected linear samples."""
    pcm = _conversation()
    codes = linear_to_ulaw(pcm)
    path = tmp_path / "sw02001.sph"
    write_sphere(path, codes, RATE, coding="ulaw", shorten=True)
    return path, ulaw_to_linear(codes)


def _make_dir(tmp_path: Path, wav_entries: list[WavEntry], segments: list[Segment]) -> DataDir:
    d = DataDir(tmp_path / "data")
    d.set_wav_scp(wav_entries)
    d.set_segments(segments)
    d.set_utt2spk({s.utt: s.reco for s in segments})
    d.write()
    return DataDir(d.path)


def test_sphere_path_whole_recording(ulaw_sph):
    path, linear = ulaw_sph
    rec = read_recording(WavEntry.from_path("sw02001", str(path)))
    assert rec.rate == RATE and rec.num_channels == 2
    np.testing.assert_array_equal(rec.samples, linear)


def test_sph2pipe_pipe_in_process_equals_subprocess(ulaw_sph):
    path, linear = ulaw_sph
    fast = read_recording(WavEntry.from_command("sw02001-B", f"speechsent-sph2pipe -f wav -p -c 2 {path} |"))
    # The same pipe through the Python module is not recognised, so it really runs as a subprocess.
    slow = read_recording(
        WavEntry.from_command(
            "sw02001-B", f"{sys.executable} -m speechsent.bin.sph2pipe -f wav -p -c 2 {path} |"
        )
    )
    assert fast.rate == slow.rate == RATE
    np.testing.assert_array_equal(fast.samples, slow.samples)
    np.testing.assert_array_equal(fast.samples[:, 0], linear[:, 1])


def test_sph2pipe_parsing_only_takes_plain_pcm_calls():
    parse = audio_io._parse_sph2pipe
    assert parse("sph2pipe -f wav -p -c 1 /a/b.sph") == audio_io._Sph2pipeCall("/a/b.sph", 0)
    assert parse("/opt/kaldi/tools/sph2pipe_v2.5/sph2pipe -f wav -p /a/b.sph") == audio_io._Sph2pipeCall(
        "/a/b.sph", None
    )
    assert parse("sph2pipe -f wav -c 1 /a/b.sph") is None  # µ-law kept in the wav: not -p
    assert parse("sph2pipe -f wav -p -t 1:2 /a/b.sph") is None
    assert parse("sph2pipe -f wav -p /a/b.sph | sox -t wav - -t wav -r 16000 -") is None
    assert parse("sox x.wav -t wav -") is None


def test_segments_cut_like_kaldi(tmp_path, ulaw_sph):
    path, linear = ulaw_sph
    segs = [
        Segment("sw02001-A_000010-000150", "sw02001-A", 0.10, 1.50),
        Segment("sw02001-B_000123-000290", "sw02001-B", 1.2345, 2.9),
    ]
    d = _make_dir(
        tmp_path,
        [
            WavEntry.from_command("sw02001-A", f"speechsent-sph2pipe -f wav -p -c 1 {path} |"),
            WavEntry.from_command("sw02001-B", f"speechsent-sph2pipe -f wav -p -c 2 {path} |"),
        ],
        segs,
    )
    reader = UtteranceReader(d)
    a, rate = reader.load(segs[0].utt)
    assert rate == RATE
    np.testing.assert_array_equal(a, linear[800:12000, 0] / 32768.0)
    b = reader[segs[1].utt]
    np.testing.assert_array_equal(b, linear[int(1.2345 * RATE) : int(2.9 * RATE), 1] / 32768.0)
    assert b.dtype == np.float32


def test_overshoot_truncated_or_rejected(ulaw_sph):
    path, linear = ulaw_sph
    entry = WavEntry.from_path("sw02001", str(path))
    samples, _ = load_utterance(entry, Segment("u", "sw02001", 2.5, 3.3), channel=0)  # 0.3 s past the end
    np.testing.assert_array_equal(samples, linear[20000:, 0] / 32768.0)
    with pytest.raises(AudioError, match="more than 0.5 s after the end"):
        load_utterance(entry, Segment("u", "sw02001", 2.5, 3.6), channel=0)
    with pytest.raises(AudioError, match="after the end of recording"):
        load_utterance(entry, Segment("u", "sw02001", 3.1, 3.2), channel=0)


def test_multichannel_needs_a_channel(ulaw_sph):
    path, _ = ulaw_sph
    entry = WavEntry.from_path("sw02001", str(path))
    with pytest.raises(AudioError, match="has 2 channels"):
        load_utterance(entry, Segment("u", "sw02001", 0.0, 1.0))
    with pytest.raises(AudioError, match="channel 2 out of range"):
        load_utterance(entry, Segment("u", "sw02001", 0.0, 1.0), channel=2)


def test_resampling_keeps_the_tone(tmp_path):
    t = np.arange(RATE) / RATE
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    path = tmp_path / "tone.flac"
    soundfile.write(path, tone, RATE)
    samples, rate = load_utterance(WavEntry.from_path("tone", str(path)), target_rate=16000)
    assert rate == 16000 and samples.shape == (16000,)
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.argmax(spectrum) * 16000 / samples.size - 440) <= 1.0


def test_alaw_sphere_and_wav_files(tmp_path):
    pcm = _conversation(1.0)[:, :1]
    alaw = tmp_path / "a.sph"
    write_sphere(alaw, pcm, RATE, coding="alaw")
    rec = read_recording(WavEntry.from_path("a", str(alaw)))
    from speechsent.audio.g711 import linear_to_alaw

    np.testing.assert_array_equal(rec.samples, alaw_to_linear(linear_to_alaw(pcm)))
    wav = tmp_path / "b.wav"
    soundfile.write(wav, pcm, RATE, subtype="PCM_16")
    np.testing.assert_array_equal(read_recording(WavEntry.from_path("b", str(wav))).samples, pcm)


def test_kaldi_ark_offset_entry(tmp_path):
    import kaldiio

    pcm = _conversation(1.0)[:, 0]
    ark = tmp_path / "wav.ark"
    kaldiio.save_ark(str(ark), {"utt1": (RATE, pcm)}, scp=str(tmp_path / "wav.scp"))
    spec = (tmp_path / "wav.scp").read_text().split(maxsplit=1)[1].strip()
    rec = read_recording(WavEntry.from_path("utt1", spec))
    assert rec.rate == RATE
    np.testing.assert_array_equal(rec.samples[:, 0], pcm)


def test_bad_entries_give_clear_errors(tmp_path):
    with pytest.raises(AudioError, match="exit code 3"):
        read_recording(WavEntry.from_command("r1", "echo oops >&2; exit 3 |"))
    with pytest.raises(AudioError, match="r2.*not readable audio"):
        read_recording(WavEntry.from_command("r2", "echo not audio |"))
    with pytest.raises(AudioError, match="No such file"):
        read_recording(WavEntry.from_path("r3", str(tmp_path / "missing.wav")))
    bad = tmp_path / "bad.sph"
    bad.write_bytes(b"NIST_1A\n   1024\nsample_count -i 100\nend_head\n")
    with pytest.raises(ValueError, match="bad.sph"):
        read_recording(WavEntry.from_path("r4", str(bad)))


def test_reader_decodes_each_recording_once(tmp_path, ulaw_sph, monkeypatch):
    path, _ = ulaw_sph
    segs = [
        Segment(f"sw02001-{side}_{i:06d}-{i + 40:06d}", f"sw02001-{side}", i / 100, (i + 40) / 100)
        for side in "AB"
        for i in (0, 50, 100, 150)
    ]
    d = _make_dir(
        tmp_path,
        [
            WavEntry.from_command(f"sw02001-{s}", f"sph2pipe -f wav -p -c {c} {path} |")
            for s, c in (("A", 1), ("B", 2))
        ],
        segs,
    )
    calls: list[str] = []
    real = audio_io.read_recording
    monkeypatch.setattr(audio_io, "read_recording", lambda e: calls.append(e.reco) or real(e))
    reader = UtteranceReader(d, cache_size=1, target_rate=16000)
    got = list(reader.iter_utterances())
    assert [u for u, _, _ in got] == sorted(s.utt for s in segs)
    assert calls == ["sw02001-A", "sw02001-B"]
    assert all(rate == 16000 and x.shape == (6400,) for _, x, rate in got)
    with pytest.raises(AudioError, match="not in segments"):
        reader.load("nope")


# --------------------------------------------------------------------------------------------------------
# Sample scale of float codings, NaN/inf, clipping (issue 12, items 1 and 2)
# --------------------------------------------------------------------------------------------------------


def _speechlike(seconds: float = 1.0) -> np.ndarray:
    """Mono float audio at full scale ±1.0, peak -6 dBFS."""
    return _conversation(seconds)[:, 0] / 32768.0 * (16384 / 6000)


@pytest.mark.parametrize("subtype", ["FLOAT", "DOUBLE", "PCM_24", "PCM_32"])
def test_float_and_wide_wavs_are_read_at_their_scale(tmp_path, subtype):
    x = _speechlike()
    path = tmp_path / f"{subtype}.wav"
    soundfile.write(path, x, RATE, subtype=subtype)
    want = np.rint(x * 32768).astype(np.int16)
    for entry in (WavEntry.from_path("r", str(path)), WavEntry.from_command("r", f"cat {path} |")):
        got = read_recording(entry).samples[:, 0]
        assert np.max(np.abs(got.astype(np.int32) - want)) <= 1  # not 0/±1 (silence)
        assert np.max(np.abs(got)) > 16000
    samples, _ = load_utterance(WavEntry.from_path("r", str(path)))
    assert np.max(np.abs(samples - want / 32768.0)) <= 1 / 32768


def test_float_wav_of_pcm16_values_is_exactly_the_pcm16_file(tmp_path):
    pcm = _conversation()
    soundfile.write(tmp_path / "pcm.wav", pcm, RATE, subtype="PCM_16")
    soundfile.write(tmp_path / "float.wav", pcm / 32768.0, RATE, subtype="FLOAT")
    a = read_recording(WavEntry.from_path("a", str(tmp_path / "pcm.wav"))).samples
    b = read_recording(WavEntry.from_path("b", str(tmp_path / "float.wav"))).samples
    np.testing.assert_array_equal(a, pcm)
    np.testing.assert_array_equal(b, pcm)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_samples_are_an_error_naming_the_file(tmp_path, bad):
    x = _speechlike()
    x[4000] = bad
    path = tmp_path / "broken.wav"
    soundfile.write(path, x, RATE, subtype="FLOAT")
    with pytest.raises(
        AudioError, match=r"broken\.wav: 1 of 8000 samples are NaN or infinite.*sample 4000, 0\.500 s"
    ):
        read_recording(WavEntry.from_path("r", str(path)))
    with pytest.raises(AudioError, match=r"r \(output of: cat .*broken\.wav.*NaN or infinite"):
        read_recording(WavEntry.from_command("r", f"cat {path} |"))


def test_float_overs_clipped_with_a_counted_warning(tmp_path, caplog):
    x = _speechlike()
    x[[10, 20, 30]] = [1.25, -1.5, 1.0]  # 1.0 itself is full scale (32767), not an over
    path = tmp_path / "loud.wav"
    soundfile.write(path, x, RATE, subtype="FLOAT")
    with caplog.at_level("WARNING", logger="speechsent.audio.io"):
        got = read_recording(WavEntry.from_path("r", str(path))).samples[:, 0]
    assert got[10] == 32767 and got[20] == -32768 and got[30] == 32767
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: 2 of 8000 samples beyond full scale (peak 1.5, +3.5 dBFS) clipped to ±1.0"
    ]
    caplog.clear()
    soundfile.write(path, np.clip(x, -1, 1), RATE, subtype="FLOAT")
    with caplog.at_level("WARNING", logger="speechsent.audio.io"):
        read_recording(WavEntry.from_path("r", str(path)))
    assert not caplog.records


def test_integer_scale_values_in_a_float_file_are_an_error(tmp_path):
    path = tmp_path / "intscale.wav"
    soundfile.write(path, _conversation()[:, 0].astype(np.float32), RATE, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"intscale\.wav: float samples reach .*integer-scale values"):
        read_recording(WavEntry.from_path("r", str(path)))


@pytest.mark.parametrize("subtype", ["ULAW", "ALAW", "PCM_U8", "FLOAT"])
def test_wav_ark_entries_decoded_by_their_coding(tmp_path, subtype):
    """kaldiio's own WAV reader takes µ-law / A-law for 8-bit PCM and refuses float."""
    x = _speechlike()
    wav = tmp_path / "x.wav"
    soundfile.write(wav, x, RATE, subtype=subtype)
    ark = tmp_path / "wav.ark"
    ark.write_bytes(b"utt1 " + wav.read_bytes())
    got = read_recording(WavEntry.from_path("utt1", f"{ark}:5")).samples
    reference = soundfile.read(wav, dtype="float32", always_2d=True)[0]
    np.testing.assert_array_equal(got, np.rint(reference * 32768).astype(np.int16))
    assert np.max(np.abs(got)) > 16000


def test_ark_entry_that_is_not_audio(tmp_path):
    import kaldiio

    kaldiio.save_ark(
        str(tmp_path / "feats.ark"), {"u": np.ones((3, 4), np.float32)}, scp=str(tmp_path / "f.scp")
    )
    spec = (tmp_path / "f.scp").read_text().split()[1]
    with pytest.raises(AudioError, match=r"not audio \(a matrix shaped \(3, 4\)"):
        read_recording(WavEntry.from_path("u", spec))
