"""Masked pooling of frame sequences into utterance vectors.

:class:`AttentivePooling` is the attention-based weighted pooling of Mirsamadi et al. (ICASSP 2017,
"Automatic speech emotion recognition using recurrent neural networks with local attention") that the E2E
sentiment classifier of Shon et al. (2021, §3.2.1) puts after its BLSTM: a learned vector ``u`` scores each
frame, ``alpha_t = softmax_t(u . h_t)``, and the utterance vector is ``sum_t alpha_t h_t``. The softmax runs
over the valid frames only, so padding a sequence in a batch does not change its pooled vector.

Neither torch nor ESPnet ships a masked attentive pooling layer (ESPnet's is inside speaker-embedding models
with a different interface), so it is written here; it is a few lines::

    pool = AttentivePooling(256)
    mask = lengths_to_mask(lengths, feats.size(1))      # (B, T) True on valid frames
    utt, weights = pool(feats, mask)                    # (B, 256), (B, T)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["AttentivePooling", "MeanPooling", "lengths_to_mask"]


def lengths_to_mask(lengths: Tensor, max_len: int | None = None) -> Tensor:
    """``(B, T)`` bool mask, True where ``t < lengths[b]`` (``T`` = ``max_len`` or the longest length)."""
    max_len = int(lengths.max()) if max_len is None else max_len
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


class AttentivePooling(nn.Module):
    """Attention-weighted average over the valid frames of ``(B, T, D)`` inputs.

    ``attention_dim = 0`` scores a frame linearly, ``u . h_t + b`` (Mirsamadi et al.'s form); ``> 0``
    scores it with a one-hidden-layer MLP, ``v . tanh(W h_t + b)``.
    """

    def __init__(self, input_dim: int, attention_dim: int = 0):
        super().__init__()
        self.input_dim = input_dim
        if attention_dim > 0:
            self.score: nn.Module = nn.Sequential(
                nn.Linear(input_dim, attention_dim), nn.Tanh(), nn.Linear(attention_dim, 1)
            )
        else:
            self.score = nn.Linear(input_dim, 1)

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Pooled ``(B, D)`` vectors and the ``(B, T)`` attention weights (0 on padded frames).

        ``mask`` is ``(B, T)``, True on valid frames; every row must have at least one.
        """
        scores = self.score(x).squeeze(-1).float()  # softmax in float32, also under autocast
        scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1)
        pooled = torch.bmm(weights.unsqueeze(1).to(x.dtype), x).squeeze(1)
        return pooled, weights


class MeanPooling(nn.Module):
    """Average over the valid frames of ``(B, T, D)`` inputs (padded frames may hold anything)."""

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        weights = mask.to(x.dtype) / mask.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)
        return torch.bmm(weights.unsqueeze(1), x.masked_fill(~mask[..., None], 0.0)).squeeze(1), weights
