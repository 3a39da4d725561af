"""BucketBatchSampler: coverage, caps, seeded shuffling, deterministic inference order, rank shards."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from speechsent.training.sampler import BucketBatchSampler, padded_frames

LENGTHS = np.random.default_rng(0).integers(50, 1500, size=203).tolist()


def _flat(batches):
    return [i for b in batches for i in b]


def test_every_index_once_and_caps():
    s = BucketBatchSampler(LENGTHS, batch_size=8, max_frames=6000, seed=1)
    batches = list(s)
    assert len(batches) == len(s)
    assert sorted(_flat(batches)) == list(range(len(LENGTHS)))
    for b in batches:
        assert 1 <= len(b) <= 8
        assert len(b) == 1 or max(LENGTHS[i] for i in b) * len(b) <= 6000
    # an utterance longer than max_frames is a batch of its own
    s = BucketBatchSampler([10, 5000, 20, 30], batch_size=4, max_frames=100, shuffle=False)
    assert list(s) == [[0, 2, 3], [1]]


def test_seeded_shuffling_per_epoch():
    a = BucketBatchSampler(LENGTHS, batch_size=8, seed=3)
    b = BucketBatchSampler(LENGTHS, batch_size=8, seed=3)
    assert list(a) == list(b)
    e0 = list(a)
    a.set_epoch(1)
    e1 = list(a)
    assert e0 != e1 and sorted(_flat(e0)) == sorted(_flat(e1))
    assert list(BucketBatchSampler(LENGTHS, batch_size=8, seed=4)) != e0
    # num_buckets=0: the same batches every epoch (tightest padding), in another order
    c = BucketBatchSampler(LENGTHS, batch_size=8, num_buckets=0)
    c0 = list(c)
    c.set_epoch(1)
    c1 = list(c)
    assert c0 != c1 and sorted(map(tuple, c0)) == sorted(map(tuple, c1))


def test_inference_order_is_sorted_and_fixed():
    s = BucketBatchSampler(LENGTHS, batch_size=16, shuffle=False, seed=5)
    first = list(s)
    s.set_epoch(7)
    assert list(s) == first
    order = _flat(first)
    assert [LENGTHS[i] for i in order] == sorted(LENGTHS)
    assert all(len(b) == 16 for b in first[:-1])


def test_bucketing_reduces_padding():
    bucketed = list(BucketBatchSampler(LENGTHS, batch_size=16, num_buckets=10))
    random = list(BucketBatchSampler(LENGTHS, batch_size=16, num_buckets=1))
    real, pad_b = padded_frames(LENGTHS, bucketed)
    _, pad_r = padded_frames(LENGTHS, random)
    assert pad_b / real < 1.25 < pad_r / real


@pytest.mark.parametrize("world_size", [2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_rank_shards(world_size, drop_last):
    kw = dict(batch_size=8, max_frames=5000, seed=2, world_size=world_size, drop_last=drop_last)
    shards = [BucketBatchSampler(LENGTHS, rank=r, **kw) for r in range(world_size)]
    for s in shards:
        s.set_epoch(3)
    lists = [list(s) for s in shards]
    assert len({len(x) for x in lists}) == 1, "every rank must run the same number of steps"
    assert [len(s) for s in shards] == [len(x) for x in lists]
    single = BucketBatchSampler(LENGTHS, **{**kw, "world_size": 1})
    single.set_epoch(3)
    total = list(single)
    got = [tuple(b) for x in lists for b in x]
    if drop_last:
        assert len(got) == len(set(got)) == len(total) - len(total) % world_size
        assert len(set(_flat(got))) == len(_flat(got))  # disjoint
    else:
        assert set(got) == {tuple(b) for b in total}  # all covered
        assert len(got) - len(total) == (-len(total)) % world_size  # only the padding repeats
    # round-robin: interleaving the ranks' lists gives the single-process order
    interleaved = [b for rnd in zip(*lists, strict=True) for b in rnd]
    assert interleaved[: len(total)] == total[: len(interleaved)]


def test_fewer_batches_than_ranks_and_errors():
    shards = [list(BucketBatchSampler([5, 6, 7], 4, shuffle=False, rank=r, world_size=3)) for r in range(3)]
    assert shards == [[[0, 1, 2]]] * 3
    assert list(BucketBatchSampler([], batch_size=4)) == []
    with pytest.raises(ValueError):
        BucketBatchSampler(LENGTHS, rank=2, world_size=2)
    with pytest.raises(ValueError):
        BucketBatchSampler(LENGTHS, batch_size=0)
    assert list(itertools.islice(BucketBatchSampler([3, 1, 2], batch_size=2, shuffle=False), 5)) == [
        [1, 2],
        [0],
    ]


def test_as_many_batches_as_random_batching():
    for n, bs, nb in ((203, 8, 10), (200, 16, 10), (20, 4, 10), (7, 16, 10), (160, 16, 3)):
        s = BucketBatchSampler(LENGTHS[:n], batch_size=bs, num_buckets=nb)
        batches = list(s)
        assert len(batches) == -(-n // bs)
        assert sum(len(b) < bs for b in batches) <= 1
