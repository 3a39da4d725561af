"""Stage 5 with a Hugging Face encoder (speechsent-dump-encoder --encoder hf:<dir>): the same job files and
feats.scp as with an ESPnet encoder, each matrix the utterance's states of the chosen layers encoded alone,
batched or not, resumable, compressed; the command line's checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from speechsent.asr.dump_jobs import merge_jobs  # noqa: E402
from speechsent.asr.encoder_dump import DumpConfig, dump_job  # noqa: E402
from speechsent.asr.hf_encoder import HFEncoder, parse_layers  # noqa: E402
from speechsent.asr.tiny_model import write_synthetic_data_dir, write_tiny_hf_encoder  # noqa: E402
from speechsent.audio.io import UtteranceReader  # noqa: E402
from speechsent.bin import dump_encoder  # noqa: E402
from speechsent.kaldi.ark import StorageSpec  # noqa: E402

# 8-kHz recordings of segments (s): the dump reads them at the model's 16 kHz
RECORDINGS = [[1.3, 0.03, 2.2], [0.5, 3.1], [1.7, 0.9, 0.4]]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_synthetic_data_dir(tmp_path_factory.mktemp("corpus"), RECORDINGS, fs=8000, seed=5)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    return {kind: write_tiny_hf_encoder(root / kind, kind) for kind in ("wavlm", "hubert", "whisper")}


def _feats(out) -> dict[str, np.ndarray]:
    import kaldiio

    return {k: np.asarray(v) for k, v in kaldiio.load_scp(str(out / "feats.scp")).items()}


def _dump(data_dir, out, model, **kw):
    cfg = DumpConfig(data_dir=data_dir, out_dir=out, encoder=f"hf:{model}", nj=2, progress=False, **kw)
    results = [dump_job(cfg, job) for job in (1, 2)]
    return cfg, results, merge_jobs(data_dir, out, 2)


@pytest.mark.parametrize("kind", ["wavlm", "hubert", "whisper"])
def test_dump_equals_each_utterance_encoded_alone(data_dir, models, kind, tmp_path):
    # batch_size 4 asks for batches on CPU: WavLM and Whisper batch (the invariance check runs), HuBERT
    # (group norm) encodes one utterance at a time
    _, results, merged = _dump(data_dir, tmp_path / "out", models[kind], batch_size=4)
    feats = _feats(tmp_path / "out")
    reader = UtteranceReader(data_dir, target_rate=16000)
    assert sorted(feats) == reader.utt_ids()
    encoder = HFEncoder(str(models[kind]))
    for utt, matrix in feats.items():
        wav, _ = reader.load(utt)
        alone = encoder.encode([wav], [0, 1, 2], rate=16000)[0]
        assert matrix.shape == (alone.shape[0], 3 * 32)
        assert np.abs(matrix - alone.reshape(alone.shape[0], -1)).max() <= 1e-4
    model = merged.info["model"]
    assert model["encoder"] == f"hf:{models[kind]}" and model["layers"] == [0, 1, 2]
    assert model["layer_dim"] == 32 and merged.info["dim"] == 96 and model["frontend"]["fs"] == 16000
    assert model["hf"]["model_type"] == kind
    batched = [r.record for r in results if r.record["batch_size"] > 1]
    assert bool(batched) == (kind != "hubert")
    for record in batched:
        if record["invariance_check"]["checked"]:
            assert record["invariance_check"]["ok"]


def test_one_layer_resumable_and_compressed(data_dir, models, tmp_path):
    _dump(data_dir, tmp_path / "all", models["wavlm"])
    every = _feats(tmp_path / "all")
    cfg, _, _ = _dump(data_dir, tmp_path / "last", models["wavlm"], hf_layers="last")
    last = _feats(tmp_path / "last")
    for utt, matrix in last.items():
        assert matrix.shape[1] == 32 and np.array_equal(matrix, every[utt][:, 64:])
    # a rerun with the same options reuses every job; other layers redo them
    assert all(dump_job(cfg, job).skipped_job for job in (1, 2))
    cfg.hf_layers = "0"
    assert not any(dump_job(cfg, job).skipped_job for job in (1, 2))
    _, _, merged = _dump(data_dir, tmp_path / "comp", models["wavlm"], storage=StorageSpec("compressed"))
    comp = _feats(tmp_path / "comp")
    for utt, matrix in every.items():
        assert np.abs(comp[utt] - matrix).max() <= 0.1 * matrix.std()
    assert merged.info["storage"]["measured"]["bytes_ratio"] <= 0.5


def test_command_line(data_dir, models, tmp_path, capsys, caplog):
    out = tmp_path / "cli"
    argv = ["--data_dir", str(data_dir), "--out_dir", str(out), "--encoder", f"hf:{models['whisper']}"]
    assert dump_encoder.main([*argv, "--hf_layers", "-1", "--progress", "false"]) == 0
    info = json.loads((out / "info.json").read_text())
    assert info["model"]["layers"] == [2] and info["dim"] == 32
    for bad, message in (
        (["--encoder", "wav2vec2"], "expected asr or hf:<hub id or local dir>"),
        (["--encoder", "hf:"], "expected asr or hf:<hub id or local dir>"),
        (["--encoder", "hf:x", "--asr_model_dir", "m"], "reads no ESPnet model"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            dump_encoder.main(["--data_dir", str(data_dir), *bad])
        assert exit_info.value.code == 2 and message in capsys.readouterr().err
    # a model dir that is not a speech encoder: one error line naming it, exit 1
    missing = tmp_path / "no_model"
    assert dump_encoder.main(["--data_dir", str(data_dir), "--out_dir", str(tmp_path / "x"),
                              "--encoder", f"hf:{missing}", "--progress", "false"]) == 1  # fmt: skip
    assert f"{missing}: cannot load a speech encoder" in caplog.text
    assert "without --hf_revision" in caplog.text  # not a local dir: a hub id, unpinned


def test_layers_of_the_model(models):
    encoder = HFEncoder(str(models["wavlm"]))
    assert parse_layers("all", encoder.info.num_layers) == [0, 1, 2]
