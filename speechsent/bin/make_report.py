"""speechsent-make-report: stage 10, RESULTS.md (the paper's Tables 1-4), confusion matrices and Fig. 2.

Writes ``--out`` (RESULTS.md: a header as ESPnet's -- date, git hash, versions, GPU, the sets' sizes, the ASR,
its WER and overlap, the departures from the paper generated from ``--run_options`` -- then Tables 1, 1b, 2,
3, 4, Fig. 2 crossing hours, index), ``<plots_dir>/fig2.png``
and ``<plots_dir>/confusion/<system>_<set>.png`` from every ``<exp_dir>/*/system.json`` and its scores and the
pseudo labelers' ``eval_<set>/scores.json``, seed repeats averaged: :func:`speechsent.report.make.make_report`
(the options are the fields of its ``ReportConfig``). From egs/<recipe>, as stage 10 runs it::

    python -m speechsent.bin.make_report --exp_dir exp --out RESULTS.md --plots_dir exp/report \\
        --data_dir data --train_set swbd_train --run_options exp/report/run_options.tsv

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
import dataclasses
import datetime
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from speechsent import cli
from speechsent.cli import str2bool

__all__ = ["get_parser", "main"]

PROG = "speechsent-make-report"
log = logging.getLogger("speechsent.make_report")


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
    parser = cli.make_parser(PROG, __doc__)
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
        choices=("groups", "systems", "none"),  # report.make.CONFUSION_PLOTS
        help="confusion PNG per seed group (counts summed), per system dir, or none",
    )
    parser.add_argument("--fig2_set", default="swbd_holdout", help="scored set of Fig. 2")
    parser.add_argument("--fig2_metric", default="unweighted_f1", help="scores.json key plotted in Fig. 2")
    parser.add_argument("--run_options", default=None, help="the recipe's options: TSV of name<TAB>value")
    parser.add_argument("--base_dir", default=None, help="run options' paths relative to (default: exp/..)")
    parser.add_argument("--environment", type=str2bool, default=True, help="versions, GPU in header")
    parser.add_argument("--print", type=str2bool, default=True, help="print the tables to stdout as well")
    parser.add_argument("--summary_out", default=None, help="also write the printed tables to this file")
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
    from speechsent.report.make import ReportConfig, make_report

    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(ReportConfig)}
    values["plots_dir"] = None if args.plots_dir.lower() == "none" else args.plots_dir
    values["date"] = _date(args.date)
    config = ReportConfig(**values)
    try:
        _, short = make_report(config)
    except (ReportError, OSError, ValueError) as error:
        log.error("%s", error)
        return 1
    if args.summary_out:
        from speechsent.utils.fileio import atomic_write_text

        Path(args.summary_out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.summary_out, short)
    if args.print:
        sys.stdout.write(short)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
