"""DDP on CPU (gloo, 2 processes with torchrun's environment): disjoint shards, rank 0 writes, = 1 process.

The single-process reference trains on the union of the two ranks' batches at each step: with equal batch
sizes, a mean loss and no dropout, the averaged DDP gradient is mathematically that batch's gradient, so
weights and losses agree to float32 rounding (all-reduce sums in another order): tolerance 1e-5.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from training_helpers import LABELS, TinyModel, ToyData, collate, loader

from speechsent.training import Trainer, TrainerConfig, set_seed
from speechsent.training.sampler import BucketBatchSampler

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CONFIG = dict(max_epochs=2, lr=1e-2, scheduler="none", progress=False, patience=0)
N_TRAIN, N_VALID, TRAIN_BS, VALID_BS = 32, 13, 4, 3

WORKER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {here!r})
    from training_helpers import LABELS, TinyModel, ToyData, loader
    from speechsent.training import Trainer, TrainerConfig, set_seed
    from speechsent.training.distributed import cleanup_distributed, init_distributed

    out = sys.argv[1]
    info = init_distributed(use_cuda=False)
    try:
        set_seed(0)
        model = TinyModel(dropout=0.0)
        train, valid = ToyData({n_train}, 1), ToyData({n_valid}, 2, prefix="dev")
        shard = dict(rank=info.rank, world_size=info.world_size)
        seen = {{}}

        class Recording:
            def __init__(self, inner):
                self.inner = inner
            def set_epoch(self, epoch):
                self.epoch = epoch
                self.inner.batch_sampler.set_epoch(epoch)
            def __len__(self):
                return len(self.inner)
            def __iter__(self):
                for batch in self.inner:
                    seen.setdefault(self.epoch, []).extend(batch["ids"])
                    yield batch

        # rank 1 is given another exp dir: it must write nothing there
        exp_dir = out + "/exp" if info.is_main else out + "/exp_rank1"
        trainer = Trainer(model, TrainerConfig(**{config!r}), exp_dir, LABELS, dist=info)
        result = trainer.fit(Recording(loader(train, {train_bs}, **shard)),
                             loader(valid, {valid_bs}, shuffle=False, **shard))
        ids, probs = trainer.predict(loader(valid, {valid_bs}, shuffle=False, **shard))
        with open(f"{{out}}/rank{{info.rank}}.json", "w") as f:
            json.dump({{"seen": seen, "history": result.history, "ids": ids, "probs": probs.tolist(),
                       "device": str(info.device), "world_size": info.world_size,
                       "weights": {{k: v.tolist() for k, v in trainer.model.state_dict().items()}}}}, f)
    finally:
        cleanup_distributed()
    """
)


class PairedSampler:
    """The batches of rank 0 and rank 1 of each DDP step, as one batch."""

    def __init__(self, inner: BucketBatchSampler):
        self.inner = inner

    def set_epoch(self, epoch: int) -> None:
        self.inner.set_epoch(epoch)

    def __iter__(self):
        batches = self.inner.global_batches()
        for k in range(0, len(batches), 2):
            yield batches[k] + batches[k + 1]

    def __len__(self) -> int:
        return len(self.inner.global_batches()) // 2


