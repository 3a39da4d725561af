"""The :class:`~speechsent.training.trainer.Trainer`'s options (:class:`TrainerConfig`), its result
(:class:`FitResult`) and learning-rate schedule (:func:`lr_lambda`)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from speechsent.scoring import METRIC_KEYS

__all__ = [
    "AMP_TYPES",
    "OPTIMIZERS",
    "SCHEDULERS",
    "SELECT_METRICS",
    "FitResult",
    "TrainerConfig",
    "lr_lambda",
]

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULERS = ("none", "plateau", "warmup_linear", "cosine")
AMP_TYPES = (None, "fp16", "bf16")
#: select_metric values: a compute_scores key (higher is better) or "loss" (lower is better).
SELECT_METRICS = (*METRIC_KEYS, "loss")


@dataclasses.dataclass
class TrainerConfig:
    """Training options (docs/contracts.md); the fields after ``keep_checkpoints`` are additions."""

    max_epochs: int = 20
    patience: int = 5  # early stopping: epochs without improvement of select_metric (0: off)
    optimizer: str = "adam"  # adam | adamw | sgd
    lr: float = 1e-3
    weight_decay: float = 0.0
    scheduler: str = "plateau"  # none | plateau (on select_metric) | warmup_linear | cosine
    warmup_steps: int = 0  # optimizer steps of linear warm-up (warmup_linear, cosine)
    grad_clip: float = 5.0  # max gradient norm (0: off)
    accum_grad: int = 1
    amp: str | None = None  # None | "fp16" | "bf16" (ignored on CPU with a warning)
    seed: int = 0
    select_metric: str = "unweighted_f1"  # a compute_scores key, higher is better; or "loss"
    log_interval: int = 50  # batches between progress-bar loss updates
    resume: bool = True  # continue from exp_dir/checkpoint.pth if present
    keep_checkpoints: bool = False  # also keep epoch{N}.pth
    # additions
    momentum: float = 0.9  # sgd
    plateau_factor: float = 0.5  # plateau: lr *= factor after plateau_patience epochs without improvement
    plateau_patience: int = 1
    min_lr: float = 0.0  # plateau: floor
    find_unused_parameters: bool = False  # DDP: a model with parameters unused in some forward passes
    progress: bool = True  # tqdm progress bars (rank 0)

    def __post_init__(self) -> None:
        if self.amp in ("none", "None", ""):
            self.amp = None
        checks = [
            (self.max_epochs >= 0, "max_epochs must be >= 0"),
            (self.patience >= 0, "patience must be >= 0"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}"),
            (self.scheduler in SCHEDULERS, f"scheduler must be one of {SCHEDULERS}"),
            (self.amp in AMP_TYPES, f"amp must be one of {AMP_TYPES}"),
            (self.select_metric in SELECT_METRICS, f"select_metric must be one of {SELECT_METRICS}"),
            (self.accum_grad >= 1, "accum_grad must be >= 1"),
            (self.lr > 0, "lr must be > 0"),
            (self.grad_clip >= 0, "grad_clip must be >= 0 (0: off)"),
            (self.warmup_steps >= 0, "warmup_steps must be >= 0"),
            (self.log_interval >= 1, "log_interval must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"TrainerConfig: {message}, got {dataclasses.asdict(self)}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class FitResult:
    """What ``fit`` achieved: the best epoch (1-based; 0 if none), its metric, epochs completed in total
    (resumed ones included) and the per-epoch records of ``metrics.jsonl``."""

    best_epoch: int
    best_metric: float
    epochs_run: int
    history: list[dict]
    #: utterances the loaders left out (utt -> what is wrong), over every epoch of the run (resumed included)
    dropped_train: dict[str, str] = dataclasses.field(default_factory=dict)
    dropped_valid: dict[str, str] = dataclasses.field(default_factory=dict)


def lr_lambda(kind: str, warmup: int, total: int) -> Callable[[int], float]:
    """The LR factor after ``step`` optimizer steps: linear warm-up, then linear or cosine decay to 0."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        span = max(1, total - warmup)
        progress = min(1.0, (step - warmup) / span)
        if kind == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        return max(0.0, 1.0 - progress)

    return factor
