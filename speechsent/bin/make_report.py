"""speechsent-make-report: stage 10, RESULTS.md (the paper's Tables 1-4), confusion matrices and Fig. 2.

Reads every ``<exp_dir>/*/system.json`` with its ``score_<set>/scores.json`` and every
``<exp_dir>/pseudo_labeler*/eval_<set>/scores.json``, averages seed repeats (systems equal except in seed),
and writes::

    RESULTS.md                                   Tables 1, 1b, 2, 3, 4, Fig. 2 crossing hours, index
    <plots_dir>/fig2.png                         score vs fine-tuning hours (semi-supervised vs supervised)
    <plots_dir>/confusion/<system>_<set>.png     one per system (group) and scored set

Usage (from egs/<recipe>, as stage 10 runs it)::

    python -m speechsent.bin.make_report --exp_dir exp --out RESULTS.md --plots_dir exp/report \\
        --data_dir data --train_set swbd_train

The whole train set's hours (Table 4 labels, Fig. 2 x axis and annotation saving) come from
``--full_train_hours``, else from ``<data_dir>/<train_set>/utt2dur`` when ``--data_dir`` is given, else from
the systems (a ``train_set_hours`` in a system.json, or the utt2dur of the data dir that a whole-train-set
system's ``config`` names, relative to the current dir or the exp dir's parent). The tables are printed to
stdout too (``--print false``: not). Output is deterministic; the header's date is ``--date`` (``today`` by
default, ``none`` leaves it out).
Exit status: 0 on success, 1 on an unusable result file (the message names it), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from speechsent import cli
from speechsent.cli import str2bool

__all__ = ["get_parser", "main", "make_report"]

PROG = "speechsent-make-report"
log = logging.getLogger("speechsent.make_report")


def _png_name(text: str) -> str:
    """A file-name-safe form of a system or set name."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text)


def make_report(
    exp_dir: str | os.PathLike[str] = "exp",
    out: str | os.PathLike[str] = "RESULTS.md",
    plots_dir: str | os.PathLike[str] | None = "exp/report",
    *,
    data_dir: str | os.PathLike[str] | None = None,
    train_set: str = "swbd_train",
    full_train_hours: float | None = None,
    corpus: str | None = None,
    date: str | None = None,
    confusion_plots: str = "groups",
    fig2_set: str = "swbd_holdout",
    fig2_metric: str = "unweighted_f1",
) -> tuple[str, str]:
    """Write ``out`` (and the PNGs under ``plots_dir``; None: no plots); returns (RESULTS.md text, the
    shorter text for stdout: header, tables and Fig. 2 numbers).

    ``confusion_plots``: ``groups`` (one PNG per seed group and set, counts summed over the seeds),
    ``systems`` (one per system dir and set) or ``none``.
    """
    from speechsent.data.labels import SENTIMENT_LABELS
    from speechsent.report.collect import (
        ReportError,
        SystemGroup,
        collect,
        full_train_hours_from_data,
        full_train_hours_from_systems,
        labeler_names,
    )
    from speechsent.report.plots import fig2_data, plot_confusion, plot_fig2
    from speechsent.report.tables import format_hours, hours_value, render_results

    results = collect(exp_dir)
    if not results.runs and not results.labelers:
        raise ReportError(
            f"{exp_dir}: no system (*/system.json) and no pseudo labeler (pseudo_labeler*/) found"
        )
    log.info(
        "%d systems in %d groups, %d pseudo labelers",
        len(results.runs),
        len(results.groups),
        len(results.labelers),
    )
    if full_train_hours is None and data_dir is not None:
        full_train_hours = full_train_hours_from_data(data_dir, train_set)
    if full_train_hours is None:
        full_train_hours = full_train_hours_from_systems(results.runs, (".", Path(exp_dir).parent))
    if full_train_hours is None:
        log.warning(
            "hours of the whole train set unknown (give --full_train_hours or --data_dir): Table 4 and "
            "Fig. 2 show the full-data systems without hours and no annotation saving"
        )
    else:
        log.info("whole train set: %s", format_hours(full_train_hours))

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def link(path: Path) -> str:
        return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(out.parent))).as_posix()

    confusion_pngs: list[tuple[str, str, str]] = []
    names = labeler_names(results.labelers)
    figures = fig2_data(results.groups, full_train_hours, fig2_set, fig2_metric, names)
    fig2_pngs: list[str] = []
    if plots_dir is not None:
        plots = Path(plots_dir)
        plots.mkdir(parents=True, exist_ok=True)
        if confusion_plots != "none":
            from tqdm import tqdm

            items = []
            for g in results.groups:
                for s in g.sets():
                    if confusion_plots == "systems":
                        items += [
                            (r.name, s, SystemGroup(r.name, g.meta, [r])) for r in g.runs if s in r.scores
                        ]
                    else:
                        items.append((g.name, s, g))
            for name, s, group in tqdm(items, desc="confusion matrices", disable=not items, file=sys.stderr):
                conf = group.confusion(s)
                if conf is None:
                    continue
                matrix, labels, n = conf
                if labels is None:
                    if len(matrix) != len(SENTIMENT_LABELS):
                        raise ReportError(
                            f"{exp_dir}: {name} on {s}: {len(matrix)}x{len(matrix)} confusion "
                            "matrix without labels"
                        )
                    labels = list(SENTIMENT_LABELS)
                title = f"{name}\n{s}" + (f" (sum over {n} seeds)" if n > 1 else "")
                path = plots / "confusion" / f"{_png_name(name)}_{_png_name(s)}.png"
                plot_confusion(matrix, labels, title, path)
                confusion_pngs.append((name, s, link(path)))
        for fig in figures:
            name = (
                "fig2.png"
                if len(figures) == 1
                else f"fig2_{_png_name(fig.input)}_{_png_name(fig.architecture)}.png"
            )
            plot_fig2(fig, plots / name)
            fig2_pngs.append(link(plots / name))
            for c in fig.crossings:
                log.info(
                    "Fig. 2 %s: reaches the baseline at %s h (%s annotation saved)",
                    c.label,
                    "-" if c.hours is None else hours_value(c.hours),
                    "-" if c.saving_percent is None else f"{c.saving_percent:.1f}%",
                )
    else:
        fig2_pngs = ["" for _ in figures]
    if corpus is None:
        corpus = Path(os.path.abspath(exp_dir)).parent.name or None
    common = dict(
        full_train_hours=full_train_hours, corpus=corpus, date=date, fig2=figures, fig2_pngs=fig2_pngs
    )
    text = render_results(results, confusion_pngs=confusion_pngs, **common)
    short = render_results(results, systems_index=False, **common)

    from speechsent.data.kaldi_dir import atomic_write_text

    atomic_write_text(out, text)
    log.info("wrote %s (%d confusion matrices, %d Fig. 2 plots)", out, len(confusion_pngs), len(fig2_pngs))
    return text, short


