"""Pseudo labelers: label mapping, batched HF inference, VADER, ensembles, labeler.json round trips."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from test_labelers_fixtures import make_tiny_bert

from speechsent.text.labelers import (
    EnsembleLabeler,
    HFLabeler,
    LabelMapError,
    VaderLabeler,
    load_labeler,
    parse_label_map,
    probs_to_labels,
    resolve_label_map,
)

TEXTS = [
    "i really love it",
    "that was awful",
    "",
    "uh you know the movie was so so bad i hate it really",
    "great",
    "we",
]


# -- label mapping -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("id2label", "expected"),
    [
        ({0: "NEGATIVE", 1: "POSITIVE"}, {0: "Negative", 1: "Positive"}),
        ({0: "POSITIVE", 1: "NEGATIVE"}, {0: "Positive", 1: "Negative"}),
        ({0: "neg", 1: "pos"}, {0: "Negative", 1: "Positive"}),
        ({0: "LABEL_0", 1: "LABEL_1"}, {0: "Negative", 1: "Positive"}),  # SST-2 convention
        ({0: "negative", 1: "neutral", 2: "positive"}, {0: "Negative", 1: "Neutral", 2: "Positive"}),
        ({"0": "Negative", "1": "Positive"}, {0: "Negative", 1: "Positive"}),  # JSON-style keys
    ],
)
def test_resolve_label_map_from_id2label(id2label, expected):
    assert resolve_label_map(id2label, len(id2label)) == expected


@pytest.mark.parametrize(
    "id2label",
    [
        {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"},  # 3 anonymous classes: no convention
        {0: "1 star", 1: "2 stars"},
        {0: "NEGATIVE", 1: "LABEL_1"},
        {0: "negative", 1: "negative"},
    ],
)
def test_resolve_label_map_unknown_is_an_error(id2label):
    with pytest.raises(LabelMapError, match="--label_map"):
        resolve_label_map(id2label, len(id2label))


def test_label_map_override():
    anonymous = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    assert resolve_label_map(anonymous, 3, "0:neg, 1:Neutral, 2:POSITIVE") == {
        0: "Negative",
        1: "Neutral",
        2: "Positive",
    }
    # the override wins over a recognised id2label
    assert resolve_label_map({0: "NEGATIVE", 1: "POSITIVE"}, 2, "0:Positive,1:Negative") == {
        0: "Positive",
        1: "Negative",
    }
    with pytest.raises(LabelMapError, match="outside"):
        resolve_label_map(anonymous, 3, "0:Negative,5:Positive")
    with pytest.raises(LabelMapError, match="INDEX:NAME"):
        parse_label_map("0=Negative")
    with pytest.raises(LabelMapError, match="twice"):
        parse_label_map("0:Negative,0:Positive")


def test_probs_to_labels_tie_is_negative():
    assert probs_to_labels(np.array([[0.5, 0.5], [0.2, 0.8], [0.9, 0.1]])) == [
        "Negative",
        "Positive",
        "Negative",
    ]
    assert probs_to_labels(np.zeros((0, 2))) == []


# -- HF labelers ---------------------------------------------------------------------------------------------


def _manual_logits(model_dir: Path, texts: Sequence[str]) -> np.ndarray:
    """Logits of each text alone, unpadded (the reference for the batched path)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    with torch.no_grad():
        return np.stack([model(**tok(t, return_tensors="pt")).logits[0].numpy() for t in texts])


def test_hf_labeler_batched_equals_one_at_a_time(tmp_path):
    model_dir = make_tiny_bert(tmp_path / "m", initializer_range=1.0)
    logits = _manual_logits(model_dir, TEXTS)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    for batch_tokens in (8, 40, 10_000):  # 1-per-batch, a few per batch, all in one batch
        labeler = HFLabeler(model_dir, batch_tokens=batch_tokens, device="cpu")
        probs = labeler.predict_proba(TEXTS)
        assert probs.shape == (len(TEXTS), 2)
        np.testing.assert_allclose(probs, expected, atol=1e-5)
    assert labeler.predict_proba([]).shape == (0, 2)
    assert len(set(probs_to_labels(expected))) == 2, "the fixture model should give both labels"


def test_hf_labeler_truncation_counted(tmp_path):
    model_dir = make_tiny_bert(tmp_path / "m")
    labeler = HFLabeler(model_dir, max_length=6, device="cpu")
    labeler.predict_proba(["i love it", "a a a a", "i i i i i i i i i i", "good"])  # 6, 6, 12, 3 tokens
    assert labeler.num_truncated == 1
    assert labeler.max_length == 6
    assert HFLabeler(model_dir, max_length=10_000).max_length == 64  # capped by the position embeddings


