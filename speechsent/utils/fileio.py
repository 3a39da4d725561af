"""Atomic writes and JSON files (stdlib only: the `utils/*.sh` data-dir tools import this in bare python3).

Every file speechsent writes goes through :func:`atomic_write`: a temporary file in the target's directory,
flushed and fsync'ed, given the target's permissions (or the umask's for a new file), then ``os.replace``'d,
and the directory fsync'ed. A process killed at any point leaves either the old file or the new one, never a
half-written one, and no temporary file behind it (except after SIGKILL: ``.<name>.*.tmp``, ignored by every
reader). Whole directories (an exported model, a fine-tuned LM) are swapped in by :func:`replace_dir`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = [
    "ENCODING",
    "ERRORS",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "read_json",
    "read_json_or_none",
    "replace_dir",
    "write_json",
]

#: Text files are UTF-8; ``surrogateescape`` lets bytes that are not UTF-8 round-trip unchanged.
ENCODING = "utf-8"
ERRORS = "surrogateescape"

_UMASK: int | None = None


def _file_mode() -> int:
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return 0o666 & ~_UMASK


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any], *, durable: bool = True
) -> None:
    """Call ``write(f)`` on a binary temporary file next to ``path``, then move it onto ``path`` atomically.

    ``write`` may be ``torch.save`` (``lambda f: torch.save(obj, f)``), ``soundfile.write``, or anything that
    writes to a binary file object. The parent directory must exist. ``durable=False`` skips the two fsyncs:
    still never half-written for a killed process, but not flushed to disk against a power cut (for the
    thousands of small per-utterance files of one job, which its done record covers).
    """
    path = Path(path)
    directory = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = _file_mode()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_dir(directory)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (:func:`atomic_write`)."""
    atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically, encoded as UTF-8 with ``surrogateescape``."""
    atomic_write_bytes(path, text.encode(ENCODING, ERRORS))


def write_json(
    path: str | os.PathLike[str],
    obj: Any,
    *,
    indent: int | None = 1,
    default: Callable[[Any], Any] | None = None,
    ensure_ascii: bool = True,
    allow_nan: bool = True,
) -> None:
    """Write ``obj`` as JSON (``indent`` spaces, a final newline) to ``path`` atomically."""
    text = json.dumps(obj, indent=indent, default=default, ensure_ascii=ensure_ascii, allow_nan=allow_nan)
    atomic_write_text(path, text + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    """A JSON file's value; a missing file is ``FileNotFoundError``, bad JSON a ``ValueError`` naming the
    file and the line."""
    text = Path(path).read_text(encoding=ENCODING)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}:{e.lineno}: not valid JSON: {e.msg}") from None


def read_json_or_none(path: str | os.PathLike[str]) -> Any:
    """A JSON file's value, or None when it is absent or unreadable (for stamps: None matches nothing)."""
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


def replace_dir(tmp: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Move the finished directory ``tmp`` onto ``dst`` (both on one file system), replacing what was there.

    The old ``dst`` is first renamed aside and removed only after ``tmp`` took its place: a process killed in
    between leaves ``.<name>.old.<pid>`` next to ``dst`` (removed by the next call), never no ``dst`` at all
    but for that instant of the two renames.
    """
    tmp, dst = Path(tmp), Path(dst)
    for stale in dst.parent.glob(f".{dst.name}.old.*"):
        shutil.rmtree(stale, ignore_errors=True)
    old = dst.parent / f".{dst.name}.old.{os.getpid()}"
    if dst.exists():
        os.replace(dst, old)
    os.replace(tmp, dst)
    shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(dst.parent)
