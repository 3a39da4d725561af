"""Finding the scored systems and pseudo labelers of an exp dir, and averaging seed repeats.

What is read (written by the training tasks, ``speechsent/tasks/``, and the scorer, ``speechsent/scoring/``;
``system.json`` through its typed manifest, :class:`speechsent.tasks.manifests.SystemManifest`)::

    exp/<system>/system.json                      what the system is (family, architecture, input, hours, ...)
    exp/<system>/score_<set>/scores.json          its scores on <set> (percent; docs/contracts.md keys)
    exp/pseudo_labeler_<name>/labeler.json        a pseudo labeler (stage 6)
    exp/pseudo_labeler_<name>/eval_<set>/scores.json   its Negative/Positive recall on <set> (Table 3)
    exp/pseudo_labeler_<name>/sst2_results.json   SST-2 fine-tuning: ``dev_accuracy`` (Table 3's column)

Systems whose ``system.json`` agree on every field except :data:`REPEAT_FIELDS` (``seed``, ``system``,
``best_epoch``, ``config``, ``init_from``) and on the :data:`EXPERIMENT_CONFIG_KEYS` of their ``config``
(``lm_layers``) are repeats of one experiment: :func:`group_systems` gathers them
in a :class:`SystemGroup` whose :meth:`SystemGroup.stats` gives the mean, the sample standard deviation and
the number of seeds of every metric on a set.

Example::

    from speechsent.report.collect import collect
    results = collect("exp")
    for group in results.groups:
        print(group.name, group.n_seeds, group.stats("swbd_holdout"))

A file that cannot be read or does not hold what it should is a :class:`ReportError` naming it; a system
dir without ``scores.json`` in a score dir, or a score dir without ``system.json``, is a logged, counted skip
(:attr:`ExpResults.skipped`).
"""

from __future__ import annotations

import logging
import math
import os
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsent.report.names import (
    PSEUDO_LABELER_PREFIX,
    labeler_display_name,
    labeler_labels,
    labeler_names,
    labeler_paper_name,
    lm_display_name,
)
from speechsent.scoring.metrics import METRIC_KEYS
from speechsent.tasks.manifests import ManifestFormatError, SystemManifest
from speechsent.utils.fileio import read_json

__all__ = [
    "METRICS",
    "REPEAT_FIELDS",
    "ExpResults",
    "MetricStat",
    "PseudoLabeler",
    "ReportError",
    "SystemGroup",
    "SystemRun",
    "collect",
    "full_train_hours_from_data",
    "full_train_hours_from_systems",
    "group_hours",
    "group_systems",
    "labeler_display_name",
    "labeler_labels",
    "labeler_names",
    "labeler_paper_name",
    "lm_display_name",
    "load_json",
    "load_pseudo_labeler",
    "load_scores",
    "load_system",
    "summarize",
]

log = logging.getLogger(__name__)

#: The score keys of docs/contracts.md, in the paper's column order (percent): the scorer's own list.
METRICS: tuple[str, ...] = METRIC_KEYS

#: system.json fields that may differ between repeats of one experiment (``init_from``, written by
#: speechsent-train-e2e, names the pre-trained model of the same seed; its provenance is in pseudo_*).
REPEAT_FIELDS: frozenset[str] = frozenset({"seed", "system", "best_epoch", "config", "init_from"})

SCORE_PREFIX = "score_"
EVAL_PREFIX = "eval_"
SST2_RESULTS = "sst2_results.json"


class ReportError(ValueError):
    """A result file that cannot be used; the message starts with its path."""


# ----------------------------------------------------------------------------------------------------------
# Reading files


