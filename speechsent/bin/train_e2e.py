"""speechsent-train-e2e: stage 9, the E2E speech sentiment classifiers on dumped frame features.

Trains a classifier (``--model blstm``: FC → 2 BLSTM → attentive pooling → output, §3.2.1, on the frozen
ASR-encoder features of stage 5; ``--model cnn``: Table 2's CNN on 80-dim fbank) on one or more
``--train_feats`` scp files paired with ``--train_labels`` files, selects the best epoch on the validation
set, and scores every ``--score_sets`` entry into ``<exp_dir>/score_<set>/{utt2pred,utt2prob,scores.json}``.

``--task sentiment``: the 3 classes of ``utt2sentiment``. ``--task pseudo``: pseudo-label pre-training on
the 2 classes of ``utt2pseudo`` (§3.2.2). Pre-training has no labelled validation set: unless
``--valid_feats`` is given, ``--valid_fraction`` (5%) of the training conversation sides is held out and the
epoch with the lowest held-out loss is kept (``--select_metric auto``: ``loss`` for pseudo,
``unweighted_f1`` for sentiment): the goal is a body that fits the labeler without over-fitting its noise.
Fine-tuning starts from the pre-trained body with ``--init_from exp/<pretrain>/best.pth --reset_head true``
(the binary output layer discarded, a random 3-class one, every parameter updated, as the paper does)::

    # supervised, all of SWBD-train
    python -m speechsent.bin.train_e2e --config conf/train_e2e.yaml \\
        --train_feats dump/encoder/swbd_train/feats.scp --train_labels data/swbd_train/utt2sentiment \\
        --valid_feats dump/encoder/swbd_test/feats.scp --valid_labels data/swbd_test/utt2sentiment \\
        --score_sets "swbd_test:dump/encoder/swbd_test/feats.scp:data/swbd_test/utt2sentiment
                      swbd_holdout:dump/encoder/swbd_holdout/feats.scp:data/swbd_holdout/utt2sentiment" \\
        --exp_dir exp/e2e_blstm
    # pseudo-label pre-training on SWBD-train + Fisher, then fine-tuning on a 5 h subset
    python -m speechsent.bin.train_e2e --config conf/train_e2e.yaml --task pseudo \\
        --train_feats dump/encoder/swbd_train/feats.scp --train_labels data/swbd_train/utt2pseudo \\
        --train_feats dump/encoder/fisher/feats.scp --train_labels data/fisher/utt2pseudo \\
        --system_pseudo_labeler pseudo_labeler_bert_sst2 --exp_dir exp/e2e_pretrain_bert_sst2_gt
    python -m speechsent.bin.train_e2e --config conf/train_e2e.yaml \\
        --train_feats dump/encoder/swbd_train/feats.scp --train_labels data/swbd_train/utt2sentiment \\
        --train_utt_list data/swbd_train_5h/utt2spk --system_train_hours 5 \\
        --init_from exp/e2e_pretrain_bert_sst2_gt/best.pth --reset_head true ... --exp_dir exp/e2e_ft_5h

Files of ``--exp_dir``: the Trainer's ``checkpoint.pth`` (an interrupted run resumes from it), ``best.pth``,
``metrics.jsonl``, ``train.log``; ``model.json`` (architecture, config, labels: how to rebuild the model);
``system.json`` (sentiment task; INTERFACES §2, for the report) or ``pretrain.json`` (pseudo task: the
pseudo-label provenance a fine-tuned system inherits); ``training_stamp.json``; ``.done`` (options and
input checksums: a rerun with the same ones does nothing; changed training options or inputs restart
training, except ``max_epochs``/``patience`` which continue it; changed score sets or ``--system_*``
options only re-score). A labelled utterance of a scored set without features (too short for the encoder)
gets the training prior's most frequent class, counted in the log, so every utterance is scored.

Feature matrices with NaN or infinite values are found when read (:mod:`speechsent.data.feats_dataset`)
and never reach the model: each is named in the log (utterance, scp, ark entry) and left out, counted per
epoch in ``metrics.jsonl`` (``dropped_train_utts``/``dropped_valid_utts``) and in ``system.json``
(``train_skipped``/``valid_skipped``: reason -> count, with the utterances left out while indexing, e.g.
labelled without features; ``num_train_utts`` counts those trained on). In a scored set such an utterance
is imputed like one without features, and ``scores.json`` counts it (``num_missing``, ``num_imputed``,
``imputed``; the utterances are in ``score_<set>/utt2imputed``). A class without any training utterance
(after the skips and ``--train_utt_list``) is an error, or a loud warning with
``--allow_missing_classes true`` (not part of the stamp: a rerun with it resumes the finished training).

Several GPUs (or CPU processes): ``torchrun --nproc_per_node N -m speechsent.bin.train_e2e ... --ngpu N``
(``--ngpu 0`` under torchrun: CPU processes with gloo). Options may come from ``--config FILE`` (YAML; the
command line wins; the repeatable options take YAML lists). Exit status: 0 on success, 1 on an error (the
message names the file or option), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speechsent import cli
from speechsent.cli import none_or_float, none_or_str, str2bool
from speechsent.training.options import add_trainer_arguments, check_trainer_args
from speechsent.training.stamps import is_done, write_stamp
from speechsent.utils.digest import file_digest
from speechsent.utils.fileio import read_json_or_none
from speechsent.utils.seeded import seeded_share

__all__ = ["ScoreSet", "get_parser", "heldout_utterances", "main", "parse_score_sets", "train_e2e"]

PROG = "speechsent-train-e2e"
log = logging.getLogger("speechsent.train_e2e")

#: Options that change neither the trained model nor its scores (left out of the stamps).
_NOT_STAMPED = {
    "config",
    "log_level",
    "progress",
    "num_workers",
    "num_threads",
    "ngpu",
    "force",
    "max_open_files",
    "allow_missing_classes",
}
#: Options that only affect scoring and system.json (changing them re-scores, it does not retrain).
_SCORING_ONLY = {"score_sets", "system_train_hours", "system_pseudo_labeler", "system_pseudo_sets"}
_SCORING_ONLY |= {"system_pseudo_transcript", "system_input", "system_train_set"}
#: Files of one training run (removed when training restarts).
_TRAINING_FILES = (
    "checkpoint.pth",
    "best.pth",
    "metrics.jsonl",
    "model.json",
    "system.json",
    "pretrain.json",
)
_LIST_OPTIONS = ("train_feats", "train_labels", "score_sets")


class _Repeatable(argparse.Action):
    """A repeatable option whose values may each hold several whitespace-separated items; its first use on
    the command line replaces the value from ``--config`` (the command line wins), later uses add to it."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        given = getattr(namespace, "_given_lists", set())
        current = [] if self.dest not in given else list(getattr(namespace, self.dest))
        given.add(self.dest)
        namespace._given_lists = given
        setattr(namespace, self.dest, current + str(values).split())


