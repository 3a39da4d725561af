"""Sentiment label sets (stdlib only).

The label strings are the ones written in the data-directory files:

* ``utt2sentiment``: ``<utt> Negative|Neutral|Positive`` (majority vote of the annotators);
* ``utt2pseudo``: ``<utt> Negative|Positive`` (a text sentiment classifier's pseudo label);
* ``utt2pseudo_prob``: ``<utt> <float in [0, 1]>`` (the pseudo labeler's confidence, optional).

The order of :data:`SENTIMENT_LABELS` is the class-index order used everywhere (scores, confusion
matrices: Negative, Neutral, Positive).
"""

from __future__ import annotations

import enum
import math

__all__ = [
    "PSEUDO_LABELS",
    "PSEUDO_TO_SENTIMENT",
    "SENTIMENT_LABELS",
    "PseudoLabel",
    "Sentiment",
    "check_probability",
    "check_pseudo_label",
    "check_sentiment_label",
    "label_to_index",
    "pseudo_label_to_index",
]


class Sentiment(str, enum.Enum):  # noqa: UP042 (StrEnum needs 3.11; utils/ run any python3)
    """The three sentiment classes of the Switchboard Sentiment annotations."""

    NEGATIVE = "Negative"
    NEUTRAL = "Neutral"
    POSITIVE = "Positive"

    def __str__(self) -> str:
        return self.value


class PseudoLabel(str, enum.Enum):  # noqa: UP042
    """The two classes of a (binary, SST-2 style) pseudo labeler."""

    NEGATIVE = "Negative"
    POSITIVE = "Positive"

    def __str__(self) -> str:
        return self.value


#: Class order of the 3-way task (index 0, 1, 2).
SENTIMENT_LABELS: tuple[str, ...] = tuple(m.value for m in Sentiment)
#: Class order of the 2-way pseudo-label task (index 0, 1).
PSEUDO_LABELS: tuple[str, ...] = tuple(m.value for m in PseudoLabel)
#: Where a pseudo label falls in the 3-way label set.
PSEUDO_TO_SENTIMENT: dict[str, str] = {p: p for p in PSEUDO_LABELS}

_SENTIMENT_INDEX = {label: i for i, label in enumerate(SENTIMENT_LABELS)}
_PSEUDO_INDEX = {label: i for i, label in enumerate(PSEUDO_LABELS)}


def label_to_index(label: str) -> int:
    """Index of a 3-way sentiment label; ``ValueError`` for anything else."""
    return _SENTIMENT_INDEX[check_sentiment_label(label)]


def pseudo_label_to_index(label: str) -> int:
    """Index of a pseudo label (Negative=0, Positive=1); ``ValueError`` for anything else."""
    return _PSEUDO_INDEX[check_pseudo_label(label)]


def check_sentiment_label(label: str) -> str:
    """Return ``label`` if it is one of :data:`SENTIMENT_LABELS` (case-sensitive), else raise."""
    if label not in _SENTIMENT_INDEX:
        raise ValueError(f"bad sentiment label {label!r}: expected one of {', '.join(SENTIMENT_LABELS)}")
    return label


def check_pseudo_label(label: str) -> str:
    """Return ``label`` if it is one of :data:`PSEUDO_LABELS` (case-sensitive), else raise."""
    if label not in _PSEUDO_INDEX:
        raise ValueError(f"bad pseudo label {label!r}: expected one of {', '.join(PSEUDO_LABELS)}")
    return label


def check_probability(value: str | float) -> float:
    """Parse a probability: a finite float in [0, 1]; ``ValueError`` otherwise."""
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"bad probability {value!r}: not a number") from None
    if not math.isfinite(p) or p < 0.0 or p > 1.0:
        raise ValueError(f"bad probability {value!r}: not in [0, 1]")
    return p