def load_json(path: str | os.PathLike[str]) -> Any:
    """The JSON value in ``path``; a missing, unreadable or malformed file is a :class:`ReportError`
    (``<path>:<line>: not valid JSON: ...`` for bad JSON)."""
    try:
        return read_json(path)
    except (OSError, UnicodeDecodeError) as error:
        raise ReportError(f"{path}: cannot read: {error}") from None
    except ValueError as error:
        raise ReportError(str(error)) from None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_scores(path: str | os.PathLike[str], metrics: Sequence[str] = METRICS) -> dict[str, Any]:
    """A ``scores.json``: an object with a finite number for each of ``metrics`` (percent).

    ``confusion`` (list of rows), ``labels`` and ``num_utts`` are checked when present.
    """
    scores = load_json(path)
    if not isinstance(scores, dict):
        raise ReportError(f"{path}: expected a JSON object of scores, got {type(scores).__name__}")
    for key in metrics:
        if key not in scores:
            raise ReportError(f"{path}: missing score {key!r}")
        if not _number(scores[key]):
            raise ReportError(f"{path}: score {key!r} is not a finite number: {scores[key]!r}")
    confusion = scores.get("confusion")
    if confusion is not None:
        ok = (
            isinstance(confusion, list)
            and confusion
            and all(isinstance(row, list) and len(row) == len(confusion) for row in confusion)
            and all(_number(x) and x >= 0 for row in confusion for x in row)
        )
        if not ok:
            raise ReportError(f"{path}: 'confusion' is not a square matrix of non-negative counts")
        labels = scores.get("labels")
        if labels is not None and (not isinstance(labels, list) or len(labels) != len(confusion)):
            raise ReportError(f"{path}: 'labels' does not match the confusion matrix size {len(confusion)}")
    if "num_utts" in scores and not (isinstance(scores["num_utts"], int) and scores["num_utts"] >= 0):
        raise ReportError(f"{path}: 'num_utts' is not a count: {scores['num_utts']!r}")
    return scores


@dataclass
class SystemRun:
    """One trained system: ``exp/<name>/`` with its ``system.json`` (``manifest``; ``meta``: its fields, as
    the tables group and label systems by them) and its scores per scored set."""

    name: str
    dir: Path
    meta: dict[str, Any]
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)
    manifest: SystemManifest | None = None

    @property
    def seed(self) -> Any:
        return self.meta.get("seed")


def load_system_manifest(path: Path) -> SystemManifest:
    """The ``system.json`` at ``path``; a bad file or field is a :class:`ReportError` naming both."""
    try:
        return SystemManifest.from_dict(load_json(path), path)
    except ManifestFormatError as error:
        raise ReportError(str(error)) from None


def _score_dirs(directory: Path, prefix: str) -> list[tuple[str, Path]]:
    """(set name, dir) of every ``<prefix><set>/`` below ``directory``, sorted by set name."""
    out = []
    for child in sorted(directory.iterdir()):
        if child.is_dir() and child.name.startswith(prefix) and len(child.name) > len(prefix):
            out.append((child.name[len(prefix) :], child))
    return out


def load_system(directory: str | os.PathLike[str], skipped: list[str] | None = None) -> SystemRun:
    """The system in ``directory`` (``system.json`` + every ``score_<set>/scores.json``).

    A score dir without ``scores.json`` (scoring not run yet) is logged and appended to ``skipped``.
    """
    directory = Path(directory)
    meta_path = directory / "system.json"
    manifest = load_system_manifest(meta_path)
    meta = manifest.fields()
    name = directory.name
    if meta.get("system") not in (None, name):
        log.warning(
            "%s: system %r differs from its dir name; the dir name %r is used",
            meta_path,
            meta.get("system"),
            name,
        )
    run = SystemRun(name=name, dir=directory, meta=meta, manifest=manifest)
    for set_name, score_dir in _score_dirs(directory, SCORE_PREFIX):
        path = score_dir / "scores.json"
        if not path.is_file():
            log.warning("%s: no scores.json (not scored yet?): skipped", score_dir)
            if skipped is not None:
                skipped.append(str(score_dir))
            continue
        run.scores[set_name] = load_scores(path)
    return run


