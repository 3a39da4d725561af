"""speechsent.bin.train_e2e on features that stack several encoder layers (a Hugging Face encoder's dump,
info.json model.layers): the learnable weighted sum of layers is trained (its weights leave uniform, towards
the layer that carries the classes) and saved; sets that stack different numbers of layers are an error."""

from __future__ import annotations

import json
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import torch

from speechsent.bin import train_e2e
from speechsent.data.labels import SENTIMENT_LABELS
from speechsent.kaldi.table import write_table
from speechsent.models import build_model

HIDDEN = 8
LAYERS = [0, 3, 6]


def _make_set(
    root: Path, name: str, num_utts: int, seed: int, layers: list[int], hidden: int = HIDDEN
) -> tuple[Path, Path]:
    """Frames of len(layers) x hidden columns (layer-major); only the last layer carries the class."""
    rng = np.random.default_rng(seed)
    dump, data = root / "dump" / name, root / "data" / name
    dump.mkdir(parents=True)
    data.mkdir(parents=True)
    labels, durs = {}, {}
    with kaldiio.WriteHelper(f"ark,scp:{dump / 'feats.ark'},{dump / 'feats.scp'}") as writer:
        for i in range(num_utts):
            utt = f"sw0{2000 + seed}-A_{i * 100:06d}-{i * 100 + 90:06d}"
            c = int(rng.integers(3))
            x = rng.normal(0.0, 1.0, (int(rng.integers(4, 12)), len(layers), hidden)).astype(np.float32)
            x[:, -1, c] += 2.0
            writer(utt, x.reshape(x.shape[0], -1))
            labels[utt], durs[utt] = SENTIMENT_LABELS[c], 0.9
    (dump / "info.json").write_text(json.dumps({"model": {"layers": layers, "layer_dim": hidden}}))
    write_table(data / "utt2sentiment", labels)
    write_table(data / "utt2dur", durs)
    return dump / "feats.scp", data


def _argv(root: Path, train, valid, exp: str) -> list[str]:
    return [
        "--train_feats", str(train[0]), "--train_labels", str(train[1] / "utt2sentiment"),
        "--valid_feats", str(valid[0]), "--valid_labels", str(valid[1] / "utt2sentiment"),
        "--score_sets", f"swbd_test:{valid[0]}:{valid[1] / 'utt2sentiment'}",
        "--fc_dim", "16", "--lstm_dim", "8", "--batch_size", "8", "--lr", "0.02", "--max_epochs", "6",
        "--patience", "0", "--progress", "false", "--num_threads", "1", "--exp_dir", str(root / "exp" / exp),
    ]  # fmt: skip


def test_weighted_sum_of_layers_is_learned_and_saved(tmp_path):
    train = _make_set(tmp_path, "swbd_train", 96, 0, LAYERS)
    valid = _make_set(tmp_path, "swbd_test", 30, 1, LAYERS)
    assert train_e2e.main(_argv(tmp_path, train, valid, "e2e")) == 0
    exp = tmp_path / "exp" / "e2e"
    manifest = json.loads((exp / "model.json").read_text())
    config = manifest["config"]
    assert config["feature_layers"] == 3 and config["input_dim"] == 3 * HIDDEN
    model = build_model("blstm", **config)
    model.load_state_dict(torch.load(exp / "best.pth", map_location="cpu"))
    weights = model.layer_weight_values()
    assert weights is not None and len(weights) == 3 and sum(weights) == pytest.approx(1.0)
    assert max(abs(w - 1 / 3) for w in weights) > 1e-3  # trained, not left uniform
    assert int(np.argmax(weights)) == 2  # towards the layer that carries the classes
    scores = json.loads((exp / "score_swbd_test" / "scores.json").read_text())
    assert scores["unweighted_f1"] > 70


def test_sets_stacking_different_layers_are_an_error(tmp_path, caplog):
    train = _make_set(tmp_path, "swbd_train", 24, 0, LAYERS)
    valid = _make_set(tmp_path, "swbd_test", 12, 1, [6], hidden=3 * HIDDEN)  # the same dim, one layer
    assert train_e2e.main(_argv(tmp_path, train, valid, "bad")) == 1
    assert "stack 1 encoder layers, training ones 3" in caplog.text


def test_cnn_refuses_stacked_layers(tmp_path, caplog):
    train = _make_set(tmp_path, "swbd_train", 24, 0, LAYERS)
    valid = _make_set(tmp_path, "swbd_test", 12, 1, LAYERS)
    assert train_e2e.main([*_argv(tmp_path, train, valid, "cnn"), "--model", "cnn"]) == 1
    assert "need the blstm model" in caplog.text
