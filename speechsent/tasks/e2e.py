"""The E2E task (stage 9): speech sentiment classifiers on dumped frame features.

:class:`E2EConfig` holds the options of ``speechsent-train-e2e`` (same names and defaults; the option
reference is that program's ``--help``); :class:`E2ETask` builds the feature datasets (a held-out share of
the training conversation sides when there is no validation set) and the classifier (``blstm`` or ``cnn``,
optionally initialised from a pre-trained model), and scores every ``score_sets`` entry, imputing the
training prior's top class for an utterance without usable features. The lifecycle is
:class:`speechsent.tasks.abs_task.AbsTask`'s. From Python::

    from speechsent.tasks.e2e import E2EConfig, E2ETask
    E2ETask.run(E2EConfig(train_feats=["dump/x/feats.scp"], train_labels=["data/x/utt2sentiment"],
                          valid_feats=..., valid_labels=..., exp_dir="exp/e2e_blstm"))
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsent.tasks.abs_task import AbsTask, Built, ConfigError, ScoreTarget, SetPrediction
from speechsent.tasks.e2e_args import add_e2e_arguments, as_list
from speechsent.tasks.e2e_parts import (
    body_head_groups,
    check_labeler_records,
    check_pretrain_fingerprint,
    class_weights,
    describe,
    encoder_of,
    heldout_utterances,
    init_model,
    input_kind,
    label_digests,
    model_config,
    pretrain_fingerprint,
    pseudo_provenance,
    reason_counts,
    set_name,
    train_hours,
)
from speechsent.tasks.manifests import E2EModelManifest, PretrainManifest, SystemManifest
from speechsent.training.options import TrainerOptions
from speechsent.utils.digest import file_digest

__all__ = ["E2EConfig", "E2ETask", "parse_score_sets"]

log = logging.getLogger("speechsent.train_e2e")

_LIST_OPTIONS = ("train_feats", "train_labels", "score_sets")


@dataclass
class E2EConfig(TrainerOptions):
    """The options of ``speechsent-train-e2e`` (see its ``--help``); lists may also be given as one
    whitespace-separated string."""

    task: str = "sentiment"
    train_feats: list[str] = field(default_factory=list)
    train_labels: list[str] = field(default_factory=list)
    train_utt_list: str | None = None
    valid_feats: str | None = None
    valid_labels: str | None = None
    valid_fraction: float = 0.05
    score_sets: list[str] = field(default_factory=list)
    pseudo_labeler_dir: str | None = None
    expect_pseudo_fingerprint: str | None = None
    exp_dir: str | None = None
    max_open_files: int = 64
    model: str = "blstm"
    fc_dim: int = 256
    lstm_dim: int = 128
    num_lstm_layers: int = 2
    attention_dim: int = 0
    cnn_channels: list[int] = field(default_factory=lambda: [128, 128, 256, 256])
    cnn_kernels: list[int] = field(default_factory=lambda: [5, 5, 3, 3])
    cnn_strides: list[int] = field(default_factory=lambda: [1, 2, 1, 2])
    cnn_pooling: str = "mean"
    cnn_input_norm: str = "utterance"
    dropout: float = 0.2
    init_from: str | None = None
    reset_head: bool = True
    body_lr: float | None = None
    class_weights: str = "none"
    select_metric: str = "auto"
    max_frames: int = 0
    num_buckets: int = 10
    system_train_set: str = "auto"
    system_train_hours: float | None = None
    system_input: str = "auto"
    system_encoder: str = "auto"
    system_pseudo_labeler: str | None = None
    system_pseudo_sets: str | None = None
    system_pseudo_transcript: str = "auto"


def parse_score_sets(items: Sequence[str]) -> list[ScoreTarget]:
    """``NAME:FEATS:LABELS`` (or ``FEATS:LABELS``, named after the labels' dir) items → targets."""
    sets = []
    for item in items:
        parts = item.split(":")
        if len(parts) == 2:
            parts = [Path(parts[1]).parent.name, *parts]
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"--score_sets: expected NAME:FEATS_SCP:UTT2SENTIMENT, got {item!r}")
        sets.append(ScoreTarget(parts[0], Path(parts[1]), Path(parts[2])))
    names = [s.name for s in sets]
    if len(set(names)) != len(names):
        raise ValueError(f"--score_sets: a set name given twice: {names}")
    return sets