@dataclass
class PseudoLabeler:
    """A stage-6 pseudo labeler dir: ``labeler.json`` (may be absent), its ``eval_<set>/scores.json`` and,
    for one fine-tuned on SST-2, ``sst2_results.json`` (``sst2``)."""

    name: str
    dir: Path
    info: dict[str, Any]
    evals: dict[str, dict[str, Any]] = field(default_factory=dict)
    sst2: dict[str, Any] = field(default_factory=dict)

    @property
    def sst2_dev_accuracy(self) -> float | None:
        """SST-2 dev accuracy (percent) of a labeler fine-tuned on SST-2: ``dev_accuracy`` (or
        ``best_dev_accuracy``) of its ``sst2_results.json``, else of ``labeler.json``; None when unknown."""
        for source in (self.sst2, self.info):
            for key in ("dev_accuracy", "best_dev_accuracy"):
                if _number(source.get(key)):
                    return float(source[key])
        return None

    @property
    def display_name(self) -> str:
        """``labeler.json``'s ``name`` if it has one, else the dir name without ``pseudo_labeler_``."""
        name = self.info.get("name")
        if isinstance(name, str) and name:
            return name
        return labeler_display_name(self.name)


def load_pseudo_labeler(directory: str | os.PathLike[str]) -> PseudoLabeler:
    """The labeler in ``directory``: ``labeler.json`` (optional) and ``eval_<set>/scores.json``.

    The eval scores need ``unweighted_recall`` and ``weighted_recall`` (Table 3); an eval dir without
    ``scores.json`` is skipped with a warning.
    """
    directory = Path(directory)
    info_path = directory / "labeler.json"
    info: dict[str, Any] = {}
    if info_path.is_file():
        loaded = load_json(info_path)
        if not isinstance(loaded, dict):
            raise ReportError(f"{info_path}: expected a JSON object, got {type(loaded).__name__}")
        info = loaded
    labeler = PseudoLabeler(name=directory.name, dir=directory, info=info)
    if (directory / SST2_RESULTS).is_file():
        sst2 = load_json(directory / SST2_RESULTS)
        if not isinstance(sst2, dict):
            raise ReportError(f"{directory / SST2_RESULTS}: expected a JSON object")
        labeler.sst2 = sst2
    for set_name, eval_dir in _score_dirs(directory, EVAL_PREFIX):
        path = eval_dir / "scores.json"
        if not path.is_file():
            log.warning("%s: no scores.json: skipped", eval_dir)
            continue
        labeler.evals[set_name] = load_scores(path, ("unweighted_recall", "weighted_recall"))
    return labeler


# ----------------------------------------------------------------------------------------------------------
# Seed repeats


@dataclass(frozen=True)
class MetricStat:
    """Mean and sample standard deviation (None for one value) of a metric over ``n`` seeds."""

    mean: float
    std: float | None
    n: int


def summarize(values: Sequence[float]) -> MetricStat:
    """Mean, sample std (``statistics.stdev``, ddof=1; None for a single value) and count of ``values``."""
    if not values:
        raise ValueError("no values to summarize")
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else None
    return MetricStat(mean=mean, std=std, n=len(values))


def _freeze(value: Any) -> Any:
    """A hashable form of a JSON value (for grouping by the system.json fields)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 5.0 and 5 are the same number of hours
    return value


#: Trainer options (``config`` of system.json) that make a different experiment, not a repeat: kept in a
#: group's ``meta`` (``lm_layers``: sum_last4 | last | pooler | cls of a 2-step LM system).
EXPERIMENT_CONFIG_KEYS: tuple[str, ...] = ("lm_layers",)


def _experiment_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that identify an experiment: every field but :data:`REPEAT_FIELDS`, plus the
    :data:`EXPERIMENT_CONFIG_KEYS` of its config (when not already fields)."""
    out = {k: v for k, v in meta.items() if k not in REPEAT_FIELDS}
    config = meta.get("config")
    if isinstance(config, dict):
        for key in EXPERIMENT_CONFIG_KEYS:
            if key in config and key not in out:
                out[key] = config[key]
    return out


def _group_key(meta: Mapping[str, Any]) -> tuple:
    return _freeze(_experiment_meta(meta))


_SEED_SUFFIX = re.compile(r"[_.-]+(?:seed|rep|run|s|r)?\d*$")


def _group_name(names: Sequence[str]) -> str:
    """A name for repeats: the systems' common prefix without a seed suffix (``e2e_seed1``, ``e2e_seed2`` →
    ``e2e``); a single system keeps its name."""
    if len(names) == 1:
        return names[0]
    prefix = os.path.commonprefix(list(names))  # noqa: RUF071 (the common start of names, not of paths)
    stem = _SEED_SUFFIX.sub("", prefix)
    return stem or prefix or names[0]


