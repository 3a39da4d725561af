"""``--lm_layers pooler``: BERT's pooled sentence embedding (``pooler_output``) next to the raw ``[CLS]``."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from speechsent.tasks.text_args import add_text_arguments
from speechsent.text.lm_features import (
    LAYER_MODES,
    LMEncoder,
    build_tiny_lm,
    cached_features,
    compute_features,
    output_features,
    select_layers,
)

WORDS = ["i", "really", "like", "it", "hate", "the", "weather", "so"]


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_lm(tmp_path_factory.mktemp("lm") / "bert", WORDS, hidden=32, layers=4)


def _ids(enc: LMEncoder) -> list[list[int]]:
    return enc.tokenize(["i really like it", "hate the weather", "so"])


def test_pooler_is_pooler_output_and_cls_is_the_raw_cls_vector(tiny_lm: Path) -> None:
    pooler = LMEncoder.from_pretrained(str(tiny_lm), layers="pooler")
    cls = LMEncoder.from_pretrained(str(tiny_lm), layers="cls")
    ids = _ids(pooler)
    got_pooler = compute_features(pooler, ids, progress=False)
    got_cls = compute_features(cls, ids, progress=False)
    model = pooler.lm.eval()
    for i, x in enumerate(ids):
        with torch.no_grad():
            out = model(input_ids=torch.tensor([x]), attention_mask=torch.ones(1, len(x), dtype=torch.long))
        want_pooler = out.pooler_output.numpy()
        want_cls = out.last_hidden_state[:, 0].numpy()
        assert got_pooler[i].shape == got_cls[i].shape == (1, 32)
        np.testing.assert_allclose(got_pooler[i].astype(np.float32), want_pooler, atol=2e-3)
        np.testing.assert_allclose(got_cls[i].astype(np.float32), want_cls, atol=2e-2)
        # tanh(W [CLS]) is not the [CLS] vector
        assert not np.allclose(got_pooler[i].astype(np.float32), got_cls[i].astype(np.float32), atol=0.05)
    # the classifier's forward: a one-step sequence of length 1 each
    input_ids = torch.tensor([ids[0], ids[0]])
    feats, lengths = pooler(input_ids, torch.ones_like(input_ids))
    assert feats.shape == (2, 1, 32) and lengths.tolist() == [1, 1]


def test_output_features_and_select_layers(tiny_lm: Path) -> None:
    enc = LMEncoder.from_pretrained(str(tiny_lm))
    x = torch.tensor([_ids(enc)[0]])
    with torch.no_grad():
        out = enc.lm.eval()(input_ids=x, attention_mask=torch.ones_like(x), output_hidden_states=True)
    for mode in ("sum_last4", "last", "cls"):
        assert torch.equal(output_features(out, mode), select_layers(out.hidden_states, mode))
    assert torch.equal(output_features(out, "pooler")[:, 0], out.pooler_output)
    with pytest.raises(ValueError, match="output_features"):
        select_layers(out.hidden_states, "pooler")


def test_model_without_pooler_is_refused_naming_it(tiny_lm: Path, tmp_path: Path) -> None:
    from transformers import DistilBertConfig, DistilBertModel

    distil = tmp_path / "tiny-distilbert"
    shutil.copytree(tiny_lm, distil)
    for f in distil.glob("*"):
        if f.suffix in (".json", ".safetensors", ".bin") and "token" not in f.name and "vocab" not in f.name:
            f.unlink()  # the BERT's config and weights; its tokenizer files stay
    config = DistilBertConfig(vocab_size=len(WORDS) + 5, dim=32, n_layers=2, n_heads=2, hidden_dim=64)
    DistilBertModel(config).save_pretrained(distil)
    with pytest.raises(ValueError, match=r"tiny-distilbert has no pooler.*--lm_layers cls"):
        LMEncoder.from_pretrained(str(distil), layers="pooler")
    enc = LMEncoder.from_pretrained(str(distil), layers="cls")  # cls works on it
    assert compute_features(enc, _ids(enc), progress=False)[0].shape == (1, 32)
    # a pooler_output that is None (a BERT built without its pooling layer), the model object passed in
    from transformers import BertModel

    bare = BertModel(BertModel.config_class.from_pretrained(tiny_lm), add_pooling_layer=False)
    with pytest.raises(ValueError, match="BertModel has no pooler"):
        LMEncoder(bare, enc.tokenizer, layers="pooler")


def test_cache_is_keyed_by_the_mode(tiny_lm: Path, tmp_path: Path) -> None:
    pooler = LMEncoder.from_pretrained(str(tiny_lm), layers="pooler")
    cls = LMEncoder.from_pretrained(str(tiny_lm), layers="cls")
    assert pooler.fingerprint() != cls.fingerprint()
    ids = _ids(pooler)
    utts = ["u1", "u2", "u3"]
    a = cached_features(pooler, "set", utts, ids, tmp_path, progress=False)
    b = cached_features(cls, "set", utts, ids, tmp_path, progress=False)
    assert a.path != b.path and len(list(tmp_path.glob("set.*"))) == 2
    assert not np.allclose(a[0].astype(np.float32), b[0].astype(np.float32), atol=0.05)


def test_text_task_option_choices_are_the_layer_modes() -> None:
    parser = argparse.ArgumentParser()
    add_text_arguments(parser)
    assert parser.parse_args(["--lm_layers", "pooler"]).lm_layers == "pooler"
    action = next(a for a in parser._actions if a.dest == "lm_layers")
    assert tuple(action.choices) == LAYER_MODES
