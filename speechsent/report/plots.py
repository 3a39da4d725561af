"""Report figures: confusion matrices and the paper's Fig. 2 (annotation efficiency), as PNG (Agg).

Fig. 2 plots the evaluation score (default: unweighted F1 on ``swbd_holdout``) of the E2E systems against the
hours of labeled ``swbd_train`` they were fine-tuned on: one curve per pseudo-label configuration (pseudo
labeler x semi-supervised sets x transcript type, each with at least 2 fine-tuning sizes; the mean over seeds,
error bars = std over seeds), the supervised-only systems at the same hours, and the supervised system trained
on the whole train set as a horizontal line (its std as a band). For each semi-supervised curve the crossing
of that line is read two ways: :func:`first_reaching`, the first measured subset whose score reaches it (the
paper's reading: ~30 h of 86 h, "65% less annotation"), and :func:`crossing_hours`, linearly interpolated
between the two measured points around the crossing; each with the annotation it saves relative to the full
train set::

    from speechsent.report.collect import collect
    from speechsent.report.plots import fig2_data, plot_fig2
    results = collect("exp")
    for fig in fig2_data(results.groups, full_train_hours=86.0):
        plot_fig2(fig, "exp/report/fig2.png")
        for c in fig.crossings:
            print(c.label, c.hours, c.saving_percent)

Figures are drawn with matplotlib's object API on the Agg canvas (no pyplot state, no display needed) and
written atomically.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsent.report.collect import MetricStat, SystemGroup, group_hours, labeler_labels
from speechsent.report.names import input_key, input_label

__all__ = [
    "Crossing",
    "Curve",
    "CurvePoint",
    "Fig2Data",
    "crossing_hours",
    "fig2_data",
    "first_reaching",
    "plot_confusion",
    "plot_fig2",
    "pseudo_config_label",
    "pseudo_sets_notation",
]

log = logging.getLogger(__name__)

#: Short names of the semi-supervised sets (the paper's S and F).
SET_SYMBOLS = {"swbd_train": "S", "fisher": "F"}


def _save(fig: Any, path: str | os.PathLike[str]) -> None:
    """PNG of ``fig`` written atomically (rendered in memory, then temp file + rename)."""
    from speechsent.utils.fileio import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())


# ----------------------------------------------------------------------------------------------------------
# Confusion matrices


def plot_confusion(
    matrix: Sequence[Sequence[float]],
    labels: Sequence[str],
    title: str,
    path: str | os.PathLike[str],
) -> None:
    """Confusion matrix PNG: cells coloured by the row-normalised percentage (share of each reference class),
    annotated with the count and that percentage; rows = reference, columns = hypothesis."""
    from matplotlib.figure import Figure

    n = len(matrix)
    if n == 0 or len(labels) != n:
        raise ValueError(f"{path}: confusion matrix of size {n} with {len(labels)} labels")
    percent = []
    for row in matrix:
        total = sum(row)
        percent.append([100.0 * x / total if total else 0.0 for x in row])
    fig = Figure(figsize=(4.8, 4.2))
    ax = fig.subplots()
    image = ax.imshow(percent, cmap="Blues", vmin=0.0, vmax=100.0)
    fig.colorbar(image, ax=ax, label="% of reference class")
    ax.set_xticks(range(n), labels)
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("Hypothesis")
    ax.set_ylabel("Reference")
    ax.set_title(title, fontsize=9)
    for i in range(n):
        for j in range(n):
            count = matrix[i][j]
            text = f"{count:.0f}" if float(count).is_integer() else f"{count:.1f}"
            ax.text(
                j,
                i,
                f"{text}\n{percent[i][j]:.1f}%",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if percent[i][j] > 55 else "black",
            )
    fig.tight_layout()
    _save(fig, path)


# ----------------------------------------------------------------------------------------------------------
# Fig. 2


def pseudo_sets_notation(sets: Sequence[str] | None, transcript: str | None) -> str:
    """The paper's notation of a semi-supervised training set: ``S, F`` (GT transcripts) or ``S_asr, F_asr``;
    ``-`` for none (supervised only). Sets other than swbd_train/fisher keep their names; ``mixed`` (some
    sets from GT, some from ASR transcripts) is said after the sets."""
    if not sets:
        return "-"
    suffix = "_asr" if transcript == "asr" else ""
    text = ", ".join(SET_SYMBOLS.get(s, s) + suffix for s in sets)
    return f"{text} (mixed GT/ASR)" if transcript == "mixed" else text


def pseudo_config_label(meta: Mapping[str, Any], labeler_names: Mapping[str, str] | None = None) -> str:
    """``<labeler>: <sets>`` of a semi-supervised system (``BERT-SST2: S, F``; ``-`` for a supervised one)."""
    if meta.get("pseudo_labeler") is None:
        return "-"
    labeler = labeler_labels([meta["pseudo_labeler"]], labeler_names)[meta["pseudo_labeler"]]
    return f"{labeler}: {pseudo_sets_notation(meta.get('pseudo_sets'), meta.get('pseudo_transcript'))}"


@dataclass(frozen=True)
class CurvePoint:
    hours: float
    stat: MetricStat
    system: str


@dataclass
class Curve:
    label: str
    semi_supervised: bool
    points: list[CurvePoint] = field(default_factory=list)


@dataclass(frozen=True)
class Crossing:
    """Where a semi-supervised curve first reaches the full-data baseline, read two ways.

    ``first_hours``: the first measured subset whose mean score is at or above the baseline (the paper's
    reading: 30 h → 65% saved); ``hours``: linearly interpolated between the measured points around the
    crossing. Both None when it never does; ``at_first_point`` when already its lowest-hours point reaches
    the baseline (the crossing is then at most ``hours``). ``*saving_percent`` = 100 x (1 - hours / full
    train hours), None without a crossing or without the full hours.
    """

    label: str
    hours: float | None
    saving_percent: float | None
    at_first_point: bool
    first_hours: float | None = None
    first_saving_percent: float | None = None


@dataclass
class Fig2Data:
    input: str
    architecture: str
    eval_set: str
    metric: str
    full_train_hours: float | None
    baseline: MetricStat | None
    baseline_system: str | None
    curves: list[Curve]
    crossings: list[Crossing]


def crossing_hours(points: Sequence[tuple[float, float]], target: float) -> tuple[float | None, bool]:
    """First hours at which the curve through ``points`` ((hours, score), any order) reaches ``target``.

    Linear interpolation between the last point below ``target`` and the first at or above it; (None, False)
    when no point reaches it; (hours of the first point, True) when the first point already does.
    """
    ordered = sorted(points)
    for i, (hours, value) in enumerate(ordered):
        if value >= target:
            if i == 0:
                return hours, True
            h0, v0 = ordered[i - 1]
            return h0 + (target - v0) * (hours - h0) / (value - v0), False
    return None, False


def first_reaching(points: Sequence[tuple[float, float]], target: float) -> float | None:
    """Hours of the first measured point ((hours, score), any order) whose score reaches ``target``."""
    return next((hours for hours, value in sorted(points) if value >= target), None)


def _baseline(
    supervised: Sequence[SystemGroup], inp: str, arch: str, eval_set: str, metric: str
) -> tuple[MetricStat | None, str | None]:
    """The full-data supervised system's score on ``eval_set`` and its name (None, None: there is none)."""
    full = [g for g in supervised if g.meta.get("train_hours") is None and g.stats(eval_set)]
    if not full:
        log.warning(
            "no full-data supervised %s/%s system scored on %s: Fig. 2 has no baseline",
            inp,
            arch,
            eval_set,
        )
        return None, None
    if len(full) > 1:
        log.warning(
            "several full-data supervised %s/%s systems (%s): %s is the Fig. 2 baseline",
            inp,
            arch,
            ", ".join(g.name for g in full),
            full[0].name,
        )
    return full[0].stats(eval_set, (metric,))[metric], full[0].name  # type: ignore[index]