def as_list(value: Any) -> list[str]:
    """A list option's value (None, a whitespace-separated string, or a list) as a list of items."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    return [item for v in value for item in str(v).split()]


def int_list(value: str) -> list[int]:
    try:
        return [int(v) for v in str(value).replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected space-separated integers, got {value!r}") from None


def _add_batching_arguments(g: Any) -> None:
    g.add_argument("--max_frames", type=int, default=0, help="max padded frames per batch (0: no cap)")
    g.add_argument("--num_buckets", type=int, default=10, help="length buckets of the batch sampler")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_config_argument(parser)
    g = parser.add_argument_group("data")
    g.add_argument(
        "--task", default="sentiment", choices=("sentiment", "pseudo"), help="3 classes or 2 (pseudo)"
    )
    g.add_argument(
        "--train_feats",
        action=_Repeatable,
        default=[],
        help="feats.scp to train on (repeatable; paired in order with --train_labels)",
    )
    g.add_argument(
        "--train_labels",
        action=_Repeatable,
        default=[],
        help="utt2sentiment (--task sentiment) or utt2pseudo (--task pseudo) of each --train_feats",
    )
    g.add_argument(
        "--train_utt_list",
        type=none_or_str,
        default=None,
        help="train on these utterances only (first column, e.g. data/swbd_train_5h/utt2spk)",
    )
    g.add_argument("--valid_feats", type=none_or_str, default=None, help="feats.scp selecting the best epoch")
    g.add_argument("--valid_labels", type=none_or_str, default=None, help="its labels (the task's label set)")
    g.add_argument(
        "--valid_fraction",
        type=float,
        default=0.05,
        help="without --valid_feats: share of the training conversation sides held out for selection",
    )
    g.add_argument(
        "--score_sets",
        action=_Repeatable,
        default=[],
        help="sets to score after training: NAME:FEATS_SCP:UTT2SENTIMENT (repeatable or space-separated; "
        "a set whose feats.scp is absent is skipped with a note)",
    )
    g.add_argument("--exp_dir", default=None, help="experiment dir, e.g. exp/e2e_blstm")
    g.add_argument("--max_open_files", type=int, default=64, help="ark files kept open per process")
    g = parser.add_argument_group("model")
    g.add_argument("--model", default="blstm", choices=("blstm", "cnn"), help="§3.2.1 BLSTM or fbank CNN")
    g.add_argument("--fc_dim", type=int, default=256, help="blstm: the FC layer before the BLSTM")
    g.add_argument("--lstm_dim", type=int, default=128, help="blstm: cells per direction")
    g.add_argument("--num_lstm_layers", type=int, default=2)
    g.add_argument("--attention_dim", type=int, default=0, help="attentive pooling: 0 linear scores, >0 MLP")
    g.add_argument("--cnn_channels", type=int_list, default=[128, 128, 256, 256], help="cnn: per layer")
    g.add_argument("--cnn_kernels", type=int_list, default=[5, 5, 3, 3])
    g.add_argument("--cnn_strides", type=int_list, default=[1, 2, 1, 2])
    g.add_argument("--cnn_pooling", default="mean", choices=("mean", "attention"))
    g.add_argument("--cnn_input_norm", default="utterance", choices=("utterance", "none"))
    g.add_argument("--dropout", type=float, default=0.2)
    g.add_argument(
        "--init_from", type=none_or_str, default=None, help="start from this model (e.g. exp/X/best.pth)"
    )
    g.add_argument(
        "--reset_head",
        type=str2bool,
        default=True,
        help="with --init_from: a new random output layer (pre-trained 2-class head discarded)",
    )
    g.add_argument("--class_weights", default="none", choices=("none", "balanced"), help="weighted CE")
    add_trainer_arguments(
        parser.add_argument_group("training"),
        select_metric="auto",
        select_metric_help="a scores.json key, loss, or auto (see above)",
        batching_arguments=_add_batching_arguments,
    )
    g = parser.add_argument_group("system.json (descriptive; auto: derived from the inputs)")
    g.add_argument("--system_train_set", default="auto", help="auto: the dir of the first --train_labels")
    g.add_argument(
        "--system_train_hours",
        type=none_or_float,
        default=None,
        help="hours of a --train_utt_list subset (default: summed from utt2dur beside the labels)",
    )
    g.add_argument("--system_input", default="auto", choices=("auto", "encoder", "fbank"))
    g.add_argument(
        "--system_pseudo_labeler",
        type=none_or_str,
        default=None,
        help="pseudo labeler of the labels (pseudo task) or of the --init_from model (default: its "
        "pretrain.json)",
    )
    g.add_argument(
        "--system_pseudo_sets",
        type=none_or_str,
        default=None,
        help="e.g. 'swbd_train fisher' (default: derived)",
    )
    g.add_argument(
        "--system_pseudo_transcript",
        default="auto",
        choices=("auto", "gt", "asr"),
        help="auto: from dir names",
    )
    parser.add_argument("--progress", type=str2bool, default=True, help="progress bars on stderr")
    cli.add_log_level_argument(parser)
    return parser


# ----------------------------------------------------------------------------------------------------------
# options


@dataclass(frozen=True)
class ScoreSet:
    """A set to score: its name (``score_<name>``), features and 3-class references."""

    name: str
    feats: Path
    labels: Path


def parse_score_sets(items: Sequence[str]) -> list[ScoreSet]:
    """``NAME:FEATS:LABELS`` (or ``FEATS:LABELS``, named after the labels' dir) items → :class:`ScoreSet`."""
    sets = []
    for item in items:
        parts = item.split(":")
        if len(parts) == 2:
            parts = [Path(parts[1]).parent.name, *parts]
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"--score_sets: expected NAME:FEATS_SCP:UTT2SENTIMENT, got {item!r}")
        sets.append(ScoreSet(parts[0], Path(parts[1]), Path(parts[2])))
    names = [s.name for s in sets]
    if len(set(names)) != len(names):
        raise ValueError(f"--score_sets: a set name given twice: {names}")
    return sets


