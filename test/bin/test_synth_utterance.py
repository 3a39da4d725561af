"""speechsent-synth-utterance: sentences -> wavs + wav.scp; bad text files are errors naming file:line."""

from __future__ import annotations

import pytest
import soundfile

from speechsent.bin.synth_utterance import main, read_sentences


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