def _date(value: str) -> str | None:
    if value.lower() in ("", "none", "false", "no"):
        return None
    if value == "today":
        return datetime.date.today().isoformat()
    return value


def _optional_float(value: str) -> float | None:
    if value.lower() in ("", "none", "null"):
        return None
    x = float(value)
    if not x > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of hours, got {value!r}")
    return x


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_config_argument(parser)
    parser.add_argument("--exp_dir", default="exp", help="the recipe's exp dir (systems, pseudo labelers)")
    parser.add_argument("--out", default="RESULTS.md", help="markdown file written")
    parser.add_argument("--plots_dir", default="exp/report", help="dir of the PNGs ('none': no plots)")
    parser.add_argument("--data_dir", default=None, help="data dir: whole train set hours from its utt2dur")
    parser.add_argument("--train_set", default="swbd_train", help="the train set's data dir name")
    parser.add_argument(
        "--full_train_hours",
        type=_optional_float,
        default=None,
        help="hours of the whole train set (wins over --data_dir)",
    )
    parser.add_argument("--corpus", default=None, help="corpus name in the title (default: exp dir's parent)")
    parser.add_argument("--date", default="today", help="header date: today, a text, or none")
    parser.add_argument(
        "--confusion_plots",
        default="groups",
        choices=("groups", "systems", "none"),
        help="confusion PNG per seed group (counts summed), per system dir, or none",
    )
    parser.add_argument("--fig2_set", default="swbd_holdout", help="scored set of Fig. 2")
    parser.add_argument("--fig2_metric", default="unweighted_f1", help="scores.json key plotted in Fig. 2")
    parser.add_argument("--print", type=str2bool, default=True, help="print the tables to stdout as well")
    parser.add_argument(
        "--summary_out",
        default=None,
        help="also write the printed tables to this file",
    )
    cli.add_log_level_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    from speechsent.report.collect import METRICS

    if args.fig2_metric not in METRICS:
        parser.error(f"--fig2_metric must be one of {', '.join(METRICS)}")
    cli.setup_logging(args.log_level)
    from speechsent.report.collect import ReportError

    try:
        _, short = make_report(
            args.exp_dir,
            args.out,
            None if args.plots_dir.lower() == "none" else args.plots_dir,
            data_dir=args.data_dir,
            train_set=args.train_set,
            full_train_hours=args.full_train_hours,
            corpus=args.corpus,
            date=_date(args.date),
            confusion_plots=args.confusion_plots,
            fig2_set=args.fig2_set,
            fig2_metric=args.fig2_metric,
        )
    except (ReportError, OSError, ValueError) as error:
        log.error("%s", error)
        return 1
    if args.summary_out:
        from speechsent.data.kaldi_dir import atomic_write_text

        Path(args.summary_out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.summary_out, short)
    if args.print:
        sys.stdout.write(short)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
