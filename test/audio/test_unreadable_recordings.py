"""A recording that cannot be read: read once for all its segments, its reason quoted without noise."""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pytest
import soundfile

from speechsent.audio.io import AudioError, UtteranceReader, read_recording
from speechsent.kaldi.data_dir import DataDir, Segment, WavEntry

RATE = 8000


def _data_dir(root: Path, entries: list[WavEntry], segments_per_reco: int = 4) -> DataDir:
    d = DataDir(root / "data")
    d.set_wav_scp(entries)
    segs = [
        Segment(f"{e.reco}_{k:02d}", e.reco, 0.5 * k, 0.5 * k + 0.4)
        for e in entries
        for k in range(segments_per_reco)
    ]
    d.set_segments(segs)
    d.set_utt2spk({s.utt: s.reco for s in segs})
    d.write()
    return DataDir(d.path)


def test_an_unreadable_recording_is_read_once_for_all_its_segments(tmp_path):
    counter = tmp_path / "runs"
    good = tmp_path / "good.wav"
    soundfile.write(good, np.zeros(3 * RATE, dtype=np.int16), RATE, subtype="PCM_16")
    q = shlex.quote(str(counter))
    entries = [
        # a pipe that prints no audio: every run appends a line to the counter file
        WavEntry.from_command("recA", f"echo A >> {q}; echo not audio |"),
        # a pipe that fails
        WavEntry.from_command("recB", f"echo B >> {q}; exit 3 |"),
        WavEntry.from_command("recC", f"echo C >> {q}; cat {shlex.quote(str(good))} |"),
    ]
    reader = UtteranceReader(_data_dir(tmp_path, entries), cache_size=2)
    errors: dict[str, str] = {}
    readable = []
    for utt in sorted(reader.segments):  # grouped by recording, as the stages read
        try:
            reader.load(utt)
            readable.append(utt)
        except AudioError as error:
            errors[utt] = str(error)
    assert readable == [f"recC_{k:02d}" for k in range(4)]
    assert sorted(counter.read_text().split()) == ["A", "B", "C"]  # each command ran once
    for reco in ("recA", "recB"):
        reasons = {errors[f"{reco}_{k:02d}"] for k in range(4)}
        assert len(reasons) == 1  # the same error for each segment
    assert "exit code 3" in errors["recB_00"]
    # random access after the recording left the cache (2 recordings) reads it again: a failure is
    # not kept for ever (the audio may have been fixed since)
    with pytest.raises(AudioError, match="not readable audio"):
        reader.load("recA_01")
    assert counter.read_text().split().count("A") == 2


def test_reasons_name_the_entry_and_libsndfile_only(tmp_path):
    text = tmp_path / "notes.wav"
    text.write_bytes(b"this is not audio\n" * 10)
    with pytest.raises(AudioError) as caught:
        read_recording(WavEntry.from_path("rec1", str(text)))
    message = str(caught.value)
    assert message.startswith(f"wav.scp entry rec1: {text}: not readable audio (180 bytes): ")
    assert "Format not recognised" in message
    assert "BytesIO" not in message and " at 0x" not in message and "Error opening" not in message
    with pytest.raises(AudioError) as caught:
        read_recording(WavEntry.from_command("rec2", f"cat {shlex.quote(str(text))} |"))
    message = str(caught.value)
    assert message.startswith(f"wav.scp entry rec2 (output of: cat {text}): not readable audio (180 bytes)")
    assert "Format not recognised" in message and "BytesIO" not in message and " at 0x" not in message
