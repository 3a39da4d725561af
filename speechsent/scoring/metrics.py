"""Sentiment classification scores (the paper's unweighted / weighted recall, precision, F1) and the
prediction files every scored system writes.

Every scored system writes ``exp/<system>/score_<set>/`` with::

    utt2pred     <utt> Negative|Neutral|Positive          (Kaldi table, LC_ALL=C sorted)
    utt2prob     <utt> p0 p1 p2                            (class probabilities in label order)
    utt2imputed  <utt> <reason>                            (only when some predictions are imputed)
    scores.json  compute_scores(...) of utt2pred against the set's utt2sentiment

An *imputed* prediction is one the system did not make from the utterance itself (e.g. the training
prior's top class for an utterance without usable features: none were dumped, or its matrix holds
NaN/inf); ``utt2imputed`` names them with a one-word reason (``no_features``, ``non_finite_features``).
They are scored as written (every utterance of the set counts, so systems stay comparable) and counted in
``scores.json``: ``num_missing`` is the number of reference utterances without a prediction of the
system's own (absent from ``utt2pred`` -- only scored with ``allow_missing`` -- or imputed), and
``num_imputed`` (with ``imputed``: reason -> count) how many of those are imputed, hence in ``num_utts``.

Usage::

    from speechsent.scoring import compute_scores, write_predictions, score_system
    write_predictions("exp/e2e_x/score_swbd_test", utt2pred, utt2prob, SENTIMENT_LABELS)
    scores = score_system("exp/e2e_x/score_swbd_test", "data/swbd_test/utt2sentiment")

The metrics are scikit-learn's (``precision_recall_fscore_support``, ``confusion_matrix``) in percent:
*unweighted* = ``average="macro"`` (every class of ``labels`` counts equally, also a class absent from the
references, whose recall is then 0), *weighted* = ``average="weighted"`` (support-weighted; weighted recall
equals accuracy), ``zero_division=0``; ``micro_f1`` (``average="micro"``, = accuracy here) is written beside
them but is not one of the six table metrics.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from speechsent.data.labels import SENTIMENT_LABELS
from speechsent.kaldi.table import format_number, read_typed_table, split_fields, write_table
from speechsent.utils.fileio import write_json

__all__ = [
    "IMPUTED_FILE",
    "METRIC_KEYS",
    "ScoringError",
    "compute_scores",
    "read_imputed",
    "read_predictions",
    "read_probabilities",
    "read_scores",
    "score_system",
    "write_predictions",
    "write_scores",
]

log = logging.getLogger(__name__)

#: The six scalar metrics of docs/contracts.md (percent, higher is better).
METRIC_KEYS: tuple[str, ...] = (
    "unweighted_recall",
    "unweighted_precision",
    "unweighted_f1",
    "weighted_recall",
    "weighted_precision",
    "weighted_f1",
)

#: How many missing utterance ids an error message lists.
_SHOW = 5

#: The file of a score dir that names the imputed predictions (``<utt> <reason>``).
IMPUTED_FILE = "utt2imputed"


class ScoringError(ValueError):
    """References and hypotheses that cannot be scored (missing predictions, unknown labels, no data)."""


def _check_labels(values: Sequence[str], labels: Sequence[str], what: str) -> None:
    allowed = set(labels)
    for i, value in enumerate(values):
        if value not in allowed:
            raise ScoringError(f"{what}[{i}]: unknown label {value!r}: expected one of {', '.join(labels)}")


def compute_scores(
    refs: Sequence[str], hyps: Sequence[str], labels: Sequence[str] = SENTIMENT_LABELS
) -> dict[str, Any]:
    """Scores of hypotheses ``hyps`` against references ``refs`` (label strings, same order).

    Returns a dict with the docs/contracts.md keys (:data:`METRIC_KEYS`, percent, full float precision),
    ``micro_f1`` (percent, scikit-learn's ``average="micro"``: equal to accuracy for single-label
    classification over ``labels``), ``num_utts``, ``confusion`` (list of lists: rows = reference, columns =
    hypothesis, in ``labels`` order; a class absent from both still has its row and column), ``labels`` and
    ``per_class`` (``{label: {"precision", "recall", "f1", "support"}}``, percent).
    Raises :class:`ScoringError` for different lengths, no utterances, or a label not in ``labels``.
    """
    labels = list(labels)
    if len(set(labels)) != len(labels) or not labels:
        raise ScoringError(f"labels must be distinct and non-empty, got {labels}")
    if len(refs) != len(hyps):
        raise ScoringError(f"{len(refs)} references but {len(hyps)} hypotheses")
    if not refs:
        raise ScoringError("nothing to score: no utterances")
    _check_labels(refs, labels, "refs")
    _check_labels(hyps, labels, "hyps")
    # scikit-learn is imported here: entry points' --help and the data tools stay fast.
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    refs, hyps = list(refs), list(hyps)
    scores: dict[str, Any] = {}
    for prefix, average in (("unweighted", "macro"), ("weighted", "weighted")):
        p, r, f, _ = precision_recall_fscore_support(
            refs, hyps, labels=labels, average=average, zero_division=0
        )
        scores[f"{prefix}_recall"] = 100.0 * float(r)
        scores[f"{prefix}_precision"] = 100.0 * float(p)
        scores[f"{prefix}_f1"] = 100.0 * float(f)
    _, _, micro, _ = precision_recall_fscore_support(
        refs, hyps, labels=labels, average="micro", zero_division=0
    )
    scores["micro_f1"] = 100.0 * float(micro)
    p, r, f, s = precision_recall_fscore_support(refs, hyps, labels=labels, average=None, zero_division=0)
    scores["num_utts"] = len(refs)
    scores["confusion"] = confusion_matrix(refs, hyps, labels=labels).tolist()
    scores["labels"] = labels
    scores["per_class"] = {
        label: {
            "precision": 100.0 * float(p[i]),
            "recall": 100.0 * float(r[i]),
            "f1": 100.0 * float(f[i]),
            "support": int(s[i]),
        }
        for i, label in enumerate(labels)
    }
    return scores


def write_scores(path: str | os.PathLike[str], scores: Mapping[str, Any]) -> None:
    """Write ``scores`` as indented JSON, atomically (the parent dir is created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, dict(scores), indent=2)


