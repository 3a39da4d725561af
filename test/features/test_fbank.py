"""Fbank features and their dump: Kaldi frames of the segments, nj jobs + merge, rerun, skips, entry point."""

from __future__ import annotations

import json

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch
from torchaudio.compliance.kaldi import fbank as ta_fbank

from speechsent.bin import dump_fbank
from speechsent.features.fbank import FbankConfig, TooShortError, compute_fbank
from speechsent.kaldi.table import read_table

RATE = 8000


def _data_dir(tmp_path, broken: bool = False):
    """Two 2 s recordings (a tone + noise each) and 5 segments, one of them too short for a frame."""
    rng = np.random.default_rng(0)
    data = tmp_path / "data" / "mini"
    data.mkdir(parents=True)
    wavs = {}
    for i, reco in enumerate(["r1", "r2"]):
        t = np.arange(2 * RATE) / RATE
        x = 0.3 * np.sin(2 * np.pi * (300 + 200 * i) * t) + 0.01 * rng.standard_normal(t.size)
        path = tmp_path / f"{reco}.wav"
        sf.write(path, x, RATE, subtype="PCM_16")
        wavs[reco] = sf.read(path, dtype="int16")[0]
    wav_scp = {"r1": str(tmp_path / "r1.wav"), "r2": str(tmp_path / "r2.wav")}
    if broken:
        wav_scp["r2"] = str(tmp_path / "missing.wav")
    segments = {
        "r1_000-050": "r1 0.00 0.50",
        "r1_050-150": "r1 0.50 1.50",
        "r1_150-151": "r1 1.500 1.501",  # 8 samples: shorter than a 25 ms frame
        "r2_000-100": "r2 0.00 1.00",
        "r2_100-200": "r2 1.00 2.00",
    }
    (data / "wav.scp").write_text("".join(f"{k} {v}\n" for k, v in wav_scp.items()))
    (data / "segments").write_text("".join(f"{k} {v}\n" for k, v in segments.items()))
    (data / "utt2spk").write_text("".join(f"{k} {k[:2]}\n" for k in segments))
    (data / "spk2utt").write_text("r1 r1_000-050 r1_050-150 r1_150-151\nr2 r2_000-100 r2_100-200\n")
    return data, wavs


