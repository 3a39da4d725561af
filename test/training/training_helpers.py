"""A tiny deterministic classification task for the trainer tests (imported by the tests and by the DDP
worker script, which puts this directory on sys.path)."""

from __future__ import annotations

import numpy as np
import torch

from speechsent.training.sampler import BucketBatchSampler

LABELS = ("Negative", "Neutral", "Positive")
DIM = 8


class TinyModel(torch.nn.Module):
    """Mean-pooled features -> MLP with dropout -> 3 logits."""

    def __init__(self, dropout: float = 0.2):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(DIM, 16), torch.nn.ReLU(), torch.nn.Dropout(dropout), torch.nn.Linear(16, 3)
        )

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = (torch.arange(feats.shape[1])[None, :] < lengths[:, None]).unsqueeze(-1).to(feats.dtype)
        pooled = (feats * mask).sum(1) / lengths[:, None].to(feats.dtype)
        return self.net(pooled)


class ToyData(torch.utils.data.Dataset):
    """Variable-length sequences whose class is given by the sign pattern of their mean."""

    def __init__(self, n: int, seed: int, prefix: str = "utt"):
        rng = np.random.default_rng(seed)
        self.ids = [f"{prefix}{i:04d}" for i in range(n)]
        self.lengths = rng.integers(3, 20, size=n).tolist()
        self.targets = rng.integers(0, 3, size=n).tolist()
        centers = np.eye(3, DIM, dtype=np.float32) * 2.0
        self.feats = [
            (rng.normal(size=(t, DIM)) + centers[y]).astype(np.float32)
            for t, y in zip(self.lengths, self.targets, strict=True)
        ]

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict:
        return {"id": self.ids[i], "feats": self.feats[i], "target": self.targets[i]}


def collate(items: list[dict]) -> dict:
    lengths = torch.tensor([len(it["feats"]) for it in items])
    feats = torch.zeros(len(items), int(lengths.max()), DIM)
    for j, it in enumerate(items):
        feats[j, : len(it["feats"])] = torch.from_numpy(it["feats"])
    return {
        "ids": [it["id"] for it in items],
        "inputs": {"feats": feats, "lengths": lengths},
        "targets": torch.tensor([it["target"] for it in items]),
    }


def loader(
    data: ToyData, batch_size: int = 4, shuffle: bool = True, **sampler_kw
) -> torch.utils.data.DataLoader:
    sampler = BucketBatchSampler(data.lengths, batch_size=batch_size, shuffle=shuffle, **sampler_kw)
    return torch.utils.data.DataLoader(data, batch_sampler=sampler, collate_fn=collate)


class Dropping(torch.utils.data.Dataset):
    """ToyData whose items ``bad`` come back dropped (as FeatsDataset returns a non-finite matrix), with
    a ``note_dropped`` that records what the Trainer passes on."""

    def __init__(self, data: ToyData, bad: set[str]):
        self.data, self.bad, self.noted = data, bad, []
        self.ids, self.lengths, self.targets = data.ids, data.lengths, data.targets

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> dict:
        item = self.data[i]
        if item["id"] in self.bad:  # as FeatsDataset gives a matrix with NaN
            return {**item, "feats": None, "dropped": "NaN", "dim": DIM}
        return item

    def note_dropped(self, dropped: dict) -> None:
        self.noted.append(dict(dropped))


def dropping_loader(data: Dropping, batch_size: int = 4, shuffle: bool = True, **sampler_kw):
    """A loader of ``data`` with speechsent's feature collate (which leaves dropped items out)."""
    from speechsent.data.feats_dataset import collate_feats

    sampler = BucketBatchSampler(data.lengths, batch_size=batch_size, shuffle=shuffle, **sampler_kw)
    return torch.utils.data.DataLoader(data, batch_sampler=sampler, collate_fn=collate_feats)
