"""speechsent-format-wav: per-utterance audio as espnet2 reads it, through run.pl jobs; resumable; filters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

from speechsent.asr.format_audio import format_data_dir
from speechsent.audio.io import UtteranceReader
from speechsent.kaldi.table import read_table


def _data_dir(root: Path, rate: int = 16000) -> Path:
    """Four recordings (one read through a pipe), twelve segments, one unreadable recording."""
    rng = np.random.default_rng(0)
    audio = root / "audio"
    audio.mkdir(parents=True)
    data = root / "data" / "set"
    data.mkdir(parents=True)
    wav, segments, utt2spk, text = [], [], [], []
    for r in range(4):
        reco = f"rec{r}-A"
        path = audio / f"{reco}.wav"
        soundfile.write(path, (rng.standard_normal(rate * 4) * 3000).astype(np.int16), rate, subtype="PCM_16")
        wav.append(f"{reco} cat {path} |" if r == 1 else f"{reco} {path}")
        for k in range(3):
            start, end = k * 1.2 + 0.1, k * 1.2 + 0.1 + (0.05 if (r, k) == (2, 0) else 1.0)
            utt = f"{reco}_{k:02d}"
            segments.append(f"{utt} {reco} {start:.2f} {end:.2f}")
            utt2spk.append(f"{utt} {reco}")
            text.append(f"{utt} words of {r} {k}" if (r, k) != (3, 1) else utt)
    wav.append(f"rec9-A {audio / 'missing.wav'}")
    segments.append("rec9-A_00 rec9-A 0.00 1.00")
    utt2spk.append("rec9-A_00 rec9-A")
    text.append("rec9-A_00 lost")
    for name, lines in (("wav.scp", wav), ("segments", segments), ("utt2spk", utt2spk), ("text", text)):
        (data / name).write_text("".join(sorted(line + "\n" for line in lines)), encoding="utf-8")
    (data / "utt2sentiment").write_text(
        "".join(f"{line.split()[0]} Neutral\n" for line in sorted(utt2spk)), encoding="utf-8"
    )
    return data


def test_format_resample_resume_filter(tmp_path):
    data = _data_dir(tmp_path)
    out = tmp_path / "dump" / "set"
    report = format_data_dir(data, out, fs=8000, nj=2, cmd="run.pl")
    assert report.num_failed == 1 and report.num_utts == 12 and report.num_source == 13
    assert "rec9-A_00" in read_table(out / "failed")
    # the job with the unreadable utterance is not done (a rerun retries it); the other one is
    assert sum((out / "logdir" / f"format.{j}.done").is_file() for j in (1, 2)) == 1
    assert len(list((out / "logdir").glob("keys.*"))) == 2
    wav = read_table(out / "wav.scp")
    assert sorted(wav) == sorted(u for u in read_table(data / "utt2spk") if u != "rec9-A_00")
    nsamples = read_table(out / "utt2num_samples")
    reader = UtteranceReader(data, target_rate=8000)
    for utt, path in wav.items():
        assert path == str(out / "data" / utt.split("_")[0] / f"{utt}.flac")
        samples, rate = soundfile.read(path, dtype="int16")
        assert rate == 8000 and samples.ndim == 1 and len(samples) == int(nsamples[utt])
        expected = np.clip(np.round(reader[utt] * 32768), -32768, 32767).astype(np.int16)
        assert np.array_equal(samples, expected)
    # the source's utterance tables are carried; audio-describing ones are not
    for name in ("text", "utt2spk", "spk2utt", "utt2sentiment"):
        assert (out / name).is_file()
    assert not (out / "segments").exists()
    assert (out / "feats_type").read_text() == "raw\n"

    # resumable: a finished run writes nothing; a lost file is written again, alone
    assert format_data_dir(data, out, fs=8000, nj=2).num_written == 0
    lost = Path(wav["rec1-A_02"])
    lost.unlink()
    (out / "logdir" / "format.1.done").unlink(missing_ok=True)
    (out / "logdir" / "format.2.done").unlink(missing_ok=True)
    report = format_data_dir(data, out, fs=8000, nj=2)
    assert report.num_written == 1 and lost.is_file()

    # asr.sh's training filters: duration and empty text
    report = format_data_dir(
        data, out, fs=8000, nj=2, min_duration=0.1, max_duration=20, drop_empty_text=True
    )
    assert report.removed == {"shorter than 0.1 s": 1, "empty text": 1}
    kept = read_table(out / "wav.scp")
    assert "rec2-A_00" not in kept and "rec3-A_01" not in kept and len(kept) == 10
    assert sorted(read_table(out / "text")) == sorted(kept)

    # another sampling rate: starts afresh
    report = format_data_dir(data, out, fs=16000, nj=1)
    assert report.num_written == 12
    assert soundfile.info(read_table(out / "wav.scp")["rec0-A_00"]).samplerate == 16000


def test_cli(tmp_path):
    data = _data_dir(tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechsent.bin.format_wav",
            "--data_dir",
            str(data),
            "--out_dir",
            str(tmp_path / "out"),
            "--audio_format",
            "wav",
            "--nj",
            "3",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "12 utterances" in proc.stderr and "1 unreadable" in proc.stderr
    assert all(p.endswith(".wav") for p in read_table(tmp_path / "out" / "wav.scp").values())
