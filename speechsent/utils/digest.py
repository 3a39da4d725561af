"""Content digests: SHA-256 is the one hash of every stamp, fingerprint and cache key speechsent writes.

A stamp records the digest of each input a stage read; a rerun whose inputs have the same digests has
nothing to do. (Releases before 0.13 wrote SHA-1 in some stamps: such a stamp matches nothing now, so the
first rerun after an upgrade redoes that stage once.)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from speechsent.utils.fileio import ENCODING, ERRORS

__all__ = ["ALGORITHM", "bytes_digest", "file_digest", "new_hash", "text_digest"]

ALGORITHM = "sha256"
_BLOCK = 1 << 20


def new_hash() -> hashlib._Hash:
    """An empty hash object of :data:`ALGORITHM` (for digests fed piece by piece)."""
    return hashlib.new(ALGORITHM)


def bytes_digest(data: bytes) -> str:
    """The hex digest of ``data``."""
    return hashlib.new(ALGORITHM, data).hexdigest()


def text_digest(text: str) -> str:
    """The hex digest of ``text`` encoded as UTF-8 (``surrogateescape``: any bytes read from a data dir)."""
    return bytes_digest(text.encode(ENCODING, ERRORS))


def file_digest(path: str | os.PathLike[str] | None) -> str | None:
    """The hex digest of a file's bytes (read in 1 MiB blocks); None for no path or one that is not a file."""
    if path is None or not Path(path).is_file():
        return None
    h = new_hash()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            h.update(block)
    return h.hexdigest()
