"""Transcripts and sentiment labels of a Kaldi data dir, for the 2-step text classifiers.

A set is read from ``<data_dir>/text`` (GT words, or ASR output in a ``<set>_asr`` dir) and
``<data_dir>/utt2sentiment``; an ``_asr`` dir without its own ``utt2sentiment`` uses its GT sibling's
(``data/swbd_test_asr`` → ``data/swbd_test``; same utterances). An optional utterance list (the first column
of any table, e.g. ``data/swbd_train_5h/utt2spk``) restricts the set to a subset (the "5 h" systems).

Nothing is lost silently: utterances without text, with empty text (``skip_empty``), without a label, or in
the list but not in the dir are counted in :attr:`TextSet.skipped` and logged.

Example::

    from speechsent.text.dataset import load_text_set

    train = load_text_set("data/swbd_train_asr", utt_list="data/swbd_train_5h/utt2spk")
    print(len(train), train.skipped, train.label_counts())
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsent.data.labels import SENTIMENT_LABELS
from speechsent.kaldi.data_dir import parse_sentiment_label
from speechsent.kaldi.table import KaldiDataError, c_sorted, read_table, read_typed_table

__all__ = [
    "FeatureDataset",
    "TextSet",
    "TokenDataset",
    "load_text_set",
    "read_utt_list",
    "sentiment_file",
]

logger = logging.getLogger(__name__)


@dataclass
class TextSet:
    """One set: utterance ids, transcripts and label indices (``SENTIMENT_LABELS`` order), same order."""

    name: str
    utts: list[str]
    texts: list[str]
    labels: list[int] | None
    #: reason → number of utterances left out
    skipped: dict[str, int] = field(default_factory=dict)
    #: empty transcripts kept (``skip_empty=False``)
    num_empty: int = 0

    def __len__(self) -> int:
        return len(self.utts)

    def label_counts(self, num_classes: int = len(SENTIMENT_LABELS)) -> list[int]:
        counts = Counter(self.labels or [])
        return [counts.get(i, 0) for i in range(num_classes)]


def read_utt_list(path: str | Path) -> list[str]:
    """Utterance ids of a list file: the first column of every line (``utt2spk``, ``text``, a plain list)."""
    return list(read_table(path))


def sentiment_file(data_dir: str | Path) -> Path | None:
    """``<data_dir>/utt2sentiment``, or that of the GT sibling of an ``_asr`` dir; None if neither exists."""
    d = Path(data_dir)
    if (d / "utt2sentiment").is_file():
        return d / "utt2sentiment"
    if d.name.endswith("_asr"):
        sibling = d.with_name(d.name[: -len("_asr")]) / "utt2sentiment"
        if sibling.is_file():
            return sibling
    return None


def _select_keys(
    d: Path,
    texts: dict[str, str],
    labels: dict[str, str] | None,
    utt_list: str | Path | None,
    skip_empty: bool,
    skipped: Counter[str],
) -> list[str]:
    """The utterances to read: ``utt_list``'s that have a text line, else every text line (and, with
    ``skip_empty=False``, the labeled utterances without one); what is left out is counted in ``skipped``."""
    text_path = d / "text"
    if utt_list is not None:
        keys = read_utt_list(utt_list)
        absent = [u for u in keys if u not in texts]
        if absent:
            skipped["in utt_list, no text line"] = len(absent)
            logger.warning(
                "%s: %d utterances of %s have no line in %s (skipped), e.g. %s",
                d.name,
                len(absent),
                utt_list,
                text_path,
                " ".join(absent[:3]),
            )
            keys = [u for u in keys if u in texts]
    else:
        keys = list(texts)
        no_text = [u for u in labels or () if u not in texts]
        if no_text:
            logger.warning(
                "%s: %d labeled utterances have no line in %s (%s), e.g. %s",
                d.name,
                len(no_text),
                text_path,
                "skipped" if skip_empty else "kept as empty transcripts",
                " ".join(no_text[:3]),
            )
            if skip_empty:
                skipped["labeled, no text line"] = len(no_text)
            else:  # an ASR may write no line for an utterance it recognised nothing in
                keys += no_text
    return keys


def load_text_set(
    data_dir: str | Path,
    *,
    utt_list: str | Path | None = None,
    require_labels: bool = True,
    skip_empty: bool = True,
) -> TextSet:
    """Read the transcripts (and labels) of ``data_dir``; see the module docstring for what is skipped.

    ``skip_empty=False`` keeps empty transcripts, and labeled utterances with no ``text`` line as empty
    transcripts (counted), so every utterance of a scored set gets a prediction.
    Raises :class:`KaldiDataError` for a missing ``text`` file, malformed lines or labels (file and line
    named), a missing ``utt2sentiment`` when labels are required, and a set left empty.
    """
    d = Path(data_dir)
    text_path = d / "text"
    if not text_path.is_file():
        raise KaldiDataError("no such file", text_path)
    texts = read_table(text_path)  # a key alone is an empty transcript
    labels: dict[str, str] | None = None
    label_path = sentiment_file(d)
    if label_path is not None:
        labels = read_typed_table(label_path, parse_sentiment_label)
        if label_path.parent != d:
            logger.info("%s: labels from %s", d, label_path)
    elif require_labels:
        raise KaldiDataError("no such file (labels needed to train and score)", d / "utt2sentiment")

    skipped: Counter[str] = Counter()
    keys = _select_keys(d, texts, labels, utt_list, skip_empty, skipped)
    utts: list[str] = []
    out_texts: list[str] = []
    out_labels: list[int] = []
    num_empty = 0
    label_index = {label: i for i, label in enumerate(SENTIMENT_LABELS)}
    for utt in c_sorted(keys):
        text = texts.get(utt, "").strip()
        if labels is not None and utt not in labels:
            skipped["no label"] += 1
            continue
        if not text:
            if skip_empty:
                skipped["empty text"] += 1
                continue
            num_empty += 1
        utts.append(utt)
        out_texts.append(text)
        if labels is not None:
            out_labels.append(label_index[labels[utt]])
    if skipped:
        logger.warning("%s: skipped %s", d, dict(skipped))
    if num_empty:
        logger.warning("%s: %d empty transcripts kept (classified from an empty input)", d, num_empty)
    if not utts:
        raise KaldiDataError(f"no usable utterance (skipped: {dict(skipped)})", text_path)
    return TextSet(
        d.name, utts, out_texts, out_labels if labels is not None else None, dict(skipped), num_empty
    )


# ----------------------------------------------------------------------------------------------------------
# torch datasets: items → the Trainer's batch dicts {"ids", "inputs", "targets"}


class TokenDataset:
    """Token-id sequences (+ labels) of a set; :meth:`collate` pads them into a Trainer batch.

    ``key="tokens"`` gives the baseline's ``inputs`` ``{"tokens", "lengths"}`` (``pad_id`` 0);
    ``key="input_ids"`` gives ``{"input_ids", "attention_mask"}`` for a fine-tuned LM.
    """

    def __init__(
        self,
        utts: Sequence[str],
        token_ids: Sequence[Sequence[int]],
        labels: Sequence[int] | None,
        key: str = "tokens",
        pad_id: int = 0,
    ):
        if len(utts) != len(token_ids) or (labels is not None and len(labels) != len(utts)):
            raise ValueError("utts, token_ids and labels differ in length")
        self.utts, self.token_ids, self.labels = list(utts), list(token_ids), labels
        self.key, self.pad_id = key, pad_id

    def __len__(self) -> int:
        return len(self.utts)

    def __getitem__(self, i: int) -> tuple[str, Sequence[int], int]:
        return self.utts[i], self.token_ids[i], self.labels[i] if self.labels is not None else 0

    def lengths(self) -> list[int]:
        return [len(t) for t in self.token_ids]

    def collate(self, items: Sequence[tuple[str, Sequence[int], int]]) -> dict[str, Any]:
        import torch

        lengths = torch.tensor([len(t) for _, t, _ in items], dtype=torch.long)
        tokens = torch.full((len(items), int(lengths.max())), self.pad_id, dtype=torch.long)
        for row, (_, t, _) in enumerate(items):
            tokens[row, : len(t)] = torch.as_tensor(t, dtype=torch.long)
        if self.key == "input_ids":
            mask = (torch.arange(tokens.shape[1])[None, :] < lengths[:, None]).long()
            inputs = {"input_ids": tokens, "attention_mask": mask}
        else:
            inputs = {"tokens": tokens, "lengths": lengths}
        targets = torch.tensor([y for _, _, y in items], dtype=torch.long)
        return {"ids": [u for u, _, _ in items], "inputs": inputs, "targets": targets}


class FeatureDataset:
    """Cached LM feature sequences (a :class:`~speechsent.text.lm_features.FeatureStore` or a list of
    ``(T, H)`` arrays) + labels; :meth:`collate` pads them into ``{"feats", "lengths"}`` float32 batches."""

    def __init__(self, utts: Sequence[str], feats: Any, labels: Sequence[int] | None):
        if len(utts) != len(feats) or (labels is not None and len(labels) != len(utts)):
            raise ValueError("utts, feats and labels differ in length")
        self.utts, self.feats, self.labels = list(utts), feats, labels

    def __len__(self) -> int:
        return len(self.utts)

    def __getitem__(self, i: int) -> tuple[str, Any, int]:
        return self.utts[i], self.feats[i], self.labels[i] if self.labels is not None else 0

    def lengths(self) -> list[int]:
        if hasattr(self.feats, "lengths"):
            return list(self.feats.lengths())
        return [len(f) for f in self.feats]

    def collate(self, items: Sequence[tuple[str, Any, int]]) -> dict[str, Any]:
        import numpy as np
        import torch

        lengths = torch.tensor([len(f) for _, f, _ in items], dtype=torch.long)
        dim = items[0][1].shape[1]
        feats = torch.zeros((len(items), int(lengths.max()), dim), dtype=torch.float32)
        for row, (_, f, _) in enumerate(items):
            feats[row, : len(f)] = torch.from_numpy(np.asarray(f, dtype=np.float32))
        targets = torch.tensor([y for _, _, y in items], dtype=torch.long)
        return {
            "ids": [u for u, _, _ in items],
            "inputs": {"feats": feats, "lengths": lengths},
            "targets": targets,
        }
