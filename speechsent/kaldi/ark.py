"""Kaldi ark storage of feature matrices: float32 (``FM``) or verified compressed matrices (``CM``).

Compact storage uses Kaldi's compressed matrix formats as kaldiio writes them (readable by Kaldi's
``copy-feats``, kaldiio and ESPnet's ``kaldi_ark`` loader). Only the methods meant for real-valued features
are allowed (:data:`COMPRESSION_METHODS`); the integer / 0-1 methods (``kTwoByteSignedInteger`` = 4,
``kOneByteUnsignedInteger`` = 6, ``kOneByteZeroOne`` = 7) quantise to a fixed integer grid and destroy float
features without any warning (method 6 on encoder outputs: mean error ≈ 31), so they are refused.

Every compressed matrix is decompressed again right after compression (the exact bytes that go to the ark)
and its error is checked against the float matrix: a matrix whose max abs error exceeds
``max_rel_error × std(matrix)`` is written uncompressed (``FM``) with a warning (``fallback="float"``) or
fails the job (``fallback="error"``); both are counted in :class:`StorageStats`.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

__all__ = [
    "COMPRESSION_METHODS",
    "REFUSED_METHODS",
    "ArkWriter",
    "CompressionError",
    "StorageSpec",
    "StorageStats",
    "compress_matrix",
    "parse_compression_method",
]

log = logging.getLogger(__name__)

FM_HEADER_BYTES = 15  # "\0B" "FM " "\4" rows "\4" cols

#: Kaldi CompressionMethod values that suit real-valued features (name → value).
COMPRESSION_METHODS: dict[str, int] = {
    # kSpeechFeature: 1 byte per value, per-column piecewise-linear (CM), Kaldi's default
    "speech_feature": 2,
    "auto": 1,  # kAutomaticMethod: speech_feature for more than 8 rows, else two_byte
    "two_byte": 3,  # kTwoByteAuto: 2 bytes per value over the matrix's range (CM2): > half of float32
    "one_byte": 5,  # kOneByteAuto: 1 byte per value over the matrix's range (CM3)
}
#: Methods that quantise to a fixed integer grid: silent garbage for float features.
REFUSED_METHODS: dict[int, str] = {
    4: "kTwoByteSignedInteger (integers -32768..32767)",
    6: "kOneByteUnsignedInteger (integers 0..255)",
    7: "kOneByteZeroOne (values 0..1 only)",
}


class CompressionError(ValueError):
    """A compressed matrix whose error exceeds the limit (with ``fallback="error"``), or a refused method."""


def parse_compression_method(value: str | int) -> int:
    """A method name of :data:`COMPRESSION_METHODS` or its number → the number; refused methods raise."""
    if isinstance(value, str) and value in COMPRESSION_METHODS:
        return COMPRESSION_METHODS[value]
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise CompressionError(
            f"unknown compression method {value!r}: one of {', '.join(COMPRESSION_METHODS)} (or 1, 2, 3, 5)"
        ) from None
    if number in REFUSED_METHODS:
        raise CompressionError(
            f"compression method {number} = {REFUSED_METHODS[number]} is meant for integer data and silently "
            "destroys float features; use speech_feature (2)"
        )
    if number not in COMPRESSION_METHODS.values():
        raise CompressionError(f"unknown compression method {number}")
    return number


@dataclass(frozen=True)
class StorageSpec:
    """How matrices are stored: ``kind`` float | compressed; compression method and error guard."""

    kind: str = "float"
    method: int = 2
    max_rel_error: float = 0.1
    fallback: str = "float"  # float | error

    def __post_init__(self) -> None:
        if self.kind not in ("float", "compressed"):
            raise ValueError(f"storage must be float or compressed, not {self.kind!r}")
        if self.kind == "compressed":
            parse_compression_method(self.method)
        if self.fallback not in ("float", "error"):
            raise ValueError(f"compression fallback must be float or error, not {self.fallback!r}")
        if not self.max_rel_error > 0:
            raise ValueError("max_rel_error must be positive")

    def describe(self) -> dict[str, Any]:
        if self.kind == "float":
            return {"kind": "float", "format": "FM (float32)"}
        name = next(k for k, v in COMPRESSION_METHODS.items() if v == self.method)
        return {
            "kind": "compressed",
            "format": "Kaldi compressed matrix",
            "compression_method": self.method,
            "compression_method_name": name,
            "max_rel_error": self.max_rel_error,
            "fallback": self.fallback,
        }


@dataclass
class StorageStats:
    """What a writer stored: counts, bytes, and the compression error actually measured."""

    num_matrices: int = 0
    num_frames: int = 0
    dim: int = 0
    data_bytes: int = 0  # bytes of the matrices (headers included, keys excluded)
    float_bytes: int = 0  # what float32 (FM) would have taken
    max_abs_error: float = 0.0
    sum_abs_error: float = 0.0  # over all values (mean = sum / num_values)
    num_values: int = 0
    worst_rel_error: float = 0.0  # max over matrices of max_abs_error / std
    fallbacks: list[str] = field(default_factory=list)  # keys stored as float32 after failing the guard

    @property
    def mean_abs_error(self) -> float:
        return self.sum_abs_error / self.num_values if self.num_values else 0.0

    @property
    def bytes_ratio(self) -> float:
        return self.data_bytes / self.float_bytes if self.float_bytes else 0.0

    def merge(self, other: StorageStats) -> None:
        self.num_matrices += other.num_matrices
        self.num_frames += other.num_frames
        self.dim = self.dim or other.dim
        self.data_bytes += other.data_bytes
        self.float_bytes += other.float_bytes
        self.max_abs_error = max(self.max_abs_error, other.max_abs_error)
        self.sum_abs_error += other.sum_abs_error
        self.num_values += other.num_values
        self.worst_rel_error = max(self.worst_rel_error, other.worst_rel_error)
        self.fallbacks.extend(other.fallbacks)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["mean_abs_error"] = self.mean_abs_error
        out["bytes_ratio"] = self.bytes_ratio
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StorageStats:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})


def _float_bytes(mat: np.ndarray) -> bytes:
    from kaldiio.matio import write_array

    buf = io.BytesIO()
    write_array(buf, np.ascontiguousarray(mat, dtype=np.float32))
    return buf.getvalue()


def compress_matrix(mat: np.ndarray, method: int) -> tuple[bytes, float, float]:
    """``(bytes, max_abs_error, sum_abs_error)`` of ``mat`` compressed with Kaldi ``method``.

    ``bytes`` is the ark entry's matrix (``\\0B`` + header + data, as kaldiio writes it); the errors are
    measured on the matrix a reader gets back from those bytes.
    """
    mat = np.ascontiguousarray(mat, dtype=np.float32)
    if method == 1:  # kAutomaticMethod, as Kaldi and kaldiio resolve it
        method = 2 if mat.shape[0] > 8 else 3
    if method == 2:
        from speechsent.kaldi.compress import compress_speech_feature

        return compress_speech_feature(mat)
    from kaldiio.matio import read_matrix_or_vector, write_array

    buf = io.BytesIO()
    write_array(buf, mat, compression_method=method)
    data = buf.getvalue()
    buf.seek(0)
    err = np.abs(np.asarray(read_matrix_or_vector(buf), dtype=np.float64) - mat)
    return data, float(err.max()), float(err.sum())


class ArkWriter:
    """Writes ``key matrix`` entries to an ark file; :meth:`write` returns the scp offset of each matrix."""

    def __init__(self, path: str | os.PathLike[str], spec: StorageSpec):
        self.path = Path(path)
        self.spec = spec
        self.stats = StorageStats()
        self._fd: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115 (closed in close())
        self._pos = 0

    def encode(self, key: str, mat: np.ndarray) -> tuple[bytes, StorageStats]:
        """The bytes of one entry's matrix and its statistics (no I/O: may run in a worker thread)."""
        mat = np.ascontiguousarray(mat, dtype=np.float32)
        if mat.ndim != 2 or mat.shape[0] < 1:
            raise ValueError(f"{key}: expected a non-empty matrix, got shape {mat.shape}")
        stats = StorageStats(num_matrices=1, num_frames=mat.shape[0], dim=mat.shape[1])
        stats.float_bytes = FM_HEADER_BYTES + mat.nbytes
        if self.spec.kind == "float":
            data = _float_bytes(mat)
        else:
            data, max_err, sum_err = compress_matrix(mat, self.spec.method)
            std = float(mat.std())
            rel = max_err / max(std, 1e-6)
            if not np.isfinite(rel) or rel > self.spec.max_rel_error:
                message = (
                    f"{key}: compressed matrix {mat.shape} has max abs error {max_err:.4g} = {rel:.3g} x "
                    f"its std {std:.4g} (limit {self.spec.max_rel_error})"
                )
                if self.spec.fallback == "error":
                    raise CompressionError(message)
                log.warning("%s: stored as float32 instead", message)
                stats.fallbacks.append(key)
                data = _float_bytes(mat)
            else:
                stats.max_abs_error = max_err
                stats.sum_abs_error = sum_err
                stats.num_values = mat.size
                stats.worst_rel_error = rel
        stats.data_bytes = len(data)
        return data, stats

    def write_encoded(self, key: str, data: bytes, stats: StorageStats) -> int:
        """Append an entry made by :meth:`encode`; returns its offset (the ``ark:offset`` of the scp)."""
        assert self._fd is not None, "writer is closed"
        head = key.encode("utf-8", "surrogateescape") + b" "
        self._fd.write(head)
        offset = self._pos + len(head)
        self._fd.write(data)
        self._pos = offset + len(data)
        self.stats.merge(stats)
        return offset

    def write(self, key: str, mat: np.ndarray) -> int:
        data, stats = self.encode(key, mat)
        return self.write_encoded(key, data, stats)

    @property
    def size(self) -> int:
        return self._pos

    def close(self, sync: bool = True) -> None:
        if self._fd is None:
            return
        self._fd.flush()
        if sync:
            os.fsync(self._fd.fileno())
        self._fd.close()
        self._fd = None

    def __enter__(self) -> ArkWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(sync=exc[0] is None)
