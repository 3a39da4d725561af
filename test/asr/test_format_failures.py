"""Stage 3's formatting on unreadable audio: a mostly unreadable set stops it; a rerun retries failures.

Through the entry point the recipe runs (``python -m speechsent.bin.format_wav``, its jobs under run.pl);
the audio is written by soundfile, the unreadable files are text under a ``.wav`` name.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

from speechsent.kaldi.table import read_table


def _flat_dir(root: Path, n: int, unreadable: set[int]) -> Path:
    """``n`` one-utterance recordings (no segments) written by soundfile; those in ``unreadable`` are files
    that no audio reader accepts."""
    rng = np.random.default_rng(1)
    audio = root / "audio"
    audio.mkdir(parents=True)
    data = root / "data" / "flat"
    data.mkdir(parents=True)
    wav, utt2spk, text = [], [], []
    for i in range(n):
        utt = f"spk{i:02d}-utt"
        path = audio / f"{utt}.wav"
        if i in unreadable:
            path.write_bytes(b"this is not audio\n" * 20)
        else:
            samples = (rng.standard_normal(2400) * 3000).astype(np.int16)
            soundfile.write(path, samples, 8000, subtype="PCM_16")
        wav.append(f"{utt} {path}")
        utt2spk.append(f"{utt} spk{i:02d}")
        text.append(f"{utt} words {i}")
    for name, lines in (("wav.scp", wav), ("utt2spk", utt2spk), ("text", text)):
        (data / name).write_text("".join(line + "\n" for line in sorted(lines)), encoding="utf-8")
    return data


def _format(data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "speechsent.bin.format_wav",
            "--data_dir",
            str(data),
            "--out_dir",
            str(out),
            "--fs",
            "8000",
            "--nj",
            "2",
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_unreadable_set_stops_naming_the_failed_list(tmp_path):
    data = _flat_dir(tmp_path, 6, set(range(6)))
    out = tmp_path / "dump" / "flat"
    proc = _format(data, out)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "no utterance left of 6 (6 unreadable)" in proc.stderr
    assert str(out / "failed") in proc.stderr
    assert "spk00-utt" in proc.stderr and "(3 more)" in proc.stderr  # the first reasons, then a count
    assert len(read_table(out / "failed")) == 6
    assert not (out / "wav.scp").exists()  # nothing a later step could take for a formatted set
    # an empty result is an error even when any fraction may fail
    proc = _format(data, out, "--max_failed_fraction", "1")
    assert proc.returncode == 1 and "no utterance left" in proc.stderr
    # a value out of [0, 1] is a usage error
    assert _format(data, out, "--max_failed_fraction", "1.5").returncode == 2


def test_empty_after_filters_is_an_error(tmp_path):
    data = _flat_dir(tmp_path, 3, set())
    proc = _format(data, tmp_path / "out", "--min_duration", "1.0")  # every utterance lasts 0.3 s
    assert proc.returncode == 1
    assert "no utterance left of 3 (3 shorter than 1.0 s)" in proc.stderr


def test_failed_fraction_is_configurable(tmp_path):
    data = _flat_dir(tmp_path, 20, {7})
    out = tmp_path / "dump" / "flat"
    proc = _format(data, out)  # 1 of 20 (5 %): under the default 10 %
    assert proc.returncode == 0, proc.stderr
    assert "19 utterances" in proc.stderr and "1 unreadable of 20" in proc.stderr
    assert str(out / "failed") in proc.stderr
    assert list(read_table(out / "failed")) == ["spk07-utt"]
    assert len(read_table(out / "wav.scp")) == 19
    proc = _format(data, out, "--max_failed_fraction", "0.04")
    assert proc.returncode == 1
    assert "1 of 20 utterances (5.0 %) could not be read" in proc.stderr
    assert "--max_failed_fraction 0.04" in proc.stderr and "spk07-utt" in proc.stderr
    assert not (out / "wav.scp").exists()
    assert _format(data, out, "--max_failed_fraction", "0.05").returncode == 0


def test_api_raises_format_error(tmp_path):
    import pytest

    from speechsent.asr.format_audio import FormatError, format_data_dir

    data = _flat_dir(tmp_path, 4, {0, 1})
    out = tmp_path / "out"
    with pytest.raises(FormatError, match=r"2 of 4 utterances \(50.0 %\)"):
        format_data_dir(data, out, fs=8000)
    report = format_data_dir(data, out, fs=8000, max_failed_fraction=0.5)
    assert (report.num_utts, report.num_failed, report.num_source) == (2, 2, 4)
    assert format_data_dir(data, out, fs=8000, max_failed_fraction=None).num_utts == 2


def test_rerun_retries_what_failed(tmp_path):
    data = _flat_dir(tmp_path, 10, {2})  # 1 of 10: the default limit allows it
    out = tmp_path / "dump" / "flat"
    proc = _format(data, out)
    assert proc.returncode == 0, proc.stderr
    assert "9 utterances (9 files written now, 1 unreadable" in proc.stderr
    assert list(read_table(out / "failed")) == ["spk02-utt"]
    written = {p: p.stat().st_mtime_ns for p in (out / "data").rglob("*.flac")}
    # the audio is fixed (same path, same wav.scp): the rerun reads it again, and only it
    fixed = np.round(np.linspace(-0.5, 0.5, 2400) * 32767).astype(np.int16)
    soundfile.write(tmp_path / "audio" / "spk02-utt.wav", fixed, 8000, subtype="PCM_16")
    proc = _format(data, out)
    assert proc.returncode == 0, proc.stderr
    assert "10 utterances (1 files written now, 0 unreadable" in proc.stderr
    assert not (out / "failed").exists()
    assert not any(read_table(out / "logdir" / f"failed.{j}") for j in (1, 2))
    wav = read_table(out / "wav.scp")
    assert len(wav) == 10 and read_table(out / "utt2num_samples")["spk02-utt"] == "2400"
    samples, _ = soundfile.read(wav["spk02-utt"], dtype="int16")
    assert np.array_equal(samples, fixed)
    assert all(p.stat().st_mtime_ns == t for p, t in written.items())  # what succeeded is kept
    # complete now: a third run has nothing to do
    proc = _format(data, out)
    assert proc.returncode == 0 and "10 utterances (0 files written now, 0 unreadable" in proc.stderr
