"""speechsent-prepare-data: stage 1 of the recipes, the LDC releases → Kaldi data dirs.

Writes ``<out_dir>/{swbd_train,swbd_test,swbd_holdout,asr_train,fisher}`` (the names are options; see
``speechsent.data.prepare``)::

    speechsent-prepare-data --swbd /LDC97S62 --swbd_ms98 /swb_ms98_transcriptions \\
        --swbd_sentiment /LDC2020T14 --fisher "/LDC2004S13 /LDC2005S13 /LDC2004T19 /LDC2005T19" \\
        --out_dir data

Splits: ``--split conversation`` (default: conversation-disjoint, the paper's 86/5/5 h proportions,
``--split_hours``, ``--split_seed``), ``--split_lists DIR`` (``train``/``test``/``holdout`` id lists, e.g. the
authors' split) or ``--split espnet`` (ESPnet egs2/swbd_sentiment's split reproduced). ``--swbd_data_dir DIR``
reuses an existing Kaldi/ESPnet Switchboard data dir instead of ``--swbd``/``--swbd_ms98``.

The options are the fields of ``speechsent.data.prepare_common.PrepareConfig`` (their one definition). They
may also come from ``--config FILE`` (YAML mapping of option names to values; command-line options win).
``--list_sets true`` prints the names of the data dirs the options write, one a line, and exits.
Exit status: 0 on success, 1 on bad input (the message names ``file:line``), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Callable, Sequence

from speechsent import cli
from speechsent.cli import str2bool
from speechsent.data.prepare_common import PrepareConfig

__all__ = ["get_parser", "main", "prepare_data"]

PROG = "speechsent-prepare-data"


def _arg_type(parse: Callable[[str], object]) -> Callable[[str], object]:
    """``parse`` as an argparse ``type``: its ValueError message becomes the usage error."""

    def convert(value: str) -> object:
        try:
            return parse(value)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = parse.__name__
    return convert


def get_parser() -> argparse.ArgumentParser:
    """One option per :class:`PrepareConfig` field, from its metadata (help, group, parser, choices)."""
    parser = cli.make_parser(PROG, __doc__)
    groups: dict[str, argparse._ArgumentGroup] = {}
    for field in dataclasses.fields(PrepareConfig):
        meta = field.metadata
        if meta["group"] not in groups:
            groups[meta["group"]] = parser.add_argument_group(meta["group"])
        parse = meta["parse"]
        if parse is None:
            parse = {bool: str2bool, int: int, float: float}.get(type(field.default))
        groups[meta["group"]].add_argument(
            f"--{field.name}",
            default=field.default,
            type=_arg_type(parse) if parse not in (None, str2bool) else parse,
            choices=meta["choices"],
            help=meta["help"],
        )
    parser.add_argument(
        "--list_sets",
        type=str2bool,
        default=False,
        help="print the names of the data dirs these options write, one a line, and exit",
    )
    cli.add_log_level_argument(parser)
    return parser


def config_from_args(args: argparse.Namespace) -> PrepareConfig:
    return PrepareConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(PrepareConfig)})


def prepare_data(args: argparse.Namespace):  # -> PrepareReport
    """The work function: options → :func:`speechsent.data.prepare.prepare_data`."""
    from speechsent.data.prepare import prepare_data as run

    return run(config_from_args(args))


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    if args.list_sets:
        print("\n".join(config_from_args(args).set_names()))
        return 0
    cli.setup_logging(args.log_level)
    from speechsent.data.prepare_common import PrepareError
    from speechsent.kaldi.table import KaldiDataError

    try:
        prepare_data(args)
    except (PrepareError, KaldiDataError, FileNotFoundError) as e:
        logging.getLogger("speechsent.prepare_data").error("%s", e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
