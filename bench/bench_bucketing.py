#!/usr/bin/env python3
"""Benchmark: length-bucketed vs random batching for a BLSTM sentiment classifier on encoder-like features.

Trains the same model (:class:`speechsent.models.E2EClassifier`: FC -> 2-layer BLSTM -> attentive pooling ->
3 classes, BLSTM through :func:`speechsent.models.blstm.run_blstm` on ``--blstm_path``) from the same initial
weights with the same batch size through :class:`speechsent.training.Trainer`, once with
:class:`~speechsent.training.sampler.BucketBatchSampler` buckets (``--num_buckets``, default 10) and once
with random batches (``num_buckets=1``), and reports the training-epoch times, their ratio, the padding
(padded / real frames) and both loss trajectories (they should be similar: bucketing changes the batch
composition, not the objective).

The features are synthetic: ``--dim``-dim (512, like the frozen encoder's outputs) Gaussian frames with a
class-dependent offset, lengths drawn from a log-normal utterance-length distribution (median
``--median_len`` frames, clipped to ``[--min_len, --max_len]``, 50-1500 by default).

Usage (from the repository root)::

    python bench/bench_bucketing.py --num_threads 1           # defaults: 320 utts, 3 epochs, CPU
    python bench/bench_bucketing.py --n_utts 64 --epochs 2 --dim 64     # a quick run
    python bench/bench_bucketing.py --device cuda --n_utts 4000 --proj 256 --hidden 256

Measured (2-core CPU, torch 2.11, 1 thread, 2026-11-25; 320 utterances of 50-1500 frames, FC 16 -> 2 x BLSTM
16, batch 16, 20 batches/epoch each; padded/real frames 1.20 bucketed vs 2.96 random)::

    --num_threads 1 --blstm_path padded (the CPU default):
        median epoch 1.25 s bucketed vs 3.71 s random = 2.96x (CPU time 2.95x)
    --num_threads 1 --blstm_path packed:
        median epoch 24.55 s bucketed vs 42.14 s random = 1.72x (CPU time 1.72x)
    train loss per epoch, identical on both paths: bucketed 1.1022 1.0726 0.8769, random 1.1005 1.0675 0.8334

The padded path is exact (same losses as packed, to 4 decimals) and ~20x faster on CPU: PyTorch's CPU
backward of an LSTM over a PackedSequence is slow. With it, padding costs real time, hence the larger
bucketing gain. (On CUDA ``auto`` takes the packed path, which cuDNN runs fast.)

Only the training iterations are timed (the data loader and the model's forward/backward/step); the
validation pass (a small fixed set, the same for both) is excluded.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

from speechsent.models.blstm import BLSTM_PATHS


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n_utts", type=int, default=320, help="training utterances")
    parser.add_argument("--n_valid", type=int, default=32, help="validation utterances (not timed)")
    parser.add_argument("--dim", type=int, default=512, help="feature dimension")
    parser.add_argument("--min_len", type=int, default=50)
    parser.add_argument("--max_len", type=int, default=1500)
    parser.add_argument("--median_len", type=float, default=300.0, help="median of the log-normal lengths")
    parser.add_argument("--sigma", type=float, default=0.8, help="sigma of the log-normal lengths")
    parser.add_argument("--proj", type=int, default=16, help="FC output size")
    parser.add_argument("--hidden", type=int, default=16, help="BLSTM cells per direction")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--num_buckets", type=int, default=10, help="buckets of the bucketed run")
    parser.add_argument(
        "--blstm_path",
        default="auto",
        choices=BLSTM_PATHS,
        help="run_blstm's path: packed sequences, or padded with per-sequence reversal (auto: padded on CPU)",
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--num_threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--exp_dir", default=None, help="where the two runs write (default: a temp dir)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import numpy as np
    import torch

    from speechsent.data.labels import SENTIMENT_LABELS
    from speechsent.models import E2EClassifier, E2EClassifierConfig
    from speechsent.training import Trainer, TrainerConfig, set_seed
    from speechsent.training.sampler import BucketBatchSampler, padded_frames

    if args.num_threads:
        torch.set_num_threads(args.num_threads)

    rng = np.random.default_rng(args.seed)

    def make_set(n: int) -> tuple[list[int], list[int], list[np.ndarray]]:
        lengths = np.clip(
            np.round(rng.lognormal(np.log(args.median_len), args.sigma, size=n)), args.min_len, args.max_len
        ).astype(int)
        targets = rng.integers(0, 3, size=n)
        offsets = np.zeros((3, args.dim), dtype=np.float32)
        for c in range(3):  # a weak class signal on a few dimensions
            offsets[c, c * 8 : (c + 1) * 8] = 0.5
        feats = [
            (rng.standard_normal((t, args.dim), dtype=np.float32) + offsets[y])
            for t, y in zip(lengths, targets, strict=True)
        ]
        return lengths.tolist(), targets.tolist(), feats

    train = make_set(args.n_utts)
    valid = make_set(args.n_valid)

    class Data(torch.utils.data.Dataset):
        def __init__(self, data, prefix):
            self.lengths, self.targets, self.feats = data
            self.prefix = prefix

        def __len__(self):
            return len(self.lengths)

        def __getitem__(self, i):
            return i, self

    def collate(items):
        data = items[0][1]
        idx = [i for i, _ in items]
        lengths = torch.tensor([data.lengths[i] for i in idx])
        feats = torch.zeros(len(idx), int(lengths.max()), args.dim)
        for j, i in enumerate(idx):
            feats[j, : data.lengths[i]] = torch.from_numpy(data.feats[i])
        return {
            "ids": [f"{data.prefix}{i:05d}" for i in idx],
            "inputs": {"feats": feats, "lengths": lengths},
            "targets": torch.tensor([data.targets[i] for i in idx]),
        }

    class TimedLoader:
        """Times each full pass over the loader: the trainer's training iterations of one epoch."""

        def __init__(self, loader):
            self.loader, self.seconds, self.cpu_seconds = loader, [], []

        def set_epoch(self, epoch: int) -> None:
            self.loader.batch_sampler.set_epoch(epoch)

        def __len__(self) -> int:
            return len(self.loader)

        def __iter__(self):
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            start, cpu_start = time.perf_counter(), time.process_time()
            yield from self.loader
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            self.seconds.append(time.perf_counter() - start)
            self.cpu_seconds.append(time.process_time() - cpu_start)

    train_data, valid_data = Data(train, "train"), Data(valid, "valid")
    valid_loader = torch.utils.data.DataLoader(
        valid_data,
        batch_sampler=BucketBatchSampler(valid[0], args.batch_size, shuffle=False),
        collate_fn=collate,
    )
    root = Path(args.exp_dir or tempfile.mkdtemp(prefix="bench_bucketing."))
    print(
        f"{args.n_utts} training utterances, lengths {min(train[0])}-{max(train[0])} frames "
        f"(median {statistics.median(train[0]):.0f}, mean {statistics.mean(train[0]):.0f}), dim {args.dim}; "
        f"E2EClassifier: FC {args.proj} -> 2 x BLSTM {args.hidden} ({args.blstm_path} path) -> attentive "
        "pooling; "
        f"batch {args.batch_size}; "
        f"{args.epochs} epochs on {args.device}, {torch.get_num_threads()} threads"
    )
    runs = {}
    for name, num_buckets in (("bucketed", args.num_buckets), ("random", 1)):
        sampler = BucketBatchSampler(train[0], args.batch_size, num_buckets=num_buckets, seed=args.seed)
        real, padded = padded_frames(train[0], list(sampler))
        loader = TimedLoader(
            torch.utils.data.DataLoader(train_data, batch_sampler=sampler, collate_fn=collate)
        )
        set_seed(args.seed)
        model = E2EClassifier(
            E2EClassifierConfig(input_dim=args.dim, fc_dim=args.proj, lstm_dim=args.hidden, num_classes=3)
        )
        model.blstm_path = args.blstm_path
        config = TrainerConfig(
            max_epochs=args.epochs, lr=args.lr, scheduler="none", patience=0, resume=False, progress=False
        )
        trainer = Trainer(model, config, root / name, SENTIMENT_LABELS, device=args.device)
        result = trainer.fit(loader, valid_loader)
        runs[name] = {
            "seconds": loader.seconds,
            "cpu_seconds": loader.cpu_seconds,
            "history": result.history,
            "padding": padded / real,
        }
        print(
            f"  {name:8s}: {len(sampler)} batches/epoch, padded/real frames {padded / real:.2f}, "
            f"epoch seconds {' '.join(f'{s:.1f}' for s in loader.seconds)} "
            f"(CPU seconds {' '.join(f'{s:.1f}' for s in loader.cpu_seconds)})",
            flush=True,
        )

    print("\nepoch  train_loss(bucketed)  train_loss(random)  valid_loss(bucketed)  valid_loss(random)")
    for hb, hr in zip(runs["bucketed"]["history"], runs["random"]["history"], strict=True):
        print(
            f"{hb['epoch']:5d}  {hb['train_loss']:20.4f}  {hr['train_loss']:18.4f}  "
            f"{hb['valid_loss']:20.4f}  {hr['valid_loss']:18.4f}"
        )
    # the first epoch includes one-off warm-up (allocator, thread pools): the ratio uses the median;
    # CPU time (of this process) is the steadier figure on a shared machine
    tb = statistics.median(runs["bucketed"]["seconds"])
    tr = statistics.median(runs["random"]["seconds"])
    cb = statistics.median(runs["bucketed"]["cpu_seconds"])
    cr = statistics.median(runs["random"]["cpu_seconds"])
    final = {name: run["history"][-1]["train_loss"] for name, run in runs.items()}
    print(
        f"\nSUMMARY: median training-epoch time bucketed {tb:.2f} s, random {tr:.2f} s: "
        f"random/bucketed = {tr / tb:.2f}x wall, {cr / cb:.2f}x CPU time ({cb:.2f} vs {cr:.2f} CPU s); "
        f"padding {runs['bucketed']['padding']:.2f} vs "
        f"{runs['random']['padding']:.2f} padded/real frames; final train loss bucketed "
        f"{final['bucketed']:.4f}, random {final['random']:.4f}"
    )
    print(f"(runs in {root})")


if __name__ == "__main__":
    main()
