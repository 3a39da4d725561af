"""Stage 6: the pseudo-labeler dir (paper §3.2.2) and its Table 3 evaluation.

::

    from speechsent.text.pseudo_labeler import PseudoLabelerConfig, make_pseudo_labeler
    scores = make_pseudo_labeler(PseudoLabelerConfig("vader", eval_sets=["data/swbd_holdout"]))

``<out_dir>`` (default ``exp/pseudo_labeler_<name>``) gets ``labeler.json`` (how stage 7 loads the labeler:
:func:`speechsent.text.labelers.load_labeler`) and either the model of an SST-2 fine-tuning (``sst2_finetune``
or ``sst2_dir``: :func:`speechsent.text.sst2.finetune_sst2`; default dir ``exp/pseudo_labeler_<name>_sst2``,
:func:`labeler_tag`) or, for an existing labeler, ``stage6_setup.json`` (what the
``labeler.json`` was written from; a rerun with the same setup writes nothing) and, with ``copy_model``, the
copied model. Every evaluation set ``<set>`` gets ``eval_<set>/{scores.json,utt2pred,utt2prob,stamp.json}``
(:func:`evaluate_labeler`: Negative/Positive utterances only); the stamp (the labeler's identity, the SHA-256
of the set's text and utt2sentiment) makes an unchanged evaluation a no-op.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsent.data.labels import PSEUDO_LABELS
from speechsent.kaldi.data_dir import parse_sentiment_label
from speechsent.kaldi.table import read_table, read_typed_table
from speechsent.text.sst2 import SST2Options
from speechsent.utils.digest import file_digest
from speechsent.utils.fileio import read_json_or_none, write_json

__all__ = [
    "SETUP_JSON",
    "PseudoLabelerConfig",
    "default_name",
    "evaluate_labeler",
    "labeler_tag",
    "make_pseudo_labeler",
    "write_evaluation",
]

logger = logging.getLogger(__name__)

#: What an existing labeler's ``labeler.json`` was written from (stage 6 without SST-2 fine-tuning).
SETUP_JSON = "stage6_setup.json"


@dataclass
class PseudoLabelerConfig:
    """Stage 6's options (``speechsent-pseudo-labeler``'s command line)."""

    pseudo_labeler: str  # HF id or dir, "vader", a labeler dir, or a comma-separated ensemble of these
    out_dir: str | None = None  # None: exp/pseudo_labeler_<default_name(pseudo_labeler)>
    name: str | None = None  # None: out_dir's name without "pseudo_labeler_"
    label_map: str | None = None  # class index -> label of a HF model ("0:Negative,1:Positive")
    max_length: int = 512  # tokens per text at inference
    copy_model: bool = False  # save the HF model into out_dir (self-contained)
    sst2_finetune: bool = False  # fine-tune pseudo_labeler on SST-2 first (TSVs of sst2_dir, else the hub)
    sst2_dir: str | None = None  # GLUE SST-2's train.tsv, dev.tsv (given: sst2_finetune implied)
    sst2: SST2Options = field(default_factory=SST2Options)  # its device and amp come from ngpu and amp
    eval_sets: list[str] = field(default_factory=list)  # labeled data dirs (utt2sentiment)
    eval_asr: bool = False  # also <set>_asr where it exists
    text_file: str = "text"
    ngpu: int = 0
    amp: str | None = None  # none | auto | fp16 | bf16 (GPU only)
    batch_tokens: int = 0  # padded tokens per inference batch (0: by device)
    max_batch_size: int = 256

    @property
    def finetunes(self) -> bool:
        """Whether stage 6 fine-tunes on SST-2 (``sst2_finetune``, or ``sst2_dir`` given)."""
        return self.sst2_finetune or bool(self.sst2_dir)

    def out_path(self) -> Path:
        return Path(self.out_dir or f"exp/pseudo_labeler_{labeler_tag(self.pseudo_labeler, self.finetunes)}")

    def runtime(self) -> dict[str, Any]:
        """How HF labelers run (not what they output)."""
        return {
            "device": "cuda" if self.ngpu > 0 else "cpu",
            "amp": self.amp,
            "batch_tokens": self.batch_tokens or None,
            "max_batch_size": self.max_batch_size,
        }


def default_name(spec: str) -> str:
    """A labeler's name from its spec: the last path parts, ``pseudo_labeler_`` dropped, joined by ``+``."""
    parts = [re.sub(r"[^A-Za-z0-9_.+-]+", "_", Path(p.strip().rstrip("/")).name) for p in spec.split(",")]
    parts = [p.removeprefix("pseudo_labeler_") for p in parts if p]
    return "+".join(parts) or "labeler"


