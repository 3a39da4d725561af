"""speechsent.tasks.e2e_parts: the held-out split of the pre-training runs."""

from __future__ import annotations

from speechsent.tasks.e2e_parts import heldout_utterances


def test_heldout_split_is_by_side_and_stable():
    utts = [f"fe_03_{k:05d}-A_{i:06d}-{i + 5:06d}" for k in range(200) for i in range(3)]
    held = heldout_utterances(utts, 0.05, 0)
    assert held == heldout_utterances(list(reversed(utts)), 0.05, 0)
    sides = {u.rsplit("_", 1)[0] for u in held}
    assert all(f"{s}_{i:06d}-{i + 5:06d}" in held for s in sides for i in range(3))
    assert 0.01 < len(held) / len(utts) < 0.12
    assert held != heldout_utterances(utts, 0.05, 1)
