"""A bidirectional ``nn.LSTM`` over zero- (or any-) padded batches, without padding entering the recurrence.

``run_blstm(lstm, x, lengths)`` gives the same ``(B, T, 2H)`` outputs on the valid frames as running the
module on a ``PackedSequence`` (the outputs on padded frames are unspecified), in either of two ways:

- ``packed``: ``pack_padded_sequence`` → the module → ``pad_packed_sequence``. cuDNN runs packed batches
  fast, so this is the path on CUDA.
- ``padded``: each layer and direction runs on the padded tensor through ``torch.lstm`` with the module's own
  weights; the backward direction reads each sequence reversed *within its length* (a gather), so its padding
  comes last, where a forward recurrence never sees it. On CPU this is ~3× faster for training than the
  packed path (PyTorch's CPU backward of packed LSTMs is slow; ``bench/bench_bucketing.py``), and it is
  exact: the valid outputs equal the packed ones up to float rounding (``test/models/test_blstm.py``).

Hand-written because torch offers no padded-and-masked bidirectional LSTM; the weights and state-dict keys
stay those of the ``nn.LSTM``, so checkpoints do not depend on the path.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["BLSTM_PATHS", "reverse_within_lengths", "run_blstm"]

BLSTM_PATHS = ("auto", "packed", "padded")


def reverse_within_lengths(lengths: Tensor, total: int) -> Tensor:
    """``(B, T)`` time indices that reverse each sequence's first ``lengths[b]`` frames, padding in place.

    Gathering with it twice is the identity, so the same index also puts reversed outputs back in order.
    """
    t = torch.arange(total, device=lengths.device)[None, :]
    n = lengths[:, None]
    return torch.where(t < n, n - 1 - t, t)


def run_blstm(lstm: nn.LSTM, x: Tensor, lengths: Tensor, path: str = "auto") -> Tensor:
    """``(B, T, 2 * hidden)`` outputs of the bidirectional, ``batch_first`` ``lstm`` on ``x (B, T, D)``.

    ``path``: ``auto`` (``packed`` on CUDA, ``padded`` elsewhere), ``packed`` or ``padded``. Every length
    must be in ``[1, T]``.
    """
    if not (lstm.bidirectional and lstm.batch_first) or lstm.proj_size:
        raise ValueError("run_blstm needs a bidirectional, batch_first nn.LSTM without projections")
    if path not in BLSTM_PATHS:
        raise ValueError(f"unknown BLSTM path {path!r}: expected one of {', '.join(BLSTM_PATHS)}")
    if path == "auto":
        path = "packed" if x.is_cuda else "padded"
    total = x.size(1)
    if path == "packed":
        packed = pack_padded_sequence(
            x, lengths.detach().to("cpu", torch.int64), batch_first=True, enforce_sorted=False
        )
        out, _ = lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=total)
        return out

    index = reverse_within_lengths(lengths.to(x.device, torch.int64), total)[..., None]
    hidden = lstm.hidden_size
    h0 = x.new_zeros(1, x.size(0), hidden)
    out = x
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if lstm.bias else ("weight_ih", "weight_hh")
    for layer in range(lstm.num_layers):
        if layer > 0:  # nn.LSTM's dropout: on each layer's output but the last
            out = functional.dropout(out, lstm.dropout, lstm.training)
        directions = []
        for suffix in ("", "_reverse"):
            params = [getattr(lstm, f"{name}_l{layer}{suffix}") for name in names]
            inp = out.gather(1, index.expand(-1, -1, out.size(2))) if suffix else out
            # torch.lstm(input, (h0, c0), params, has_biases, num_layers, dropout, train, bidirectional,
            # batch_first): the op nn.LSTM itself calls, here for one layer and one direction
            y, _, _ = torch.lstm(inp, (h0, h0), params, lstm.bias, 1, 0.0, lstm.training, False, True)
            directions.append(y.gather(1, index.expand(-1, -1, hidden)) if suffix else y)
        out = torch.cat(directions, dim=-1)
    return out