def _feats_digest(scp: str | Path) -> dict[str, str | None]:
    """A feature dump by its scp and its info.json (a re-dump with another model changes the latter)."""
    return {"scp": file_digest(scp), "info": file_digest(Path(scp).parent / "info.json")}


def make_stamps(args: argparse.Namespace, score_sets: Sequence[ScoreSet]) -> tuple[dict, dict]:
    """(training stamp, scoring stamp): the options and input checksums each part depends on."""
    options = {k: v for k, v in sorted(vars(args).items()) if k not in _NOT_STAMPED | _SCORING_ONLY}
    options.pop("_given_lists", None)
    inputs: dict[str, Any] = {
        "train": [
            {"feats": _feats_digest(f), "labels": file_digest(lab)}
            for f, lab in zip(args.train_feats, args.train_labels, strict=True)
        ],
        "valid": {"feats": _feats_digest(args.valid_feats), "labels": file_digest(args.valid_labels)}
        if args.valid_feats
        else None,
        "train_utt_list": file_digest(args.train_utt_list),
        "init_from": file_digest(args.init_from),
    }
    training = {"options": options, "inputs": inputs}
    scoring = {
        "sets": {
            s.name: {"feats": _feats_digest(s.feats), "labels": file_digest(s.labels)} for s in score_sets
        },
        "system": {k: getattr(args, k) for k in sorted(_SCORING_ONLY - {"score_sets"})},
    }
    return training, scoring


