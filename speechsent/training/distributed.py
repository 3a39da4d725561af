"""Distributed data parallel set-up from torchrun's environment, and the collectives the trainer needs.

Usage (the same script runs alone or under ``torchrun``)::

    from speechsent.training.distributed import init_distributed, cleanup_distributed
    dist_info = init_distributed()          # RANK/WORLD_SIZE/LOCAL_RANK from torchrun, else one process
    try:
        trainer = Trainer(model, config, exp_dir, labels, dist=dist_info)
        ...
    finally:
        cleanup_distributed()

    # python -m torch.distributed.run --standalone --nproc_per_node 2 train_script.py ...

On CUDA every process uses ``cuda:LOCAL_RANK`` and the NCCL backend; on CPU the gloo backend. Every helper
here is a no-op (or the identity) in a single process, so callers need no ``if distributed`` branches.
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import logging
import os
from collections.abc import Sequence
from typing import Any, TypeVar

import torch
import torch.distributed as tdist

__all__ = [
    "DistInfo",
    "all_gather_objects",
    "all_reduce_sums",
    "barrier",
    "broadcast_object",
    "cleanup_distributed",
    "init_distributed",
    "is_initialized",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class DistInfo:
    """Where this process stands: its rank among ``world_size`` processes and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = dataclasses.field(default_factory=lambda: torch.device("cpu"))
    is_main: bool = True

    @property
    def distributed(self) -> bool:
        """True when there are several processes (and a process group)."""
        return self.world_size > 1


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} is not an integer") from None


def init_distributed(
    use_cuda: bool | None = None, backend: str | None = None, timeout_s: float = 1800.0
) -> DistInfo:
    """Initialise the process group from torchrun's ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` (and
    ``MASTER_ADDR``/``MASTER_PORT``); a single process (no group) when ``WORLD_SIZE`` is absent or 1.

    ``use_cuda``: None = CUDA when available; the device is ``cuda:LOCAL_RANK`` (set as the current
    device) and the backend NCCL, else CPU and gloo (``backend`` overrides). Safe to call twice.
    """
    cuda = torch.cuda.is_available() if use_cuda is None else use_cuda
    if cuda and not torch.cuda.is_available():
        raise RuntimeError("CUDA was asked for but is not available")
    world_size = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", 0)
    if world_size <= 1:
        device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
        if cuda:
            torch.cuda.set_device(device)
        return DistInfo(0, 1, 0, device, True)
    if not 0 <= rank < world_size:
        raise ValueError(f"RANK={rank} not in [0, WORLD_SIZE={world_size})")
    if cuda:
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if not tdist.is_initialized():
        tdist.init_process_group(
            backend=backend or ("nccl" if cuda else "gloo"),
            init_method="env://",
            rank=rank,
            world_size=world_size,
            timeout=datetime.timedelta(seconds=timeout_s),
            **({"device_id": device} if cuda else {}),
        )
        log.info(
            "process group: rank %d/%d (local %d), backend %s, device %s",
            rank,
            world_size,
            local_rank,
            tdist.get_backend(),
            device,
        )
    return DistInfo(rank, world_size, local_rank, device, rank == 0)


def is_initialized() -> bool:
    """True when a process group exists."""
    return tdist.is_available() and tdist.is_initialized()


def cleanup_distributed() -> None:
    """Destroy the process group, if any (call once at the end, on every rank), after collecting the
    objects that still refer to it (a DDP reducer's pending gloo work freed at interpreter exit aborts)."""
    if is_initialized():
        gc.collect()
        tdist.destroy_process_group()


def barrier(info: DistInfo | None) -> None:
    """Wait for every rank (no-op in a single process)."""
    if info is not None and info.distributed:
        tdist.barrier()


def all_gather_objects(obj: T, info: DistInfo | None) -> list[T]:
    """Every rank's ``obj`` (picklable, any size), in rank order, on every rank (``[obj]`` alone)."""
    if info is None or not info.distributed:
        return [obj]
    out: list[Any] = [None] * info.world_size
    tdist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: T, info: DistInfo | None, src: int = 0) -> T:
    """Rank ``src``'s ``obj`` on every rank (``obj`` itself in a single process)."""
    if info is None or not info.distributed:
        return obj
    box: list[Any] = [obj if info.rank == src else None]
    tdist.broadcast_object_list(box, src=src)
    return box[0]


def all_reduce_sums(values: Sequence[float], info: DistInfo | None) -> list[float]:
    """Element-wise sums of ``values`` over the ranks (float64, on the backend's device)."""
    if info is None or not info.distributed:
        return [float(v) for v in values]
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=info.device)
    tdist.all_reduce(t, op=tdist.ReduceOp.SUM)
    return t.tolist()
