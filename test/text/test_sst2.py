"""SST-2 fine-tuning: TSV reading (bad rows), training a tiny BERT, resume, stage 6 with --sst2_dir; XLNet and
RoBERTa; SST-2 from the hub (a fake ``datasets`` module)."""

from __future__ import annotations

import json
import random
import sys
import types

import pytest
from test_labelers_fixtures import (
    make_data_dir,
    make_sst2_dir,
    make_tiny_bert,
    make_tiny_distilbert,
    make_tiny_other,
)

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


# -- other architectures: XLNet (left padding), RoBERTa (no token_type_ids) ---------------------------------


@pytest.mark.parametrize("model_type", ["xlnet", "roberta"])
def test_finetune_xlnet_and_roberta(tmp_path, caplog, model_type):
    """Fine-tuning and inference of any AutoModelForSequenceClassification: padding on the tokenizer's side,
    only the inputs the model takes; the dev accuracy at the top of sst2_results.json and in the log."""
    import numpy as np

    model_dir = make_tiny_other(tmp_path / model_type, model_type)
    data = make_sst2_dir(tmp_path / "sst2", num_train=32, num_dev=8)
    out = tmp_path / "exp" / f"pseudo_labeler_{model_type}_sst2"
    caplog.set_level("INFO")
    results = finetune_sst2(model_dir, data, out, SST2Options(epochs=2, batch_size=16), progress=False)
    best = max(results["epochs"], key=lambda e: e["dev_accuracy"])
    saved = json.loads((out / "sst2_results.json").read_text())
    assert saved["dev_accuracy"] == best["dev_accuracy"] and saved["best_epoch"] == best["epoch"]
    assert saved["name"] == f"{model_type}_sst2" and saved["dataset"] is None
    line = f"SST-2 dev accuracy of {model_type}_sst2: {best['dev_accuracy']:.2f}% (epoch {best['epoch']})"
    assert line in caplog.text
    labeler = load_labeler(out, device="cpu", batch_tokens=4096)
    assert labeler.model.config.model_type == model_type and labeler.max_length > 0
    texts = ["i love it", "the movie was really so bad you know", "good", "uh"]
    batched = labeler.predict_proba(texts)  # padded batches (XLNet: on the left) = one text at a time
    single = np.concatenate([labeler.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(batched, single, atol=1e-5)
    if model_type == "xlnet":
        assert labeler.tokenizer.padding_side == "left"


# -- SST-2 from the hub (a fake `datasets` module) -----------------------------------------------------------


class _FakeSplit:
    def __init__(self, sentences, labels, fingerprint):
        self._cols = {"idx": list(range(len(sentences))), "sentence": sentences, "label": labels}
        self._fingerprint = fingerprint
        self.info = types.SimpleNamespace(version="1.0.0")

    @property
    def column_names(self):
        return list(self._cols)

    def __getitem__(self, column):
        return self._cols[column]


def _fake_datasets(
    monkeypatch, tmp_path, *, glue_fails=True, fingerprint="f0", num_train=32, bad_label=False
):
    """Install a fake ``datasets`` whose glue/sst2 is unreachable (or not) and stanfordnlp/sst2 is tiny."""
    from test_labelers_fixtures import sentence

    calls = []

    def split(n, fp, rng):
        labels = [i % 2 for i in range(n)]
        return _FakeSplit([sentence(rng, y) for y in labels], labels, fp)

    def load_dataset(path, name=None, **kwargs):
        calls.append((path, name))
        if path == "glue" and glue_fails:
            raise ConnectionError("Couldn't reach 'glue' on the Hub (LocalEntryNotFoundError)")
        rng = random.Random(0)  # the same rows on every load
        train = split(num_train, f"{fingerprint}-train", rng)
        if bad_label:
            train._cols["label"][3] = -1
        return {"train": train, "validation": split(8, f"{fingerprint}-dev", rng), "test": split(4, "t", rng)}

    module = types.ModuleType("datasets")
    module.load_dataset = load_dataset
    monkeypatch.setitem(sys.modules, "datasets", module)
    return calls


def test_hub_sst2_stamp_rerun_and_change(tmp_path, monkeypatch, caplog):
    model_dir = make_tiny_bert(tmp_path / "base")
    out = tmp_path / "exp" / "pseudo_labeler_base_sst2"
    calls = _fake_datasets(monkeypatch, tmp_path)
    opts = SST2Options(epochs=1, batch_size=16)
    results = finetune_sst2(model_dir, None, out, opts, progress=False)
    assert calls == [("glue", "sst2"), ("stanfordnlp/sst2", None)]  # GLUE unreachable: the fallback
    stamp = results["stamp"]
    assert results["dataset"] == stamp["dataset"] == "stanfordnlp/sst2" and results["sst2_dir"] is None
    assert stamp["train"]["fingerprint"] == "f0-train" and stamp["train"]["num_rows"] == 32
    assert stamp["dev"] == {**stamp["dev"], "split": "validation", "fingerprint": "f0-dev", "num_rows": 8}
    assert stamp["version"] == "1.0.0" and results["num_dev"] == 8
    mtime = (out / "model.safetensors").stat().st_mtime_ns
    caplog.set_level("INFO")
    assert finetune_sst2(model_dir, None, out, opts, progress=False)["stamp"] == stamp  # a no-op
    assert (out / "model.safetensors").stat().st_mtime_ns == mtime and "already fine-tuned" in caplog.text
    _fake_datasets(monkeypatch, tmp_path, glue_fails=False, fingerprint="f1")  # another dataset version
    again = finetune_sst2(model_dir, None, out, opts, progress=False)
    assert again["dataset"] == "glue/sst2" and again["stamp"]["train"]["fingerprint"] == "f1-train"
    assert (out / "model.safetensors").stat().st_mtime_ns != mtime


def test_stage6_sst2_from_the_hub_default_dir(tmp_path, monkeypatch):
    model_dir = make_tiny_bert(tmp_path / "bert-tiny")
    _fake_datasets(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path)
    argv = ["--pseudo_labeler", str(model_dir), "--sst2", "true", "--epochs", "1", "--batch_size", "16"]
    assert stage6.main(argv) == 0
    results = json.loads(
        (tmp_path / "exp" / "pseudo_labeler_bert-tiny_sst2" / "sst2_results.json").read_text()
    )
    assert results["dataset"] == "stanfordnlp/sst2" and results["name"] == "bert-tiny_sst2"


def test_hub_errors(tmp_path, monkeypatch, capsys):
    model_dir = make_tiny_bert(tmp_path / "base")
    out = tmp_path / "exp" / "pseudo_labeler_base_sst2"
    # offline: both datasets fail -> one error naming both and --sst2_dir
    monkeypatch.setitem(sys.modules, "datasets", types.ModuleType("datasets"))

    def offline(path, name=None, **kwargs):
        raise ConnectionError(f"Couldn't reach '{path}' on the Hub")

    sys.modules["datasets"].load_dataset = offline
    with pytest.raises(RuntimeError) as error:
        finetune_sst2(model_dir, None, out, SST2Options(epochs=1), progress=False)
    message = str(error.value)
    assert "glue/sst2" in message and "stanfordnlp/sst2" in message and "--sst2_dir" in message
    assert "train.tsv" in message and not out.exists()
    assert stage6.main(["--pseudo_labeler", str(model_dir), "--sst2", "true", "--out_dir", str(out)]) == 1
    # no datasets library
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(RuntimeError, match=r"pip install datasets.*--sst2_dir"):
        finetune_sst2(model_dir, None, out, SST2Options(epochs=1), progress=False)
    # a bad row names the dataset, split and row
    _fake_datasets(monkeypatch, tmp_path, bad_label=True)
    with pytest.raises(RuntimeError, match=r"stanfordnlp/sst2 train row 3: label must be 0 or 1, got -1"):
        finetune_sst2(model_dir, None, out, SST2Options(epochs=1), progress=False)


def test_print_tag(capsys):
    assert (
        stage6.main(["--pseudo_labeler", "models/xlnet-base-cased/", "--sst2", "true", "--print_tag", "true"])
        == 0
    )
    assert (
        stage6.main(["--pseudo_labeler", "bert-base-uncased", "--sst2_dir", "x", "--print_tag", "true"]) == 0
    )
    assert stage6.main(["--pseudo_labeler", "vader", "--print_tag", "true"]) == 0
    assert capsys.readouterr().out.split() == ["xlnet-base-cased_sst2", "bert-base-uncased_sst2", "vader"]
