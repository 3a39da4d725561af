"""Device selection, the same for every command: ``auto`` (or empty/None), ``cpu``, ``cuda``, ``cuda:N``."""

from __future__ import annotations

from typing import Any

__all__ = ["DeviceError", "resolve_device"]


class DeviceError(ValueError):
    """A device that is not one of the spellings above, or CUDA asked for where there is none."""


def resolve_device(device: str | Any | None = "auto") -> Any:
    """The ``torch.device`` for ``device``: ``auto``/None/empty → ``cuda`` when available, else ``cpu``.

    ``cuda``/``cuda:N`` without CUDA, an index past the visible GPUs, or any other name is a
    :class:`DeviceError` (rather than a failure deep inside the first forward pass).
    """
    import torch

    if isinstance(device, torch.device):
        device = str(device)
    spec = "auto" if device is None or str(device).strip() == "" else str(device).strip()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DeviceError(f"device {spec}: CUDA is not available")
        index = spec.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise DeviceError(f"device {spec}: there are {torch.cuda.device_count()} CUDA devices")
        return torch.device(spec)
    raise DeviceError(f"device must be auto, cpu, cuda or cuda:N, not {spec!r}")
