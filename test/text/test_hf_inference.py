"""Batched HF inference helpers: token-budget batches, the default budget by device, the AMP dtype."""

from __future__ import annotations

import pytest
import torch

from speechsent.text.hf_inference import default_batch_tokens, resolve_amp_dtype, token_budget_batches


def test_token_budget_batches_longest_first_within_the_budget():
    lengths = [3, 10, 4, 10, 2, 5]
    batches = token_budget_batches(lengths, batch_tokens=20, max_batch_size=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))  # every text once
    assert batches[0] == [1, 3]  # the two longest: 2 x 10 tokens
    for b in batches:
        assert len(b) <= 3 and len(b) * max(lengths[i] for i in b) <= 20
    assert token_budget_batches([50], batch_tokens=8, max_batch_size=4) == [[0]]  # too long: alone
    assert token_budget_batches([], batch_tokens=8, max_batch_size=4) == []


def test_default_budget_and_amp_on_cpu(caplog):
    assert default_batch_tokens(torch.device("cpu")) == 512
    assert default_batch_tokens("cuda:1") == default_batch_tokens("mps") == 16384
    assert resolve_amp_dtype(None, torch.device("cpu")) is None
    assert resolve_amp_dtype("none", torch.device("cuda")) is None
    assert resolve_amp_dtype("bf16", torch.device("cpu")) is None and "ignored on cpu" in caplog.text
    assert resolve_amp_dtype("fp16", torch.device("cuda")) is torch.float16
    with pytest.raises(ValueError, match="amp must be"):
        resolve_amp_dtype("int8", torch.device("cuda"))
