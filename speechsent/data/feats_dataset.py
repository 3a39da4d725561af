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

A matrix with a NaN or an infinite value is found when it is read (for its length while indexing, when
there is no ``utt2num_frames``, else when a batch fetches it; ``np.isfinite`` on what was read, no extra
pass over the arks) and never reaches a model: the item comes back as *dropped* and :func:`collate_feats`
leaves it out of the batch, naming it in ``batch["dropped"]`` (``{utt: what is wrong}``). The
:class:`~speechsent.training.Trainer` passes those to :meth:`FeatsDataset.note_dropped` (in the main
process: DataLoader workers are separate processes), which logs each utterance once, with its scp and ark
entry, and remembers it, so that later epochs do not read it again; :meth:`FeatsDataset.left_out` and
:meth:`FeatsDataset.skip_counts` then include it (reason :data:`NON_FINITE`). A batch whose utterances
were all dropped has no ``ids``/``targets`` and one frame of zeros as ``feats`` (a valid model input, which
the Trainer runs under DDP with a zero loss so that every rank takes part in the gradient all-reduce).

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

from speechsent.kaldi.table import KaldiDataError, read_table, read_typed_table, split_fields

__all__ = [
    "NON_FINITE",
    "NO_FEATURES",
    "FeatsDataset",
    "FeatsSource",
    "collate_feats",
    "read_label_file",
    "read_utt_list",
    "stacked_layers",
]

log = logging.getLogger(__name__)

#: :attr:`FeatsDataset.skipped` reasons (the keys of :meth:`FeatsDataset.skip_counts`)
NO_FEATURES = "labelled, no features"
NON_FINITE = "non-finite features"

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


def stacked_layers(sources: Sequence[FeatsSource], name: str = "data") -> int:
    """How many encoder layers each frame of the sources' features stacks (``info.json``'s ``model.layers``
    beside ``feats.scp``, as a Hugging Face encoder's dump writes it: ``layers x hidden`` columns); 1 without
    it. Sources that stack different numbers are an error naming them."""
    import json

    counts: dict[int, list[str]] = {}
    for source in sources:
        info = source.feats_scp.parent / "info.json"
        layers = None
        if info.is_file():
            layers = (json.loads(info.read_text(encoding="utf-8")).get("model") or {}).get("layers")
        counts.setdefault(len(layers) if layers else 1, []).append(str(source.feats_scp))
    if len(counts) > 1:
        shown = "; ".join(f"{n} layer(s): {', '.join(files)}" for n, files in sorted(counts.items()))
        raise ValueError(f"{name}: features that stack different numbers of encoder layers: {shown}")
    return next(iter(counts), 1)


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


def non_finite_problem(mat: np.ndarray) -> str | None:
    """None for a matrix of finite values, else what is wrong (counts and the first bad frame and dim)."""
    finite = np.isfinite(mat)
    if finite.all():
        return None
    nan = int(np.isnan(mat).sum())
    inf = int(mat.size - finite.sum()) - nan
    frame, dim = (int(x) for x in np.argwhere(~finite)[0])
    return f"{nan} NaN and {inf} infinite of {mat.size} values, first at frame {frame} dim {dim}"


def _read_num_frames(scp: Path) -> dict[str, int] | None:
    path = scp.parent / "utt2num_frames"
    if not path.is_file():
        return None
    return {k: int(v) for k, v in read_table(path, num_fields=2).items()}


