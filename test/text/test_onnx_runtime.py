"""Stage 7's labeler on ONNX Runtime (speechsent.text.onnx_runtime): the same labels and probabilities as
PyTorch (within 1e-4 with large random weights) on texts of every length, the exported file cached and
reused, and a model that cannot be exported or fails the check labeled with PyTorch (logged), never with a
wrong runtime."""

from __future__ import annotations

import logging
import random

import numpy as np
import pytest
from test_labelers_fixtures import make_tiny_bert, sentence

from speechsent.text import onnx_runtime
from speechsent.text.labelers import HFLabeler, probs_to_labels

pytest.importorskip("onnxruntime")


def _texts(n: int = 300) -> list[str]:
    rng = random.Random(0)
    # short and long: 1-12 sentences
    return [" ".join(sentence(rng, rng.randint(0, 1)) for _ in range(rng.randint(1, 12))) for _ in range(n)]


def test_onnx_labels_equal_torch_and_the_export_is_cached(tmp_path, caplog):
    model = make_tiny_bert(tmp_path / "bert", initializer_range=1.0)
    texts = _texts()
    torch_probs = HFLabeler(model, device="cpu", runtime="torch").predict_proba(texts)
    cache = tmp_path / "onnx"
    with caplog.at_level(logging.INFO, logger="speechsent.text.onnx_runtime"):
        labeler = HFLabeler(model, device="cpu", runtime="onnx", onnx_cache=cache)
    assert labeler.runtime == "onnx" and "exporting" in caplog.text
    onnx_probs = labeler.predict_proba(texts)
    assert np.abs(onnx_probs - torch_probs).max() <= 1e-4
    assert probs_to_labels(onnx_probs) == probs_to_labels(torch_probs)
    assert len(set(probs_to_labels(torch_probs))) == 2  # both classes: a real comparison
    (exported,) = cache.glob("*.onnx")
    stamp = exported.stat().st_mtime_ns
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="speechsent.text.onnx_runtime"):
        again = HFLabeler(model, device="cpu", runtime="auto", onnx_cache=cache)
    assert again.runtime == "onnx" and "exporting" not in caplog.text and exported.stat().st_mtime_ns == stamp
    # another model (other weights) gets its own file
    other = make_tiny_bert(tmp_path / "bert2", seed=1, initializer_range=1.0)
    HFLabeler(other, device="cpu", runtime="onnx", onnx_cache=cache)
    assert len(list(cache.glob("*.onnx"))) == 2


def test_a_model_that_cannot_be_exported_is_labeled_with_torch(tmp_path, monkeypatch, caplog):
    model = make_tiny_bert(tmp_path / "bert", initializer_range=1.0)

    def fail(*_args, **_kwargs):
        raise RuntimeError("Exporting the operator 'aten::weird' to ONNX opset version 17 is not supported")

    monkeypatch.setattr(onnx_runtime, "_export", fail)
    with caplog.at_level(logging.WARNING, logger="speechsent.text.onnx_runtime"):
        labeler = HFLabeler(model, device="cpu", runtime="auto", onnx_cache=tmp_path / "onnx")
    assert labeler.runtime == "torch" and "no ONNX Runtime path (RuntimeError: Exporting" in caplog.text
    texts = _texts(20)
    expected = HFLabeler(model, device="cpu", runtime="torch").predict_proba(texts)
    assert np.array_equal(labeler.predict_proba(texts), expected)


def test_a_session_that_fails_the_check_is_not_used(tmp_path, monkeypatch, caplog):
    model = make_tiny_bert(tmp_path / "bert", initializer_range=1.0)
    monkeypatch.setattr(onnx_runtime, "CHECK_TOLERANCE", -1.0)  # no session can pass
    with caplog.at_level(logging.WARNING, logger="speechsent.text.onnx_runtime"):
        labeler = HFLabeler(model, device="cpu", runtime="auto", onnx_cache=tmp_path / "onnx")
    assert labeler.runtime == "torch" and "differs from PyTorch" in caplog.text


def test_runtime_onnx_without_onnxruntime_falls_back(tmp_path, monkeypatch):
    model = make_tiny_bert(tmp_path / "bert")
    monkeypatch.setattr(onnx_runtime, "onnx_available", lambda: False)
    assert HFLabeler(model, device="cpu", runtime="onnx", onnx_cache=tmp_path / "onnx").runtime == "torch"


def test_unknown_runtime_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="runtime must be auto, torch or onnx"):
        HFLabeler(make_tiny_bert(tmp_path / "bert"), device="cpu", runtime="tensorrt")