def _curves(
    same: Sequence[SystemGroup],
    full_train_hours: float | None,
    eval_set: str,
    metric: str,
    labeler_names: Mapping[str, str] | None,
) -> list[Curve]:
    """One curve per pseudo-label configuration (and the supervised-only one), points by hours; supervised
    first, then by label."""
    curves: dict[str, Curve] = {}
    for g in sorted(same, key=lambda g: g.name):
        label = (
            "supervised only"
            if not g.meta.get("pseudo_labeler")
            else pseudo_config_label(g.meta, labeler_names)
        )
        hours = group_hours(g.meta, full_train_hours)
        stats = g.stats(eval_set, (metric,))
        if stats is None:
            continue
        if hours is None:
            log.warning(
                "%s: trained on the whole train set of unknown hours: left out of Fig. 2 (give "
                "--full_train_hours)",
                g.name,
            )
            continue
        curve = curves.setdefault(
            label, Curve(label=label, semi_supervised=bool(g.meta.get("pseudo_labeler")))
        )
        if any(abs(p.hours - hours) < 1e-9 for p in curve.points):
            log.warning("%s: a second system of curve %r at %g h: left out of Fig. 2", g.name, label, hours)
            continue
        curve.points.append(CurvePoint(hours=hours, stat=stats[metric], system=g.name))
    ordered = sorted(curves.values(), key=lambda c: (c.semi_supervised, c.label))
    for c in ordered:
        c.points.sort(key=lambda p: p.hours)
        if c.semi_supervised and len(c.points) < 2:
            log.info("Fig. 2: %r has %d fine-tuning size(s): not a curve, left out", c.label, len(c.points))
    return [c for c in ordered if not c.semi_supervised or len(c.points) >= 2]


