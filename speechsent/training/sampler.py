"""Length-bucketed batches: utterances of similar length together, so little of each batch is padding.

Usage::

    lengths = [num_frames[utt] for utt in utts]
    sampler = BucketBatchSampler(lengths, batch_size=32, max_frames=40000, seed=0,
                                 rank=dist_info.rank, world_size=dist_info.world_size)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=collate)
    # the Trainer calls loader.batch_sampler.set_epoch(epoch) before each epoch

    # inference: every utterance once, deterministic length-sorted order
    BucketBatchSampler(lengths, batch_size=64, shuffle=False)

How the batches of an epoch are made (``shuffle=True``):

1. the indices are sorted by length (ties by index) and cut into ``num_buckets`` contiguous buckets of
   (nearly) equal counts, each a whole number of ``batch_size`` batches (fewer buckets when there are
   fewer batches), so that without ``max_frames`` there are ``ceil(n / batch_size)`` batches, as many as
   random batching makes;
2. each bucket's members are shuffled with ``seed + epoch``, and cut into batches in that order: at most
   ``batch_size`` utterances and, with ``max_frames > 0``, at most ``max_frames`` *padded* frames
   (``longest utterance of the batch x number of utterances``; an utterance longer than ``max_frames``
   alone is a batch of one);
3. the order of all batches is shuffled with ``seed + epoch``.

``num_buckets=1`` is plain random batching; ``num_buckets=0`` cuts the sorted order itself into batches
(tightest padding, the same batches every epoch, in a new order). ``shuffle=False`` gives the batches of
the sorted order, shortest first, the same every time (inference).

With ``world_size > 1`` all ranks build the same batch list (same seed and epoch) and rank ``r`` takes
batches ``r, r + world_size, ...``: disjoint shares with the same number of batches on every rank, as DDP
needs (a rank with fewer batches would leave the others waiting forever in the gradient all-reduce). When
the batch count is not a multiple of ``world_size``, the first batches of the list are *repeated* to fill
the last round (those utterances are seen twice in that epoch; prediction gathering drops the duplicates
by utterance id), or, with ``drop_last=True``, the batches of the incomplete last round are dropped.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler

__all__ = ["BucketBatchSampler", "padded_frames"]

log = logging.getLogger(__name__)


def padded_frames(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> tuple[int, int]:
    """``(real frames, padded frames)`` of a list of batches (padded = longest in the batch x count)."""
    real = sum(int(lengths[i]) for b in batches for i in b)
    padded = sum(max(int(lengths[i]) for i in b) * len(b) for b in batches if b)
    return real, padded


class BucketBatchSampler(Sampler[list[int]]):
    """A batch sampler (``DataLoader(batch_sampler=...)``) yielding lists of indices of similar lengths.

    See the module docstring for the algorithm. ``len()`` is the number of batches of this rank in the
    current epoch (it may change from epoch to epoch when ``max_frames`` caps the batches).
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int = 32,
        max_frames: int = 0,
        shuffle: bool = True,
        seed: int = 0,
        num_buckets: int = 10,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = False,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if max_frames < 0:
            raise ValueError(f"max_frames must be >= 0 (0: no cap), got {max_frames}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} not in [0, world_size={world_size})")
        if num_buckets < 0:
            raise ValueError(f"num_buckets must be >= 0, got {num_buckets}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if self.lengths.ndim != 1:
            raise ValueError("lengths must be a flat sequence of integers")
        if len(self.lengths) and self.lengths.min() < 0:
            raise ValueError("lengths must be >= 0")
        self.batch_size = batch_size
        self.max_frames = max_frames
        self.shuffle = shuffle
        self.seed = seed
        self.num_buckets = num_buckets
        self.rank = rank
        self.world_size = world_size
        self.drop_last = drop_last
        self.epoch = 0
        # stable sort: equal lengths keep index order, so the order is the same on every rank and run
        self._sorted = np.argsort(self.lengths, kind="stable")
        self._cache: tuple[int, list[list[int]]] | None = None
        if max_frames:
            too_long = int((self.lengths > max_frames).sum())
            if too_long:
                log.warning(
                    "%d utterance(s) longer than max_frames=%d: each is a batch of its own",
                    too_long,
                    max_frames,
                )

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose shuffling ``__iter__`` gives (seed + epoch)."""
        self.epoch = epoch

    def _cut(self, order: Sequence[int] | np.ndarray) -> list[list[int]]:
        """Cut ``order`` into batches of at most ``batch_size`` and ``max_frames`` padded frames."""
        batches: list[list[int]] = []
        batch: list[int] = []
        longest = 0
        for i in order:
            i = int(i)
            n = int(self.lengths[i])
            new_longest = max(longest, n)
            full = len(batch) >= self.batch_size or (
                self.max_frames > 0 and new_longest * (len(batch) + 1) > self.max_frames
            )
            if batch and full:
                batches.append(batch)
                batch, new_longest = [], n
            batch.append(i)
            longest = new_longest
        if batch:
            batches.append(batch)
        return batches

    def _buckets(self) -> list[np.ndarray]:
        """The sorted indices cut into buckets that each hold a whole number of ``batch_size`` batches
        (the last one excepted), so that without ``max_frames`` there are as many batches as with random
        batching (no partial batch per bucket)."""
        n = len(self._sorted)
        if n == 0:
            return []
        n_batches = -(-n // self.batch_size)
        per_bucket = [len(c) for c in np.array_split(np.arange(n_batches), min(self.num_buckets, n_batches))]
        bounds = np.minimum(np.cumsum([0, *per_bucket]) * self.batch_size, n)
        return [self._sorted[a:b] for a, b in itertools.pairwise(bounds)]

    def global_batches(self) -> list[list[int]]:
        """The batches of all ranks for the current epoch, in order, before sharding."""
        if not self.shuffle:
            return self._cut(self._sorted)
        rng = np.random.default_rng([self.seed, self.epoch])
        if self.num_buckets == 0:
            batches = self._cut(self._sorted)
        else:
            batches = []
            for bucket in self._buckets():
                batches.extend(self._cut(rng.permutation(bucket)))
        order = rng.permutation(len(batches))
        return [batches[j] for j in order]

    def _rank_batches(self) -> list[list[int]]:
        if self._cache is not None and self._cache[0] == self.epoch:
            return self._cache[1]
        batches = self.global_batches()
        ws = self.world_size
        if ws > 1 and batches:
            remainder = len(batches) % ws
            if remainder and self.drop_last:
                batches = batches[: len(batches) - remainder]
            elif remainder:
                pad = ws - remainder
                # repeat batches (cyclically, for the case of fewer batches than ranks) so every rank
                # runs the same number of steps
                batches = batches + [batches[j % len(batches)] for j in range(pad)]
            batches = batches[self.rank :: ws]
        self._cache = (self.epoch, batches)
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        yield from (list(b) for b in self._rank_batches())

    def __len__(self) -> int:
        return len(self._rank_batches())
