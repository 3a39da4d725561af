"""Atomic checkpoint files and the random-number-generator state a resumed run needs.

``save_checkpoint`` writes with ``torch.save`` to a temporary file in the target directory, fsyncs it and
``os.replace``s it: a run killed while saving leaves the previous checkpoint intact. ``get_rng_state`` /
``set_rng_state`` capture and restore Python's, NumPy's and torch's (CPU and every CUDA device) generators,
so that a resumed run draws the same random numbers (dropout, shuffling) as an uninterrupted one.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from speechsent.utils.fileio import atomic_write

__all__ = ["get_rng_state", "load_checkpoint", "save_checkpoint", "set_rng_state", "set_seed"]


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and all CUDA devices).

    ``deterministic``: also ask torch/cuDNN for deterministic kernels (slower; errors on ops that have
    none are downgraded to warnings).
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)


def save_checkpoint(path: str | os.PathLike[str], obj: Any) -> None:
    """``torch.save(obj)`` to ``path`` atomically (:func:`speechsent.utils.fileio.atomic_write`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: torch.save(obj, f))


def load_checkpoint(path: str | os.PathLike[str], map_location: Any = "cpu") -> Any:
    """Load a file written by :func:`save_checkpoint` (``weights_only=False``: it holds RNG states and
    optimizer state; only load checkpoints you wrote)."""
    return torch.load(path, map_location=map_location, weights_only=False)


def get_rng_state() -> dict[str, Any]:
    """The state of every random generator the training uses."""
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a :func:`get_rng_state` snapshot (CUDA states only where CUDA is available)."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        cuda_states = state["cuda"]
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([s.cpu() for s in cuda_states])
