"""The training lifecycle every classifier task shares (ESPnet's ``AbsTask`` habit, not its size).

A task is a subclass of :class:`AbsTask` with a config dataclass (its fields are the command-line options,
so a YAML ``--config`` has the same keys) that says how to build its inputs and its model; :meth:`AbsTask.run`
does the rest, the same way for every task::

    inputs checked → score targets found → stamps of the options and inputs → .done matches? nothing to do
    → runtime (threads, GPUs, DDP) and the exp dir (continued or cleared) → build data and model
    → model.json → Trainer.fit → best model → score every target (argmax, score_<set>/{utt2pred,utt2prob,
    scores.json}) → system.json / pretrain.json → .done

From Python: ``E2ETask.run(E2EConfig(train_feats=[...], ..., exp_dir="exp/x"))``; the entry points in
``speechsent/bin/`` parse a command line into the same config. Light at import: torch is imported inside.
The file layout is in docs/contracts.md.
"""

from __future__ import annotations

import abc
import argparse
import dataclasses
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from speechsent.tasks.manifests import SystemManifest
from speechsent.training.options import TrainerOptions, check_trainer_options
from speechsent.training.stamps import DONE, is_done, write_stamp

__all__ = ["AbsTask", "Built", "ConfigError", "ScoreTarget", "SetPrediction", "TaskResult", "argmax_labels"]

C = TypeVar("C", bound=TrainerOptions)


class ConfigError(ValueError):
    """A config that cannot be run (a usage error: the entry points exit with status 2)."""


@dataclass(frozen=True)
class ScoreTarget:
    """A set to score: its name (``score_<name>``), its inputs (the task's) and its 3-class references."""

    name: str
    inputs: Path
    labels: Path | None


@dataclass
class Built:
    """What a task's :meth:`AbsTask.build` made: the data, the model and how to train it."""

    train_data: Any
    valid_data: Any
    model: Any
    manifest: Any  # the model.json manifest
    labels: Sequence[str]
    trainer_config: Any
    class_weight: Any = None  # a tensor of per-class loss weights, or None
    trainer_kwargs: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)  # the task's own (e.g. the held-out set's name)


@dataclass
class SetPrediction:
    """One scored set's probabilities (``utt -> row in labels order``), references, imputed utterances."""

    utt2prob: dict[str, list[float]]
    references: Path
    imputed: dict[str, str] = field(default_factory=dict)


@dataclass
class TaskResult:
    """What :meth:`AbsTask.run` did: ``skipped`` (``.done`` matched), the scores by set, the best epoch."""

    skipped: bool
    scores: dict[str, Any] = field(default_factory=dict)
    best_epoch: int | None = None
    fit: Any = None  # the Trainer's FitResult


def argmax_labels(utt2prob: dict[str, list[float]], labels: Sequence[str]) -> dict[str, str]:
    """Each utterance's most probable label (the first of equal ones)."""
    return {u: labels[max(range(len(row)), key=row.__getitem__)] for u, row in utt2prob.items()}


