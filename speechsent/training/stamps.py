"""The ``.done`` / ``training_stamp.json`` logic every trainer entry point shares (light: no torch).

A trainer run is stamped with the options and input checksums it depends on: ``training_stamp.json`` while it
trains (a change of the stamp, except of the continuable options such as ``max_epochs``, restarts training
from scratch; otherwise the Trainer resumes from its checkpoint) and ``.done`` once it has been scored (an
identical stamp makes a rerun a no-op)::

    stamp = {"training": training_stamp, "scoring": scoring_stamp}
    if is_done(exp_dir, stamp, force=args.force):
        return
    if dist.is_main:
        prepare_training_dir(exp_dir, training_stamp, force=args.force, training_files=FILES)
    ...  # train, score
    if dist.is_main:
        write_stamp(exp_dir / DONE, stamp)
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from speechsent.utils.fileio import read_json_or_none, write_json

__all__ = [
    "CONTINUABLE_OPTIONS",
    "DONE",
    "TRAINING_STAMP",
    "clear_training_files",
    "is_done",
    "prepare_training_dir",
    "restart_part",
    "write_stamp",
]

log = logging.getLogger("speechsent.training.stamps")
# is_done logs with stacklevel=2: as from the entry point that calls it (the log format names the module).

DONE = ".done"
TRAINING_STAMP = "training_stamp.json"
#: Options whose change continues a run from its checkpoint (more epochs) instead of restarting it.
CONTINUABLE_OPTIONS = frozenset({"max_epochs", "patience"})


def write_stamp(path: Path, stamp: Any) -> None:
    """Write a stamp (``.done``, ``training_stamp.json``) atomically; values JSON has no type for (paths) as
    their ``str``."""
    write_json(path, stamp, default=str)


def is_done(exp_dir: Path, stamp: Any, force: bool = False) -> bool:
    """Whether ``<exp_dir>/.done`` holds ``stamp`` (and ``force`` is off): the run has nothing to do."""
    if not force and read_json_or_none(exp_dir / DONE) == stamp:
        log.info(
            "%s is up to date (.done matches the options and inputs): nothing to do", exp_dir, stacklevel=2
        )
        return True
    return False


def restart_part(training_stamp: dict, continuable: Collection[str] = CONTINUABLE_OPTIONS) -> dict:
    """The part of a training stamp whose change restarts training (all options but ``continuable``)."""
    options = {k: v for k, v in training_stamp.get("options", {}).items() if k not in continuable}
    return {**training_stamp, "options": options}


def clear_training_files(exp_dir: Path, training_files: Iterable[str]) -> None:
    """Remove one training run's files, ``.done``, ``epoch*.pth`` and the ``score_*`` dirs."""
    for name in (*training_files, DONE):
        (exp_dir / name).unlink(missing_ok=True)
    for path in [*exp_dir.glob("epoch*.pth"), *exp_dir.glob("score_*")]:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def prepare_training_dir(
    exp_dir: Path,
    training_stamp: dict,
    *,
    force: bool,
    training_files: Iterable[str],
    continuable: Collection[str] = CONTINUABLE_OPTIONS,
) -> None:
    """Clear the previous run when its stamp differs (or ``force``), write the new stamp, drop ``.done``.

    Run on rank 0 only. A checkpoint without a stamp is of unknown options: training restarts too.
    """
    previous = read_json_or_none(exp_dir / TRAINING_STAMP)
    if force or (
        previous is not None
        and restart_part(previous, continuable) != restart_part(training_stamp, continuable)
    ):
        log.warning("%s: options or inputs changed (or --force): training restarts", exp_dir)
        clear_training_files(exp_dir, training_files)
    elif previous is None and (exp_dir / "checkpoint.pth").exists():
        log.warning("%s: a checkpoint without training_stamp.json: training restarts", exp_dir)
        clear_training_files(exp_dir, training_files)
    write_stamp(exp_dir / TRAINING_STAMP, training_stamp)
    (exp_dir / DONE).unlink(missing_ok=True)
