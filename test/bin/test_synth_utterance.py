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
