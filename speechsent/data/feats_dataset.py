"""Labelled frame features for the E2E classifiers: Kaldi ``feats.scp`` + a label file, batched with padding.

One dataset may join several ``(feats.scp, labels)`` pairs (pseudo-label pre-training on SWBD-train and
Fisher), each label file an ``utt2sentiment`` (``Negative|Neutral|Positive``) or ``utt2pseudo``
(``Negative|Positive``) checked against the task's label set, and may keep only the utterances of a list
(a label subset by hours, e.g. the first column of ``data/swbd_train_5h/utt2spk``)::

    ds = FeatsDataset(
        [("dump/encoder/swbd_train/feats.scp", "data/swbd_train/utt2sentiment")],
        labels=SENTIMENT_LABELS,
        utt_list=read_utt_list("data/swbd_train_5h/utt2spk"),
    )
    sampler = BucketBatchSampler(ds.lengths, batch_size=32)
    loader = DataLoader(ds, batch_sampler=sampler, collate_fn=collate_feats)
    # batches: {"ids": [...], "inputs": {"feats": (B, T, D) zero-padded, "lengths": (B,)}, "targets": (B,)}

A labelled utterance without features (e.g. too short for the encoder, listed in the dump's
``skipped_utts``) and a featured utterance of the list without a label are skipped, counted and logged
(:attr:`FeatsDataset.skipped`); a malformed scp or label line is an error naming file and line.

Matrices are read lazily with kaldiio, keeping at most ``max_open_files`` ark files open per process
(kaldiio's own ``LimitedSizeDict``, as ``kaldiio.load_scp(max_cache_fd=...)`` uses it; made afresh in
each DataLoader worker, so forked workers never share a file offset). Lengths for the bucket sampler come
from ``utt2num_frames`` beside the scp (every dump writes it; the lengths only group batches), else from
reading each matrix once.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from speechsent.data.kaldi_dir import KaldiDataError, read_table, read_typed_table, split_fields

__all__ = [
    "FeatsDataset",
    "FeatsSource",
    "collate_feats",
    "read_label_file",
    "read_utt_list",
]

log = logging.getLogger(__name__)

# ``path:offset`` with an optional ``[rows]``/``[rows,cols]`` slice (kaldiio's syntax), or a ``cmd |`` pipe
_ARK_ENTRY = re.compile(r"^.+:\d+(\[[0-9:, ]*\])?$")


@dataclass(frozen=True)
class FeatsSource:
    """One ``feats.scp`` and the label file of (some of) its utterances."""

    feats_scp: Path
    labels: Path

    @classmethod
    def of(cls, pair: FeatsSource | tuple[str | os.PathLike[str], str | os.PathLike[str]]) -> FeatsSource:
        return pair if isinstance(pair, FeatsSource) else cls(Path(pair[0]), Path(pair[1]))


def read_label_file(path: str | os.PathLike[str], labels: Sequence[str]) -> dict[str, str]:
    """``<utt> <label>`` lines whose label is one of ``labels`` (else an error naming file and line)."""
    allowed = set(labels)

    def parse(_key: str, value: str) -> str:
        fields = split_fields(value)
        if len(fields) != 1:
            raise ValueError(f"expected 2 fields, got {1 + len(fields)}")
        if fields[0] not in allowed:
            raise ValueError(f"label {fields[0]!r} is not one of {', '.join(labels)}")
        return fields[0]

    return read_typed_table(path, parse)


def read_utt_list(path: str | os.PathLike[str]) -> list[str]:
    """The utterance ids of a list file: the first field of each line (``utt2spk``, ``segments``, ``text``,
    or a plain list); duplicates are an error."""
    return list(read_table(path, min_fields=1))


def _read_scp(path: Path) -> dict[str, str]:
    scp = read_table(path, num_fields=2)
    for lineno, (utt, entry) in enumerate(scp.items(), 1):
        if not (entry.endswith("|") or _ARK_ENTRY.match(entry)):
            raise KaldiDataError(
                f"{utt}: expected ark_path:offset or a 'command |', got {entry!r}", path, lineno
            )
    return scp


def _read_num_frames(scp: Path) -> dict[str, int] | None:
    path = scp.parent / "utt2num_frames"
    if not path.is_file():
        return None
    return {k: int(v) for k, v in read_table(path, num_fields=2).items()}


class FeatsDataset(torch.utils.data.Dataset):
    """Items ``{"id", "feats" (T, D) float32, "target" int}``: the labelled utterances with features.

    Attributes: ``ids``, ``lengths`` (frames), ``targets`` (class indices into ``labels``), ``skipped``
    (reason → count), ``dim``.
    """

    def __init__(
        self,
        sources: Iterable[FeatsSource | tuple[str | os.PathLike[str], str | os.PathLike[str]]],
        labels: Sequence[str],
        utt_list: Iterable[str] | None = None,
        *,
        max_open_files: int = 64,
        name: str = "data",
    ):
        self.labels = tuple(labels)
        self.sources = [FeatsSource.of(s) for s in sources]
        if not self.sources:
            raise ValueError(f"{name}: no (feats.scp, labels) pairs")
        self.name = name
        self.max_open_files = max_open_files
        index = {label: i for i, label in enumerate(self.labels)}
        keep = None if utt_list is None else set(utt_list)
        self.ids: list[str] = []
        self.targets: list[int] = []
        self.lengths: list[int] = []
        self._entries: list[str] = []
        self._source_of: list[int] = []
        self.skipped: Counter[str] = Counter()
        self.skipped_examples: dict[str, list[str]] = {}
        seen: dict[str, Path] = {}
        for number, source in enumerate(self.sources):
            scp = _read_scp(source.feats_scp)
            utt2label = read_label_file(source.labels, self.labels)
            num_frames = _read_num_frames(source.feats_scp)
            for utt in utt2label if keep is None else (u for u in utt2label if u in keep):
                if utt in seen:
                    raise KaldiDataError(f"utterance {utt} is also labelled in {seen[utt]}", source.labels)
                seen[utt] = source.labels
                if utt not in scp:
                    self._skip("labelled, no features", utt)
                    continue
                self.ids.append(utt)
                self.targets.append(index[utt2label[utt]])
                self._entries.append(scp[utt])
                self._source_of.append(number)
                self.lengths.append(num_frames.get(utt, -1) if num_frames is not None else -1)
            unlabelled = [u for u in scp if u not in utt2label and (keep is None or u in keep)]
            if keep is not None:
                for utt in unlabelled:
                    self._skip("in the utterance list with features, no label", utt)
            elif unlabelled:  # features of more utterances than labelled (e.g. a whole dump): expected
                log.info(
                    "%s: %d utterances of %s have no label in %s",
                    name,
                    len(unlabelled),
                    source.feats_scp,
                    source.labels,
                )
        if keep is not None:
            absent = keep - set(seen) - {u for s in self.skipped_examples.values() for u in s}
            if absent:
                self.skipped["in the utterance list, neither labelled nor featured"] += len(absent)
                self.skipped_examples["in the utterance list, neither labelled nor featured"] = sorted(
                    absent
                )[:5]
        self._fds: Any = None
        self._fds_pid = -1
        missing_lengths = [i for i, n in enumerate(self.lengths) if n < 0]
        if missing_lengths:
            log.info(
                "%s: reading %d matrices for their lengths (no utt2num_frames)", name, len(missing_lengths)
            )
            for i in missing_lengths:
                self.lengths[i] = int(self._load(i).shape[0])
        self.dim = int(self._load(0).shape[1]) if self.ids else 0
        for reason, count in self.skipped.items():
            log.warning(
                "%s: skipped %d utterances (%s), e.g. %s",
                name,
                count,
                reason,
                " ".join(self.skipped_examples[reason]),
            )
        counts = Counter(self.targets)
        log.info(
            "%s: %d utterances, %d frames, dim %d; %s",
            name,
            len(self.ids),
            sum(self.lengths),
            self.dim,
            ", ".join(f"{label} {counts.get(i, 0)}" for i, label in enumerate(self.labels)),
        )

    def _skip(self, reason: str, utt: str) -> None:
        self.skipped[reason] += 1
        examples = self.skipped_examples.setdefault(reason, [])
        if len(examples) < 5:
            examples.append(utt)

    @property
    def num_skipped(self) -> int:
        return sum(self.skipped.values())

    def class_counts(self) -> list[int]:
        counts = Counter(self.targets)
        return [counts.get(i, 0) for i in range(len(self.labels))]

    def subset(self, indices: Sequence[int], name: str) -> FeatsDataset:
        """A dataset of the items ``indices`` of this one (e.g. a held-out share); the skip counts stay
        with this one."""
        sub = FeatsDataset.__new__(FeatsDataset)
        sub.__dict__.update(self.__getstate__())
        sub.name = name
        sub.skipped, sub.skipped_examples = Counter(), {}
        for attr in ("ids", "targets", "lengths", "_entries", "_source_of"):
            values = getattr(self, attr)
            setattr(sub, attr, [values[i] for i in indices])
        return sub

    def _load(self, i: int) -> np.ndarray:
        from kaldiio.matio import load_mat
        from kaldiio.utils import LimitedSizeDict

        if self._fds_pid != os.getpid():  # first use in this process (e.g. a forked DataLoader worker)
            self._fds = LimitedSizeDict(self.max_open_files) if self.max_open_files > 0 else None
            self._fds_pid = os.getpid()
        try:
            mat = load_mat(self._entries[i], fd_dict=self._fds)
        except Exception as error:
            scp = self.sources[self._source_of[i]].feats_scp
            raise KaldiDataError(f"{self.ids[i]}: cannot read {self._entries[i]}: {error}", scp) from error
        mat = np.require(mat, dtype=np.float32, requirements=["W"])  # torch wants writable arrays
        if mat.ndim != 2 or mat.shape[0] < 1:
            scp = self.sources[self._source_of[i]].feats_scp
            raise KaldiDataError(f"{self.ids[i]}: expected a non-empty matrix, got shape {mat.shape}", scp)
        return mat

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"id": self.ids[i], "feats": self._load(i), "target": self.targets[i]}

    def __getstate__(self) -> dict[str, Any]:  # spawned workers: open files do not pickle
        state = dict(self.__dict__)
        state["_fds"], state["_fds_pid"] = None, -1
        return state


def collate_feats(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A trainer batch: zero-padded ``feats`` (B, T, D), ``lengths`` (B,), ``targets`` (B,)."""
    lengths = torch.tensor([len(it["feats"]) for it in items], dtype=torch.long)
    dim = items[0]["feats"].shape[1]
    feats = torch.zeros(len(items), int(lengths.max()), dim, dtype=torch.float32)
    for row, it in enumerate(items):
        feats[row, : len(it["feats"])] = torch.from_numpy(it["feats"])
    return {
        "ids": [it["id"] for it in items],
        "inputs": {"feats": feats, "lengths": lengths},
        "targets": torch.tensor([it["target"] for it in items], dtype=torch.long),
    }
