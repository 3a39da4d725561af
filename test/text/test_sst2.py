"""SST-2 fine-tuning: TSV reading (bad rows), training a tiny BERT, resume, stage 6 with --sst2_dir."""

from __future__ import annotations

import json

import pytest
from test_labelers_fixtures import make_data_dir, make_sst2_dir, make_tiny_bert, make_tiny_distilbert

from speechsent.bin import pseudo_labeler as stage6
from speechsent.text import sst2
from speechsent.text.labelers import load_labeler
from speechsent.text.sst2 import SST2FormatError, SST2Options, finetune_sst2, read_sst2_tsv

FAST = {"epochs": 3, "batch_size": 8, "lr": 5e-3, "warmup_ratio": 0.1}  # 100% dev accuracy, seeds 0-2


def test_read_sst2_tsv(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text("sentence\tlabel\nit 's a charming journey \t1\nbad , bad movie\t0\n", encoding="utf-8")
    assert read_sst2_tsv(path) == (["it 's a charming journey", "bad , bad movie"], [1, 0])
    path.write_text("label\tsentence\n0\tawful\n", encoding="utf-8")  # column order from the header
    assert read_sst2_tsv(path) == (["awful"], [0])


@pytest.mark.parametrize(
    ("content", "where", "what"),
    [
        ("sentence\tlabel\ngood\t1\nbad\t2\n", ":3:", "label must be 0 or 1"),
        ("sentence\tlabel\ngood\t1\nno label here\n", ":3:", "expected 2 tab-separated fields"),
        ("sentence\tlabel\n\t1\n", ":2:", "empty sentence"),
        ("index\tsentence\n0\tgood\n", ":1:", "lacks the 'sentence' and 'label' columns"),
        ("sentence\tlabel\n", "train.tsv", "no examples"),
    ],
)
def test_read_sst2_tsv_errors_name_file_and_line(tmp_path, content, where, what):
    path = tmp_path / "train.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SST2FormatError) as error:
        read_sst2_tsv(path)
    assert str(path) in str(error.value) and where in str(error.value) and what in str(error.value)


@pytest.mark.slow
def test_finetune_learns_and_resumes(tmp_path, monkeypatch):
    model_dir = make_tiny_bert(tmp_path / "base")
    data = make_sst2_dir(tmp_path / "sst2", num_train=120, num_dev=40)
    options = SST2Options(**FAST)

    # an interrupted run: the epoch-2 validation fails, after epoch 1's checkpoint
    from speechsent.training.trainer import Trainer

    real = Trainer._validate
    calls = {"n": 0}

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "_validate", failing)
    out = tmp_path / "exp" / "pseudo_labeler_tiny"
    with pytest.raises(KeyboardInterrupt):
        finetune_sst2(model_dir, data, out, options, progress=False)
    assert (out / "sst2_work" / "checkpoint.pth").is_file() and not (out / "sst2_results.json").exists()
    monkeypatch.setattr(Trainer, "_validate", real)

    resumed = finetune_sst2(model_dir, data, out, options, progress=False)
    assert [e["epoch"] for e in resumed["epochs"]] == [1, 2, 3]
    # the same as an uninterrupted run (resume restores everything)
    clean = finetune_sst2(model_dir, data, tmp_path / "clean", options, progress=False)
    for a, b in zip(resumed["epochs"], clean["epochs"], strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        assert a["dev_accuracy"] == b["dev_accuracy"] and a["dev_loss"] == pytest.approx(
            b["dev_loss"], rel=1e-5
        )
    # a trivially separable fixture is learnt by a tiny model
    assert resumed["best_dev_accuracy"] >= 90.0, resumed["epochs"]
    saved = json.loads((out / "sst2_results.json").read_text())
    assert saved["best_epoch"] == max(saved["epochs"], key=lambda e: e["dev_accuracy"])["epoch"]
    assert not (out / "sst2_work").exists()
    labeler = load_labeler(out, device="cpu")
    assert labeler.name == "tiny"
    assert labeler.model.config.id2label == {0: "Negative", 1: "Positive"}
    assert labeler.predict(["i love it", "i hate it", "so bad", "wonderful"]) == [
        "Positive",
        "Negative",
        "Negative",
        "Positive",
    ]
    # done: a rerun does nothing
    mtime = (out / "model.safetensors").stat().st_mtime_ns
    assert finetune_sst2(model_dir, data, out, options, progress=False)["stamp"] == saved["stamp"]
    assert (out / "model.safetensors").stat().st_mtime_ns == mtime


def test_finetune_another_architecture(tmp_path):
    """DistilBERT takes no token_type_ids: training and labeling pass only what the model accepts."""
    model_dir = make_tiny_distilbert(tmp_path / "distil")
    data = make_sst2_dir(tmp_path / "sst2", num_train=32, num_dev=8)
    out = tmp_path / "exp" / "pseudo_labeler_distil"
    results = finetune_sst2(model_dir, data, out, SST2Options(epochs=1, batch_size=16), progress=False)
    assert len(results["epochs"]) == 1
    labeler = load_labeler(out, device="cpu")
    assert labeler.model.config.model_type == "distilbert"
    assert labeler.predict_proba(["good", "i hate it"]).shape == (2, 2)


def test_stage6_with_sst2_dir(tmp_path):
    model_dir = make_tiny_bert(tmp_path / "base")
    data = make_sst2_dir(tmp_path / "sst2", num_train=120, num_dev=30)
    make_data_dir(tmp_path / "swbd_holdout", num_utts=30)
    out = tmp_path / "exp" / "pseudo_labeler_bert"
    argv = [
        "--pseudo_labeler",
        str(model_dir),
        "--sst2_dir",
        str(data),
        "--out_dir",
        str(out),
        "--eval_sets",
        str(tmp_path / "swbd_holdout"),
        "--epochs",
        "2",
        "--batch_size",
        "16",
        "--lr",
        "1e-2",
    ]
    assert stage6.main(argv) == 0
    results = json.loads((out / "sst2_results.json").read_text())
    assert len(results["epochs"]) == 2 and results["options"]["lr"] == 1e-2
    scores = json.loads((out / "eval_swbd_holdout" / "scores.json").read_text())
    assert scores["labels"] == ["Negative", "Positive"] and scores["num_utts"] == 20
    # a bad SST-2 row is an error naming the file and line, exit status 1
    (data / "dev.tsv").write_text("sentence\tlabel\ngood\tpositive\n", encoding="utf-8")
    assert stage6.main(argv) == 1
    assert sst2.RESULTS_JSON == "sst2_results.json"
