"""Training of the sentiment classifiers: :class:`Trainer` (epochs, validation, best model, early stopping,
exact resume, AMP, DDP), length-bucketed batches and the distributed set-up.

See :mod:`speechsent.training.trainer` (its options: :mod:`speechsent.training.config`),
:mod:`speechsent.training.sampler`, :mod:`speechsent.training.distributed`; the ``.done`` stamps:
:mod:`speechsent.training.stamps`; the options every task shares: :mod:`speechsent.training.options`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from speechsent.training.checkpoint import set_seed
    from speechsent.training.config import FitResult, TrainerConfig
    from speechsent.training.trainer import Batch, Trainer

__all__ = ["Batch", "FitResult", "Trainer", "TrainerConfig", "set_seed"]

# Imported on first use (PEP 562), so that the light submodules (options, stamps) that entry points import
# for their parsers do not pull in torch: ``--help`` stays fast.
_SUBMODULE = {"Batch": "trainer", "FitResult": "config", "Trainer": "trainer", "TrainerConfig": "config"}
_SUBMODULE["set_seed"] = "checkpoint"


def __getattr__(name: str) -> Any:
    if name in _SUBMODULE:
        return getattr(importlib.import_module(f"speechsent.training.{_SUBMODULE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
