"""speechsent: speech sentiment analysis recipes in the ESPnet/Kaldi style.

The package import is kept light on purpose (no torch, no numba, no espnet):
command-line ``--help`` must answer in well under a second. The inference API is imported on first use::

    from speechsent import SentimentModel
    model = SentimentModel.from_pretrained("exp/export/e2e")
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

#: Names of the inference API (speechsent.inference), imported when first used.
_LAZY = ("SentimentModel", "Prediction", "InferenceError", "export_system", "select_best_system")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import speechsent.inference

        return getattr(speechsent.inference, name)
    raise AttributeError(f"module 'speechsent' has no attribute {name!r}")