def _crossings(
    curves: Sequence[Curve], baseline: MetricStat, full_train_hours: float | None
) -> list[Crossing]:
    """Where each semi-supervised curve reaches the baseline, and the annotation it saves."""
    crossings = []
    for c in curves:
        if not c.semi_supervised:
            continue
        points = [(p.hours, p.stat.mean) for p in c.points]
        hours, first = crossing_hours(points, baseline.mean)
        measured = first_reaching(points, baseline.mean)

        def saving(h: float | None) -> float | None:
            return 100.0 * (1.0 - h / full_train_hours) if h is not None and full_train_hours else None

        crossings.append(
            Crossing(
                label=c.label,
                hours=hours,
                saving_percent=saving(hours),
                at_first_point=first,
                first_hours=measured,
                first_saving_percent=saving(measured),
            )
        )
    return crossings


def fig2_data(
    groups: Sequence[SystemGroup],
    full_train_hours: float | None,
    eval_set: str = "swbd_holdout",
    metric: str = "unweighted_f1",
    labeler_names: Mapping[str, str] | None = None,
) -> list[Fig2Data]:
    """The Fig. 2 curves and baseline crossings, one figure per (input, architecture) of the E2E
    semi-supervised systems (usually one: encoder + BLSTM). Empty when there is no semi-supervised system.
    ``labeler_names``: see :func:`speechsent.report.collect.labeler_names`."""
    e2e = [g for g in groups if g.family == "e2e"]
    semi = [g for g in e2e if g.meta.get("pseudo_labeler")]
    combos = sorted({(input_key(g.meta), g.meta["architecture"]) for g in semi})
    figures = []
    for inp, arch in combos:
        same = [g for g in e2e if (input_key(g.meta), g.meta["architecture"]) == (inp, arch)]
        supervised = [g for g in same if not g.meta.get("pseudo_labeler")]
        baseline, baseline_name = _baseline(supervised, inp, arch, eval_set, metric)
        curves = _curves(same, full_train_hours, eval_set, metric, labeler_names)
        figures.append(
            Fig2Data(
                input=inp,
                architecture=arch,
                eval_set=eval_set,
                metric=metric,
                full_train_hours=full_train_hours,
                baseline=baseline,
                baseline_system=baseline_name,
                curves=curves,
                crossings=[] if baseline is None else _crossings(curves, baseline, full_train_hours),
            )
        )
    return figures


METRIC_TITLES = {
    "unweighted_recall": "Unweighted REC",
    "unweighted_precision": "Unweighted PRE",
    "unweighted_f1": "Unweighted F1",
    "weighted_recall": "Weighted REC",
    "weighted_precision": "Weighted PRE",
    "weighted_f1": "Weighted F1",
}


def plot_fig2(data: Fig2Data, path: str | os.PathLike[str]) -> None:
    """Fig. 2 PNG: score vs fine-tuning hours, error bars = std over seeds, baseline line (±std band) and
    the crossing hours of each semi-supervised curve marked."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 4.6))
    ax = fig.subplots()
    for curve in data.curves:
        xs = [p.hours for p in curve.points]
        ys = [p.stat.mean for p in curve.points]
        errs = [p.stat.std or 0.0 for p in curve.points]
        style = (
            {"marker": "o", "capsize": 3}
            if curve.semi_supervised
            else {"marker": "s", "capsize": 3, "linestyle": "--", "color": "0.45"}
        )
        ax.errorbar(xs, ys, yerr=errs, label=curve.label, **style)
    if data.baseline is not None:
        label = (
            f"supervised, all {data.full_train_hours:.3g} h" if data.full_train_hours else "supervised, all"
        )
        ax.axhline(data.baseline.mean, color="black", linewidth=1.0, label=f"baseline ({label})")
        if data.baseline.std:
            ax.axhspan(
                data.baseline.mean - data.baseline.std,
                data.baseline.mean + data.baseline.std,
                color="black",
                alpha=0.08,
                linewidth=0,
            )
    for crossing in data.crossings:
        if crossing.hours is not None:
            ax.axvline(crossing.hours, color="0.6", linestyle=":", linewidth=1.0)
            ax.annotate(
                f"{crossing.hours:.3g} h",
                (crossing.hours, data.baseline.mean if data.baseline else 0),
                textcoords="offset points",
                xytext=(3, -12),
                fontsize=7,
            )
    ax.set_xlabel("fine-tuning data (hours of labeled train set)")
    ax.set_ylabel(f"{METRIC_TITLES.get(data.metric, data.metric)} (%) on {data.eval_set}")
    ax.set_title(
        f"Semi-supervised training efficiency ({input_label(data.input)} + {data.architecture})", fontsize=10
    )
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    _save(fig, path)
