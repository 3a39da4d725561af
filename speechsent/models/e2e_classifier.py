"""The E2E speech sentiment classifier of Shon et al. (2021, §3.2.1), on frozen ASR-encoder features.

Frame features ``h_1:T`` (e.g. the 512-dim encoder output dumped by stage 5) → a fully connected layer →
two BLSTM layers (padding never enters the recurrence: :func:`~speechsent.models.blstm.run_blstm`) →
attention-based weighted pooling over the valid frames (:class:`~speechsent.models.pooling.AttentivePooling`)
→ the output layer (class logits; the loss is cross entropy)::

    from speechsent.models import E2EClassifier, E2EClassifierConfig

    model = E2EClassifier(E2EClassifierConfig(input_dim=512, num_classes=2))   # pseudo-label pre-training
    logits = model(feats, lengths)                       # feats (B, T, 512) zero-padded, lengths (B,)
    model.replace_head(3)                                 # fine-tuning: random 3-class output layer

A sequence gives the same output alone or padded in a batch (up to float rounding).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn

from speechsent.models.blstm import run_blstm
from speechsent.models.pooling import AttentivePooling, lengths_to_mask

__all__ = ["E2EClassifier", "E2EClassifierConfig"]


@dataclass
class E2EClassifierConfig:
    """Sizes of :class:`E2EClassifier` (the paper gives the layer types, not their sizes)."""

    input_dim: int = 512  # feature dim (the ASR encoder's output size)
    fc_dim: int = 256  # the FC layer before the BLSTM
    lstm_dim: int = 128  # BLSTM cells per direction
    num_lstm_layers: int = 2
    attention_dim: int = 0  # 0: linear frame scores (Mirsamadi et al.); > 0: tanh MLP of this size
    num_classes: int = 3
    dropout: float = 0.0  # after the FC layer, between BLSTM layers, before the output layer
    # > 1: each frame stacks this many encoder layers (input_dim = layers x hidden, layer-major, as stage 5
    # dumps a Hugging Face encoder's hidden states); a learnable weighted sum (softmax weights, uniform at
    # first, as SUPERB reads such upstreams) makes one hidden-size frame of them before the FC layer
    feature_layers: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class E2EClassifier(nn.Module):
    """FC → BLSTM × ``num_lstm_layers`` → attentive pooling → output layer; ``forward`` gives logits."""

    def __init__(self, config: E2EClassifierConfig):
        super().__init__()
        self.config = config
        if config.feature_layers < 1 or config.input_dim % config.feature_layers:
            raise ValueError(
                f"input_dim {config.input_dim} is not feature_layers ({config.feature_layers}) x a hidden "
                "size"
            )
        self.layer_weights = (
            nn.Parameter(torch.zeros(config.feature_layers)) if config.feature_layers > 1 else None
        )
        frame_dim = config.input_dim // config.feature_layers
        self.fc = nn.Sequential(nn.Linear(frame_dim, config.fc_dim), nn.ReLU(), nn.Dropout(config.dropout))
        self.blstm = nn.LSTM(
            config.fc_dim,
            config.lstm_dim,
            num_layers=config.num_lstm_layers,
            batch_first=True,
            bidirectional=True,
            dropout=config.dropout if config.num_lstm_layers > 1 else 0.0,
        )
        self.blstm_path = "auto"  # run_blstm's path: packed on CUDA, padded (exact, faster) on CPU
        self.pooling = AttentivePooling(2 * config.lstm_dim, config.attention_dim)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(2 * config.lstm_dim, config.num_classes)

    @property
    def embed_dim(self) -> int:
        return 2 * self.config.lstm_dim

    def embed(self, feats: Tensor, lengths: Tensor) -> Tensor:
        """Utterance embeddings ``(B, 2 * lstm_dim)`` of zero- (or any-) padded ``(B, T, D)`` features."""
        if feats.dim() != 3 or feats.size(-1) != self.config.input_dim:
            raise ValueError(
                f"expected (batch, frames, {self.config.input_dim}) features, got {tuple(feats.shape)}"
            )
        total = feats.size(1)
        if int(lengths.min()) < 1 or int(lengths.max()) > total:
            raise ValueError(f"every length must be in [1, {total}] (the padded frame count)")
        if self.layer_weights is not None:
            layers = feats.view(*feats.shape[:2], self.config.feature_layers, -1)
            feats = (layers * self.layer_weights.softmax(0)[:, None]).sum(dim=2)
        out = run_blstm(self.blstm, self.fc(feats), lengths, self.blstm_path)
        mask = lengths_to_mask(lengths.to(out.device), total)
        pooled, _ = self.pooling(out, mask)
        return pooled

    def layer_weight_values(self) -> list[float] | None:
        """The softmax weights of the stacked layers (None without ``feature_layers`` > 1)."""
        if self.layer_weights is None:
            return None
        return [float(w) for w in self.layer_weights.detach().softmax(0).cpu()]

    def forward(self, feats: Tensor, lengths: Tensor) -> Tensor:
        """Class logits ``(B, num_classes)``."""
        return self.head(self.dropout(self.embed(feats, lengths)))

    def replace_head(self, num_classes: int) -> None:
        """A new, randomly initialised output layer of ``num_classes`` (the body keeps its weights).

        Pseudo-label pre-training learns a 2-class head; the paper discards it and fine-tunes every
        parameter with a random 3-class head (§4.3).
        """
        old = self.head
        self.head = nn.Linear(old.in_features, num_classes).to(
            device=old.weight.device, dtype=old.weight.dtype
        )
        self.config.num_classes = num_classes
