"""A CNN sentiment classifier on log-mel filterbank frames: the "FBank / CNN" baseline of Table 2.

The paper gives no details of this baseline; this one is a stack of 1-D convolutions over time (the 80 mel
bins are the input channels), each followed by ReLU and dropout, then masked pooling over the valid frames
(mean, or attentive as in the BLSTM classifier) and a linear output layer::

    model = CNNClassifier(CNNClassifierConfig(input_dim=80))
    logits = model(fbank, lengths)                      # fbank (B, T, 80) padded, lengths (B,)

Each utterance's features are mean/variance normalised over its own valid frames (``input_norm
utterance``, no statistics file needed). Padded frames are zeroed after every layer and strided layers
shorten ``lengths`` as the convolution does, so a sequence gives the same output alone or padded in a batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from speechsent.models.pooling import AttentivePooling, MeanPooling, lengths_to_mask

__all__ = ["CNNClassifier", "CNNClassifierConfig"]


@dataclass
class CNNClassifierConfig:
    """Layers of :class:`CNNClassifier`: one conv layer per entry of ``channels``/``kernels``/``strides``."""

    input_dim: int = 80
    channels: list[int] = field(default_factory=lambda: [128, 128, 256, 256])
    kernels: list[int] = field(default_factory=lambda: [5, 5, 3, 3])
    strides: list[int] = field(default_factory=lambda: [1, 2, 1, 2])
    pooling: str = "mean"  # mean | attention
    input_norm: str = "utterance"  # utterance | none
    num_classes: int = 3
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if not len(self.channels) == len(self.kernels) == len(self.strides) or not self.channels:
            raise ValueError("channels, kernels and strides need the same (non-zero) number of entries")
        if self.pooling not in ("mean", "attention"):
            raise ValueError(f"pooling must be mean or attention, not {self.pooling!r}")
        if self.input_norm not in ("utterance", "none"):
            raise ValueError(f"input_norm must be utterance or none, not {self.input_norm!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CNNClassifier(nn.Module):
    """Conv1d stack over time → masked pooling → output layer; ``forward`` gives logits."""

    def __init__(self, config: CNNClassifierConfig):
        super().__init__()
        self.config = config
        convs = []
        dim = config.input_dim
        for channels, kernel, stride in zip(config.channels, config.kernels, config.strides, strict=True):
            convs.append(nn.Conv1d(dim, channels, kernel, stride=stride, padding=kernel // 2))
            dim = channels
        self.convs = nn.ModuleList(convs)
        self.act = nn.ReLU()
        self.dropout = nn.Dropout(config.dropout)
        self.pooling: nn.Module = AttentivePooling(dim) if config.pooling == "attention" else MeanPooling()
        self.head = nn.Linear(dim, config.num_classes)

    def _normalise(self, feats: Tensor, mask: Tensor) -> Tensor:
        if self.config.input_norm == "none":
            return feats.masked_fill(~mask[..., None], 0.0)
        m = mask[..., None].to(feats.dtype)
        count = m.sum(dim=1, keepdim=True).clamp(min=1)
        mean = (feats * m).sum(dim=1, keepdim=True) / count
        var = (((feats - mean) * m) ** 2).sum(dim=1, keepdim=True) / count
        return ((feats - mean) / torch.sqrt(var + 1e-5)) * m

    def embed(self, feats: Tensor, lengths: Tensor) -> Tensor:
        """Utterance embeddings ``(B, channels[-1])``."""
        if feats.dim() != 3 or feats.size(-1) != self.config.input_dim:
            raise ValueError(
                f"expected (batch, frames, {self.config.input_dim}) features, got {tuple(feats.shape)}"
            )
        if int(lengths.min()) < 1:
            raise ValueError("every sequence needs at least one frame")
        lengths = lengths.to(feats.device)
        mask = lengths_to_mask(lengths, feats.size(1))
        x = self._normalise(feats, mask).transpose(1, 2)  # (B, D, T)
        for conv in self.convs:
            x = conv(x)
            # the output frames that see at least one valid input frame, as for the sequence alone
            stride, pad, kernel = conv.stride[0], conv.padding[0], conv.kernel_size[0]
            lengths = torch.div(lengths + 2 * pad - kernel, stride, rounding_mode="floor") + 1
            mask = lengths_to_mask(lengths.clamp(min=1), x.size(2))
            x = self.dropout(self.act(x)).masked_fill(~mask[:, None, :], 0.0)
        pooled, _ = self.pooling(x.transpose(1, 2), mask)
        return pooled

    def forward(self, feats: Tensor, lengths: Tensor) -> Tensor:
        """Class logits ``(B, num_classes)``."""
        return self.head(self.embed(feats, lengths))

    def replace_head(self, num_classes: int) -> None:
        """A new, randomly initialised output layer of ``num_classes`` (as :class:`E2EClassifier`)."""
        old = self.head
        self.head = nn.Linear(old.in_features, num_classes).to(
            device=old.weight.device, dtype=old.weight.dtype
        )
        self.config.num_classes = num_classes