@dataclass
class SystemGroup:
    """Repeats of one experiment (systems equal except in :data:`REPEAT_FIELDS`)."""

    name: str
    meta: dict[str, Any]
    runs: list[SystemRun]

    @property
    def n_seeds(self) -> int:
        return len(self.runs)

    @property
    def seeds(self) -> list[Any]:
        return [run.seed for run in self.runs]

    @property
    def family(self) -> str:
        return self.meta["family"]

    def sets(self) -> list[str]:
        """Every set scored by at least one repeat, sorted."""
        return sorted({s for run in self.runs for s in run.scores})

    def stats(self, set_name: str, metrics: Sequence[str] = METRICS) -> dict[str, MetricStat] | None:
        """Mean/std/n of each metric over the repeats scored on ``set_name`` (None when none is)."""
        scored = [run.scores[set_name] for run in self.runs if set_name in run.scores]
        if not scored:
            return None
        return {m: summarize([float(s[m]) for s in scored]) for m in metrics}

    def confusion(self, set_name: str) -> tuple[list[list[float]], list[str] | None, int] | None:
        """Confusion counts on ``set_name`` summed over the repeats that have one, their labels and the
        number of repeats summed (None when no repeat has a confusion matrix there)."""
        total: list[list[float]] | None = None
        labels: list[str] | None = None
        n = 0
        for run in self.runs:
            scores = run.scores.get(set_name)
            if not scores or scores.get("confusion") is None:
                continue
            matrix = scores["confusion"]
            run_labels = scores.get("labels")
            if total is None:
                total = [[float(x) for x in row] for row in matrix]
                labels = list(run_labels) if run_labels is not None else None
            else:
                if len(matrix) != len(total) or (
                    run_labels is not None and labels is not None and list(run_labels) != labels
                ):
                    raise ReportError(
                        f"{run.dir / (SCORE_PREFIX + set_name) / 'scores.json'}: confusion labels/size "
                        f"differ from the other repeats of {self.name}"
                    )
                total = [
                    [a + float(b) for a, b in zip(r1, r2, strict=True)]
                    for r1, r2 in zip(total, matrix, strict=True)
                ]
            n += 1
        return None if total is None else (total, labels, n)


def group_systems(runs: Iterable[SystemRun]) -> list[SystemGroup]:
    """Seed repeats gathered; groups and their runs sorted by name (deterministic output)."""
    by_key: dict[tuple, list[SystemRun]] = {}
    for run in sorted(runs, key=lambda r: r.name):
        by_key.setdefault(_group_key(run.meta), []).append(run)
    groups = []
    for members in by_key.values():
        members.sort(key=lambda r: (str(r.seed), r.name))
        meta = _experiment_meta(members[0].meta)
        seeds = [r.seed for r in members]
        if len(set(map(str, seeds))) < len(seeds):
            log.warning(
                "repeats %s share a seed (%s): averaged all the same",
                ", ".join(r.name for r in members),
                seeds,
            )
        groups.append(SystemGroup(name=_group_name([r.name for r in members]), meta=meta, runs=members))
    # distinct groups may shorten to one name: fall back to the first system's name for the later ones
    groups.sort(key=lambda g: (g.name, g.runs[0].name))
    seen: set[str] = set()
    for g in groups:
        if g.name in seen:
            g.name = g.runs[0].name
        seen.add(g.name)
    groups.sort(key=lambda g: g.name)
    return groups


# ----------------------------------------------------------------------------------------------------------
# The whole exp dir


@dataclass
class ExpResults:
    exp_dir: Path
    runs: list[SystemRun]
    groups: list[SystemGroup]
    labelers: list[PseudoLabeler]
    skipped: list[str] = field(default_factory=list)


