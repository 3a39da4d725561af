"""run_blstm: the padded CPU path equals the packed path on the valid frames, in values and in gradients."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from speechsent.models.blstm import reverse_within_lengths, run_blstm
from speechsent.models.pooling import lengths_to_mask


def test_reverse_within_lengths_is_an_involution_that_keeps_padding():
    idx = reverse_within_lengths(torch.tensor([3, 1, 5]), 5)
    assert idx.tolist() == [[2, 1, 0, 3, 4], [0, 1, 2, 3, 4], [4, 3, 2, 1, 0]]
    assert torch.equal(idx.gather(1, idx), torch.arange(5).expand(3, 5))


@pytest.mark.parametrize("num_layers,bias", [(1, True), (2, True), (3, False)])
def test_padded_path_equals_packed_path(num_layers, bias):
    torch.manual_seed(0)
    lstm = nn.LSTM(6, 5, num_layers=num_layers, bias=bias, batch_first=True, bidirectional=True).double()
    lengths = torch.tensor([7, 2, 5, 1, 7])
    x = torch.randn(5, 7, 6, dtype=torch.float64)
    x = x.masked_fill(~lengths_to_mask(lengths, 7)[..., None], 123.0)  # padding that must not leak in
    mask = lengths_to_mask(lengths, 7)[..., None]
    grads = {}
    outs = {}
    for path in ("packed", "padded"):
        xi = x.clone().requires_grad_(True)
        lstm.zero_grad()
        out = run_blstm(lstm, xi, lengths, path)
        assert out.shape == (5, 7, 10)
        (out * mask).pow(2).sum().backward()
        outs[path] = out * mask
        grads[path] = [xi.grad.clone()] + [p.grad.clone() for p in lstm.parameters()]
    torch.testing.assert_close(outs["padded"], outs["packed"])
    for a, b in zip(grads["padded"], grads["packed"], strict=True):
        torch.testing.assert_close(a, b)


def test_padded_path_applies_inter_layer_dropout_only_in_training():
    torch.manual_seed(0)
    lstm = nn.LSTM(4, 3, num_layers=2, dropout=0.5, batch_first=True, bidirectional=True)
    x, lengths = torch.randn(2, 6, 4), torch.tensor([6, 4])
    lstm.eval()
    torch.testing.assert_close(run_blstm(lstm, x, lengths, "padded"), run_blstm(lstm, x, lengths, "padded"))
    lstm.train()
    a, b = run_blstm(lstm, x, lengths, "padded"), run_blstm(lstm, x, lengths, "padded")
    assert not torch.allclose(a, b)


def test_rejects_unidirectional_modules_and_unknown_paths():
    with pytest.raises(ValueError, match="bidirectional"):
        run_blstm(nn.LSTM(4, 3, batch_first=True), torch.zeros(1, 2, 4), torch.tensor([2]))
    with pytest.raises(ValueError, match="unknown BLSTM path"):
        lstm = nn.LSTM(4, 3, batch_first=True, bidirectional=True)
        run_blstm(lstm, torch.zeros(1, 2, 4), torch.tensor([2]), "x")


@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_text_head_gives_the_same_logits_on_both_paths(pooling):
    from speechsent.models.text_classifier import BLSTMHead

    torch.manual_seed(0)
    head = BLSTMHead(6, 5, 2, 3, 0.0, pooling).double().eval()
    x, lengths = torch.randn(4, 9, 6, dtype=torch.float64), torch.tensor([9, 1, 4, 6])
    head.blstm_path = "packed"
    packed = head(x, lengths)
    head.blstm_path = "padded"
    torch.testing.assert_close(head(x, lengths), packed)


def test_e2e_classifier_gives_the_same_logits_on_both_paths():
    from speechsent.models import E2EClassifier, E2EClassifierConfig

    torch.manual_seed(0)
    model = E2EClassifier(E2EClassifierConfig(input_dim=6, fc_dim=8, lstm_dim=5)).double().eval()
    x, lengths = torch.randn(3, 11, 6, dtype=torch.float64), torch.tensor([11, 2, 7])
    model.blstm_path = "packed"
    packed = model(x, lengths)
    model.blstm_path = "padded"
    torch.testing.assert_close(model(x, lengths), packed)