def cross_entropy(weight: Any) -> Any:
    """The training loss: cross-entropy in float32, optionally class-weighted."""
    import torch

    def loss_fn(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        w = weight.to(logits.device) if weight is not None else None
        return torch.nn.functional.cross_entropy(logits.float(), targets, weight=w)

    return loss_fn


def barrier(dist: Any) -> None:
    from speechsent.training.distributed import barrier as _barrier

    _barrier(dist)


def json_value(value: Any) -> Any:
    """``value`` as JSON reads it back (tuples → lists, paths → str): a stamp compares equal to its file."""
    return json.loads(json.dumps(value, default=str))


class AbsTask(abc.ABC, Generic[C]):
    """One classifier task; subclasses set the class attributes and implement the abstract methods."""

    config_class: ClassVar[type]
    log: ClassVar[logging.Logger]
    #: Files of one training run in the exp dir (removed when training restarts).
    training_files: ClassVar[tuple[str, ...]]
    #: Options that change neither the trained model nor its scores / that only change the scores.
    not_stamped: ClassVar[frozenset[str]]
    scoring_only: ClassVar[frozenset[str]]
    #: The score log line counts imputed utterances.
    counts_imputed: ClassVar[bool] = False
    #: The format of the best metric in the "trained in" log line.
    metric_format: ClassVar[str] = "%.4g"

    def __init__(self, config: C) -> None:
        self.config = config
        self.exp_dir = Path(config.exp_dir)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ what a task says

    @classmethod
    @abc.abstractmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add the task's options (the config's fields) to ``parser``."""

    @classmethod
    def check_config(cls, config: C) -> None:
        """Usage checks; a :class:`ConfigError` names the option. Normalises the config in place."""
        try:
            check_trainer_options(config)
        except ValueError as error:
            raise ConfigError(str(error)) from None

    def check_inputs(self) -> None:
        """Checks of what the inputs hold, before anything is done or skipped (a ValueError names a file)."""

    @abc.abstractmethod
    def score_targets(self) -> list[ScoreTarget]:
        """The sets to score that exist (the others logged and left out)."""

    @abc.abstractmethod
    def input_stamps(self, targets: Sequence[ScoreTarget]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(training inputs, scoring stamp): the checksums of what training and scoring read."""

    @abc.abstractmethod
    def build(self, dist: Any) -> Built:
        """The datasets and the model, made in the task's order of random draws."""

    @abc.abstractmethod
    def lengths(self, dataset: Any) -> Sequence[int]:
        """The lengths of ``dataset``'s items (frames, tokens), for the length-bucketed batches."""

    @abc.abstractmethod
    def collate(self, dataset: Any) -> Any:
        """The function that makes a batch of ``dataset``'s items."""

    def batching(self) -> dict[str, Any]:
        """The task's own options of the batch sampler (e.g. ``max_frames``)."""
        return {}

    @abc.abstractmethod
    def predict_set(self, trainer: Any, built: Built, target: ScoreTarget, dist: Any) -> SetPrediction | None:
        """The trained model's probabilities on ``target`` (None on the ranks other than 0)."""

    @abc.abstractmethod
    def system_manifest(self, built: Built, fit: Any) -> SystemManifest:
        """The ``system.json`` (or ``pretrain.json``) of the finished run."""

    def after_fit(self, built: Built, fit: Any) -> None:
        """Called once the best model is loaded, before scoring."""

    # ------------------------------------------------------------------ the lifecycle

    @classmethod
    def config_from_namespace(cls, args: argparse.Namespace) -> C:
        """The config of a parsed command line (every option a field of :attr:`config_class`)."""
        values = {k: v for k, v in vars(args).items() if not k.startswith("_")}
        names = {f.name for f in dataclasses.fields(cls.config_class)}
        if set(values) != names:
            raise TypeError(
                f"{cls.config_class.__name__}: the options and the fields differ: {set(values) ^ names}"
            )
        return cls.config_class(**values)

    @classmethod
    def run(cls, config: C) -> TaskResult:
        """Check ``config``, then train, select and score; idempotent (``<exp_dir>/.done``)."""
        cls.check_config(config)
        return cls(config).train()

    def options(self) -> dict[str, Any]:
        """The config as a sorted dict (the stamps' and system.json's ``config``)."""
        return dict(sorted(asdict(self.config).items()))  # type: ignore[call-overload]

    def make_stamps(self, targets: Sequence[ScoreTarget]) -> tuple[dict, dict]:
        """(training stamp, scoring stamp): the options and input checksums each part depends on."""
        skip = self.not_stamped | self.scoring_only
        options = {k: v for k, v in self.options().items() if k not in skip}
        inputs, scoring = self.input_stamps(targets)
        return json_value({"options": options, "inputs": inputs}), json_value(scoring)

    def train(self) -> TaskResult:
        from speechsent.training.options import trainer_run

        self.check_inputs()
        targets = self.score_targets()
        training_stamp, scoring_stamp = self.make_stamps(targets)
        stamp = {"training": training_stamp, "scoring": scoring_stamp}
        if is_done(self.exp_dir, stamp, force=self.config.force):
            return TaskResult(skipped=True)
        with trainer_run(
            self.config, self.exp_dir, training_stamp, training_files=self.training_files
        ) as dist:
            result = self._train_and_score(dist, targets, stamp)
            barrier(dist)
        return result

    def _train_and_score(self, dist: Any, targets: Sequence[ScoreTarget], stamp: dict) -> TaskResult:
        """Build, fit, score every target, write the manifests and ``.done``. The model and the Trainer
        (its DDP wrapper holds the process group) are released on return, before the process group is
        destroyed: a gloo group outliving its DDP reducer until interpreter exit can abort the process."""
        built = self.build(dist)
        if dist.is_main:
            built.manifest.write(self.exp_dir / built.manifest.FILE)
        trainer, fit = self._fit(built, dist)
        self.after_fit(built, fit)
        scores: dict[str, Any] = {}
        for target in targets:
            result = self._score(trainer, built, target, dist)
            if result is not None:
                scores[target.name] = result
        if dist.is_main:
            manifest = self.system_manifest(built, fit)
            manifest.write(self.exp_dir / manifest.FILE)
            write_stamp(self.exp_dir / DONE, stamp)
        return TaskResult(False, scores, fit.best_epoch, fit)

    def loader(self, dataset: Any, shuffle: bool, dist: Any) -> Any:
        """A DataLoader of ``dataset``: length-bucketed batches, this rank's share."""
        from torch.utils.data import DataLoader

        from speechsent.training.sampler import BucketBatchSampler

        c = self.config
        sampler = BucketBatchSampler(
            self.lengths(dataset),
            batch_size=c.batch_size,
            shuffle=shuffle,
            seed=c.seed,
            rank=dist.rank,
            world_size=dist.world_size,
            **self.batching(),
        )
        return DataLoader(
            dataset, batch_sampler=sampler, collate_fn=self.collate(dataset), num_workers=c.num_workers
        )

    def _fit(self, built: Built, dist: Any) -> tuple[Any, Any]:
        """Train ``built.model`` and load the best epoch's weights; returns the Trainer and its FitResult."""
        from speechsent.training import Trainer

        if built.class_weight is not None:
            self.log.info("class weights %s", [round(w, 4) for w in built.class_weight.tolist()])
        trainer = Trainer(
            built.model,
            built.trainer_config,
            self.exp_dir,
            labels=built.labels,
            loss_fn=cross_entropy(built.class_weight),
            dist=dist,
            **built.trainer_kwargs,
        )
        start = time.time()
        fit = trainer.fit(
            self.loader(built.train_data, True, dist), self.loader(built.valid_data, False, dist)
        )
        self.log.info(
            "trained in %.1f s: best epoch %d (%s " + self.metric_format + "), %d epochs run",
            time.time() - start,
            fit.best_epoch,
            built.trainer_config.select_metric,
            fit.best_metric,
            fit.epochs_run,
        )
        trainer.load_best()
        return trainer, fit

    def _score(self, trainer: Any, built: Built, target: ScoreTarget, dist: Any) -> dict[str, Any] | None:
        """Predict ``target``, write ``score_<name>/`` (rank 0); returns its scores."""
        from speechsent.scoring import score_system, write_predictions

        prediction = self.predict_set(trainer, built, target, dist)
        if prediction is None:
            return None
        labels = list(built.labels)
        score_dir = self.exp_dir / f"score_{target.name}"
        utt2pred = argmax_labels(prediction.utt2prob, labels)
        write_predictions(score_dir, utt2pred, prediction.utt2prob, labels, imputed=prediction.imputed)
        scores = score_system(score_dir, prediction.references, labels)
        line = "%s: unweighted F1 %.2f REC %.2f PRE %.2f | weighted F1 %.2f (%d utts"
        values = [
            target.name,
            *(scores[k] for k in ("unweighted_f1", "unweighted_recall")),
        ]
        values += [scores["unweighted_precision"], scores["weighted_f1"], scores["num_utts"]]
        if self.counts_imputed:
            line += ", %d imputed"
            values.append(len(prediction.imputed))
        self.log.info(line + ")", *values)
        return scores