# ----------------------------------------------------------------------------------------------------------
# data


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


def _loader(dataset: Any, args: argparse.Namespace, shuffle: bool, dist: Any) -> Any:
    from torch.utils.data import DataLoader

    from speechsent.data.feats_dataset import collate_feats
    from speechsent.training.sampler import BucketBatchSampler

    sampler = BucketBatchSampler(
        dataset.lengths,
        batch_size=args.batch_size,
        max_frames=args.max_frames,
        shuffle=shuffle,
        seed=args.seed,
        num_buckets=args.num_buckets,
        rank=dist.rank,
        world_size=dist.world_size,
    )
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_feats, num_workers=args.num_workers)


# ----------------------------------------------------------------------------------------------------------
# model


def model_config(args: argparse.Namespace, input_dim: int, num_classes: int) -> dict[str, Any]:
    """The classifier's config fields (``speechsent.models.build_model(args.model, **config)``)."""
    if args.model == "blstm":
        return {
            "input_dim": input_dim,
            "fc_dim": args.fc_dim,
            "lstm_dim": args.lstm_dim,
            "num_lstm_layers": args.num_lstm_layers,
            "attention_dim": args.attention_dim,
            "num_classes": num_classes,
            "dropout": args.dropout,
        }
    return {
        "input_dim": input_dim,
        "channels": list(args.cnn_channels),
        "kernels": list(args.cnn_kernels),
        "strides": list(args.cnn_strides),
        "pooling": args.cnn_pooling,
        "input_norm": args.cnn_input_norm,
        "num_classes": num_classes,
        "dropout": args.dropout,
    }