def read_scores(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``scores.json``; a score dir is accepted too (its ``scores.json``)."""
    path = Path(path)
    if path.is_dir():
        path = path / "scores.json"
    with open(path, encoding="utf-8") as f:
        try:
            scores = json.load(f)
        except json.JSONDecodeError as error:
            raise ScoringError(f"{path}: not JSON: {error}") from None
    if not isinstance(scores, dict):
        raise ScoringError(f"{path}: expected a JSON object")
    return scores


def write_predictions(
    score_dir: str | os.PathLike[str],
    utt2pred: Mapping[str, str],
    utt2prob: Mapping[str, Sequence[float]] | None = None,
    labels: Sequence[str] = SENTIMENT_LABELS,
    imputed: Mapping[str, str] | None = None,
) -> None:
    """Write ``<score_dir>/utt2pred`` (``<utt> Label``) and, if given, ``<score_dir>/utt2prob``
    (``<utt> p0 p1 ...`` in ``labels`` order), both atomic and ``LC_ALL=C`` sorted; and
    ``<score_dir>/utt2imputed`` (``<utt> <reason>``) for the ``imputed`` predictions, if any (a stale
    one is removed).

    Raises :class:`ScoringError` for a label not in ``labels``, a probability row of the wrong size or not
    finite, ``utt2prob`` keys that differ from ``utt2pred``'s, or an imputed utterance without a
    prediction or with a reason that is not one word.
    """
    labels = list(labels)
    allowed = set(labels)
    for utt, label in utt2pred.items():
        if label not in allowed:
            raise ScoringError(
                f"utt2pred: {utt}: unknown label {label!r}: expected one of {', '.join(labels)}"
            )
    rows: dict[str, str] = {}
    if utt2prob is not None:
        if set(utt2prob) != set(utt2pred):
            extra = sorted(set(utt2prob) ^ set(utt2pred))
            raise ScoringError(
                f"utt2prob and utt2pred differ in {len(extra)} utterance(s), e.g. {', '.join(extra[:_SHOW])}"
            )
        for utt, probs in utt2prob.items():
            values = [float(p) for p in probs]
            if len(values) != len(labels) or not all(math.isfinite(p) for p in values):
                raise ScoringError(
                    f"utt2prob: {utt}: expected {len(labels)} finite probabilities, got {values}"
                )
            # 6 decimals are plenty for probabilities and keep the file readable.
            rows[utt] = " ".join(format_number(round(p, 6)) for p in values)
    imputed = dict(imputed or {})
    for utt, reason in imputed.items():
        if utt not in utt2pred:
            raise ScoringError(f"{IMPUTED_FILE}: {utt}: imputed, but it has no prediction in utt2pred")
        if not reason or len(split_fields(reason)) != 1 or reason != reason.strip():
            raise ScoringError(f"{IMPUTED_FILE}: {utt}: the reason must be one word, got {reason!r}")
    score_dir = Path(score_dir)
    score_dir.mkdir(parents=True, exist_ok=True)
    write_table(score_dir / "utt2pred", utt2pred)
    if utt2prob is not None:
        write_table(score_dir / "utt2prob", rows)
    if imputed:
        write_table(score_dir / IMPUTED_FILE, imputed)
    else:
        (score_dir / IMPUTED_FILE).unlink(missing_ok=True)


def _prediction_file(path: str | os.PathLike[str], name: str) -> Path:
    path = Path(path)
    return path / name if path.is_dir() else path


def _label_parser(labels: Sequence[str] | None):
    allowed = None if labels is None else set(labels)

    def parse(_utt: str, value: str) -> str:
        fields = split_fields(value)
        if len(fields) != 1:
            raise ValueError(f"expected 2 fields (utt label), got {1 + len(fields)}")
        if allowed is not None and fields[0] not in allowed:
            raise ValueError(f"unknown label {fields[0]!r}: expected one of {', '.join(labels)}")
        return fields[0]

    return parse


def read_predictions(
    score_dir: str | os.PathLike[str], labels: Sequence[str] | None = None
) -> dict[str, str]:
    """``utt -> label`` of ``<score_dir>/utt2pred`` (``score_dir`` may also be the file itself).

    With ``labels``, a label not among them raises :class:`KaldiDataError` naming file and line.
    """
    return read_typed_table(_prediction_file(score_dir, "utt2pred"), _label_parser(labels))


def read_imputed(score_dir: str | os.PathLike[str]) -> dict[str, str]:
    """``utt -> reason`` of ``<score_dir>/utt2imputed`` (or the file itself); ``{}`` when there is none."""
    path = _prediction_file(score_dir, IMPUTED_FILE)
    if not path.is_file():
        return {}

    def parse(_utt: str, value: str) -> str:
        fields = split_fields(value)
        if len(fields) != 1:
            raise ValueError(f"expected 2 fields (utt reason), got {1 + len(fields)}")
        return fields[0]

    return read_typed_table(path, parse)


def read_probabilities(
    score_dir: str | os.PathLike[str], num_classes: int | None = None
) -> dict[str, list[float]]:
    """``utt -> [p0, p1, ...]`` of ``<score_dir>/utt2prob`` (or the file itself); errors name file:line."""

    def parse(_utt: str, value: str) -> list[float]:
        try:
            probs = [float(x) for x in split_fields(value)]
        except ValueError:
            raise ValueError(f"bad probabilities {value!r}: not numbers") from None
        if not probs or (num_classes is not None and len(probs) != num_classes):
            raise ValueError(f"expected {num_classes} probabilities, got {len(probs)}")
        return probs

    return read_typed_table(_prediction_file(score_dir, "utt2prob"), parse)


def score_system(
    score_dir: str | os.PathLike[str],
    ref_file: str | os.PathLike[str],
    labels: Sequence[str] = SENTIMENT_LABELS,
    *,
    hyp_file: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    allow_missing: bool = False,
) -> dict[str, Any]:
    """Score ``<score_dir>/utt2pred`` (or ``hyp_file``) against ``ref_file`` (``utt2sentiment``) and write
    ``<score_dir>/scores.json`` (or ``out``). Returns the scores.

    Every reference utterance must have a prediction: missing ones raise :class:`ScoringError` listing a
    few and their count, unless ``allow_missing`` (then they are counted in ``num_missing``, logged, and
    the scores cover the predicted ones). Predictions of utterances not in the references are ignored
    (counted in the log). Unknown labels raise :class:`KaldiDataError` naming file and line.
    Imputed predictions (``utt2imputed`` beside the hypothesis file) are scored, logged, and counted in
    ``num_missing``, ``num_imputed`` and ``imputed`` (reason -> count): see the module docstring.
    """
    hyp_path = Path(hyp_file) if hyp_file is not None else Path(score_dir) / "utt2pred"
    out_path = Path(out) if out is not None else Path(score_dir) / "scores.json"
    refs = read_typed_table(ref_file, _label_parser(labels))
    hyps = read_predictions(hyp_path, labels)
    imputed = {
        u: r for u, r in read_imputed(hyp_path.parent / IMPUTED_FILE).items() if u in refs and u in hyps
    }
    missing = [utt for utt in refs if utt not in hyps]
    if missing:
        message = (
            f"{hyp_path}: no prediction for {len(missing)} of the {len(refs)} utterances of {ref_file}, "
            f"e.g. {', '.join(missing[:_SHOW])}"
        )
        if not allow_missing:
            raise ScoringError(message)
        log.warning("%s (scoring the others: --allow_missing)", message)
    extra = sum(1 for utt in hyps if utt not in refs)
    if extra:
        log.warning("%s: %d predictions of utterances not in %s ignored", hyp_path, extra, ref_file)
    utts = [utt for utt in refs if utt in hyps]
    if not utts:
        raise ScoringError(f"{hyp_path}: no prediction for any utterance of {ref_file}")
    if imputed:
        reasons = Counter(imputed.values())
        log.warning(
            "%s: %d of the %d predictions are imputed (%s; %s), e.g. %s: scored as written, counted in "
            "num_missing and num_imputed",
            hyp_path,
            len(imputed),
            len(utts),
            ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())),
            hyp_path.parent / IMPUTED_FILE,
            ", ".join(sorted(imputed)[:_SHOW]),
        )
    scores = compute_scores([refs[u] for u in utts], [hyps[u] for u in utts], labels)
    scores["num_missing"] = len(missing) + len(imputed)
    scores["num_imputed"] = len(imputed)
    scores["imputed"] = dict(sorted(Counter(imputed.values()).items()))
    write_scores(out_path, scores)
    return scores