def _feats_digest(scp: str | Path) -> dict[str, str | None]:
    """A feature dump by its scp and its info.json (a re-dump with another model changes the latter)."""
    return {"scp": file_digest(scp), "info": file_digest(Path(scp).parent / "info.json")}


class E2ETask(AbsTask[E2EConfig]):
    """Train, select and score one E2E classifier (``--task sentiment``) or pre-train one (``pseudo``)."""

    config_class = E2EConfig
    log = log
    training_files = (
        "checkpoint.pth",
        "best.pth",
        "metrics.jsonl",
        "model.json",
        "system.json",
        "pretrain.json",
    )
    not_stamped = frozenset(
        {"config", "log_level", "progress", "num_workers", "num_threads", "ngpu", "force", "max_open_files"}
        | {"allow_missing_classes", "expect_pseudo_fingerprint", "pseudo_labeler_dir"}
    )
    scoring_only = frozenset(
        {"score_sets", "system_train_hours", "system_pseudo_labeler", "system_pseudo_sets"}
        | {"system_pseudo_transcript", "system_input", "system_encoder", "system_train_set"}
    )
    counts_imputed = True

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        add_e2e_arguments(parser)

    @classmethod
    def check_config(cls, config: E2EConfig) -> None:
        for name in _LIST_OPTIONS:
            setattr(config, name, as_list(getattr(config, name)))
        c = config
        if not c.exp_dir:
            raise ConfigError("--exp_dir is required")
        if not c.train_feats:
            raise ConfigError("--train_feats is required")
        if len(c.train_feats) != len(c.train_labels):
            raise ConfigError(
                f"--train_feats ({len(c.train_feats)}) and --train_labels ({len(c.train_labels)}) must pair"
            )
        if bool(c.valid_feats) != bool(c.valid_labels):
            raise ConfigError("--valid_feats and --valid_labels go together")
        if not 0 < c.valid_fraction < 1:
            raise ConfigError("--valid_fraction must be in (0, 1)")
        if c.task == "pseudo" and c.score_sets:
            raise ConfigError("--score_sets scores 3-class sentiment: not with --task pseudo")
        if c.pseudo_labeler_dir and c.task != "pseudo":
            raise ConfigError("--pseudo_labeler_dir checks the labels of --task pseudo only")
        if c.body_lr is not None and c.body_lr < 0:
            raise ConfigError("--body_lr must be >= 0")
        if c.expect_pseudo_fingerprint and (c.task != "sentiment" or not c.init_from):
            raise ConfigError("--expect_pseudo_fingerprint checks the --init_from model of --task sentiment")
        super().check_config(config)
        try:
            parse_score_sets(c.score_sets)
        except ValueError as error:
            raise ConfigError(str(error)) from None

    # ------------------------------------------------------------------ inputs

    def __init__(self, config: E2EConfig) -> None:
        super().__init__(config)
        self.pseudo_labels: dict[str, str | None] | None = None  # pseudo task: the labels' SHA-256

    def check_inputs(self) -> None:
        """The pseudo labels are the --pseudo_labeler_dir's; the --init_from model was pre-trained on the
        labels of --expect_pseudo_fingerprint."""
        c = self.config
        if c.task == "pseudo":
            self.pseudo_labels = label_digests(c.train_labels)
            if c.pseudo_labeler_dir:
                check_labeler_records(self.pseudo_labels, c.pseudo_labeler_dir)
        elif c.expect_pseudo_fingerprint:
            assert c.init_from
            check_pretrain_fingerprint(c.init_from, c.expect_pseudo_fingerprint)

    def score_targets(self) -> list[ScoreTarget]:
        targets = []
        for s in parse_score_sets(self.config.score_sets):
            if s.inputs.is_file() and s.labels is not None and s.labels.is_file():
                targets.append(s)
            else:
                log.info("score set %s: %s or %s absent: not scored", s.name, s.inputs, s.labels)
        return targets

    def input_stamps(self, targets: Sequence[ScoreTarget]) -> tuple[dict, dict]:
        c = self.config
        inputs: dict[str, Any] = {
            "train": [
                {"feats": _feats_digest(f), "labels": file_digest(lab)}
                for f, lab in zip(c.train_feats, c.train_labels, strict=True)
            ],
            "valid": {"feats": _feats_digest(c.valid_feats), "labels": file_digest(c.valid_labels)}
            if c.valid_feats
            else None,
            "train_utt_list": file_digest(c.train_utt_list),
            "init_from": file_digest(c.init_from),
        }
        scoring = {
            "sets": {
                s.name: {"feats": _feats_digest(s.inputs), "labels": file_digest(s.labels)} for s in targets
            },
            "system": {k: getattr(c, k) for k in sorted(self.scoring_only - {"score_sets"})},
        }
        # what system.json / pretrain.json name (keys only when used: the stamps of other runs stay as they
        # were): the labeler (pre-training), the pre-training's pseudo labels (fine-tuning; its best.pth is
        # a training input already)
        if c.task == "pseudo" and c.pseudo_labeler_dir:
            scoring["pseudo_labeler_dir"] = c.pseudo_labeler_dir
        if c.init_from:
            scoring["init_from_pseudo_fingerprint"] = pretrain_fingerprint(c.init_from)[1]
        return inputs, scoring

    def _datasets(self, labels: Sequence[str]) -> tuple[Any, Any, Any, str]:
        """(full training set, training set, validation set, name of the selection set)."""
        from speechsent.data.feats_dataset import FeatsDataset, read_utt_list

        c = self.config
        utt_list = read_utt_list(c.train_utt_list) if c.train_utt_list else None
        sources = list(zip(c.train_feats, c.train_labels, strict=True))
        train_data = FeatsDataset(sources, labels, utt_list, max_open_files=c.max_open_files, name="train")
        full_train = train_data  # before a held-out share is taken: what system.json's counts are of
        if c.valid_feats:
            valid_data = FeatsDataset(
                [(c.valid_feats, c.valid_labels)], labels, max_open_files=c.max_open_files, name="valid"
            )
            select_set = Path(c.valid_labels or "").parent.name
        else:
            held = heldout_utterances(train_data.ids, c.valid_fraction, c.seed)
            if not held:
                raise ValueError("no --valid_feats and nothing to hold out (--valid_fraction, too few sides)")
            keep = [i for i, u in enumerate(train_data.ids) if u not in held]
            valid_data = train_data.subset([i for i, u in enumerate(train_data.ids) if u in held], "heldout")
            train_data = train_data.subset(keep, "train")
            select_set = f"heldout_{c.valid_fraction:g}_of_train"
            log.info("selection on %d held-out training utterances (%s)", len(valid_data), select_set)
        if not len(train_data) or not len(valid_data):
            raise ValueError(f"no training ({len(train_data)}) or validation ({len(valid_data)}) utterances")
        if valid_data.dim != train_data.dim:
            raise ValueError(f"validation features have dim {valid_data.dim}, training ones {train_data.dim}")
        if valid_data.num_layers != train_data.num_layers:
            raise ValueError(
                f"validation features stack {valid_data.num_layers} encoder layers, training ones "
                f"{train_data.num_layers}"
            )
        return full_train, train_data, valid_data, select_set

    def build(self, dist: Any) -> Built:
        from speechsent.data.labels import PSEUDO_LABELS, SENTIMENT_LABELS
        from speechsent.models import build_model
        from speechsent.training import set_seed
        from speechsent.training.options import check_class_counts, trainer_config_from_options

        c = self.config
        labels = SENTIMENT_LABELS if c.task == "sentiment" else PSEUDO_LABELS
        full_train, train_data, valid_data, select_set = self._datasets(labels)
        counts = train_data.class_counts()
        what = "training data (after skips and subsetting)"
        check_class_counts(counts, labels, allow=c.allow_missing_classes, what=what)

        set_seed(c.seed)  # the same initial weights on every rank and run
        config = model_config(c, train_data.dim, len(labels), train_data.num_layers)
        model = build_model(c.model, **config)
        manifest = E2EModelManifest(c.model, config, list(labels), c.task, input_kind(c), "best.pth")
        if c.init_from:
            init_model(model, c.init_from, c.reset_head, manifest)
        weight = None
        if c.class_weights == "balanced":
            import torch

            weight = torch.tensor(class_weights(counts, labels))
        select_metric = c.select_metric
        if select_metric == "auto":
            select_metric = "unweighted_f1" if c.task == "sentiment" else "loss"
        return Built(
            train_data,
            valid_data,
            model,
            manifest,
            labels,
            trainer_config_from_options(c, select_metric=select_metric),
            class_weight=weight,
            trainer_kwargs={"param_groups": body_head_groups(model, c.lr, c.body_lr)},
            state={"full_train": full_train, "select_set": select_set},
        )

    def lengths(self, dataset: Any) -> Sequence[int]:
        return dataset.lengths

    def collate(self, dataset: Any) -> Any:
        from speechsent.data.feats_dataset import collate_feats

        return collate_feats

    def batching(self) -> dict[str, Any]:
        return {"max_frames": self.config.max_frames, "num_buckets": self.config.num_buckets}

    # ------------------------------------------------------------------ after training

    def after_fit(self, built: Built, fit: Any) -> None:
        """What was left out: while indexing, and (from the Trainer, every rank and epoch, also of a run
        resumed from its checkpoint) the matrices found non-finite when read; the classes trained on."""
        from speechsent.data.feats_dataset import NON_FINITE
        from speechsent.training.options import check_class_counts

        c, train_data = self.config, built.train_data
        dropped_train = fit.dropped_train
        train_left = built.state["full_train"].left_out()
        valid_left = built.valid_data.left_out() if c.valid_feats else {}
        for u in (*dropped_train, *(fit.dropped_valid if not c.valid_feats else ())):
            train_left.setdefault(u, NON_FINITE)
        for u in fit.dropped_valid if c.valid_feats else ():
            valid_left.setdefault(u, NON_FINITE)
        trained = [u not in dropped_train and u not in train_left for u in train_data.ids]
        counts = [0] * len(built.labels)
        for ok, target in zip(trained, train_data.targets, strict=True):
            counts[target] += ok
        train_skipped, valid_skipped = reason_counts(train_left), reason_counts(valid_left)
        if train_skipped or valid_skipped:
            log.warning(
                "left out: of the training data %s; of the validation data %s",
                describe(train_skipped),
                describe(valid_skipped),
            )
        what = "training data (after non-finite skips)"
        check_class_counts(counts, built.labels, allow=c.allow_missing_classes, what=what)
        built.state.update(counts=counts, train_skipped=train_skipped, valid_skipped=valid_skipped)

    def predict_set(self, trainer: Any, built: Built, target: ScoreTarget, dist: Any) -> SetPrediction | None:
        from speechsent.data.feats_dataset import NO_FEATURES, NON_FINITE, FeatsDataset, read_label_file
        from speechsent.data.labels import SENTIMENT_LABELS

        assert target.labels is not None
        c = self.config
        dataset = FeatsDataset(
            [(target.inputs, target.labels)],
            SENTIMENT_LABELS,
            max_open_files=c.max_open_files,
            name=target.name,
        )
        ids, probs = trainer.predict(self.loader(dataset, False, dist)) if len(dataset) else ([], [])
        if not dist.is_main:
            return None
        utt2prob = {u: [float(p) for p in row] for u, row in zip(ids, probs, strict=True)}
        refs = read_label_file(target.labels, SENTIMENT_LABELS)
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
            prior = built.state["counts"]
            total = max(1, sum(prior))
            prior_probs = [n / total for n in prior]
            log.warning(
                "%s: %d of %d utterances have no features (%d none dumped, %d non-finite): given the "
                "training prior's top class (imputed: counted in scores.json, listed in %s), e.g. %s",
                target.name,
                len(missing),
                len(refs),
                sum(r == "no_features" for r in imputed.values()),
                sum(r == "non_finite_features" for r in imputed.values()),
                self.exp_dir / f"score_{target.name}" / "utt2imputed",
                " ".join(missing[:5]),
            )
            for u in missing:
                utt2prob[u] = prior_probs
        return SetPrediction(utt2prob, target.labels, imputed)

    def system_manifest(self, built: Built, fit: Any) -> SystemManifest:
        # a pre-trained pseudo-label model is no sentiment system: pretrain.json, not system.json
        c, state = self.config, built.state
        kind = SystemManifest if c.task == "sentiment" else PretrainManifest
        return kind(
            system=self.exp_dir.resolve().name,
            family="e2e",
            architecture=c.model,
            input=built.manifest.input,
            encoder=encoder_of(c, built.manifest.input),
            train_set=set_name(c.train_labels[0]) if c.system_train_set == "auto" else c.system_train_set,
            train_hours=train_hours(c, built.train_data.ids),
            lm=None,
            **pseudo_provenance(c, self.pseudo_labels),
            seed=c.seed,
            select_set=state["select_set"],
            best_epoch=fit.best_epoch,
            init_from=c.init_from,
            num_train_utts=sum(state["counts"]),
            train_skipped=state["train_skipped"],
            valid_skipped=state["valid_skipped"],
            config={k: v for k, v in self.options().items() if k != "config"},
        )