def labeler_tag(spec: str, sst2: bool = False) -> str:
    """A labeler's tag (its dir ``exp/pseudo_labeler_<tag>``, its labels ``utt2pseudo_<tag>``):
    :func:`default_name` of the spec, ``_sst2`` appended for an SST-2 fine-tuning."""
    return default_name(spec) + ("_sst2" if sst2 else "")


def make_pseudo_labeler(config: PseudoLabelerConfig) -> dict[str, dict[str, Any]]:
    """Build (or fine-tune) the labeler in ``out_dir`` and evaluate it on every set; scores by set name."""
    from speechsent.text.pseudo_label import labeler_identity

    out = config.out_path()
    name = config.name or out.name.removeprefix("pseudo_labeler_")
    out.mkdir(parents=True, exist_ok=True)
    if config.finetunes:
        _finetune(config, out, name)
    else:
        _write_labeler(config, out, name)
    ident = labeler_identity(out)
    loaded: list[Any] = []  # the labeler, loaded once, when a set needs it
    all_scores: dict[str, dict[str, Any]] = {}
    for data in _eval_dirs(config):
        scores = _evaluate_set(config, out, data, ident, loaded)
        logger.info(
            "Table 3: %s on %s: unweighted REC %.2f, weighted REC %.2f (%d Negative/Positive utterances, "
            "%d Neutral excluded) -> %s",
            name,
            data.name,
            scores["unweighted_recall"],
            scores["weighted_recall"],
            scores["num_utts"],
            scores.get("num_neutral_excluded", 0),
            out / f"eval_{data.name}" / "scores.json",
        )
        all_scores[data.name] = scores
    return all_scores


def _finetune(config: PseudoLabelerConfig, out: Path, name: str) -> None:
    from speechsent.text.sst2 import finetune_sst2

    if "," in config.pseudo_labeler or config.pseudo_labeler.strip().lower() == "vader":
        raise ValueError(
            "SST-2 fine-tuning (--sst2, --sst2_dir) is of one Hugging Face model: give its id or dir as "
            "--pseudo_labeler"
        )
    options = dataclasses.replace(config.sst2, amp=config.amp, device=config.runtime()["device"])
    finetune_sst2(config.pseudo_labeler, config.sst2_dir, out, options, name=name)


def _write_labeler(config: PseudoLabelerConfig, out: Path, name: str) -> None:
    """``labeler.json`` of an existing labeler (and its model with ``copy_model``), unless up to date."""
    setup = {
        "pseudo_labeler": config.pseudo_labeler,
        "label_map": config.label_map,
        "max_length": config.max_length,
        "copy_model": config.copy_model,
        "name": name,
    }
    if read_json_or_none(out / SETUP_JSON) == setup and (out / "labeler.json").is_file():
        logger.info("%s: labeler.json is up to date", out)
        return
    from speechsent.text.labelers import load_labeler

    labeler = load_labeler(
        config.pseudo_labeler, label_map=config.label_map, max_length=config.max_length, **config.runtime()
    )
    labeler.name = name
    labeler.save(out, copy_model=config.copy_model)
    write_json(out / SETUP_JSON, setup)
    logger.info("%s: labeler %s (%s) written", out, name, labeler.kind)


def _eval_dirs(config: PseudoLabelerConfig) -> list[Path]:
    """The evaluation sets (each ``eval_sets`` entry may list several), with ``eval_asr`` their ``_asr``."""
    eval_dirs = [Path(d) for arg in config.eval_sets for d in str(arg).split()]
    if config.eval_asr:
        for d in list(eval_dirs):
            asr = d.parent / f"{d.name}_asr"
            if asr.is_dir():
                if asr not in eval_dirs:
                    eval_dirs.append(asr)
            else:
                logger.warning("%s not found: evaluating %s on its ground-truth text only", asr, d)
    return eval_dirs