def _launch_two(script: Path, out: Path) -> None:
    """Run ``script out`` as ranks 0 and 1 of a gloo group; both must exit 0 within 2 minutes."""
    # the variables torchrun sets (launching the two workers directly saves torchrun's own start-up)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = dict(
        os.environ, OMP_NUM_THREADS="1", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2"
    )
    base["PYTHONPATH"] = str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(out)],
            env=dict(base, RANK=str(r), LOCAL_RANK=str(r)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for r in range(2)
    ]
    try:
        outputs = [p.communicate(timeout=120)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, output in zip(procs, outputs, strict=True):
        assert p.returncode == 0, output[-4000:]


@pytest.mark.slow
def test_ddp_two_cpu_processes_match_one(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(
        WORKER.format(
            here=str(HERE),
            n_train=N_TRAIN,
            n_valid=N_VALID,
            config=CONFIG,
            train_bs=TRAIN_BS,
            valid_bs=VALID_BS,
        )
    )
    _launch_two(script, tmp_path)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [r["world_size"] for r in ranks] == [2, 2]

    # disjoint shards covering the training set, every epoch
    for epoch in ("1", "2"):
        a, b = (set(r["seen"][epoch]) for r in ranks)
        assert not a & b and len(a) == len(b) == N_TRAIN // 2 and len(a | b) == N_TRAIN
    assert ranks[0]["seen"]["1"] != ranks[0]["seen"]["2"]
    # rank 0 wrote the files; rank 1 nothing
    exp = tmp_path / "exp"
    for name in ("checkpoint.pth", "best.pth", "metrics.jsonl", "train.log"):
        assert (exp / name).exists(), name
    assert not (tmp_path / "exp_rank1").exists() or not any((tmp_path / "exp_rank1").iterdir())
    # both ranks agree
    assert ranks[0]["history"] == [
        {**h, "seconds": ranks[0]["history"][i]["seconds"]} for i, h in enumerate(ranks[1]["history"])
    ]
    assert ranks[0]["ids"] == ranks[1]["ids"]

    # the single-process run on the same steps
    set_seed(0)
    model = TinyModel(dropout=0.0)
    train, valid = ToyData(N_TRAIN, 1), ToyData(N_VALID, 2, prefix="dev")
    pairs = PairedSampler(BucketBatchSampler(train.lengths, TRAIN_BS))
    train_loader = torch.utils.data.DataLoader(train, batch_sampler=pairs, collate_fn=collate)
    trainer = Trainer(model, TrainerConfig(**CONFIG), tmp_path / "single", LABELS, device="cpu")
    single = trainer.fit(train_loader, loader(valid, VALID_BS, shuffle=False))
    for h_ddp, h_one in zip(ranks[0]["history"], single.history, strict=True):
        assert h_ddp["num_utts"] == h_one["num_utts"] == N_VALID  # the padded valid batch counted once
        assert h_ddp["train_loss"] == pytest.approx(h_one["train_loss"], rel=1e-5)
        assert h_ddp["valid_loss"] == pytest.approx(h_one["valid_loss"], rel=1e-5)
        assert h_ddp["confusion"] == h_one["confusion"]
    for k, v in trainer.model.state_dict().items():
        np.testing.assert_allclose(np.array(ranks[0]["weights"][k]), v.numpy(), atol=1e-5, err_msg=k)
    ids, probs = trainer.predict(loader(valid, VALID_BS, shuffle=False))
    assert ranks[0]["ids"] == ids  # same order as one process, each utterance once
    np.testing.assert_allclose(np.array(ranks[0]["probs"]), probs, atol=1e-5)


DROPPING_WORKER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {here!r})
    import torch
    from training_helpers import LABELS, Dropping, TinyModel, ToyData, dropping_loader
    from speechsent.training import Trainer, TrainerConfig, set_seed
    from speechsent.training.distributed import cleanup_distributed, init_distributed

    out = sys.argv[1]
    info = init_distributed(use_cuda=False)
    try:
        set_seed(0)
        toy = ToyData(16, 1)
        bad = set(sorted(toy.ids, key=lambda u: toy.lengths[toy.ids.index(u)])[:4])  # one whole batch
        train = Dropping(toy, bad)
        valid = Dropping(ToyData(6, 2, prefix="dev"), {{"dev0001"}})
        shard = dict(rank=info.rank, world_size=info.world_size)
        config = TrainerConfig(max_epochs=2, lr=1e-2, scheduler="none", progress=False, patience=0)
        trainer = Trainer(TinyModel(dropout=0.0), config, out + f"/exp{{info.rank}}", LABELS, dist=info)
        train_loader = dropping_loader(train, 4, **shard)
        result = trainer.fit(train_loader, dropping_loader(valid, 2, shuffle=False, **shard))
        empty = []  # per epoch: this rank's batches whose every utterance is dropped
        for epoch in (1, 2):
            train_loader.batch_sampler.set_epoch(epoch)
            empty.append(sum(all(train.ids[i] in bad for i in b) for b in train_loader.batch_sampler))
        with open(f"{{out}}/rank{{info.rank}}.json", "w") as f:
            json.dump({{"history": result.history, "dropped_train": result.dropped_train,
                       "dropped_valid": result.dropped_valid, "bad": sorted(bad), "empty": empty,
                       "finite": all(bool(torch.isfinite(p).all()) for p in trainer.model.parameters()),
                       "weights": {{k: v.tolist() for k, v in trainer.model.state_dict().items()}}}}, f)
    finally:
        cleanup_distributed()
    """
)


@pytest.mark.slow
def test_ddp_with_an_all_dropped_batch_on_one_rank(tmp_path):
    """A rank whose batch lost every utterance still takes part in the gradient all-reduce (a zero loss
    on collate_feats' placeholder): no hang, the same weights on both ranks, the drops of both counted."""
    script = tmp_path / "worker.py"
    script.write_text(DROPPING_WORKER.format(here=str(HERE)))
    _launch_two(script, tmp_path)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert all(r["finite"] for r in ranks)
    assert [a + b for a, b in zip(ranks[0]["empty"], ranks[1]["empty"], strict=True)] == [1, 1]
    for k, v in ranks[0]["weights"].items():
        np.testing.assert_allclose(np.array(v), np.array(ranks[1]["weights"][k]), atol=1e-6, err_msg=k)
    for r in ranks:  # gathered from both ranks
        assert sorted(r["dropped_train"]) == r["bad"] and r["dropped_valid"] == {"dev0001": "NaN"}
        assert [h["dropped_train_utts"] for h in r["history"]] == [4, 4]
        assert all("skipped_steps" not in h for h in r["history"])
