"""Stage 5 library: batch-invariant encoding, verified compressed storage, atomic resumable jobs and merging.

The models are tiny, randomly initialised ESPnet2 ASR models written like an exp dir (config.yaml + model.pth
+ global-MVN stats) by :func:`speechsent.asr.tiny_model.write_tiny_asr_model`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("espnet2")
torch = pytest.importorskip("torch")

from speechsent.asr.batch_encode import BatchEncoder, TooShortError  # noqa: E402
from speechsent.asr.dump_jobs import (  # noqa: E402
    DumpError,
    job_files,
    job_utterances,
    merge_jobs,
    split_utterances,
)
from speechsent.asr.encoder_dump import DumpConfig, dump_job  # noqa: E402
from speechsent.asr.tiny_model import (  # noqa: E402
    TinyModelSpec,
    synthetic_speech,
    write_synthetic_data_dir,
    write_tiny_asr_model,
)
from speechsent.kaldi.ark import StorageSpec  # noqa: E402
from speechsent.kaldi.data_dir import DataDir  # noqa: E402
from speechsent.kaldi.table import read_table  # noqa: E402

FS = 8000
HOP = 80  # TinyModelSpec's frontend hop


# ----------------------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def transformer_model(tmp_path_factory) -> tuple[Path, Path]:
    return write_tiny_asr_model(tmp_path_factory.mktemp("asr_transformer"), TinyModelSpec("transformer"))


def _load(config: Path, model_file: Path):
    from espnet2.tasks.asr import ASRTask

    model, _ = ASRTask.build_model_from_file(config, model_file, "cpu")
    return model.eval()


@pytest.fixture(scope="module")
def transformer(transformer_model) -> BatchEncoder:
    return BatchEncoder(_load(*transformer_model))


#: Recordings of segments (durations in s): mixed lengths, one too short for conv2d (< 480 samples = 0.06 s),
#: one barely long enough.
RECORDINGS = [[1.3, 0.03, 4.2, 2.05], [0.5, 7.1], [3.3, 0.061, 1.0], [2.2, 5.5, 0.9]]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return write_synthetic_data_dir(tmp_path_factory.mktemp("corpus"), RECORDINGS, fs=FS, seed=3)


def _cfg(data: Path, out: Path, model: tuple[Path, Path], **kw) -> DumpConfig:
    return DumpConfig(
        data_dir=data, out_dir=out, asr_config=model[0], asr_model_file=model[1], progress=False, **kw
    )


def _wavs(seed: int, seconds: list[float]) -> list[np.ndarray]:
    return [synthetic_speech(int(s * FS), FS, seed + i) for i, s in enumerate(seconds)]


def _feats(out: Path) -> dict[str, np.ndarray]:
    import kaldiio

    return {k: np.asarray(v) for k, v in kaldiio.load_scp(str(out / "feats.scp")).items()}


# ----------------------------------------------------------------------------------------------------------
# Batch invariance

MIXED = [5.3, 0.06, 2.1, 9.7, 1.0, 0.2, 3.33, 6.01, 0.0601, 4.4]


@pytest.mark.parametrize("encoder", ["transformer", "conformer"])
def test_padded_batches_equal_single_utterance_encode(encoder, transformer, tmp_path):
    enc = transformer if encoder == "transformer" else None
    if enc is None:
        spec = TinyModelSpec("conformer", num_blocks=2)
        enc = BatchEncoder(_load(*write_tiny_asr_model(tmp_path, spec)))
    assert enc.batch_invariant_batching, enc.reason
    wavs = _wavs(11, MIXED)
    with torch.inference_mode():
        single = [enc.encode_single(w) for w in wavs]
        # the whole set as one padded batch, and in batches of 3 in data order
        for batches in ([wavs], [wavs[i : i + 3] for i in range(0, len(wavs), 3)]):
            batched = [m for b in batches for m in enc.encode_batch(b)]
            for s, b in zip(single, batched, strict=True):
                assert b.shape == s.shape
                assert np.abs(b - s).max() <= 1e-4
        # naive padded model.encode() is not batch invariant (what the hooks repair)
        speech = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(w) for w in wavs], batch_first=True)
        _, lens = enc.model.encode(speech, torch.tensor([len(w) for w in wavs]))
    assert lens.tolist() != [len(s) for s in single]


def test_self_check_reports_ok(transformer):
    with torch.inference_mode():
        report = transformer.self_check(_wavs(5, [1.0, 3.0, 0.7]), 1e-4)
    assert report.ok and report.length_mismatches == 0 and report.max_abs_diff <= 1e-4


def test_length_arithmetic_is_conv2d(transformer):
    for frames in range(1, 300):
        assert transformer.num_encoder_frames(frames) == ((frames - 1) // 2 - 1) // 2
    assert transformer.min_frames() == 7
    assert transformer.num_feature_frames(8000) == 8000 // HOP + 1
    assert transformer.min_samples() == 6 * HOP  # 7 frames
    with torch.inference_mode():
        assert len(transformer.encode_single(np.zeros(480, np.float32) + 0.01)) == 1
        with pytest.raises(TooShortError):
            transformer.encode_single(np.zeros(479, np.float32) + 0.01)


# ----------------------------------------------------------------------------------------------------------
# Splitting


def test_split_keeps_recordings_whole_and_covers_everything(data_dir):
    data = DataDir(data_dir)
    jobs = split_utterances(data, 3)
    assert sorted(u for j in jobs for u in j) == sorted(data.utt_ids)
    segments = data.segments
    owner = {}
    for index, job in enumerate(jobs):
        for utt in job:
            assert owner.setdefault(segments[utt].reco, index) == index
    assert [job_utterances(data_dir, 3, j + 1) for j in range(3)] == jobs
    more = split_utterances(data, 10)  # more jobs than recordings: empty jobs
    assert sum(1 for j in more if j) == len(RECORDINGS)


def test_presplit_dir_is_taken_whole(data_dir, tmp_path):
    split = tmp_path / "split2" / "2"
    shutil.copytree(data_dir, split)
    assert job_utterances(split, 2, 2) == DataDir(data_dir).utt_ids


# ----------------------------------------------------------------------------------------------------------
# Dump: frames, skips, merge


@pytest.fixture(scope="module")
def float_dump(tmp_path_factory, data_dir, transformer_model) -> Path:
    out = tmp_path_factory.mktemp("dump") / "float"
    cfg = _cfg(data_dir, out, transformer_model, nj=2)
    for job in (1, 2):
        dump_job(cfg, job)
    merge_jobs(data_dir, out, 2)
    return out


def test_every_utterance_dumped_or_reported(float_dump, data_dir):
    utts = DataDir(data_dir).utt_ids
    scp = read_table(float_dump / "feats.scp")
    skipped = read_table(float_dump / "skipped_utts")
    assert sorted(set(scp) | set(skipped)) == utts and not set(scp) & set(skipped)
    assert list(scp) == sorted(scp)  # C-sorted
    assert len(skipped) == 1  # the 0.03 s segment; 0.061 s is long enough
    ((utt, reason),) = skipped.items()
    assert DataDir(data_dir).utt2dur[utt] == pytest.approx(0.03) and reason.startswith("too_short")
    info = json.loads((float_dump / "info.json").read_text())
    assert info["num_utts"] == len(utts) and info["num_dumped"] == len(scp) and info["num_too_short"] == 1
    assert info["dim"] == 64 and info["subsampling"] == 4


def test_frame_counts_follow_utt2dur_and_conv2d(float_dump, data_dir):
    data = DataDir(data_dir)
    num_frames = {k: int(v) for k, v in read_table(float_dump / "utt2num_frames").items()}
    feats = _feats(float_dump)
    assert set(num_frames) == set(feats)
    for utt, n in num_frames.items():
        seg = data.segments[utt]
        samples = int(seg.end * FS) - int(seg.start * FS)  # Kaldi extract-segments
        assert abs(samples - data.utt2dur[utt] * FS) <= 1
        frames = samples // HOP + 1  # centred STFT
        assert n == ((frames - 1) // 2 - 1) // 2
        assert feats[utt].shape == (n, 64)


def test_dumped_matrices_equal_single_utterance_encode(float_dump, data_dir, transformer):
    from speechsent.audio.io import UtteranceReader

    feats = _feats(float_dump)
    with torch.inference_mode():
        for utt, wav, _ in UtteranceReader(data_dir).iter_utterances(sorted(feats)):
            ref = transformer.encode_single(wav)
            assert feats[utt].shape == ref.shape and np.abs(feats[utt] - ref).max() <= 1e-4


def test_batched_dump_equals_batch_one_dump(float_dump, data_dir, transformer_model, tmp_path):
    out = tmp_path / "batched"
    cfg = _cfg(data_dir, out, transformer_model, nj=2, batch_size=4, sort_buffer=5)
    results = [dump_job(cfg, job) for job in (1, 2)]
    merge_jobs(data_dir, out, 2)
    assert all(r.record["batch_size"] == 4 for r in results)
    assert any(r.record["invariance_check"].get("ok") for r in results)
    a, b = _feats(float_dump), _feats(out)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].shape == b[k].shape and np.abs(a[k] - b[k]).max() <= 1e-4


def test_rerun_does_no_work(float_dump, data_dir, transformer_model, monkeypatch):
    import speechsent.asr.encoder_dump as ed

    arks = {p: p.stat().st_mtime_ns for p in float_dump.glob("feats.*.ark")}

    def no_model(*_a, **_k):
        raise AssertionError("the model was loaded for a finished job")

    monkeypatch.setattr(ed, "_load_model", no_model)
    cfg = _cfg(data_dir, float_dump, transformer_model, nj=2, batch_size=8)  # batch size: not in fingerprint
    assert all(dump_job(cfg, job).skipped_job for job in (1, 2))
    assert {p: p.stat().st_mtime_ns for p in float_dump.glob("feats.*.ark")} == arks


def test_interrupted_job_resumes_to_identical_output(float_dump, data_dir, transformer_model, tmp_path):
    out = tmp_path / "dump"
    shutil.copytree(float_dump, out)
    for name in ("feats.scp", "info.json", "utt2num_frames", "skipped_utts"):
        (out / name).unlink()
    # as if job 2 was killed half-way through its ark: temp ark only, no scp / done
    files = job_files(out, 2)
    ark = files.ark.read_bytes()
    files.ark.unlink()
    files.scp.unlink()
    files.done.unlink()
    files.tmp_ark.write_bytes(ark[: len(ark) // 2])
    with pytest.raises(DumpError, match="job.*2.*not complete"):
        merge_jobs(data_dir, out, 2)
    assert not (out / "feats.scp").exists()
    # ... and a stale scp of another run must not survive either
    files.scp.write_text("bogus /nowhere.ark:1\n")
    cfg = _cfg(data_dir, out, transformer_model, nj=2)
    r1, r2 = dump_job(cfg, 1), dump_job(cfg, 2)
    assert r1.skipped_job and not r2.skipped_job
    merge_jobs(data_dir, out, 2)
    assert not files.tmp_ark.exists()
    assert files.ark.read_bytes() == ark
    for name in ("utt2num_frames", "skipped_utts"):
        assert (out / name).read_bytes() == (float_dump / name).read_bytes()
    assert read_table(out / "feats.scp").keys() == read_table(float_dump / "feats.scp").keys()
    a, b = _feats(float_dump), _feats(out)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_changed_storage_redoes_the_job(float_dump, data_dir, transformer_model, tmp_path):
    out = tmp_path / "dump"
    shutil.copytree(float_dump, out)
    cfg = _cfg(data_dir, out, transformer_model, nj=2, storage=StorageSpec("compressed"))
    assert not dump_job(cfg, 1).skipped_job


def test_merge_checks_coverage(float_dump, data_dir, tmp_path):
    with pytest.raises(DumpError, match="not complete"):
        merge_jobs(data_dir, float_dump, 3)
    bigger = tmp_path / "data"
    shutil.copytree(data_dir, bigger)
    with (bigger / "utt2spk").open("a") as f:
        f.write("sw09999-A_000000-000100 sw09999-A\n")
    with pytest.raises(DumpError, match="do not cover"):
        merge_jobs(bigger, float_dump, 2)


def test_unreadable_audio_fails_or_is_listed(data_dir, transformer_model, tmp_path):
    broken = tmp_path / "data"
    shutil.copytree(data_dir, broken)
    wav_scp = (broken / "wav.scp").read_text().splitlines()
    wav_scp[0] = wav_scp[0].split()[0] + " " + str(tmp_path / "missing.wav")
    (broken / "wav.scp").write_text("\n".join(wav_scp) + "\n")
    with pytest.raises(DumpError, match="missing.wav"):
        dump_job(_cfg(broken, tmp_path / "a", transformer_model), 1)
    assert not job_files(tmp_path / "a", 1).tmp_ark.exists()
    assert not job_files(tmp_path / "a", 1).scp.exists()
    cfg = _cfg(broken, tmp_path / "b", transformer_model, skip_unreadable=True)
    result = dump_job(cfg, 1)
    unreadable = [u for u, r in result.skipped.items() if r.startswith("unreadable")]
    assert len(unreadable) == len(RECORDINGS[0])
    # 4 of 13 utterances unreadable: more than the default 10 % stops the merge, naming the list
    total = sum(len(r) for r in RECORDINGS)
    with pytest.raises(DumpError, match=rf"4 of {total} utterances .* could not be read.*skipped_utts"):
        merge_jobs(broken, tmp_path / "b", 1)
    assert not (tmp_path / "b" / "feats.scp").exists()
    assert set(unreadable) <= set(read_table(tmp_path / "b" / "skipped_utts"))
    merge_jobs(broken, tmp_path / "b", 1, max_failed_fraction=0.5)
    skipped = read_table(tmp_path / "b" / "skipped_utts")
    assert len(read_table(tmp_path / "b" / "feats.scp")) == total - len(skipped)


def test_rerun_retries_unreadable_utterances(data_dir, transformer_model, tmp_path):
    broken = tmp_path / "data"
    shutil.copytree(data_dir, broken)
    good = (broken / "wav.scp").read_text()
    first = good.splitlines()[0]
    (broken / "wav.scp").write_text(good.replace(first, first.split()[0] + " " + str(tmp_path / "gone.wav")))
    out = tmp_path / "dump"
    cfg = _cfg(broken, out, transformer_model, nj=2, skip_unreadable=True)
    first_run = [dump_job(cfg, job) for job in (1, 2)]
    assert sum(r.startswith("unreadable") for j in first_run for r in j.skipped.values()) == 4
    other = next(r.job for r in first_run if not any(v.startswith("unread") for v in r.skipped.values()))
    # the audio is back: the job that could not read it is not complete and is done again, the other one is
    (broken / "wav.scp").write_text(good)
    again = {job: dump_job(cfg, job) for job in (1, 2)}
    assert again[other].skipped_job and not again[3 - other].skipped_job
    assert not any(r.startswith("unreadable") for a in again.values() for r in a.skipped.values())
    merge_jobs(broken, out, 2, max_failed_fraction=0.0)
    skipped = read_table(out / "skipped_utts")
    assert all(r.startswith("too_short") for r in skipped.values())
    assert len(read_table(out / "feats.scp")) == sum(len(r) for r in RECORDINGS) - len(skipped)
    assert all(dump_job(cfg, job).skipped_job for job in (1, 2))  # complete now


def test_merge_of_nothing_dumped_is_an_error(data_dir, transformer_model, tmp_path):
    broken = tmp_path / "data"
    shutil.copytree(data_dir, broken)
    lines = (broken / "wav.scp").read_text().splitlines()
    (broken / "wav.scp").write_text("".join(f"{line.split()[0]} {tmp_path / 'none.wav'}\n" for line in lines))
    out = tmp_path / "dump"
    dump_job(_cfg(broken, out, transformer_model, skip_unreadable=True), 1)
    with pytest.raises(DumpError, match="no utterance left of 12 .12 unreadable.*skipped_utts"):
        merge_jobs(broken, out, 1, max_failed_fraction=1.0)
    assert not (out / "feats.scp").exists()


def test_model_dir_with_relative_paths(float_dump, data_dir, transformer_model, tmp_path, monkeypatch):
    import yaml

    config, model_file = transformer_model
    exp = tmp_path / "exp" / "asr_tiny"
    exp.mkdir(parents=True)
    shutil.copy(model_file, exp / "valid.acc.ave.pth")
    shutil.copy(Path(yaml.safe_load(config.read_text())["normalize_conf"]["stats_file"]), exp / "stats.npz")
    raw = yaml.safe_load(config.read_text())
    raw["normalize_conf"]["stats_file"] = "exp/asr_tiny/stats.npz"  # relative to the recipe dir, as asr.sh
    (exp / "config.yaml").write_text(yaml.safe_dump(raw))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    out = tmp_path / "dump"
    cfg = DumpConfig(data_dir=data_dir, out_dir=out, asr_model_dir=exp, progress=False)
    dump_job(cfg, 1)
    info = merge_jobs(data_dir, out, 1).info
    assert info["model"]["config"] == str(exp / "config.yaml")
    assert info["model"]["model_file"] == str(exp / "valid.acc.ave.pth")
    resolved = yaml.safe_load((out / "asr_config.yaml").read_text())
    assert resolved["normalize_conf"]["stats_file"] == str(exp / "stats.npz")
    a, b = _feats(float_dump), _feats(out)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_amp_needs_cuda(transformer):
    with pytest.raises(ValueError, match="CUDA"):
        BatchEncoder(transformer.model, "cpu", amp="fp16")


# ----------------------------------------------------------------------------------------------------------
# Compressed storage


def test_compressed_dump_is_small_and_within_error(float_dump, data_dir, transformer_model, tmp_path):
    out = tmp_path / "compressed"
    cfg = _cfg(data_dir, out, transformer_model, nj=2, storage=StorageSpec("compressed"))
    for job in (1, 2):
        dump_job(cfg, job)
    info = merge_jobs(data_dir, out, 2).info
    ref, comp = _feats(float_dump), _feats(out)
    assert ref.keys() == comp.keys()
    for k in ref:
        err = np.abs(ref[k] - comp[k])
        assert err.max() <= 0.1 * ref[k].std()
    measured = info["storage"]["measured"]
    assert measured["num_fallbacks"] == 0
    float_bytes = sum(p.stat().st_size for p in float_dump.glob("feats.*.ark"))
    comp_bytes = sum(p.stat().st_size for p in out.glob("feats.*.ark"))
    assert comp_bytes <= 0.5 * float_bytes
    assert measured["bytes_ratio"] <= 0.5
    all_err = np.concatenate([np.abs(ref[k] - comp[k]).ravel() for k in ref])
    assert measured["max_abs_error"] == pytest.approx(all_err.max(), rel=1e-5)
    assert measured["mean_abs_error"] == pytest.approx(all_err.mean(), rel=1e-3)
