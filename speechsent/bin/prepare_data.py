"""speechsent-prepare-data: stage 1 of the recipes, the LDC releases → Kaldi data dirs.

Writes ``<out_dir>/{swbd_train,swbd_test,swbd_holdout,asr_train,fisher}`` (see ``speechsent.data.prepare``)::

    speechsent-prepare-data --swbd /LDC97S62 --swbd_ms98 /swb_ms98_transcriptions \\
        --swbd_sentiment /LDC2020T14 --fisher "/LDC2004S13 /LDC2005S13 /LDC2004T19 /LDC2005T19" \\
        --out_dir data

Splits: ``--split conversation`` (default: conversation-disjoint, the paper's 86/5/5 h proportions,
``--split_hours``, ``--split_seed``), ``--split_lists DIR`` (``train``/``test``/``holdout`` id lists, e.g. the
authors' split) or ``--split espnet`` (ESPnet egs2/swbd_sentiment's split reproduced). ``--swbd_data_dir DIR``
reuses an existing Kaldi/ESPnet Switchboard data dir instead of ``--swbd``/``--swbd_ms98``.

Options may also come from ``--config FILE`` (YAML mapping of option names to values; command-line options
win). Exit status: 0 on success, 1 on bad input (the message names ``file:line``), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from speechsent import cli
from speechsent.cli import str2bool

__all__ = ["get_parser", "main", "prepare_data"]

PROG = "speechsent-prepare-data"


def hours_triple(value: str) -> tuple[float, float, float]:
    parts = value.replace(",", " ").replace("/", " ").split()
    try:
        hours = tuple(float(p) for p in parts)
    except ValueError:
        hours = ()
    if len(hours) != 3 or any(h < 0 for h in hours) or sum(hours) <= 0:
        raise argparse.ArgumentTypeError(f"expected three hours, e.g. '86 5 5', got {value!r}")
    return hours  # type: ignore[return-value]


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default=None, help="YAML file of option values")
    g = parser.add_argument_group("corpora (db.sh)")
    g.add_argument("--swbd", default=None, help="Switchboard-1 Release 2 (LDC97S62) root: *.sph below")
    g.add_argument("--swbd_ms98", default=None, help="MS98 transcripts root (swb_ms98_transcriptions)")
    g.add_argument("--swbd_sentiment", default=None, help="Speech Sentiment Annotations (LDC2020T14) root")
    g.add_argument(
        "--fisher",
        default="",
        help="space-separated roots of LDC2004S13 LDC2005S13 LDC2004T19 LDC2005T19 (empty: no data/fisher)",
    )
    g.add_argument(
        "--swbd_data_dir",
        default=None,
        help="reuse an existing Kaldi/ESPnet Switchboard data dir (segments, text, wav.scp) instead of "
        "--swbd/--swbd_ms98",
    )
    g = parser.add_argument_group("output")
    g.add_argument("--out_dir", default="data", help="where the data dirs are written")
    g.add_argument(
        "--sph2pipe",
        default="speechsent-sph2pipe",
        help="program of the wav.scp pipes (e.g. sph2pipe, or its full path)",
    )
    for name, default in (
        ("train_set", "swbd_train"),
        ("test_set", "swbd_test"),
        ("holdout_set", "swbd_holdout"),
        ("asr_train_set", "asr_train"),
        ("fisher_set", "fisher"),
    ):
        g.add_argument(f"--{name}", default=default, help=f"name of the {name.replace('_set', '')} data dir")
    g = parser.add_argument_group("labels and splits")
    g.add_argument(
        "--match_tolerance",
        type=float,
        default=0.05,
        help="seconds a sentiment row's start and end may differ from its MS98 segment's",
    )
    g.add_argument("--split", default="conversation", choices=("conversation", "lists", "espnet"))
    g.add_argument("--split_lists", default=None, help="directory with train, test, holdout id lists")
    g.add_argument(
        "--split_hours",
        type=hours_triple,
        default=(86.0, 5.0, 5.0),
        help="relative sizes of train, test, holdout (labeled hours), for --split conversation",
    )
    g.add_argument("--split_seed", type=int, default=0, help="seed of the conversation hash order")
    g.add_argument(
        "--skip_bad_rows",
        type=str2bool,
        default=False,
        help="skip (count and log) malformed input lines instead of stopping at the first",
    )
    g.add_argument(
        "--fisher_unintelligible",
        default="drop",
        choices=("drop", "keep", "strip"),
        help="Fisher utterances with '((': drop them (Kaldi), keep the words, or strip the marked words",
    )
    parser.add_argument("--log_level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return parser


def prepare_data(args: argparse.Namespace):  # -> PrepareReport
    """The work function: options → :func:`speechsent.data.prepare.prepare_data`."""
    from speechsent.data.prepare import PrepareConfig
    from speechsent.data.prepare import prepare_data as run

    cfg = PrepareConfig(
        out_dir=args.out_dir,
        swbd=args.swbd or None,
        swbd_ms98=args.swbd_ms98 or None,
        swbd_sentiment=args.swbd_sentiment or None,
        fisher=tuple(args.fisher.split()) if isinstance(args.fisher, str) else tuple(args.fisher),
        swbd_data_dir=args.swbd_data_dir or None,
        sph2pipe=args.sph2pipe,
        match_tolerance=args.match_tolerance,
        split="lists" if args.split_lists and args.split == "conversation" else args.split,
        split_lists=args.split_lists or None,
        split_hours=tuple(args.split_hours),
        split_seed=args.split_seed,
        skip_bad_rows=args.skip_bad_rows,
        fisher_unintelligible=args.fisher_unintelligible,
        train_set=args.train_set,
        test_set=args.test_set,
        holdout_set=args.holdout_set,
        asr_train_set=args.asr_train_set,
        fisher_set=args.fisher_set,
    )
    return run(cfg)


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    cli.setup_logging(args.log_level)
    from speechsent.data.kaldi_dir import KaldiDataError
    from speechsent.data.prepare import PrepareError

    try:
        prepare_data(args)
    except (PrepareError, KaldiDataError, FileNotFoundError) as e:
        logging.getLogger("speechsent.prepare_data").error("%s", e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