def test_compute_fbank_matches_kaldi_frames():
    x = np.random.default_rng(1).uniform(-0.5, 0.5, 4000).astype(np.float32)
    feats = compute_fbank(x, RATE)
    assert feats.shape == (1 + (4000 - 200) // 80, 80) and feats.dtype == np.float32
    ref = ta_fbank(torch.from_numpy(x * 32768)[None], sample_frequency=RATE, num_mel_bins=80, dither=0.0)
    assert np.allclose(feats, ref.numpy(), atol=1e-4)
    assert np.all(feats.std(axis=0) > 0)  # no empty mel bin at 8 kHz
    with pytest.raises(TooShortError):
        compute_fbank(x[:100], RATE)
    assert compute_fbank(x, RATE, FbankConfig(num_mel_bins=40)).shape[1] == 40


def test_dump_two_jobs_merge_and_rerun(tmp_path, caplog):
    data, wavs = _data_dir(tmp_path)
    out = tmp_path / "dump" / "fbank" / "mini"
    argv = ["--data_dir", str(data), "--out_dir", str(out), "--nj", "2", "--progress", "false"]
    assert dump_fbank.main(argv) == 0
    scp = read_table(out / "feats.scp")
    assert list(scp) == ["r1_000-050", "r1_050-150", "r2_000-100", "r2_100-200"]
    assert set(read_table(out / "skipped_utts")) == {"r1_150-151"}
    assert "too_short" in read_table(out / "skipped_utts")["r1_150-151"]
    info = json.loads((out / "info.json").read_text())
    assert info["dim"] == 80 and info["num_dumped"] == 4 and info["num_skipped"] == 1
    feats = dict(kaldiio.load_scp(str(out / "feats.scp")))
    expected = compute_fbank(wavs["r1"][4000:12000].astype(np.float32) / 32768, RATE)
    assert np.allclose(feats["r1_050-150"], expected, atol=1e-5)
    frames = read_table(out / "utt2num_frames")
    assert all(int(frames[u]) == feats[u].shape[0] for u in scp)
    # both jobs did work (one recording each); a rerun does nothing
    assert (out / "feats.1.ark").stat().st_size > 0 and (out / "feats.2.ark").stat().st_size > 0
    mtime = (out / "feats.1.ark").stat().st_mtime_ns
    caplog.clear()
    with caplog.at_level("INFO"):
        assert dump_fbank.main(argv) == 0
    assert "already complete" in caplog.text and (out / "feats.1.ark").stat().st_mtime_ns == mtime
    # a changed option redoes the jobs; compressed storage stays close to float
    assert dump_fbank.main([*argv, "--storage", "compressed"]) == 0
    compressed = dict(kaldiio.load_scp(str(out / "feats.scp")))
    assert (out / "feats.1.ark").stat().st_mtime_ns != mtime
    assert np.abs(compressed["r2_000-100"] - feats["r2_000-100"]).max() < 0.1 * feats["r2_000-100"].std()


def test_unreadable_audio_fails_or_is_skipped(tmp_path, caplog):
    data, _ = _data_dir(tmp_path, broken=True)
    out = tmp_path / "out"
    argv = ["--data_dir", str(data), "--out_dir", str(out), "--progress", "false"]
    assert dump_fbank.main(argv) == 1
    assert "r2_000-100: " in caplog.text and "missing.wav" in caplog.text and not (out / "feats.scp").exists()
    assert not list(out.glob(".feats.*.tmp"))
    # 2 of 5 unreadable: more than the default --max_failed_fraction 0.1 stops the merge
    assert dump_fbank.main([*argv, "--skip_unreadable", "true"]) == 1
    assert "2 of 5 utterances (40.0 %) could not be read" in caplog.text
    assert not (out / "feats.scp").exists()
    assert dump_fbank.main([*argv, "--skip_unreadable", "true", "--max_failed_fraction", "0.5"]) == 0
    skipped = read_table(out / "skipped_utts")
    assert set(skipped) == {"r1_150-151", "r2_000-100", "r2_100-200"}
    assert skipped["r2_000-100"].startswith("unreadable")


def test_usage_errors(capsys):
    for argv, message in [
        (["--nj", "2"], "--data_dir is required"),
        (["--data_dir", "d", "--nj", "2", "--job", "3"], "--job must be in 1..--nj"),
        (["--data_dir", "d", "--compression_method", "6"], "integers 0..255"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            dump_fbank.main(argv)
        assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_one_call_through_run_pl_writes_what_the_jobs_by_hand_write(tmp_path, caplog):
    """Stage 9's call (``--cmd run.pl``: the job array, then the merge) and the jobs run by hand then
    ``--merge true`` write the same files; the exact ``run.pl ... JOB=1:2 ...`` line is logged."""
    data, _ = _data_dir(tmp_path)
    one, by_hand = tmp_path / "one", tmp_path / "by_hand"
    common = ["--data_dir", str(data), "--nj", "2", "--progress", "false"]
    with caplog.at_level("INFO"):
        assert dump_fbank.main([*common, "--out_dir", str(one), "--cmd", "run.pl"]) == 0
    assert f"JOB=1:2 {one / 'log' / 'dump.JOB.log'} " in caplog.text
    assert "-m speechsent.bin.dump_fbank --worker" in caplog.text
    assert (one / "log" / "dump.2.log").read_text().rstrip().splitlines()[-1].startswith("# Ended (code 0)")
    for job in ("1", "2"):
        assert dump_fbank.main([*common, "--out_dir", str(by_hand), "--job", job]) == 0
    assert dump_fbank.main([*common, "--out_dir", str(by_hand), "--merge", "true"]) == 0
    for name in ("feats.1.ark", "feats.2.ark", "utt2num_frames", "skipped_utts"):
        assert (one / name).read_bytes() == (by_hand / name).read_bytes(), name
    scp = read_table(one / "feats.scp")
    assert {u: v.replace(str(one), str(by_hand)) for u, v in scp.items()} == read_table(by_hand / "feats.scp")