def test_hf_labeler_uses_the_label_map(tmp_path):
    normal = HFLabeler(make_tiny_bert(tmp_path / "a", initializer_range=1.0), device="cpu")
    swapped_dir = make_tiny_bert(
        tmp_path / "b", id2label={0: "POSITIVE", 1: "NEGATIVE"}, initializer_range=1.0
    )
    swapped = HFLabeler(swapped_dir, device="cpu")
    np.testing.assert_allclose(swapped.predict_proba(TEXTS), normal.predict_proba(TEXTS)[:, ::-1], atol=1e-6)
    overridden = HFLabeler(swapped_dir, label_map="0:Negative,1:Positive", device="cpu")
    np.testing.assert_allclose(overridden.predict_proba(TEXTS), normal.predict_proba(TEXTS), atol=1e-6)
    with pytest.raises(LabelMapError):
        HFLabeler(make_tiny_bert(tmp_path / "c", num_labels=3))


def test_hf_three_class_model_renormalised(tmp_path):
    model_dir = make_tiny_bert(
        tmp_path / "m3",
        num_labels=3,
        id2label={0: "negative", 1: "neutral", 2: "positive"},
        initializer_range=1.0,
    )
    probs = HFLabeler(model_dir, device="cpu").predict_proba(TEXTS)
    full = np.exp(_manual_logits(model_dir, TEXTS))
    full /= full.sum(axis=1, keepdims=True)
    expected = full[:, [0, 2]] / full[:, [0, 2]].sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_hf_save_load_roundtrip(tmp_path):
    model_dir = make_tiny_bert(tmp_path / "m", initializer_range=1.0)
    labeler = HFLabeler(model_dir, name="tiny", device="cpu")
    labeler.save(tmp_path / "ref")  # references the model dir
    labeler.save(tmp_path / "copy", copy_model=True)  # self-contained
    spec = json.loads((tmp_path / "copy" / "labeler.json").read_text())
    assert (
        spec["kind"] == "hf"
        and spec["model"] == "."
        and spec["label_map"] == {"0": "Negative", "1": "Positive"}
    )
    assert (tmp_path / "copy" / "model.safetensors").is_file()
    expected = labeler.predict_proba(TEXTS)
    for d in ("ref", "copy"):
        loaded = load_labeler(tmp_path / d, device="cpu")
        assert loaded.name == "tiny"
        np.testing.assert_allclose(loaded.predict_proba(TEXTS), expected, atol=1e-6)


# -- VADER and ensembles -------------------------------------------------------------------------------------


def test_vader_squashing():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = load_labeler("vader")
    assert isinstance(vader, VaderLabeler)
    texts = ["i love it it was great", "i hate it it was awful", "", "the movie"]
    probs = vader.predict_proba(texts)
    analyzer = SentimentIntensityAnalyzer()
    for text, row in zip(texts, probs, strict=True):
        compound = analyzer.polarity_scores(text)["compound"] if text else 0.0
        assert row[1] == pytest.approx((compound + 1) / 2)
        assert row.sum() == pytest.approx(1.0)
    assert vader.predict(texts) == ["Positive", "Negative", "Negative", "Negative"]  # ties: Negative
    assert probs[2, 1] == 0.5


def test_ensemble_is_the_mean(tmp_path):
    model_dir = make_tiny_bert(tmp_path / "m", initializer_range=1.0)
    hf = HFLabeler(model_dir, device="cpu")
    vader = VaderLabeler()
    ensemble = load_labeler(f"vader,{model_dir}", device="cpu")
    assert isinstance(ensemble, EnsembleLabeler)
    expected = (vader.predict_proba(TEXTS) + hf.predict_proba(TEXTS)) / 2
    np.testing.assert_allclose(ensemble.predict_proba(TEXTS), expected, atol=1e-6)
    weighted = EnsembleLabeler([vader, hf], weights=[3, 1])
    np.testing.assert_allclose(
        weighted.predict_proba(TEXTS),
        (3 * vader.predict_proba(TEXTS) + hf.predict_proba(TEXTS)) / 4,
        atol=1e-6,
    )
    weighted.save(tmp_path / "ens")
    reloaded = load_labeler(tmp_path / "ens", device="cpu")
    np.testing.assert_allclose(reloaded.predict_proba(TEXTS), weighted.predict_proba(TEXTS), atol=1e-6)
    with pytest.raises(ValueError, match="weights"):
        EnsembleLabeler([vader, hf], weights=[1])


def test_bad_labeler_json_names_the_file(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "labeler.json").write_text('{"kind": "hf",\n "name": "x",}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"a/labeler.json:2: not valid JSON"):
        load_labeler(tmp_path / "a")
    (tmp_path / "a" / "labeler.json").write_text('{"kind": "hf"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"a/labeler.json: a hf labeler without 'model'"):
        load_labeler(tmp_path / "a")
    (tmp_path / "a" / "labeler.json").write_text('{"kind": "svm"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"a/labeler.json: unknown labeler kind 'svm'"):
        load_labeler(tmp_path / "a")