def collect(exp_dir: str | os.PathLike[str]) -> ExpResults:
    """Every system (``<exp_dir>/*/system.json``) and pseudo labeler (``<exp_dir>/pseudo_labeler*/``).

    Dirs with neither (ASR models, exports, the report's own plots) are ignored, except that one holding
    ``score_*`` dirs without ``system.json`` is reported as skipped.
    """
    exp_dir = Path(exp_dir)
    if not exp_dir.is_dir():
        raise ReportError(f"{exp_dir}: no such exp dir")
    runs: list[SystemRun] = []
    labelers: list[PseudoLabeler] = []
    skipped: list[str] = []
    for child in sorted(exp_dir.iterdir()):
        if not child.is_dir():
            continue
        if (child / "system.json").is_file():
            runs.append(load_system(child, skipped))
        elif child.name.startswith(PSEUDO_LABELER_PREFIX) or (child / "labeler.json").is_file():
            labelers.append(load_pseudo_labeler(child))
        elif _score_dirs(child, SCORE_PREFIX):
            log.warning("%s: score dirs but no system.json: skipped", child)
            skipped.append(str(child))
    if skipped:
        log.warning("%d dir(s) skipped (see above)", len(skipped))
    return ExpResults(
        exp_dir=exp_dir, runs=runs, groups=group_systems(runs), labelers=labelers, skipped=skipped
    )


# ----------------------------------------------------------------------------------------------------------
# Hours


def full_train_hours_from_data(data_dir: str | os.PathLike[str], train_set: str = "swbd_train") -> float:
    """Total duration (hours) of ``<data_dir>/<train_set>/utt2dur``."""
    from speechsent.kaldi.data_dir import parse_duration
    from speechsent.kaldi.table import KaldiDataError, read_typed_table

    path = Path(data_dir) / train_set / "utt2dur"
    try:
        durations = read_typed_table(path, parse_duration)
    except (OSError, KaldiDataError) as error:
        raise ReportError(f"{path}: {error}") from None
    if not durations:
        raise ReportError(f"{path}: empty")
    return math.fsum(durations.values()) / 3600.0


def _train_data_dirs(config: Mapping[str, Any]) -> list[str]:
    """The training data dirs named in a trainer's options: ``train_dir`` (2-step) or the dirs of
    ``train_labels`` (E2E)."""
    dirs = []
    if isinstance(config.get("train_dir"), str):
        dirs.append(config["train_dir"])
    labels = config.get("train_labels")
    for label_file in [labels] if isinstance(labels, str) else labels if isinstance(labels, list) else []:
        if isinstance(label_file, str):
            dirs.append(os.path.dirname(label_file))
    return dirs


def full_train_hours_from_systems(
    runs: Iterable[SystemRun], base_dirs: Sequence[str | os.PathLike[str]] = (".",)
) -> float | None:
    """The whole train set's hours as the systems tell it; None when none does.

    First a ``train_set_hours`` recorded in a system.json (or its ``config``); else the ``utt2dur`` total of
    the data dir a whole-train-set system (``train_hours`` null, no ``train_utt_list``) was trained on
    (``config.train_dir`` or the dir of ``config.train_labels``), found relative to ``base_dirs`` (the recipe
    dir). Differing recorded values are logged and the largest is used.
    """
    runs = list(runs)
    values = set()
    for run in runs:
        for where in (run.meta, run.meta.get("config") or {}):
            value = where.get("train_set_hours") if isinstance(where, dict) else None
            if _number(value) and value > 0:
                values.add(float(value))
    if values:
        if len(values) > 1:
            log.warning("systems record different train_set_hours %s: using the largest", sorted(values))
        return max(values)
    for run in runs:
        config = run.meta.get("config")
        if (
            run.meta.get("train_hours") is not None
            or not isinstance(config, dict)
            or config.get("train_utt_list")
        ):
            continue
        for data_dir in _train_data_dirs(config):
            for base in base_dirs:
                path = Path(base) / data_dir
                if (path / "utt2dur").is_file():
                    hours = full_train_hours_from_data(path.parent, path.name)
                    log.info("whole train set hours from %s (trained on by %s)", path / "utt2dur", run.name)
                    return hours
    return None


def group_hours(meta: Mapping[str, Any], full_train_hours: float | None) -> float | None:
    """Training-label hours of a system: its ``train_hours``, or the full train set's when null."""
    hours = meta.get("train_hours")
    return float(hours) if hours is not None else full_train_hours
