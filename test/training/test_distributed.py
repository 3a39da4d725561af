"""Single-process behaviour of the distributed helpers, and the atomic checkpoint writes."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from speechsent.training.checkpoint import get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from speechsent.training.distributed import (
    DistInfo,
    all_gather_objects,
    all_reduce_sums,
    broadcast_object,
    cleanup_distributed,
    init_distributed,
)


def test_single_process_without_torchrun_env(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    info = init_distributed(use_cuda=False)
    assert info == DistInfo(0, 1, 0, torch.device("cpu"), True) and not info.distributed
    assert all_gather_objects({"a": 1}, info) == [{"a": 1}]
    assert broadcast_object([1, 2], info) == [1, 2]
    assert all_reduce_sums([1, 2.5], info) == [1.0, 2.5]
    cleanup_distributed()  # no group: a no-op
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert not init_distributed(use_cuda=False).distributed
    monkeypatch.setenv("WORLD_SIZE", "x")
    with pytest.raises(ValueError, match="WORLD_SIZE"):
        init_distributed(use_cuda=False)


def test_rng_state_round_trip_through_a_checkpoint(tmp_path):
    state = get_rng_state()
    save_checkpoint(tmp_path / "c.pth", {"rng": state})
    draws = (random.random(), np.random.rand(), torch.rand(1).item())
    set_rng_state(load_checkpoint(tmp_path / "c.pth")["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == draws


def test_checkpoint_write_is_atomic(tmp_path):
    path = tmp_path / "checkpoint.pth"
    save_checkpoint(path, {"epoch": 1})

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        save_checkpoint(path, {"epoch": 2, "bad": Unpicklable()})
    assert load_checkpoint(path) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pth"]  # no temp file left
