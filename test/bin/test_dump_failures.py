"""Stage 5's dumps on unreadable audio (``--skip_unreadable true``, as the recipe runs them): an empty or
mostly unreadable set stops the merge naming ``skipped_utts``; a rerun retries what could not be read.

Through ``speechsent-dump-fbank`` (the same job records and merge as ``speechsent-dump-encoder``, without a
model to build); the audio is written by soundfile, the unreadable files are text under a ``.wav`` name.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from speechsent.bin import dump_encoder, dump_fbank
from speechsent.kaldi.table import read_table

pytest.importorskip("torchaudio")


def _flat_dir(root: Path, n: int, unreadable: set[int]) -> Path:
    rng = np.random.default_rng(2)
    audio = root / "audio"
    audio.mkdir(parents=True)
    data = root / "data" / "flat"
    data.mkdir(parents=True)
    wav, utt2spk = [], []
    for i in range(n):
        utt = f"spk{i:02d}-utt"
        path = audio / f"{utt}.wav"
        if i in unreadable:
            path.write_bytes(b"this is not audio\n" * 20)
        else:
            soundfile.write(path, (rng.standard_normal(2400) * 3000).astype(np.int16), 8000, subtype="PCM_16")
        wav.append(f"{utt} {path}")
        utt2spk.append(f"{utt} spk{i:02d}")
    for name, lines in (("wav.scp", wav), ("utt2spk", utt2spk)):
        (data / name).write_text("".join(line + "\n" for line in sorted(lines)), encoding="utf-8")
    return data


def _dump(data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    argv = ["--data_dir", str(data), "--out_dir", str(out), "--nj", "2", "--skip_unreadable", "true"]
    return subprocess.run(
        [sys.executable, "-m", "speechsent.bin.dump_fbank", *argv, "--progress", "false", *extra],
        capture_output=True,
        text=True,
        check=False,
    )


def test_unreadable_set_stops_the_merge(tmp_path):
    data = _flat_dir(tmp_path, 5, set(range(5)))
    out = tmp_path / "fbank"
    proc = _dump(data, out)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "no utterance left of 5 (5 unreadable)" in proc.stderr
    assert str(out / "skipped_utts") in proc.stderr and "spk00-utt" in proc.stderr
    assert not (out / "feats.scp").exists()
    assert len(read_table(out / "skipped_utts")) == 5
    # no limit on the fraction: an empty set is still an error
    proc = _dump(data, out, "--merge", "true", "--max_failed_fraction", "1")
    assert proc.returncode == 1 and "no utterance left of 5" in proc.stderr


def test_fraction_and_retry(tmp_path):
    data = _flat_dir(tmp_path, 20, {4})
    out = tmp_path / "fbank"
    proc = _dump(data, out, "--max_failed_fraction", "0.04")  # 1 of 20 is 5 %
    assert proc.returncode == 1
    assert "1 of 20 utterances (5.0 %) could not be read" in proc.stderr and "spk04-utt" in proc.stderr
    assert not (out / "feats.scp").exists()
    proc = _dump(data, out, "--merge", "true")  # the default 10 % allows it: the jobs are merged
    assert proc.returncode == 0, proc.stderr
    assert len(read_table(out / "feats.scp")) == 19
    assert read_table(out / "skipped_utts")["spk04-utt"].startswith("unreadable")
    # the file is fixed: the job that could not read it is done again, the other one is kept
    soundfile.write(tmp_path / "audio" / "spk04-utt.wav", np.zeros(2400, np.int16) + 100, 8000)
    proc = _dump(data, out, "--max_failed_fraction", "0")
    assert proc.returncode == 0, proc.stderr
    assert "could not be read last time (e.g. spk04-utt): doing the job again" in proc.stderr
    assert "already complete" in proc.stderr
    assert len(read_table(out / "feats.scp")) == 20 and not read_table(out / "skipped_utts")


@pytest.mark.parametrize("module", [dump_encoder, dump_fbank])
def test_max_failed_fraction_option(module, capsys):
    parser = module.get_parser()
    assert parser.parse_args(["--data_dir", "d"]).max_failed_fraction == 0.1
    assert parser.parse_args(["--data_dir", "d", "--max_failed_fraction", "0.25"]).max_failed_fraction == 0.25
    with pytest.raises(SystemExit):
        parser.parse_args(["--data_dir", "d", "--max_failed_fraction", "-0.1"])
    assert "must be in [0, 1]" in capsys.readouterr().err
