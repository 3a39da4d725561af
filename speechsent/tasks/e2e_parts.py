"""The pieces of the E2E task that are not its lifecycle: the held-out split, the model config and its
initialisation from a pre-trained model, balanced class weights and the ``system.json`` description
(pseudo-label provenance, hours, skip counts), and the checks that the pseudo labels are the ones named (the
labeler's records, the pre-training's fingerprint). Light at import: torch inside the functions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from speechsent.tasks.manifests import E2EModelManifest, PretrainManifest, pseudo_fingerprint
from speechsent.utils.digest import file_digest
from speechsent.utils.fileio import read_json
from speechsent.utils.seeded import seeded_share

__all__ = [
    "LABELER_RECORD",
    "check_labeler_records",
    "check_pretrain_fingerprint",
    "class_weights",
    "describe",
    "encoder_of",
    "heldout_utterances",
    "init_model",
    "input_kind",
    "label_digests",
    "labeler_name",
    "model_config",
    "pretrain_fingerprint",
    "pseudo_provenance",
    "reason_counts",
    "set_name",
    "train_hours",
]

log = logging.getLogger("speechsent.train_e2e")

#: The record a pseudo labeler writes per labelled set (stage 7): ``<labeler dir>/label/<set>/done.json``,
#: with ``labels_file`` (the label file's name in ``data/<set>/``) and ``labels_sha256`` (its SHA-256).
LABELER_RECORD = "done.json"


def _recording(utt: str) -> str:
    """The conversation side of a Kaldi utterance id (``sw02001-A_000098-001156`` → ``sw02001-A``)."""
    return utt.rsplit("_", 1)[0] if "_" in utt else utt


def heldout_utterances(utts: Sequence[str], fraction: float, seed: int) -> set[str]:
    """About ``fraction`` of ``utts``, whole conversation sides chosen by a seeded hash (stable across runs
    and processes; neighbouring utterances of one side never straddle the split)."""
    if fraction <= 0:
        return set()
    chosen = seeded_share({_recording(u) for u in utts}, fraction, seed)
    held = {u for u in utts if _recording(u) in chosen}
    if not held or len(held) == len(utts):  # tiny sets: take every 1/fraction-th side instead
        recs = sorted({_recording(u) for u in utts})
        step = max(2, round(1 / fraction))
        chosen = set(recs[::step]) if len(recs) > 1 else set()
        held = {u for u in utts if _recording(u) in chosen}
    return held


def model_config(config: Any, input_dim: int, num_classes: int, feature_layers: int = 1) -> dict[str, Any]:
    """The classifier's config fields (``speechsent.models.build_model(config.model, **fields)``);
    ``feature_layers``: the encoder layers each frame stacks (the BLSTM classifier's weighted sum)."""
    if config.model == "blstm":
        return {
            "input_dim": input_dim,
            **({"feature_layers": feature_layers} if feature_layers > 1 else {}),
            "fc_dim": config.fc_dim,
            "lstm_dim": config.lstm_dim,
            "num_lstm_layers": config.num_lstm_layers,
            "attention_dim": config.attention_dim,
            "num_classes": num_classes,
            "dropout": config.dropout,
        }
    if feature_layers > 1:
        raise ValueError(
            f"features that stack {feature_layers} encoder layers need the blstm model (its weighted sum of "
            f"layers), not {config.model}"
        )
    return {
        "input_dim": input_dim,
        "channels": list(config.cnn_channels),
        "kernels": list(config.cnn_kernels),
        "strides": list(config.cnn_strides),
        "pooling": config.cnn_pooling,
        "input_norm": config.cnn_input_norm,
        "num_classes": num_classes,
        "dropout": config.dropout,
    }


def init_model(model: Any, path: str | Path, reset_head: bool, manifest: E2EModelManifest) -> None:
    """Load ``path`` (a ``best.pth`` state_dict) into ``model`` (described by ``manifest``): all of it, or
    the body only with ``reset_head`` (the model's own, randomly initialised output layer stays). A model of
    another architecture (its ``model.json`` beside it) is an error naming what differs."""
    import torch

    path = Path(path)
    if (path.parent / E2EModelManifest.FILE).is_file():
        theirs_manifest = E2EModelManifest.read(path.parent / E2EModelManifest.FILE)
        ours = {k: v for k, v in manifest.config.items() if k not in ("num_classes", "dropout")}
        theirs = {k: v for k, v in theirs_manifest.config.items() if k not in ("num_classes", "dropout")}
        if theirs_manifest.architecture != manifest.architecture or ours != theirs:
            raise ValueError(
                f"--init_from {path}: its model ({theirs_manifest.architecture}, {theirs}) differs from "
                f"this one ({manifest.architecture}, {ours})"
            )
    state = torch.load(path, map_location="cpu", weights_only=True)
    if reset_head:
        state = {k: v for k, v in state.items() if not k.startswith("head.")}
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as error:
        raise ValueError(f"--init_from {path}: does not fit the model: {error}") from None
    bad_missing = [k for k in missing if not (reset_head and k.startswith("head."))]
    if bad_missing or unexpected:
        raise ValueError(
            f"--init_from {path}: missing {bad_missing[:5]}, unexpected {unexpected[:5]} parameters"
        )
    log.info(
        "initialised from %s (%d tensors%s)",
        path,
        len(state),
        "; new random output layer" if reset_head else "",
    )


def body_head_groups(model: Any, lr: float, body_lr: float | None) -> list[dict] | None:
    """The optimizer's parameter groups: the output layer (``head.*``) at ``lr`` (first: the lr the epoch
    log shows), every other parameter at ``body_lr``; None (one group at ``lr``) when ``body_lr`` is None."""
    if body_lr is None:
        return None
    named = list(model.named_parameters())
    body = [p for name, p in named if not name.startswith("head.")]
    head = [p for name, p in named if name.startswith("head.")]
    if not head:
        raise ValueError("--body_lr: the model has no output layer named head")
    log.info("learning rates: body %g (%d tensors), output layer %g", body_lr, len(body), lr)
    return [{"params": head, "lr": lr}, {"params": body, "lr": body_lr}]


def class_weights(counts: Sequence[int], labels: Sequence[str]) -> list[float]:
    """scikit-learn's "balanced" weights, n / (classes x count), of the training label counts."""
    import numpy as np
    from sklearn.utils.class_weight import compute_class_weight

    absent = [label for label, n in zip(labels, counts, strict=True) if n == 0]
    if absent:
        raise ValueError(f"--class_weights balanced: no training utterance of {', '.join(absent)}")
    y = np.repeat(np.arange(len(counts)), counts)
    return [float(w) for w in compute_class_weight("balanced", classes=np.arange(len(counts)), y=y)]


def set_name(label_file: str | Path) -> str:
    """The set a label file is of: its dir's name, without ``_asr``."""
    name = Path(label_file).parent.name
    return name[: -len("_asr")] if name.endswith("_asr") else name


def labeler_name(labeler_dir: str | Path) -> str:
    """``exp/pseudo_labeler_bert_sst2`` → ``bert_sst2`` (the default ``pseudo_labeler`` of its labels)."""
    return Path(labeler_dir).name.removeprefix("pseudo_labeler_")


def label_digests(label_files: Sequence[str]) -> dict[str, str | None]:
    """``{label file as given: SHA-256 of its bytes}`` (None for a missing file)."""
    return {str(path): file_digest(path) for path in label_files}


def _record_problem(path: Path, digest: str | None, record: Path) -> str | None:
    """What makes ``path`` (of SHA-256 ``digest``) not the file the labeler's ``record`` names, or None."""
    if digest is None:
        return "no such file"
    if not record.is_file():
        return f"no record {record}: the labeler did not label set {path.parent.name}"
    data = read_json(record)
    if not isinstance(data, dict) or not data.get("labels_file") or not data.get("labels_sha256"):
        return f"{record} names no labels_file and labels_sha256 (written by an older stage 7)"
    if data["labels_file"] != path.name:
        return f"{record} names labels_file {data['labels_file']!r}, not {path.name!r}"
    if data["labels_sha256"] != digest:
        return (
            f"the file's SHA-256 is {digest}, {record} has labels_sha256 {data['labels_sha256']} "
            "(the file changed since the labeler wrote it)"
        )
    return None


def check_labeler_records(digests: dict[str, str | None], labeler_dir: str | Path) -> None:
    """Every label file of ``digests`` (``{path: SHA-256}``) must be what the pseudo labeler ``labeler_dir``
    wrote: its record ``<labeler_dir>/label/<the file's dir name>/done.json`` names the file
    (``labels_file``: its base name) and its SHA-256 (``labels_sha256``). Else a ValueError naming every
    file that is not, the record and what differs."""
    problems = []
    for path, digest in digests.items():
        record = Path(labeler_dir) / "label" / Path(path).parent.name / LABELER_RECORD
        problem = _record_problem(Path(path), digest, record)
        if problem:
            problems.append(f"--train_labels {path}: {problem}")
    if problems:
        raise ValueError(
            f"pseudo labels that are not those of --pseudo_labeler_dir {labeler_dir}:\n  "
            + "\n  ".join(problems)
            + "\nrerun stage 7 (./run.sh --stage 7) with that labeler to label the sets again"
        )
    log.info("pseudo labels checked against the records of %s: %s", labeler_dir, " ".join(digests))


def pretrain_fingerprint(init_from: str | Path) -> tuple[Path, str | None]:
    """(the ``pretrain.json`` beside ``init_from``, its ``pseudo_fingerprint``: None when absent)."""
    path = Path(init_from).parent / PretrainManifest.FILE
    return path, PretrainManifest.read(path).pseudo_fingerprint if path.is_file() else None


def check_pretrain_fingerprint(init_from: str | Path, expected: str) -> None:
    """A ValueError unless the pre-trained model ``init_from`` was trained on the pseudo labels of
    fingerprint ``expected`` (its ``pretrain.json``'s ``pseudo_fingerprint``)."""
    path, found = pretrain_fingerprint(init_from)
    if not path.is_file():
        raise ValueError(
            f"--init_from {init_from}: no {path}: its pseudo labels are unknown "
            f"(--expect_pseudo_fingerprint {expected})"
        )
    if found != expected:
        raise ValueError(
            f"--init_from {init_from}: pre-trained on other pseudo labels: {path} has pseudo_fingerprint "
            f"{found}, --expect_pseudo_fingerprint is {expected}; rerun that pre-training on the labels named"
        )


def pseudo_provenance(config: Any, digests: dict[str, str | None] | None = None) -> dict[str, Any]:
    """pseudo_labeler, pseudo_sets, pseudo_transcript, pseudo_labels, pseudo_fingerprint: of the labels
    (pseudo task; ``digests``: their SHA-256, computed when not given) or of the --init_from model's
    pretrain.json (sentiment task); the --system_pseudo_* options override the first three."""
    keys = ("pseudo_labeler", "pseudo_sets", "pseudo_transcript", "pseudo_labels", "pseudo_fingerprint")
    prov: dict[str, Any] = dict.fromkeys(keys)
    if config.task == "pseudo":
        dirs = [Path(lab).parent.name for lab in config.train_labels]
        prov["pseudo_sets"] = [set_name(lab) for lab in config.train_labels]
        asr = [d.endswith("_asr") for d in dirs]
        prov["pseudo_transcript"] = "asr" if all(asr) else "gt" if not any(asr) else "mixed"
        prov["pseudo_labels"] = digests if digests is not None else label_digests(config.train_labels)
        prov["pseudo_fingerprint"] = pseudo_fingerprint(prov["pseudo_labels"])
        if config.pseudo_labeler_dir:
            prov["pseudo_labeler"] = labeler_name(config.pseudo_labeler_dir)
    elif config.init_from:
        path = Path(config.init_from).parent / PretrainManifest.FILE
        if path.is_file():
            pretrain = PretrainManifest.read(path)
            prov.update({k: getattr(pretrain, k) for k in prov})
        else:
            log.warning("%s: no pretrain.json beside it: pseudo-label provenance unknown", config.init_from)
    if config.system_pseudo_labeler:
        prov["pseudo_labeler"] = config.system_pseudo_labeler
    if config.system_pseudo_sets:
        prov["pseudo_sets"] = config.system_pseudo_sets.split()
    if config.system_pseudo_transcript != "auto":
        prov["pseudo_transcript"] = config.system_pseudo_transcript
    return prov


def train_hours(config: Any, utts: Sequence[str]) -> float | None:
    """--system_train_hours; else, for a --train_utt_list subset, the utt2dur sum of its utterances."""
    if config.system_train_hours is not None or not config.train_utt_list:
        return config.system_train_hours
    from speechsent.kaldi.table import read_table

    durations: dict[str, str] = {}
    for lab in config.train_labels:
        path = Path(lab).parent / "utt2dur"
        if path.is_file():
            durations.update(read_table(path, num_fields=2))
    if not durations:
        log.warning("no utt2dur beside %s: train_hours of the subset unknown", config.train_labels)
        return None
    return round(sum(float(durations.get(u, 0.0)) for u in utts) / 3600, 2)


def reason_counts(left_out: dict[str, str]) -> dict[str, int]:
    """reason -> count, sorted by reason (system.json)."""
    counts: dict[str, int] = {}
    for reason in left_out.values():
        counts[reason] = counts.get(reason, 0) + 1
    return dict(sorted(counts.items()))


def describe(reason_counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in reason_counts.items()) or "none"


def input_kind(config: Any) -> str:
    """``--system_input``, or ``fbank`` when a training scp is below a ``fbank`` dir, else ``encoder``."""
    if config.system_input != "auto":
        return config.system_input
    return "fbank" if any("fbank" in Path(f).parts for f in config.train_feats) else "encoder"


def encoder_of(config: Any, kind: str) -> str | None:
    """``--system_encoder``, or (``auto``) the encoder of the training features: ``hf:<hub id or dir>`` when
    the ``info.json`` beside the first ``--train_feats`` scp is a Hugging Face encoder's dump, else ``asr``
    (the ESPnet ASR's encoder); None for ``kind`` (:func:`input_kind`) ``fbank``."""
    if config.system_encoder != "auto":
        return config.system_encoder or None
    if kind == "fbank":
        return None
    info = Path(config.train_feats[0]).parent / "info.json"
    if info.is_file():
        hf = (read_json(info).get("model") or {}).get("hf")
        if hf:
            return f"hf:{hf['name_or_path']}"
    return "asr"
