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
from dataclasses import dataclass, field
from pathlib import Path

from speechsent.data.kaldi_dir import (
    KaldiDataError,
    c_sorted,
    parse_sentiment_label,
    read_table,
    read_typed_table,
)
from speechsent.data.labels import SENTIMENT_LABELS

__all__ = ["TextSet", "load_text_set", "read_utt_list", "sentiment_file"]

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


def load_text_set(
    data_dir: str | Path,
    *,
    utt_list: str | Path | None = None,
    require_labels: bool = True,
    skip_empty: bool = True,
) -> TextSet:
    """Read the transcripts (and labels) of ``data_dir``; see the module docstring for what is skipped.

    ``skip_empty=False`` keeps empty transcripts (scored sets: every utterance gets a prediction).
    Raises :class:`KaldiDataError` for a missing ``text`` file, malformed lines or labels (file and line
    named), a missing ``utt2sentiment`` when labels are required, and a set left empty.
    """
    d = Path(data_dir)
    text_path = d / "text"
    if not text_path.is_file():
        raise KaldiDataError("no such file", text_path)
    # read_table rejects lines without a key; a key alone is an empty transcript
    texts = read_table(text_path)
    labels: dict[str, str] | None = None
    label_path = sentiment_file(d)
    if label_path is not None:
        labels = read_typed_table(label_path, parse_sentiment_label)
        if label_path.parent != d:
            logger.info("%s: labels from %s", d, label_path)
    elif require_labels:
        raise KaldiDataError("no such file (labels needed to train and score)", d / "utt2sentiment")

    skipped: Counter[str] = Counter()
    if utt_list is not None:
        wanted = read_utt_list(utt_list)
        absent = [u for u in wanted if u not in texts]
        if absent:
            skipped["in utt_list, no text"] = len(absent)
            logger.warning(
                "%s: %d utterances of %s have no text in %s (skipped), e.g. %s",
                d.name,
                len(absent),
                utt_list,
                text_path,
                " ".join(absent[:3]),
            )
        keys = [u for u in wanted if u in texts]
    else:
        keys = list(texts)
    if labels is not None:
        no_text = [u for u in labels if u not in texts]
        if no_text and utt_list is None:
            skipped["labeled, no text"] = len(no_text)
            logger.warning(
                "%s: %d labeled utterances have no line in %s (skipped), e.g. %s",
                d.name,
                len(no_text),
                text_path,
                " ".join(no_text[:3]),
            )

    utts: list[str] = []
    out_texts: list[str] = []
    out_labels: list[int] = []
    label_index = {label: i for i, label in enumerate(SENTIMENT_LABELS)}
    for utt in c_sorted(keys):
        text = texts[utt].strip()
        if labels is not None:
            if utt not in labels:
                skipped["no label"] += 1
                continue
            out_labels.append(label_index[labels[utt]])
        if not text and skip_empty:
            skipped["empty text"] += 1
            if labels is not None:
                out_labels.pop()
            continue
        utts.append(utt)
        out_texts.append(text)
    if skipped:
        logger.warning("%s: skipped %s", d, dict(skipped))
    if not utts:
        raise KaldiDataError(f"no usable utterance (skipped: {dict(skipped)})", text_path)
    name = d.name
    return TextSet(name, utts, out_texts, out_labels if labels is not None else None, dict(skipped))
