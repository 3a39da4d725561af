"""Sentiment classifiers on frame features: the E2E BLSTM classifier (§3.2.1) and the FBank CNN baseline.

``build_model(architecture, **config)`` makes either from its config's fields (``blstm`` →
:class:`E2EClassifier`, ``cnn`` → :class:`CNNClassifier`); both take ``(feats (B, T, D), lengths (B,))`` and
return class logits, and both have ``replace_head(num_classes)``.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from speechsent.models.cnn_classifier import CNNClassifier, CNNClassifierConfig
from speechsent.models.e2e_classifier import E2EClassifier, E2EClassifierConfig
from speechsent.models.pooling import AttentivePooling, MeanPooling, lengths_to_mask

__all__ = [
    "ARCHITECTURES",
    "AttentivePooling",
    "CNNClassifier",
    "CNNClassifierConfig",
    "E2EClassifier",
    "E2EClassifierConfig",
    "MeanPooling",
    "build_model",
    "lengths_to_mask",
]

ARCHITECTURES: dict[str, tuple[type[nn.Module], type]] = {
    "blstm": (E2EClassifier, E2EClassifierConfig),
    "cnn": (CNNClassifier, CNNClassifierConfig),
}


def build_model(architecture: str, **config: Any) -> nn.Module:
    """The classifier ``architecture`` (blstm | cnn) built from its config's fields (unknown ones: error)."""
    try:
        model_cls, config_cls = ARCHITECTURES[architecture]
    except KeyError:
        raise ValueError(
            f"unknown architecture {architecture!r}: one of {', '.join(ARCHITECTURES)}"
        ) from None
    return model_cls(config_cls(**config))
