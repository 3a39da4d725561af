"""Seeded orders and selections: the same on every machine, Python version and process (stdlib only).

Python's ``hash()`` is salted per process and ``random`` depends on call order, so every seeded choice of
items in speechsent ranks each item by a digest of the seed and the item alone: an item's place does not
depend on which other items are present, and a prefix of the order of a bigger set, restricted to a smaller
set, is a prefix of the smaller set's order (nested subsets for growing sizes).

The three keys below are frozen: each defines published sets (the SWBD-Sentiment hash split of
``docs/contracts.md``, the ``subset --random``/``--hours`` subsets, the held-out validation sides of the
end-to-end pre-training), so changing a key would silently change every later number. They are defined
here, and only here, so that they stay as they are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from speechsent.utils.fileio import ENCODING, ERRORS

__all__ = ["conversation_order", "seeded_order", "seeded_share"]


def seeded_order(ids: Iterable[str], seed: int | str = 0) -> list[str]:
    """A seeded pseudo-random permutation of ``ids`` (distinct), each ranked by ``sha256(f"{seed}\\0{id}")``
    (``subset --random``/``--hours``/``--spk_list``-free speaker draws; ties, impossible, in byte order)."""
    s = str(seed).encode()

    def rank(x: str) -> tuple[bytes, bytes]:
        b = x.encode(ENCODING, ERRORS)  # LC_ALL=C byte order, as kaldi.table.c_sort_key
        return hashlib.sha256(s + b"\0" + b).digest(), b

    return sorted(set(ids), key=rank)


def conversation_order(convs: Iterable[str], seed: int | str = 0) -> list[str]:
    """Conversations in the order of ``sha256("<seed>:<conv>")`` (the SWBD-Sentiment hash split; ties,
    impossible in practice, by id)."""
    return sorted(set(convs), key=lambda c: (hashlib.sha256(f"{seed}:{c}".encode()).hexdigest(), c))


def seeded_share(keys: Iterable[str], fraction: float, seed: int | str = 0) -> set[str]:
    """About ``fraction`` of ``keys``: those whose ``sha1("<seed>:<key>")`` (first 32 bits) mod 10000 falls
    below ``fraction`` × 10000 (the validation sides held out of end-to-end pre-training). Each key is in or
    out by itself, whatever the other keys."""
    if fraction <= 0:
        return set()
    cutoff = int(fraction * 10000)
    return {
        k for k in set(keys) if int(hashlib.sha1(f"{seed}:{k}".encode()).hexdigest()[:8], 16) % 10000 < cutoff
    }
