"""The 2-step BLSTM text classifiers: padding invariance, learning a separable set, class weights."""

from __future__ import annotations

import pytest
import torch

from speechsent.models.text_classifier import (
    BaselineTextClassifier,
    LMTextClassifier,
    TextClassifierConfig,
    build_text_classifier,
    class_weights,
)


@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_baseline_padding_does_not_change_outputs(pooling: str) -> None:
    torch.manual_seed(0)
    model = build_text_classifier(
        TextClassifierConfig(arch="baseline", vocab_size=20, pooling=pooling)
    ).eval()
    seqs = [[3, 4, 5, 6, 7, 8], [9], [10, 11, 12]]
    lengths = torch.tensor([len(s) for s in seqs])
    tokens = torch.zeros(3, 6, dtype=torch.long)
    for i, s in enumerate(seqs):
        tokens[i, : len(s)] = torch.tensor(s)
    batched = model(tokens=tokens, lengths=lengths)
    single = torch.cat([model(tokens=torch.tensor([s]), lengths=torch.tensor([len(s)])) for s in seqs])
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=1e-5)
    assert batched.shape == (3, 3)


@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_lm_head_ignores_padded_frames(pooling: str) -> None:
    torch.manual_seed(0)
    cfg = TextClassifierConfig(arch="lm", input_dim=8, num_layers=3, hidden=16, pooling=pooling)
    model = build_text_classifier(cfg).eval()
    assert isinstance(model, LMTextClassifier) and model.head.blstm.num_layers == 3
    feats = torch.randn(3, 7, 8)
    lengths = torch.tensor([7, 2, 4])
    out = model(feats=feats, lengths=lengths)
    garbage = feats.clone()
    for i, n in enumerate(lengths.tolist()):
        garbage[i, n:] = 1e3  # whatever the padding holds
    torch.testing.assert_close(model(feats=garbage, lengths=lengths), out)
    single = torch.cat(
        [model(feats=feats[i : i + 1, :n], lengths=lengths[i : i + 1]) for i, n in enumerate([7, 2, 4])]
    )
    torch.testing.assert_close(out, single, atol=1e-5, rtol=1e-5)


def test_lm_classifier_with_encoder_takes_token_ids() -> None:
    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding(10, 8)

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
            return self.emb(input_ids), attention_mask.sum(1)

    model = LMTextClassifier(TextClassifierConfig(arch="lm", input_dim=8), encoder=Encoder())
    out = model(input_ids=torch.tensor([[1, 2, 0]]), attention_mask=torch.tensor([[1, 1, 0]]))
    assert out.shape == (1, 3)
    with pytest.raises(ValueError, match="input_ids"):
        LMTextClassifier(TextClassifierConfig(arch="lm", input_dim=8))(input_ids=torch.tensor([[1]]))


def test_separable_toy_set_is_learned() -> None:
    """Class = which of tokens 3/4/5 the sequence holds, among random filler tokens."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: one thread is fastest, also on a busy machine
    gen = torch.Generator().manual_seed(0)
    n, vocab = 90, 30
    labels = torch.randint(0, 3, (n,), generator=gen)
    lengths = torch.randint(2, 9, (n,), generator=gen)
    tokens = torch.zeros(n, 8, dtype=torch.long)
    for i in range(n):
        seq = torch.randint(6, vocab, (int(lengths[i]),), generator=gen)
        seq[torch.randint(0, int(lengths[i]), (1,), generator=gen)] = 3 + labels[i]
        tokens[i, : lengths[i]] = seq
    torch.manual_seed(0)
    model = BaselineTextClassifier(
        TextClassifierConfig(vocab_size=vocab, embed_dim=16, hidden=16, dropout=0.0)
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights(torch.bincount(labels, minlength=3).tolist()))
    for _ in range(30):
        opt.zero_grad()
        loss_fn(model(tokens=tokens, lengths=lengths), labels).backward()
        opt.step()
    model.eval()
    accuracy = (model(tokens=tokens, lengths=lengths).argmax(1) == labels).float().mean()
    torch.set_num_threads(threads)
    assert accuracy > 0.95


def test_class_weights_and_config_errors() -> None:
    torch.testing.assert_close(class_weights([10, 20, 30]), torch.tensor([2.0, 1.0, 2 / 3]))
    assert class_weights([0, 5, 5]).tolist() == [0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="no class"):
        class_weights([0, 0, 0])
    with pytest.raises(ValueError, match="vocab_size"):
        build_text_classifier({"arch": "baseline"})
    with pytest.raises(ValueError, match="input_dim"):
        build_text_classifier({"arch": "lm"})
    with pytest.raises(ValueError, match="arch"):
        build_text_classifier({"arch": "cnn"})
    with pytest.raises(ValueError, match="pooling"):
        build_text_classifier({"arch": "baseline", "vocab_size": 5, "pooling": "max"})
    model = build_text_classifier({"arch": "baseline", "vocab_size": 5})
    with pytest.raises(ValueError, match="at least one step"):
        model(tokens=torch.tensor([[0]]), lengths=torch.tensor([0]))
