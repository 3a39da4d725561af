"""Exported models and their inference API (recipe stage 11, ``speechsent-export``, ``speechsent-infer``).

- :mod:`speechsent.inference.export`: :func:`export_system`, :func:`select_best_system` (no torch needed);
- :mod:`speechsent.inference.model`: :class:`SentimentModel` (``from_pretrained``, ``__call__``,
  ``predict``, ``predict_chunks``) and :class:`Prediction`; :mod:`speechsent.inference.model_kinds`: its two
  kinds, :class:`E2ESentimentModel` and :class:`TwoStepSentimentModel`;
- :mod:`speechsent.inference.manifest`: :class:`ModelManifest`, the schema of ``speechsent_model.json``, and
  the checks of a model dir's files (no torch needed);
- :mod:`speechsent.inference.audio_inputs`: files, arrays and ``wav.scp`` as the model's input.

The names are imported on first use, so ``import speechsent.inference`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "DEFAULT_MAX_DURATION": "model",
    "ManifestError": "manifest",
    "ModelManifest": "manifest",
    "read_manifest": "manifest",
    "window_bounds": "model",
    "ExportError": "export",
    "export_system": "export",
    "select_best_system": "export",
    "E2ESentimentModel": "model_kinds",
    "InferenceError": "model",
    "Prediction": "model",
    "SentimentModel": "model",
    "TwoStepSentimentModel": "model_kinds",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(f"speechsent.inference.{_NAMES[name]}"), name)
    raise AttributeError(f"module 'speechsent.inference' has no attribute {name!r}")