def init_model(model: Any, path: str | Path, reset_head: bool, model_json: dict[str, Any]) -> None:
    """Load ``path`` (a ``best.pth`` state_dict) into ``model``: all of it, or the body only with
    ``reset_head`` (the model's own, randomly initialised output layer stays). A model of another
    architecture is an error naming what differs."""
    import torch

    path = Path(path)
    init_json = read_json_or_none(path.parent / "model.json")
    if init_json is not None:
        ours = {k: v for k, v in model_json["config"].items() if k not in ("num_classes", "dropout")}
        theirs = {k: v for k, v in init_json.get("config", {}).items() if k not in ("num_classes", "dropout")}
        if init_json.get("architecture") != model_json["architecture"] or ours != theirs:
            raise ValueError(
                f"--init_from {path}: its model ({init_json.get('architecture')}, {theirs}) differs from "
                f"this one ({model_json['architecture']}, {ours})"
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


def _class_weights(counts: Sequence[int], labels: Sequence[str]) -> list[float]:
    """scikit-learn's "balanced" weights, n / (classes x count), of the training label counts."""
    import numpy as np
    from sklearn.utils.class_weight import compute_class_weight

    absent = [label for label, n in zip(labels, counts, strict=True) if n == 0]
    if absent:
        raise ValueError(f"--class_weights balanced: no training utterance of {', '.join(absent)}")
    y = np.repeat(np.arange(len(counts)), counts)
    return [float(w) for w in compute_class_weight("balanced", classes=np.arange(len(counts)), y=y)]


# ----------------------------------------------------------------------------------------------------------
# system description


def _set_name(label_file: str | Path) -> str:
    name = Path(label_file).parent.name
    return name[: -len("_asr")] if name.endswith("_asr") else name


def _pseudo_provenance(args: argparse.Namespace) -> dict[str, Any]:
    """pseudo_labeler, pseudo_sets, pseudo_transcript: of the labels (pseudo task) or of the --init_from
    model's pretrain.json (sentiment task); options override."""
    prov: dict[str, Any] = {"pseudo_labeler": None, "pseudo_sets": None, "pseudo_transcript": None}
    if args.task == "pseudo":
        dirs = [Path(lab).parent.name for lab in args.train_labels]
        prov["pseudo_sets"] = [_set_name(lab) for lab in args.train_labels]
        asr = [d.endswith("_asr") for d in dirs]
        prov["pseudo_transcript"] = "asr" if all(asr) else "gt" if not any(asr) else "mixed"
    elif args.init_from:
        pretrain = read_json_or_none(Path(args.init_from).parent / "pretrain.json") or {}
        prov.update({k: pretrain.get(k) for k in prov})
        if not pretrain:
            log.warning("%s: no pretrain.json beside it: pseudo-label provenance unknown", args.init_from)
    if args.system_pseudo_labeler:
        prov["pseudo_labeler"] = args.system_pseudo_labeler
    if args.system_pseudo_sets:
        prov["pseudo_sets"] = args.system_pseudo_sets.split()
    if args.system_pseudo_transcript != "auto":
        prov["pseudo_transcript"] = args.system_pseudo_transcript
    return prov


def _train_hours(args: argparse.Namespace, utts: Sequence[str]) -> float | None:
    """--system_train_hours; else, for a --train_utt_list subset, the utt2dur sum of its utterances."""
    if args.system_train_hours is not None or not args.train_utt_list:
        return args.system_train_hours
    from speechsent.data.kaldi_dir import read_table

    durations: dict[str, str] = {}
    for lab in args.train_labels:
        path = Path(lab).parent / "utt2dur"
        if path.is_file():
            durations.update(read_table(path, num_fields=2))
    if not durations:
        log.warning("no utt2dur beside %s: train_hours of the subset unknown", args.train_labels)
        return None
    return round(sum(float(durations.get(u, 0.0)) for u in utts) / 3600, 2)


# ----------------------------------------------------------------------------------------------------------
# the work


def _barrier(dist: Any) -> None:
    from speechsent.training.distributed import barrier

    barrier(dist)


def _score(
    trainer: Any, args: argparse.Namespace, score_set: ScoreSet, prior: Sequence[int], dist: Any
) -> Any:
    """Predict every utterance of ``score_set`` and write its score dir (rank 0); returns the scores."""
    from speechsent.data.feats_dataset import NO_FEATURES, NON_FINITE, FeatsDataset, read_label_file
    from speechsent.data.labels import SENTIMENT_LABELS
    from speechsent.scoring import score_system, write_predictions

    dataset = FeatsDataset(
        [(score_set.feats, score_set.labels)],
        SENTIMENT_LABELS,
        max_open_files=args.max_open_files,
        name=score_set.name,
    )
    ids, probs = trainer.predict(_loader(dataset, args, False, dist)) if len(dataset) else ([], [])
    if not dist.is_main:
        return None
    utt2prob = {u: [float(p) for p in row] for u, row in zip(ids, probs, strict=True)}
    refs = read_label_file(score_set.labels, SENTIMENT_LABELS)
    missing = [u for u in refs if u not in utt2prob]
    imputed: dict[str, str] = {}
    if missing:
        # why: not dumped (skipped while indexing), or a non-finite matrix (dropped when read, by this
        # rank or, under DDP, another: an indexed utterance without a prediction was dropped)
        left_out, indexed = dataset.left_out(), set(dataset.ids)
        token = {NO_FEATURES: "no_features", NON_FINITE: "non_finite_features"}
        for u in missing:
            reason = left_out.get(u, NON_FINITE if u in indexed else "")
            imputed[u] = token.get(reason, "no_prediction")
        total = max(1, sum(prior))
        prior_probs = [n / total for n in prior]
        log.warning(
            "%s: %d of %d utterances have no features (%d none dumped, %d non-finite): given the training "
            "prior's top class (imputed: counted in scores.json, listed in %s), e.g. %s",
            score_set.name,
            len(missing),
            len(refs),
            sum(r == "no_features" for r in imputed.values()),
            sum(r == "non_finite_features" for r in imputed.values()),
            Path(args.exp_dir) / f"score_{score_set.name}" / "utt2imputed",
            " ".join(missing[:5]),
        )
        for u in missing:
            utt2prob[u] = prior_probs
    utt2pred = {u: SENTIMENT_LABELS[max(range(len(row)), key=row.__getitem__)] for u, row in utt2prob.items()}
    score_dir = Path(args.exp_dir) / f"score_{score_set.name}"
    write_predictions(score_dir, utt2pred, utt2prob, SENTIMENT_LABELS, imputed=imputed)
    scores = score_system(score_dir, score_set.labels, SENTIMENT_LABELS)
    log.info(
        "%s: unweighted F1 %.2f REC %.2f PRE %.2f | weighted F1 %.2f (%d utts, %d imputed)",
        score_set.name,
        scores["unweighted_f1"],
        scores["unweighted_recall"],
        scores["unweighted_precision"],
        scores["weighted_f1"],
        scores["num_utts"],
        len(missing),
    )
    return scores


def train_e2e(args: argparse.Namespace) -> dict[str, Any]:
    """Train, select and score one E2E classifier; returns ``{"skipped", "scores": {set: dict}, ...}``.

    Idempotent: returns at once when ``<exp_dir>/.done`` holds the same options and input checksums.
    """
    exp_dir = Path(args.exp_dir)
    score_sets = []
    for s in parse_score_sets(args.score_sets):
        if s.feats.is_file() and s.labels.is_file():
            score_sets.append(s)
        else:
            log.info("score set %s: %s or %s absent: not scored", s.name, s.feats, s.labels)
    training_stamp, scoring_stamp = make_stamps(args, score_sets)
    stamp = {"training": training_stamp, "scoring": scoring_stamp}
    if is_done(exp_dir, stamp, force=args.force):
        return {"skipped": True, "scores": {}}

    import torch

    from speechsent.data.feats_dataset import NON_FINITE, FeatsDataset, read_utt_list
    from speechsent.data.labels import PSEUDO_LABELS, SENTIMENT_LABELS
    from speechsent.models import build_model
    from speechsent.training import Trainer, set_seed
    from speechsent.training.options import check_class_counts, trainer_config_from_args, trainer_run

    with trainer_run(args, exp_dir, training_stamp, training_files=_TRAINING_FILES) as dist:
        labels = SENTIMENT_LABELS if args.task == "sentiment" else PSEUDO_LABELS
        utt_list = read_utt_list(args.train_utt_list) if args.train_utt_list else None
        sources = list(zip(args.train_feats, args.train_labels, strict=True))
        train_data = FeatsDataset(sources, labels, utt_list, max_open_files=args.max_open_files, name="train")
        full_train = train_data  # before a held-out share is taken: what system.json's counts are of
        if args.valid_feats:
            valid_data = FeatsDataset(
                [(args.valid_feats, args.valid_labels)],
                labels,
                max_open_files=args.max_open_files,
                name="valid",
            )
            select_set = Path(args.valid_labels).parent.name
        else:
            held = heldout_utterances(train_data.ids, args.valid_fraction, args.seed)
            if not held:
                raise ValueError("no --valid_feats and nothing to hold out (--valid_fraction, too few sides)")
            keep = [i for i, u in enumerate(train_data.ids) if u not in held]
            valid_data = train_data.subset([i for i, u in enumerate(train_data.ids) if u in held], "heldout")
            train_data = train_data.subset(keep, "train")
            select_set = f"heldout_{args.valid_fraction:g}_of_train"
            log.info("selection on %d held-out training utterances (%s)", len(valid_data), select_set)
        if not len(train_data) or not len(valid_data):
            raise ValueError(f"no training ({len(train_data)}) or validation ({len(valid_data)}) utterances")
        if valid_data.dim != train_data.dim:
            raise ValueError(f"validation features have dim {valid_data.dim}, training ones {train_data.dim}")
        counts = train_data.class_counts()
        check_class_counts(
            counts,
            labels,
            allow=args.allow_missing_classes,
            what="training data (after skips and subsetting)",
        )

        set_seed(args.seed)  # the same initial weights on every rank and run
        config = model_config(args, train_data.dim, len(labels))
        model = build_model(args.model, **config)
        model_json = {
            "architecture": args.model,
            "config": config,
            "labels": list(labels),
            "task": args.task,
            "input": _input_kind(args),
            "weights": "best.pth",
        }
        if args.init_from:
            init_model(model, args.init_from, args.reset_head, model_json)
        if dist.is_main:
            write_stamp(exp_dir / "model.json", model_json)

        weight = None
        if args.class_weights == "balanced":
            weight = torch.tensor(_class_weights(counts, labels))
            log.info("class weights %s", [round(w, 4) for w in weight.tolist()])

        def loss_fn(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            w = weight.to(logits.device) if weight is not None else None
            return torch.nn.functional.cross_entropy(logits.float(), targets, weight=w)

        select_metric = args.select_metric
        if select_metric == "auto":
            select_metric = "unweighted_f1" if args.task == "sentiment" else "loss"
        trainer_config = trainer_config_from_args(args, select_metric=select_metric)
        trainer = Trainer(model, trainer_config, exp_dir, labels=labels, loss_fn=loss_fn, dist=dist)
        start = time.time()
        result = trainer.fit(_loader(train_data, args, True, dist), _loader(valid_data, args, False, dist))
        log.info(
            "trained in %.1f s: best epoch %d (%s %.4g), %d epochs run",
            time.time() - start,
            result.best_epoch,
            select_metric,
            result.best_metric,
            result.epochs_run,
        )
        trainer.load_best()
        # what was left out: while indexing, and (from the Trainer, every rank and epoch, also of a run
        # resumed from its checkpoint) the matrices found non-finite when read
        dropped_train = result.dropped_train
        train_left = full_train.left_out()
        valid_left = valid_data.left_out() if args.valid_feats else {}
        for u in (*dropped_train, *(result.dropped_valid if not args.valid_feats else ())):
            train_left.setdefault(u, NON_FINITE)
        for u in result.dropped_valid if args.valid_feats else ():
            valid_left.setdefault(u, NON_FINITE)
        trained = [u not in dropped_train and u not in train_left for u in train_data.ids]
        counts = [0] * len(labels)
        for ok, target in zip(trained, train_data.targets, strict=True):
            counts[target] += ok
        train_skipped, valid_skipped = _reason_counts(train_left), _reason_counts(valid_left)
        if train_skipped or valid_skipped:
            log.warning(
                "left out: of the training data %s; of the validation data %s",
                _describe(train_skipped),
                _describe(valid_skipped),
            )
        check_class_counts(
            counts, labels, allow=args.allow_missing_classes, what="training data (after non-finite skips)"
        )

        all_scores: dict[str, Any] = {}
        for score_set in score_sets:
            scores = _score(trainer, args, score_set, counts, dist)
            if scores is not None:
                all_scores[score_set.name] = scores

        if dist.is_main:
            system = {
                "system": exp_dir.resolve().name,
                "family": "e2e",
                "architecture": args.model,
                "input": model_json["input"],
                "train_set": _set_name(args.train_labels[0])
                if args.system_train_set == "auto"
                else args.system_train_set,
                "train_hours": _train_hours(args, train_data.ids),
                "lm": None,
                **_pseudo_provenance(args),
                "seed": args.seed,
                "select_set": select_set,
                "best_epoch": result.best_epoch,
                "init_from": args.init_from,
                "num_train_utts": sum(counts),
                "train_skipped": train_skipped,
                "valid_skipped": valid_skipped,
                "config": {
                    k: v for k, v in sorted(vars(args).items()) if k not in ("config", "_given_lists")
                },
            }
            # a pre-trained pseudo-label model is no sentiment system: pretrain.json, not system.json
            write_stamp(exp_dir / ("system.json" if args.task == "sentiment" else "pretrain.json"), system)
            write_stamp(exp_dir / ".done", stamp)
        _barrier(dist)
        return {"skipped": False, "scores": all_scores, "best_epoch": result.best_epoch, "result": result}


def _reason_counts(left_out: dict[str, str]) -> dict[str, int]:
    """reason -> count, sorted by reason (system.json)."""
    counts: dict[str, int] = {}
    for reason in left_out.values():
        counts[reason] = counts.get(reason, 0) + 1
    return dict(sorted(counts.items()))


def _describe(reason_counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in reason_counts.items()) or "none"


def _input_kind(args: argparse.Namespace) -> str:
    if args.system_input != "auto":
        return args.system_input
    return "fbank" if any("fbank" in Path(f).parts for f in args.train_feats) else "encoder"


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    for name in _LIST_OPTIONS:
        setattr(args, name, as_list(getattr(args, name)))
    if hasattr(args, "_given_lists"):
        del args._given_lists
    if not args.exp_dir:
        parser.error("--exp_dir is required")
    if not args.train_feats:
        parser.error("--train_feats is required")
    if len(args.train_feats) != len(args.train_labels):
        parser.error(
            f"--train_feats ({len(args.train_feats)}) and --train_labels ({len(args.train_labels)}) must pair"
        )
    if bool(args.valid_feats) != bool(args.valid_labels):
        parser.error("--valid_feats and --valid_labels go together")
    if not 0 < args.valid_fraction < 1:
        parser.error("--valid_fraction must be in (0, 1)")
    if args.task == "pseudo" and args.score_sets:
        parser.error("--score_sets scores 3-class sentiment: not with --task pseudo")
    check_trainer_args(parser, args)
    try:
        parse_score_sets(args.score_sets)
    except ValueError as error:
        parser.error(str(error))
    cli.setup_logging(args.log_level)
    from speechsent.data.kaldi_dir import KaldiDataError

    return cli.run_reporting_errors(
        lambda: train_e2e(args), log, (KaldiDataError, OSError, ValueError, RuntimeError)
    )


if __name__ == "__main__":
    sys.exit(main())
