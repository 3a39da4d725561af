"""speechsent-synth-utterance: sentences -> wavs + wav.scp; bad text files are errors naming file:line."""

from __future__ import annotations

import pytest
import soundfile

from speechsent.bin.synth_utterance import main
from speechsent.synth.utterance import read_sentences


def test_writes_wavs_at_the_rate_asked_and_a_wav_scp(tmp_path):
    text = tmp_path / "text"
    text.write_text("pos i love this it is wonderful\nneg this is awful\n", encoding="utf-8")
    assert main(["--text_file", str(text), "--out_dir", str(tmp_path / "out"), "--fs", "16000"]) == 0
    scp = (tmp_path / "out" / "wav.scp").read_text().splitlines()
    assert [line.split()[0] for line in scp] == ["neg", "pos"]
    info = soundfile.info(str(tmp_path / "out" / "pos.wav"))
    assert info.samplerate == 16000 and info.channels == 1 and info.subtype == "PCM_16"
    assert info.duration > 1.0
    data, _ = soundfile.read(str(tmp_path / "out" / "pos.wav"))
    assert abs(data).max() > 0.05  # speech, not silence


def test_one_sentence_from_the_command_line(tmp_path):
    assert main(["--text", "hello there", "--utt_id", "hi", "--out_dir", str(tmp_path)]) == 0
    assert soundfile.info(str(tmp_path / "hi.wav")).samplerate == 8000


@pytest.mark.parametrize(
    "content,message",
    [
        ("onlyid\n", ":1: expected"),
        ("a x\na y\n", ":2: duplicate"),
        ("a/b words\n", "safe file name"),
        ("\n", "no sentences"),
    ],
)
def test_bad_text_files_name_file_and_line(tmp_path, content, message):
    path = tmp_path / "text"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        read_sentences(path)
    assert main(["--text_file", str(path), "--out_dir", str(tmp_path / "o")]) == 1


def test_sentiment_prosody_and_telephone_channel(tmp_path):
    import numpy as np

    text = tmp_path / "text"
    text.write_text("a it is what it is\nb it is what it is\nc it is what it is\n", encoding="utf-8")
    labels = tmp_path / "utt2sentiment"
    labels.write_text("a Negative\nc Positive\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["--text_file", str(text), "--out_dir", str(out), "--utt2sentiment", str(labels)]
    assert main([*args, "--telephone", "true"]) == 0
    seconds = {u: soundfile.info(str(out / f"{u}.wav")).duration for u in "abc"}
    # the corpus's prosody: Negative slower, Positive faster than the same words unshifted (b)
    assert seconds["a"] > seconds["b"] > seconds["c"]
    data, fs = soundfile.read(str(out / "b.wav"))
    spectrum = np.abs(np.fft.rfft(data)) ** 2
    freqs = np.fft.rfftfreq(data.size, 1 / fs)
    assert spectrum[freqs < 150].sum() < 0.01 * spectrum[(freqs > 300) & (freqs < 3400)].sum()  # band-passed
    assert 0.05 < np.abs(data).max() < 0.9  # the talker's level, not full scale


def test_bad_sentiment_files_are_errors(tmp_path):
    text = tmp_path / "text"
    text.write_text("a hello there\n", encoding="utf-8")
    labels = tmp_path / "utt2sentiment"
    labels.write_text("a Happy\n", encoding="utf-8")
    args = ["--text_file", str(text), "--out_dir", str(tmp_path / "o"), "--utt2sentiment", str(labels)]
    assert main(args) == 1
    labels.write_text("z Positive\n", encoding="utf-8")
    assert main(args) == 1


def test_voices_rates_and_pitches_cycle_over_the_sentences(tmp_path):
    import numpy as np

    text = tmp_path / "text"
    text.write_text("".join(f"s{i} it is what it is\n" for i in range(4)), encoding="utf-8")
    out = tmp_path / "out"
    args = ["--text_file", str(text), "--out_dir", str(out)]
    several = ["--voices", "en-us+m3", "en-us+f4", "--rates", "130", "230", "--pitches", "20", "80", "40"]
    assert main([*args, *several]) == 0
    audio = {u: soundfile.read(str(out / f"{u}.wav"))[0] for u in ("s0", "s1", "s2", "s3")}
    # s0 and s2: en-us+m3 at 130 wpm, s1 and s3: en-us+f4 at 230 wpm (the pitches differ: 20, 80, 40, 20)
    speech = {u: x.size - 2 * 1600 for u, x in audio.items()}  # (0.2 s of silence each side at 8 kHz)
    assert speech["s0"] > 1.4 * speech["s1"] and speech["s2"] > 1.4 * speech["s3"]
    assert not np.array_equal(audio["s0"], audio["s2"])  # another pitch
    # the single-valued options are the same options: one value for every sentence
    single = ["--voice", "en-us+m3", "--rate", "130", "--pitch", "20", "--out_dir", str(tmp_path / "one")]
    assert main(["--text_file", str(text), *single]) == 0
    for utt in ("s0", "s3"):
        assert np.array_equal(soundfile.read(str(tmp_path / "one" / f"{utt}.wav"))[0], audio["s0"])
    # and YAML config values: one value or a list
    config = tmp_path / "synth.yaml"
    config.write_text("voice: en-us+m3\nrate: [130, 230]\npitch: 20\n", encoding="utf-8")
    assert main(["--config", str(config), "--text_file", str(text), "--out_dir", str(tmp_path / "yaml")]) == 0
    assert np.array_equal(soundfile.read(str(tmp_path / "yaml" / "s2.wav"))[0], audio["s0"])


def test_rendering_at_a_sentence():
    from speechsent.synth.utterance import Rendering

    r = Rendering(voice=("a", "b"), rate=[150, 160, 170], pitch=30)
    assert [(x.voice, x.rate, x.pitch) for x in map(r.at, range(4))] == [
        ("a", 150, 30),
        ("b", 160, 30),
        ("a", 170, 30),
        ("b", 150, 30),
    ]
    with pytest.raises(ValueError, match="voice: an empty list"):
        Rendering(voice=[])


@pytest.mark.parametrize("bad", [["--pitches", "50", "101"], ["--rates", "0"], ["--pitch_ranges", "-1"]])
def test_bad_rendering_values_are_usage_errors(tmp_path, bad):
    with pytest.raises(SystemExit) as usage:
        main(["--text", "hello there", "--out_dir", str(tmp_path), *bad])
    assert usage.value.code == 2
