"""An exported model's answers on a labeled check set: ``speechsent-infer``'s JSON lines against an
``utt2sentiment`` (recipe stage 11 with ``--export_check_labels``; ``speechsent-score --infer_jsonl``).

:func:`read_infer_lines` reads the answers (``"file"``: the utterance id of a ``--wav_scp`` input,
``"label"``: the predicted class; an ``"error"`` line is an input that was not classified);
:func:`score_check` scores them: the scores of :func:`speechsent.scoring.compute_scores` plus the counts
stage 11 prints, overall, on the polar (Negative, Positive) references and per class, and the wrong answers
(with the 2-step model's transcript); :func:`format_check` is that printed line, e.g.::

    check.jsonl: 25/36 right (69.4 %); polar 18/24 (75.0 %); Negative 9/12 Neutral 7/12 Positive 9/12

A reference utterance without an answer (absent, or an ``"error"`` line) is an error naming both files; a
malformed line of either file, an unknown label or a duplicate answer is an error naming file and line.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from speechsent.data.labels import SENTIMENT_LABELS
from speechsent.scoring import ScoringError, compute_scores, read_predictions, write_scores

__all__ = ["POLAR_LABELS", "default_scores_path", "format_check", "read_infer_lines", "score_check"]

log = logging.getLogger(__name__)

#: The polar classes: the check's "polar" accuracy is over the references with these labels.
POLAR_LABELS: tuple[str, ...] = ("Negative", "Positive")

#: How many utterance ids an error message lists.
_SHOW = 5


def read_infer_lines(
    path: str | os.PathLike[str], labels: Sequence[str] = SENTIMENT_LABELS
) -> dict[str, dict[str, Any]]:
    """``utterance id -> its JSON object`` of a ``speechsent-infer`` output, in file order.

    Raises :class:`~speechsent.scoring.ScoringError` naming file and line for a line that is not a JSON
    object with a ``"file"``, a window's line (``--chunk_seconds``: not one answer per utterance), a
    duplicate, or a ``"label"`` not in ``labels`` (a line without a label must have an ``"error"``).
    """
    records: dict[str, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ScoringError(f"{where}: not JSON: {error}") from None
            if not isinstance(record, dict) or not isinstance(record.get("file"), str):
                raise ScoringError(f"{where}: expected a speechsent-infer line: a JSON object with a 'file'")
            utt = record["file"]
            if "start" in record:
                raise ScoringError(f"{where}: a window of {utt} (--chunk_seconds), not one line per input")
            if utt in records:
                raise ScoringError(f"{where}: a second line of {utt}")
            if "error" not in record and record.get("label") not in labels:
                raise ScoringError(
                    f"{where}: {utt}: label {record.get('label')!r}: expected one of {', '.join(labels)}"
                )
            records[utt] = record
    return records


def _percent(right: int, total: int) -> float | None:
    return 100.0 * right / total if total else None


def score_check(
    predictions: str | os.PathLike[str],
    references: str | os.PathLike[str],
    labels: Sequence[str] = SENTIMENT_LABELS,
    out: str | os.PathLike[str] | None = None,
    text: str | os.PathLike[str] | None = None,
    heard_text: Sequence[str | os.PathLike[str]] = (),
) -> dict[str, Any]:
    """The scores of the answers in ``predictions`` (``speechsent-infer``'s JSON lines) against
    ``references`` (``<utt> <label>`` lines), written to ``out`` (JSON) when given.

    :func:`speechsent.scoring.compute_scores`'s keys, plus ``num_right`` and ``accuracy`` (percent),
    ``polar`` (``num_utts``, ``num_right``, ``accuracy`` over the :data:`POLAR_LABELS` references; accuracy
    ``None`` when there are none), ``num_right`` in each ``per_class`` entry, ``wrong`` (utterance -> its
    ``ref``, ``hyp`` and, from a 2-step model, ``transcript``), ``predictions`` and ``references`` (paths).
    With ``text`` (the Kaldi text of the spoken sentences) and answers that carry a ``transcript`` (a 2-step
    model's ASR), ``asr``: the word error rate of those transcripts (``wer`` percent, ``ref_words``,
    ``substitutions``, ``deletions``, ``insertions``, as :mod:`speechsent.asr.wer` counts them).
    With ``text`` and ``heard_text`` (the Kaldi texts the ASR was trained on), ``unheard``: how many words
    of the spoken sentences (``num_words``) those texts never have (``num_unheard``, and the words), since
    a recognizer cannot transcribe, nor its encoder represent, words it never heard.
    """
    refs = read_predictions(references, labels)  # (any '<utt> <label>' table; errors name file and line)
    if not refs:
        raise ScoringError(f"{references}: no utterances")
    records = read_infer_lines(predictions, labels)
    missing = [utt for utt in refs if "label" not in records.get(utt, {})]
    if missing:
        failed = [f"{utt}: {records[utt]['error']}" for utt in missing if utt in records]
        raise ScoringError(
            f"{predictions}: no answer for {len(missing)} of the {len(refs)} utterances of {references}, "
            f"e.g. {', '.join(missing[:_SHOW])}"
            + (f"; speechsent-infer could not classify {'; '.join(failed[:_SHOW])}" if failed else "")
        )
    extra = [utt for utt in records if utt not in refs]
    if extra:
        log.warning("%s: %d answers for utterances not in %s ignored", predictions, len(extra), references)
    utts = list(refs)
    hyps = {utt: records[utt]["label"] for utt in utts}
    scores = compute_scores([refs[u] for u in utts], [hyps[u] for u in utts], labels)
    right = {utt for utt in utts if hyps[utt] == refs[utt]}
    scores["num_right"] = len(right)
    scores["accuracy"] = _percent(len(right), len(utts))
    polar = [utt for utt in utts if refs[utt] in POLAR_LABELS]
    polar_right = sum(utt in right for utt in polar)
    scores["polar"] = {
        "labels": [label for label in labels if label in POLAR_LABELS],
        "num_utts": len(polar),
        "num_right": polar_right,
        "accuracy": _percent(polar_right, len(polar)),
    }
    for label in labels:
        scores["per_class"][label]["num_right"] = sum(refs[utt] == label for utt in right)
    scores["wrong"] = {
        utt: {
            "ref": refs[utt],
            "hyp": hyps[utt],
            **({"transcript": records[utt]["transcript"]} if "transcript" in records[utt] else {}),
        }
        for utt in utts
        if utt not in right
    }
    if text is not None and all("transcript" in records[utt] for utt in utts):
        scores["asr"] = _transcript_errors(text, {utt: records[utt]["transcript"] for utt in utts})
    if text is not None and heard_text:
        scores["unheard"] = _unheard_words(text, utts, heard_text)
    scores["predictions"] = str(predictions)
    scores["references"] = str(references)
    if out is not None:
        write_scores(out, scores)
    return scores


def _transcript_errors(text: str | os.PathLike[str], transcripts: Mapping[str, str]) -> dict[str, Any]:
    """The WER of ``transcripts`` against the sentences of the Kaldi text file ``text`` (each one needed)."""
    from speechsent.asr.wer import score_texts
    from speechsent.kaldi.table import read_table

    sentences = read_table(text)
    missing = [utt for utt in transcripts if utt not in sentences]
    if missing:
        shown = ", ".join(missing[:_SHOW])
        raise ScoringError(f"{text}: no sentence for {len(missing)} answers, e.g. {shown}")
    counts = score_texts({utt: sentences[utt] for utt in transcripts}, transcripts)
    return {
        "wer": counts.wer,
        "ref_words": counts.ref_words,
        "substitutions": counts.substitutions,
        "deletions": counts.deletions,
        "insertions": counts.insertions,
        "text": str(text),
    }


def _unheard_words(
    text: str | os.PathLike[str], utts: Sequence[str], heard_text: Sequence[str | os.PathLike[str]]
) -> dict[str, Any]:
    """The words of ``utts``' sentences in ``text`` that no sentence of the ``heard_text`` files has."""
    from speechsent.kaldi.table import read_table

    sentences = read_table(text)
    heard: set[str] = set()
    for path in heard_text:
        for sentence in read_table(path).values():
            heard.update(sentence.split())
    words = [word for utt in utts if utt in sentences for word in sentences[utt].split()]
    unheard = [word for word in words if word not in heard]
    return {
        "num_words": len(words),
        "num_unheard": len(unheard),
        "words": sorted(set(unheard)),
        "heard_text": [str(path) for path in heard_text],
    }


def format_check(name: str | os.PathLike[str], scores: Mapping[str, Any]) -> str:
    """One line: right answers overall, on the polar references and per class (of :func:`score_check`)."""

    polar = scores["polar"]
    classes = " ".join(
        f"{label} {c['num_right']}/{c['support']}" for label, c in scores["per_class"].items() if c["support"]
    )
    line = f"{name}: {scores['num_right']}/{scores['num_utts']} right ({scores['accuracy']:.1f} %)"
    line += f"; polar {polar['num_right']}/{polar['num_utts']}"
    if polar["num_utts"]:
        line += f" ({polar['accuracy']:.1f} %)"
    line = f"{line}; {classes}"
    if "asr" in scores:
        asr = scores["asr"]
        line += f"; ASR WER {asr['wer']:.1f} % of {asr['ref_words']} words"
    if "unheard" in scores:
        unheard = scores["unheard"]
        line += f"; {unheard['num_unheard']} of {unheard['num_words']} words unheard in ASR training"
    return line


def default_scores_path(predictions: str | os.PathLike[str]) -> Path:
    """The default scores file of ``predictions``: ``x/check.jsonl`` -> ``x/check_scores.json``."""
    path = Path(predictions)
    return path.with_name(f"{path.stem}_scores.json")
