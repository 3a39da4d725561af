"""Training of the sentiment classifiers: :class:`Trainer` (epochs, validation, best model, early stopping,
exact resume, AMP, DDP), length-bucketed batches and the distributed set-up.

See :mod:`speechsent.training.trainer`, :mod:`speechsent.training.sampler`,
:mod:`speechsent.training.distributed`.
"""

from speechsent.training.checkpoint import set_seed
from speechsent.training.trainer import Batch, FitResult, Trainer, TrainerConfig

__all__ = ["Batch", "FitResult", "Trainer", "TrainerConfig", "set_seed"]