class FeatsDataset(torch.utils.data.Dataset):
    """Items ``{"id", "feats" (T, D) float32, "target" int}``: the labelled utterances with features.

    Attributes: ``ids``, ``lengths`` (frames), ``targets`` (class indices into ``labels``), ``skipped``
    (reason → count, of the utterances left out while indexing), ``skipped_utts`` (utterance → reason, the
    same ones), ``dim``. An indexed utterance whose matrix turns out non-finite stays in ``ids`` (the
    sampler's indices do not move) and is dropped whenever fetched: :meth:`left_out`, :meth:`skip_counts`
    and :meth:`class_counts` account for it.
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
        keep = None if utt_list is None else set(utt_list)
        self.ids: list[str] = []
        self.targets: list[int] = []
        self.lengths: list[int] = []
        self._entries: list[str] = []
        self._source_of: list[int] = []
        self.skipped: Counter[str] = Counter()
        self.skipped_examples: dict[str, list[str]] = {}
        self.skipped_utts: dict[str, str] = {}
        # utterance -> what is wrong with its matrix (found when read; shared with subsets)
        self._non_finite: dict[str, str] = {}
        self._position: dict[str, int] | None = None  # utterance -> index (made when needed)
        seen: dict[str, Path] = {}
        for number, source in enumerate(self.sources):
            self._index_source(number, source, keep, seen)
        if keep is not None:
            absent = keep - set(seen) - set(self.skipped_utts)
            for utt in sorted(absent):
                self._skip("in the utterance list, neither labelled nor featured", utt)
        self._fds: Any = None
        self._fds_pid = -1
        self._read_missing_lengths()
        self.dim = 0
        if self.ids:
            mat = self._load(0)
            self.dim = int(mat.shape[1])
            self._check_finite(0, mat)
        self.num_layers = stacked_layers(self.sources, name)
        self._log_summary()

    def _index_source(
        self, number: int, source: FeatsSource, keep: set[str] | None, seen: dict[str, Path]
    ) -> None:
        """Index the labelled utterances of ``source`` (those of ``keep`` when given) that have features;
        count the others; ``seen``: utterance -> the label file that labelled it (twice is an error)."""
        index = {label: i for i, label in enumerate(self.labels)}
        scp = _read_scp(source.feats_scp)
        utt2label = read_label_file(source.labels, self.labels)
        num_frames = _read_num_frames(source.feats_scp)
        for utt in utt2label if keep is None else (u for u in utt2label if u in keep):
            if utt in seen:
                raise KaldiDataError(f"utterance {utt} is also labelled in {seen[utt]}", source.labels)
            seen[utt] = source.labels
            if utt not in scp:
                self._skip(NO_FEATURES, utt)
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
                self.name,
                len(unlabelled),
                source.feats_scp,
                source.labels,
            )

    def _read_missing_lengths(self) -> None:
        """Without ``utt2num_frames``: each matrix read once for its length (and checked for NaN/inf)."""
        missing_lengths = [i for i, n in enumerate(self.lengths) if n < 0]
        if missing_lengths:
            log.info(
                "%s: reading %d matrices for their lengths (no utt2num_frames)",
                self.name,
                len(missing_lengths),
            )
            for i in missing_lengths:
                mat = self._load(i)
                self.lengths[i] = int(mat.shape[0])
                self._check_finite(i, mat)

    def _log_summary(self) -> None:
        for reason, count in self.skipped.items():
            log.warning(
                "%s: skipped %d utterances (%s), e.g. %s",
                self.name,
                count,
                reason,
                " ".join(self.skipped_examples[reason]),
            )
        counts = self.class_counts()
        log.info(
            "%s: %d utterances, %d frames, dim %d; %s%s",
            self.name,
            len(self.ids),
            sum(self.lengths),
            self.dim,
            ", ".join(f"{label} {n}" for label, n in zip(self.labels, counts, strict=True)),
            f"; {len(self._non_finite)} of them non-finite (left out)" if self._non_finite else "",
        )

    def _skip(self, reason: str, utt: str) -> None:
        self.skipped[reason] += 1
        self.skipped_utts[utt] = reason
        examples = self.skipped_examples.setdefault(reason, [])
        if len(examples) < 5:
            examples.append(utt)

    def _check_finite(self, i: int, mat: np.ndarray) -> bool:
        """Remember (and log) item ``i`` as non-finite when ``mat`` is; True when it is finite."""
        problem = non_finite_problem(mat)
        if problem is not None:
            self.note_dropped({self.ids[i]: problem})
        return problem is None

    def note_dropped(self, dropped: Mapping[str, str]) -> None:
        """Record utterances of this dataset that a loader left out (``batch["dropped"]``: utterance → what
        is wrong): each is logged once, naming its scp and ark entry, and not read again."""
        new = {u: why for u, why in dropped.items() if u not in self._non_finite}
        if not new:
            return
        if self._position is None or len(self._position) != len(self.ids):
            self._position = {u: i for i, u in enumerate(self.ids)}
        for utt, why in new.items():
            self._non_finite[utt] = why
            i = self._position.get(utt)
            where = (
                f"{self.sources[self._source_of[i]].feats_scp} ({self._entries[i]})" if i is not None else "?"
            )
            log.warning("%s: %s: %s: %s in %s: left out", self.name, utt, NON_FINITE, why, where)

    def left_out(self) -> dict[str, str]:
        """Every utterance this dataset does not deliver, with the reason: those skipped while indexing and
        the indexed ones found non-finite so far (:data:`NON_FINITE`)."""
        out = dict(self.skipped_utts)
        mine = set(self.ids)
        out.update((u, NON_FINITE) for u in self._non_finite if u in mine)
        return out

    def skip_counts(self) -> Counter[str]:
        """Reason → count of :meth:`left_out`."""
        return Counter(self.left_out().values())

    @property
    def num_skipped(self) -> int:
        return sum(self.skipped.values())

    def class_counts(self) -> list[int]:
        """Utterances per class that can be trained on (those found non-finite so far not counted)."""
        counts = Counter(t for u, t in zip(self.ids, self.targets, strict=True) if u not in self._non_finite)
        return [counts.get(i, 0) for i in range(len(self.labels))]

    def subset(self, indices: Sequence[int], name: str) -> FeatsDataset:
        """A dataset of the items ``indices`` of this one (e.g. a held-out share); the skip counts stay
        with this one."""
        sub = FeatsDataset.__new__(FeatsDataset)
        sub.__dict__.update(self.__getstate__())
        sub.name = name
        sub.skipped, sub.skipped_examples, sub.skipped_utts = Counter(), {}, {}
        sub._position = None
        # sub._non_finite is this one's dict: what either finds non-finite, both know
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
        """``{"id", "feats", "target"}``; for a non-finite matrix ``feats`` is None and ``dropped`` says
        what is wrong (:func:`collate_feats` leaves the item out)."""
        utt = self.ids[i]
        problem = self._non_finite.get(utt)
        if problem is None:
            mat = self._load(i)
            problem = non_finite_problem(mat)
            if problem is None:
                return {"id": utt, "feats": mat, "target": self.targets[i]}
        return {"id": utt, "feats": None, "target": self.targets[i], "dropped": problem, "dim": self.dim}

    def __getstate__(self) -> dict[str, Any]:  # spawned workers: open files do not pickle
        state = dict(self.__dict__)
        state["_fds"], state["_fds_pid"] = None, -1
        return state


def collate_feats(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A trainer batch: zero-padded ``feats`` (B, T, D), ``lengths`` (B,), ``targets`` (B,).

    Dropped items (``feats`` None: a non-finite matrix) are left out and named in ``dropped``
    (``{utt: what is wrong}``); when every item was dropped, the batch has no ``ids``/``targets`` and
    ``feats`` is one frame of zeros (B = 1), a valid model input.
    """
    dropped = {it["id"]: it["dropped"] for it in items if it.get("feats") is None}
    kept = [it for it in items if it.get("feats") is not None]
    if kept:
        lengths = torch.tensor([len(it["feats"]) for it in kept], dtype=torch.long)
        dim = kept[0]["feats"].shape[1]
        feats = torch.zeros(len(kept), int(lengths.max()), dim, dtype=torch.float32)
        for row, it in enumerate(kept):
            feats[row, : len(it["feats"])] = torch.from_numpy(it["feats"])
    else:
        dim = max((int(it.get("dim", 0)) for it in items), default=0)
        feats = torch.zeros(1, 1, dim, dtype=torch.float32)
        lengths = torch.ones(1, dtype=torch.long)
    batch = {
        "ids": [it["id"] for it in kept],
        "inputs": {"feats": feats, "lengths": lengths},
        "targets": torch.tensor([it["target"] for it in kept], dtype=torch.long),
    }
    if dropped:
        batch["dropped"] = dropped
    return batch
