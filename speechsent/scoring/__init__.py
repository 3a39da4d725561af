"""Scoring of sentiment classifiers: scikit-learn metrics in percent and the ``score_<set>`` files.

See :mod:`speechsent.scoring.metrics`.
"""

from speechsent.scoring.metrics import (
    IMPUTED_FILE,
    METRIC_KEYS,
    ScoringError,
    compute_scores,
    read_imputed,
    read_predictions,
    read_probabilities,
    read_scores,
    score_system,
    write_predictions,
    write_scores,
)

__all__ = [
    "IMPUTED_FILE",
    "METRIC_KEYS",
    "ScoringError",
    "compute_scores",
    "read_imputed",
    "read_predictions",
    "read_probabilities",
    "read_scores",
    "score_system",
    "write_predictions",
    "write_scores",
]
