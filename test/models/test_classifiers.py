"""The E2E BLSTM and CNN classifiers: padding invariance, masked pooling, head replacement."""

from __future__ import annotations

import pytest
import torch

from speechsent.models import (
    AttentivePooling,
    CNNClassifier,
    CNNClassifierConfig,
    E2EClassifier,
    E2EClassifierConfig,
    MeanPooling,
    build_model,
    lengths_to_mask,
)


def _padded_batch(
    lengths: list[int], dim: int, pad_value: float = 0.0
) -> tuple[list[torch.Tensor], torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    seqs = [torch.randn(n, dim, generator=gen) for n in lengths]
    batch = torch.full((len(seqs), max(lengths), dim), pad_value)
    for i, s in enumerate(seqs):
        batch[i, : len(s)] = s
    return seqs, batch


@pytest.mark.parametrize(
    "pooling", [AttentivePooling(6), AttentivePooling(6, attention_dim=4), MeanPooling()]
)
def test_pooling_ignores_padded_frames(pooling):
    seqs, batch = _padded_batch([5, 2, 7], 6, pad_value=1e3)  # huge padding: any leak shows
    mask = lengths_to_mask(torch.tensor([5, 2, 7]))
    pooled, weights = pooling(batch, mask)
    assert torch.all(weights[~mask] == 0)
    assert torch.allclose(weights.sum(dim=1), torch.ones(3))
    for i, s in enumerate(seqs):
        alone, _ = pooling(s[None], torch.ones(1, len(s), dtype=torch.bool))
        assert (pooled[i] - alone[0]).abs().max() < 1e-5


def test_attentive_pooling_weights_follow_scores():
    pool = AttentivePooling(2)
    with torch.no_grad():
        pool.score.weight.copy_(torch.tensor([[10.0, 0.0]]))
        pool.score.bias.zero_()
    x = torch.tensor([[[1.0, 5.0], [0.0, -5.0]]])
    pooled, weights = pool(x, torch.ones(1, 2, dtype=torch.bool))
    assert weights[0, 0] > 0.99 and torch.allclose(pooled[0], x[0, 0], atol=1e-3)


def _models() -> list[torch.nn.Module]:
    return [
        E2EClassifier(E2EClassifierConfig(input_dim=12, fc_dim=16, lstm_dim=8, dropout=0.3)),
        E2EClassifier(E2EClassifierConfig(input_dim=12, fc_dim=16, lstm_dim=8, attention_dim=5)),
        CNNClassifier(
            CNNClassifierConfig(input_dim=12, channels=[8, 8, 8], kernels=[5, 3, 3], strides=[1, 2, 2])
        ),
        CNNClassifier(
            CNNClassifierConfig(input_dim=12, channels=[8], kernels=[3], strides=[1], pooling="attention")
        ),
    ]


@pytest.mark.parametrize("model", _models(), ids=["blstm", "blstm_mlp_att", "cnn_strided", "cnn_att"])
def test_padding_does_not_change_a_sequence_output(model):
    torch.manual_seed(0)
    lengths = [9, 1, 4, 17, 2, 10]
    seqs, batch = _padded_batch(lengths, 12, pad_value=7.0)  # non-zero padding: the model must mask it
    model.eval()
    with torch.no_grad():
        logits = model(batch, torch.tensor(lengths))
        assert logits.shape == (len(lengths), 3)
        for i, s in enumerate(seqs):
            alone = model(s[None], torch.tensor([len(s)]))
            assert (logits[i] - alone[0]).abs().max() < 1e-5, (i, lengths[i])


def test_padding_invariance_can_fail_without_mask():
    """The test above would see leaked padding: unmasked mean pooling over the padded batch differs."""
    seqs, batch = _padded_batch([3, 8], 4, pad_value=7.0)
    assert (batch[0].mean(0) - seqs[0].mean(0)).abs().max() > 1e-3


@pytest.mark.parametrize("architecture", ["blstm", "cnn"])
def test_replace_head_keeps_the_body(architecture):
    model = build_model(architecture, input_dim=10, num_classes=2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.replace_head(3)
    after = model.state_dict()
    assert model.config.num_classes == 3 and after["head.weight"].shape[0] == 3
    body = [k for k in before if not k.startswith("head.")]
    assert body and all(torch.equal(before[k], after[k]) for k in body)
    out = model(torch.randn(2, 6, 10), torch.tensor([6, 3]))
    assert out.shape == (2, 3)


def test_blstm_learns_and_backpropagates_through_all_layers():
    model = E2EClassifier(E2EClassifierConfig(input_dim=4, fc_dim=8, lstm_dim=4, num_classes=2))
    x = torch.randn(4, 5, 4)
    loss = torch.nn.functional.cross_entropy(model(x, torch.tensor([5, 3, 2, 1])), torch.tensor([0, 1, 0, 1]))
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_bad_inputs_are_errors():
    model = build_model("blstm", input_dim=4)
    with pytest.raises(ValueError, match=r"\(batch, frames, 4\)"):
        model(torch.randn(2, 3, 5), torch.tensor([3, 3]))
    with pytest.raises(ValueError, match=r"every length must be in \[1, 3\]"):
        model(torch.randn(2, 3, 4), torch.tensor([3, 0]))
    with pytest.raises(ValueError, match="every length"):
        model(torch.randn(2, 3, 4), torch.tensor([4, 3]))
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("transformer")
    with pytest.raises(TypeError):
        build_model("cnn", lstm_dim=3)
