"""Stage 10 as a library call: :func:`make_report` writes RESULTS.md and its PNGs from an exp dir.

Reads every ``<exp_dir>/*/system.json`` with its ``score_<set>/scores.json`` and every
``<exp_dir>/pseudo_labeler*/eval_<set>/scores.json`` (:mod:`speechsent.report.collect`), averages seed
repeats, and writes::

    RESULTS.md                                   header (environment, data, ASR, departures from the paper),
                                                 Tables 1, 1b, 2, 3, 4, Fig. 2 crossing hours, index
    <plots_dir>/fig2.png                         score vs fine-tuning hours (semi-supervised vs supervised)
    <plots_dir>/confusion/<system>_<set>.png     one per system (group) and scored set

::

    from speechsent.report.make import ReportConfig, make_report
    text, summary = make_report(ReportConfig(exp_dir="exp", out="RESULTS.md", data_dir="data"))

The entry point is ``python -m speechsent.bin.make_report`` (its options are the fields of
:class:`ReportConfig`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from speechsent.data.labels import SENTIMENT_LABELS
from speechsent.report.collect import (
    METRICS,
    ExpResults,
    ReportError,
    SystemGroup,
    collect,
    full_train_hours_from_data,
    full_train_hours_from_systems,
    labeler_names,
)
from speechsent.report.markdown import format_hours, hours_value
from speechsent.report.plots import Fig2Data, fig2_data, plot_confusion, plot_fig2
from speechsent.report.run_info import RunFacts, environment, gather_facts, read_run_options
from speechsent.report.table4 import Table4Grid
from speechsent.report.tables import render_results
from speechsent.utils.fileio import atomic_write_text

__all__ = ["CONFUSION_PLOTS", "ReportConfig", "make_report"]

log = logging.getLogger("speechsent.make_report")

#: ``groups``: one PNG per seed group and set (counts summed over the seeds); ``systems``: one per system
#: dir and set; ``none``.
CONFUSION_PLOTS = ("groups", "systems", "none")

PathLike = str | os.PathLike[str]


@dataclass
class ReportConfig:
    """What :func:`make_report` reads and writes.

    ``plots_dir`` None: no PNGs. The whole train set's hours (Table 4 labels, Fig. 2 x axis and annotation
    saving) are ``full_train_hours``, else from ``<data_dir>/<train_set>/utt2dur`` when ``data_dir`` is
    given, else from the systems (a ``train_set_hours`` in a system.json, or the utt2dur of the data dir that
    a whole-train-set system's ``config`` names, relative to the current dir or the exp dir's parent).
    ``corpus`` (title): default the exp dir's parent's name; ``date`` None leaves it out of the header.
    ``run_options``: the recipe's options TSV (``name<TAB>value`` lines; None: unknown, the header says so and
    the departures come from the exp dir): its ``e2e_hours`` and ``e2e_pseudo_configs`` fix Table 4's rows
    (missing ones shown), its sets, ASR and corpora fill the header; relative paths in it are relative to
    ``base_dir`` (default: the exp dir's parent, the recipe dir). ``environment`` False leaves the software
    and GPU lines out (reproducible output).
    """

    exp_dir: PathLike = "exp"
    out: PathLike = "RESULTS.md"
    plots_dir: PathLike | None = "exp/report"
    data_dir: PathLike | None = None
    train_set: str = "swbd_train"
    full_train_hours: float | None = None
    corpus: str | None = None
    date: str | None = None
    confusion_plots: str = "groups"
    fig2_set: str = "swbd_holdout"
    fig2_metric: str = "unweighted_f1"
    run_options: PathLike | None = None
    base_dir: PathLike | None = None
    environment: bool = True

    def validate(self) -> None:
        """ValueError for a value out of its choices."""
        if self.confusion_plots not in CONFUSION_PLOTS:
            raise ValueError(f"confusion_plots must be one of {', '.join(CONFUSION_PLOTS)}")
        if self.fig2_metric not in METRICS:
            raise ValueError(f"fig2_metric must be one of {', '.join(METRICS)}")


def _png_name(text: str) -> str:
    """A file-name-safe form of a system or set name."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text)


def _collect(config: ReportConfig) -> ExpResults:
    results = collect(config.exp_dir)
    if not results.runs and not results.labelers:
        raise ReportError(
            f"{config.exp_dir}: no system (*/system.json) and no pseudo labeler (pseudo_labeler*/) found"
        )
    log.info(
        "%d systems in %d groups, %d pseudo labelers",
        len(results.runs),
        len(results.groups),
        len(results.labelers),
    )
    return results


def _full_train_hours(config: ReportConfig, results: ExpResults) -> float | None:
    """The whole train set's hours: given, from the data dir, or from the systems (None: unknown)."""
    hours = config.full_train_hours
    if hours is None and config.data_dir is not None:
        hours = full_train_hours_from_data(config.data_dir, config.train_set)
    if hours is None:
        hours = full_train_hours_from_systems(results.runs, (".", Path(config.exp_dir).parent))
    if hours is None:
        log.warning(
            "hours of the whole train set unknown (give --full_train_hours or --data_dir): Table 4 and "
            "Fig. 2 show the full-data systems without hours and no annotation saving"
        )
    else:
        log.info("whole train set: %s", format_hours(hours))
    return hours


def _confusion_items(results: ExpResults, per: str) -> list[tuple[str, str, SystemGroup]]:
    """(name, set, group) of each confusion PNG: per seed group, or per system dir (``per`` = systems)."""
    items = []
    for g in results.groups:
        for s in g.sets():
            if per == "systems":
                items += [(r.name, s, SystemGroup(r.name, g.meta, [r])) for r in g.runs if s in r.scores]
            else:
                items.append((g.name, s, g))
    return items


def _plot_confusions(
    results: ExpResults, config: ReportConfig, plots: Path, link: Callable[[Path], str]
) -> list[tuple[str, str, str]]:
    """The confusion PNGs; (name, set, link relative to RESULTS.md) of each."""
    from tqdm import tqdm

    items = _confusion_items(results, config.confusion_plots)
    pngs: list[tuple[str, str, str]] = []
    for name, s, group in tqdm(items, desc="confusion matrices", disable=not items, file=sys.stderr):
        conf = group.confusion(s)
        if conf is None:
            continue
        matrix, labels, n = conf
        if labels is None:
            if len(matrix) != len(SENTIMENT_LABELS):
                raise ReportError(
                    f"{config.exp_dir}: {name} on {s}: {len(matrix)}x{len(matrix)} confusion "
                    "matrix without labels"
                )
            labels = list(SENTIMENT_LABELS)
        title = f"{name}\n{s}" + (f" (sum over {n} seeds)" if n > 1 else "")
        path = plots / "confusion" / f"{_png_name(name)}_{_png_name(s)}.png"
        plot_confusion(matrix, labels, title, path)
        pngs.append((name, s, link(path)))
    return pngs


def _plot_fig2s(figures: list[Fig2Data], plots: Path, link: Callable[[Path], str]) -> list[str]:
    """The Fig. 2 PNGs (``fig2.png``, or one per input and architecture); their links."""
    pngs = []
    for fig in figures:
        name = (
            "fig2.png"
            if len(figures) == 1
            else f"fig2_{_png_name(fig.input)}_{_png_name(fig.architecture)}.png"
        )
        plot_fig2(fig, plots / name)
        pngs.append(link(plots / name))
        for c in fig.crossings:
            log.info(
                "Fig. 2 %s: reaches the baseline at %s h (%s annotation saved)",
                c.label,
                "-" if c.hours is None else hours_value(c.hours),
                "-" if c.saving_percent is None else f"{c.saving_percent:.1f}%",
            )
    return pngs


def _facts(config: ReportConfig, results: ExpResults) -> tuple[RunFacts, Table4Grid | None]:
    """The run's facts (header, departures) and Table 4's grid (None: not given by the options)."""
    options = read_run_options(config.run_options)
    base = config.base_dir if config.base_dir is not None else Path(config.exp_dir).parent
    env = environment(config.date) if config.environment else None
    facts = gather_facts(
        options, data_dir=config.data_dir, train_set=config.train_set, base_dir=base, env=env
    )
    try:
        grid = Table4Grid.from_options(
            options.list("e2e_hours"), options.list("e2e_pseudo_configs"), options.list("encoders")
        )
    except ValueError as error:
        raise ReportError(f"{config.run_options}: {error}") from None
    return facts, grid


def make_report(config: ReportConfig) -> tuple[str, str]:
    """Write ``config.out`` (and the PNGs under ``config.plots_dir``); returns (RESULTS.md text, the shorter
    text for stdout: header, tables and Fig. 2 numbers). :class:`ReportError` on an unusable result file."""
    config.validate()
    results = _collect(config)
    facts, grid = _facts(config, results)
    full_train_hours = _full_train_hours(config, results)
    out = Path(config.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def link(path: Path) -> str:
        return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(out.parent))).as_posix()

    names = labeler_names(results.labelers)
    figures = fig2_data(results.groups, full_train_hours, config.fig2_set, config.fig2_metric, names)
    confusion_pngs: list[tuple[str, str, str]] = []
    fig2_pngs = ["" for _ in figures]
    if config.plots_dir is not None:
        plots = Path(config.plots_dir)
        plots.mkdir(parents=True, exist_ok=True)
        if config.confusion_plots != "none":
            confusion_pngs = _plot_confusions(results, config, plots, link)
        fig2_pngs = _plot_fig2s(figures, plots, link)
    corpus = config.corpus
    if corpus is None:
        corpus = Path(os.path.abspath(config.exp_dir)).parent.name or None
    from speechsent.report.header import header_sections

    common = dict(
        full_train_hours=full_train_hours,
        corpus=corpus,
        date=config.date,
        fig2=figures,
        fig2_pngs=fig2_pngs,
        preamble=header_sections(facts, results),
        grid=grid,
    )
    text = render_results(results, confusion_pngs=confusion_pngs, **common)
    short = render_results(results, systems_index=False, **common)
    atomic_write_text(out, text)
    log.info("wrote %s (%d confusion matrices, %d Fig. 2 plots)", out, len(confusion_pngs), len(fig2_pngs))
    return text, short
