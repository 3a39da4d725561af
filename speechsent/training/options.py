"""The trainer options every training task shares (light: torch only inside the functions).

:class:`TrainerOptions` is the dataclass of these options (a task's config extends it: its fields are the
command-line options, so the YAML keys of ``--config`` match); :func:`add_trainer_arguments` adds the same
options, with the same defaults, to a parser. The functions below read them from any such config::

    with trainer_run(config, exp_dir, training_stamp, training_files=FILES) as dist:  # threads, GPUs, DDP
        trainer = Trainer(model, trainer_config_from_options(config), exp_dir, ..., dist=dist)
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speechsent.cli import amp_type, str2bool

__all__ = [
    "TrainerOptions",
    "add_trainer_arguments",
    "check_class_counts",
    "check_trainer_options",
    "init_trainer_runtime",
    "trainer_config_from_options",
    "trainer_run",
]

_NUM_THREADS_HELP = "torch CPU threads (0: torch's default, or OMP_NUM_THREADS)"

log = logging.getLogger(__name__)


@dataclass
class TrainerOptions:
    """The options of :func:`add_trainer_arguments` (same names and defaults), ``--progress``,
    ``--log_level`` and ``--config`` (the YAML file the options came from, if any)."""

    max_epochs: int = 20
    patience: int = 5
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    scheduler: str = "plateau"
    warmup_steps: int = 0
    grad_clip: float = 5.0
    accum_grad: int = 1
    batch_size: int = 32
    amp: str | None = None
    seed: int = 0
    select_metric: str = "unweighted_f1"
    keep_checkpoints: bool = False
    num_workers: int = 0
    num_threads: int = 0
    ngpu: int = 0
    force: bool = False
    allow_missing_classes: bool = False
    progress: bool = True
    log_level: str = "INFO"
    config: str | None = None


def add_trainer_arguments(
    group: argparse.ArgumentParser | argparse._ArgumentGroup,
    *,
    select_metric: str = "unweighted_f1",
    select_metric_help: str = "a scores.json key, or loss",
    num_threads_help: str = _NUM_THREADS_HELP,
    batching_arguments: Callable[[Any], None] | None = None,
) -> None:
    """Add ``--max_epochs`` ... ``--force`` (the :class:`~speechsent.training.TrainerConfig` fields, the
    DataLoader workers, CPU threads, GPUs, ``--force``) to ``group``.

    ``batching_arguments(group)``, if given, adds the entry point's own batching options right after
    ``--batch_size`` (so ``--help`` lists them together).
    """
    g = group
    g.add_argument("--max_epochs", type=int, default=20)
    g.add_argument("--patience", type=int, default=5, help="early stopping (0: off)")
    g.add_argument("--optimizer", default="adam", choices=("adam", "adamw", "sgd"))
    g.add_argument("--lr", type=float, default=1e-3)
    g.add_argument("--weight_decay", type=float, default=0.0)
    g.add_argument("--scheduler", default="plateau", choices=("none", "plateau", "warmup_linear", "cosine"))
    g.add_argument("--warmup_steps", type=int, default=0)
    g.add_argument("--grad_clip", type=float, default=5.0)
    g.add_argument("--accum_grad", type=int, default=1)
    g.add_argument("--batch_size", type=int, default=32)
    if batching_arguments is not None:
        batching_arguments(g)
    g.add_argument("--amp", type=amp_type, default=None, help="none, fp16 or bf16 (GPU only)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--select_metric", default=select_metric, help=select_metric_help)
    g.add_argument("--keep_checkpoints", type=str2bool, default=False)
    g.add_argument("--num_workers", type=int, default=0, help="DataLoader workers")
    g.add_argument("--num_threads", type=int, default=0, help=num_threads_help)
    g.add_argument("--ngpu", type=int, default=0, help="0: CPU; 1: one GPU; N > 1: launched by torchrun")
    g.add_argument("--force", type=str2bool, default=False, help="retrain even if .done matches")
    g.add_argument(
        "--allow_missing_classes",
        type=str2bool,
        default=False,
        help="train although a class has no training utterance (a warning; default: an error)",
    )


def check_trainer_options(options: TrainerOptions) -> None:
    """Usage checks of the trainer options (a YAML ``amp: true`` means fp16); a ValueError names the
    option."""
    if isinstance(options.amp, bool):  # YAML true/false
        options.amp = "fp16" if options.amp else None
    if options.amp is not None and options.ngpu == 0:
        raise ValueError("--amp needs --ngpu >= 1")


def check_class_counts(
    counts: Sequence[int], labels: Sequence[str], *, allow: bool, what: str = "training data"
) -> list[str]:
    """The classes of ``labels`` with no utterance in ``counts`` (per class, in ``labels`` order): an error
    (ValueError naming them and ``--allow_missing_classes``) unless ``allow``, then a loud warning. A
    classifier trained without a class never predicts it, and its macro scores are capped."""
    absent = [label for label, n in zip(labels, counts, strict=True) if n == 0]
    if absent:
        message = (
            f"{what}: no utterance of class {', '.join(absent)} "
            f"({', '.join(f'{label} {n}' for label, n in zip(labels, counts, strict=True))}): "
            "the classifier could never predict it"
        )
        if not allow:
            raise ValueError(f"{message} (--allow_missing_classes true to train anyway)")
        log.warning("!!! %s: training anyway (--allow_missing_classes true)", message)
    return absent


def init_trainer_runtime(options: TrainerOptions) -> Any:
    """Apply ``--num_threads``, check ``--ngpu`` against CUDA and the torchrun world; returns the
    :class:`~speechsent.training.distributed.DistInfo` of this process (pair with ``cleanup_distributed``).

    Raises RuntimeError when the GPUs asked for are not there.
    """
    import torch

    from speechsent.training.distributed import init_distributed

    if options.num_threads > 0:
        torch.set_num_threads(options.num_threads)
    use_cuda = options.ngpu > 0
    if use_cuda and not torch.cuda.is_available():
        raise RuntimeError(f"--ngpu {options.ngpu} but CUDA is not available")
    dist = init_distributed(use_cuda=use_cuda)
    if options.ngpu > 1 and dist.world_size != options.ngpu:
        raise RuntimeError(f"--ngpu {options.ngpu}: launch with torchrun --nproc_per_node {options.ngpu}")
    return dist


@contextlib.contextmanager
def trainer_run(
    options: TrainerOptions, exp_dir: Path, training_stamp: dict, *, training_files: Iterable[str]
) -> Iterator[Any]:
    """One training run: :func:`init_trainer_runtime`, then (rank 0) ``exp_dir`` made and its previous run
    continued or cleared by :func:`~speechsent.training.stamps.prepare_training_dir`, all ranks waiting;
    yields the DistInfo; the process group is torn down on exit."""
    from speechsent.training.distributed import barrier, cleanup_distributed
    from speechsent.training.stamps import prepare_training_dir

    dist = init_trainer_runtime(options)
    try:
        exp_dir.mkdir(parents=True, exist_ok=True)
        if dist.is_main:
            prepare_training_dir(exp_dir, training_stamp, force=options.force, training_files=training_files)
        barrier(dist)
        yield dist
    finally:
        cleanup_distributed()


def trainer_config_from_options(options: TrainerOptions, **overrides: Any) -> Any:
    """The :class:`~speechsent.training.TrainerConfig` of the options :func:`add_trainer_arguments` added;
    ``overrides`` (e.g. a resolved ``select_metric``, ``find_unused_parameters``) win."""
    from speechsent.training.config import TrainerConfig

    fields = {
        name: getattr(options, name)
        for name in (
            "max_epochs",
            "patience",
            "optimizer",
            "lr",
            "weight_decay",
            "scheduler",
            "warmup_steps",
            "grad_clip",
            "accum_grad",
            "amp",
            "seed",
            "select_metric",
            "keep_checkpoints",
            "progress",
        )
    }
    return TrainerConfig(**{**fields, **overrides})
