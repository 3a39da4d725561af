"""Tiny learnable inputs of the two tasks: frame features + labels (E2E), transcripts + labels (text)."""

from __future__ import annotations

import random
from pathlib import Path

import kaldiio
import numpy as np
import pytest

from speechsent.data.labels import SENTIMENT_LABELS
from speechsent.kaldi.table import write_table

CUES = {"Negative": ["awful", "hate"], "Neutral": ["table", "monday"], "Positive": ["great", "love"]}
FILLER = ["i", "the", "it", "was", "um", "yeah"]


def _feats_set(root: Path, name: str, sides: int, per_side: int, seed: int) -> tuple[Path, Path]:
    """``dump/<name>/feats.scp`` + ``data/<name>/utt2sentiment``: class c adds 1.5 to feature dim c."""
    rng = np.random.default_rng(seed)
    (root / "dump" / name).mkdir(parents=True)
    (root / "data" / name).mkdir(parents=True)
    labels = {}
    scp = root / "dump" / name / "feats.scp"
    with kaldiio.WriteHelper(f"ark,scp:{scp.with_suffix('.ark')},{scp}") as writer:
        for side in range(sides):
            for i in range(per_side):
                utt = f"sw0{2000 + 100 * seed + side}-A_{i * 100:06d}-{i * 100 + 90:06d}"
                c = int(rng.integers(3))
                x = rng.normal(0.0, 1.0, (int(rng.integers(3, 8)), 6)).astype(np.float32)
                x[:, c] += 1.5
                labels[utt] = SENTIMENT_LABELS[c]
                writer(utt, x)
    write_table(root / "data" / name / "utt2sentiment", labels)
    return scp, root / "data" / name / "utt2sentiment"


@pytest.fixture(scope="package")
def feats_corpus(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """name -> (feats.scp, utt2sentiment) of a training, a validation and a test set."""
    root = tmp_path_factory.mktemp("feats")
    return {
        "train": _feats_set(root, "train", 6, 8, 0),
        "valid": _feats_set(root, "valid", 2, 8, 1),
        "test": _feats_set(root, "test", 2, 8, 2),
    }


def _text_set(path: Path, n: int, seed: int) -> Path:
    rng = random.Random(seed)
    path.mkdir(parents=True)
    text, sent = [], []
    for i in range(n):
        label = SENTIMENT_LABELS[i % 3]
        words = [*rng.choices(FILLER, k=rng.randint(1, 4)), rng.choice(CUES[label])]
        rng.shuffle(words)
        utt = f"sw0{seed}-A_{i:06d}-{i + 1:06d}"
        text.append(f"{utt} {' '.join(words)}\n")
        sent.append(f"{utt} {label}\n")
    (path / "text").write_text("".join(text))
    (path / "utt2sentiment").write_text("".join(sent))
    return path


@pytest.fixture(scope="package")
def text_corpus(tmp_path_factory) -> dict[str, Path]:
    """name -> data dir (text + utt2sentiment)."""
    root = tmp_path_factory.mktemp("text")
    return {"train": _text_set(root / "train", 45, 1), "test": _text_set(root / "test", 18, 2)}