def _evaluate_set(
    config: PseudoLabelerConfig, out: Path, data: Path, ident: dict[str, Any], loaded: list[Any]
) -> dict[str, Any]:
    """The scores of the labeler in ``out`` on ``data`` (computed unless its stamp is unchanged)."""
    eval_dir = out / f"eval_{data.name}"
    for f in (config.text_file, "utt2sentiment"):
        if not (data / f).is_file():
            raise FileNotFoundError(f"{data / f} not found (an evaluation set needs text and utt2sentiment)")
    stamp = {
        "labeler": ident,
        "data_dir": str(data.resolve()),
        "text_sha256": file_digest(data / config.text_file),
        "utt2sentiment_sha256": file_digest(data / "utt2sentiment"),
        "text_file": config.text_file,
    }
    scores = read_json_or_none(eval_dir / "scores.json")
    if scores is not None and read_json_or_none(eval_dir / "stamp.json") == stamp:
        logger.info("%s: up to date", eval_dir)
        return scores
    from speechsent.text.labelers import load_labeler

    if not loaded:
        loaded.append(load_labeler(out, **config.runtime()))
    scores, utt2pred, utt2prob = evaluate_labeler(loaded[0], data, text_file=config.text_file)
    write_evaluation(eval_dir, scores, utt2pred, utt2prob)
    write_json(eval_dir / "stamp.json", stamp)
    return scores


# ----------------------------------------------------------------------------------------------------------
# Evaluation (Table 3)


def evaluate_labeler(
    labeler: Any, data_dir: str | Path, *, text_file: str = "text"
) -> tuple[dict[str, Any], dict[str, str], dict[str, float]]:
    """Table 3: ``labeler`` (a :class:`~speechsent.text.labelers.Labeler`) on the Negative/Positive
    utterances of ``data_dir`` (text + utt2sentiment).

    Returns (scores, utt2pred, utt2prob = P(Positive)). Neutral utterances are excluded
    (``num_neutral_excluded``); labeled utterances without a line in ``text`` are excluded with a warning
    (``num_no_text``); an empty text is labeled as it is (``num_empty_text``). A bad label in utt2sentiment
    is a :class:`~speechsent.kaldi.table.KaldiDataError` naming the file and line.
    """
    from speechsent.scoring import compute_scores
    from speechsent.text.labelers import probs_to_labels

    data = Path(data_dir)
    refs_all = read_typed_table(data / "utt2sentiment", parse_sentiment_label)
    texts = read_table(data / text_file)
    utts = [u for u, label in refs_all.items() if label in PSEUDO_LABELS]
    no_text = [u for u in utts if u not in texts]
    if no_text:
        logger.warning(
            "%s: %d Negative/Positive utterance(s) without a line in %s, excluded (e.g. %s)",
            data,
            len(no_text),
            text_file,
            ", ".join(no_text[:3]),
        )
    utts = [u for u in utts if u in texts]
    probs = labeler.predict_proba([texts[u] for u in utts])
    hyps = probs_to_labels(probs)
    refs = [refs_all[u] for u in utts]
    scores = compute_scores(refs, hyps, labels=PSEUDO_LABELS)
    scores.update(
        {
            "num_neutral_excluded": sum(1 for v in refs_all.values() if v == "Neutral"),
            "num_no_text": len(no_text),
            "num_empty_text": sum(1 for u in utts if not texts[u].strip()),
            "labeler": labeler.name,
            "data_dir": str(data),
            "text_file": text_file,
        }
    )
    utt2pred = dict(zip(utts, hyps, strict=True))
    utt2prob = {u: round(float(p), 6) for u, p in zip(utts, probs[:, 1], strict=True)}
    return scores, utt2pred, utt2prob


def write_evaluation(
    out_dir: str | Path, scores: Mapping[str, Any], utt2pred: Mapping[str, str], utt2prob: Mapping[str, float]
) -> None:
    """``<out_dir>/{utt2pred,utt2prob,scores.json}`` (utt2prob: ``P(Negative) P(Positive)``).

    scores.json is written last.
    """
    from speechsent.scoring import write_predictions, write_scores

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = {u: (round(1.0 - p, 6), p) for u, p in utt2prob.items()}
    write_predictions(out, utt2pred, rows, labels=PSEUDO_LABELS)
    write_scores(out / "scores.json", scores)
