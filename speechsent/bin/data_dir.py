"""Kaldi data-directory tools: validate, fix, copy, combine, subset.

The Python side of ``utils/validate_data_dir.sh``, ``utils/fix_data_dir.sh``, ``utils/copy_data_dir.sh``,
``utils/combine_data.sh`` and ``utils/subset_data_dir.sh`` (which accept Kaldi's options and call this); also
usable directly::

    speechsent-data-dir validate [--no_feats] [--no_text] [--no_wav] [--no_spk_sort] [--non_print]
                                 [--no_audio_headers] DIR
    speechsent-data-dir fix [--utt_extra_files "a b"] [--spk_extra_files "c"] DIR
    speechsent-data-dir copy [--utt_prefix P] [--utt_suffix S] [--spk_prefix P] [--spk_suffix S]
                             [--validate_opts "--no-wav"] SRC DST
    speechsent-data-dir combine [--extra_files "a b"] [--skip_fix true|false] DST SRC [SRC ...]
    speechsent-data-dir subset (--even N | --first N | --last N | --shortest N | --random N | --per_spk N
                               | --speakers N | --hours H | --utt_list FILE | --spk_list FILE) [--seed S]
                               SRC DST

Stdlib only: runs in a bare ``python3`` (the ``utils/`` scripts set ``PYTHONPATH`` to the repository root).
Exit status: 0 on success, 1 on a failed check or an error, 2 on a usage error. The commands:
:mod:`speechsent.kaldi.commands`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from speechsent.cli import str2bool
from speechsent.kaldi import commands
from speechsent.kaldi.table import KaldiDataError

__all__ = ["get_parser", "main"]

_VALIDATE_FLAGS = {
    "no_feats": "feats.scp is optional (checked if present)",
    "no_text": "text is optional (checked if present)",
    "no_wav": "wav.scp is optional (checked if present)",
    "no_spk_sort": "do not require utt2spk to be sorted by speaker as well",
    "non_print": "allow non-printable characters in text",
    "no_audio_headers": "do not read audio headers to check segments against the recordings' lengths "
    "(reco2dur still is)",
}
#: The subset options that take a number of utterances (each is the method of the same name).
_NUM_METHODS = {
    "even": "N utterances evenly spread (Kaldi's default)",
    "first": "the first N utterances",
    "last": "the last N utterances",
    "shortest": "the N shortest utterances",
    "random": "N random utterances (--seed)",
    "per_spk": "up to N per speaker",
    "speakers": "random speakers up to N utterances",
}


def _positive(kind: type, what: str):
    def parse(value: str):
        try:
            x = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {what}, got {value!r}") from None
        if not x > 0 or x == float("inf"):
            raise argparse.ArgumentTypeError(f"expected a positive {what}, got {value!r}")
        return x

    return parse


def _opt(p: argparse.ArgumentParser, name: str, **kw) -> None:
    """``--name`` and its dashed spelling (``--per-spk``), as Kaldi's scripts spell them."""
    names = dict.fromkeys((f"--{name}", f"--{name.replace('_', '-')}"))
    p.add_argument(*names, dest=name, **kw)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="speechsent-data-dir",
        description="Kaldi data-directory tools (validate, fix, copy, combine, subset), with "
        "utt2sentiment/utt2pseudo awareness.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--prog", default=None, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    fmt = {"formatter_class": argparse.ArgumentDefaultsHelpFormatter}
    p = sub.add_parser(
        "validate",
        help="check a data directory (Kaldi's validate_data_dir.sh checks, plus ours)",
        description="Check a data directory; exit 1 on any failed check.",
    )
    for name, help in _VALIDATE_FLAGS.items():
        _opt(p, name, action="store_true", help=help)
    p.add_argument("data_dir")
    p = sub.add_parser(
        "fix",
        help="sort and filter a data directory in place (the files before each run in DIR/.backup, then "
        "DIR/.backup.1 ...)",
        **fmt,
    )
    _opt(p, "utt_extra_files", default="", help="more utterance-indexed files")
    _opt(p, "spk_extra_files", default="", help="more speaker-indexed files")
    p.add_argument("data_dir")
    p = sub.add_parser("copy", help="copy a data directory, optionally renaming utterances/speakers", **fmt)
    for name in ("utt_prefix", "utt_suffix", "spk_prefix", "spk_suffix"):
        _opt(p, name, default="", help=name.replace("_", " "))
    _opt(p, "validate_opts", default="", help="options for validating the copy, e.g. '--no-wav'")
    p.add_argument("src")
    p.add_argument("dst")
    p = sub.add_parser("combine", help="combine data directories (then fix)", **fmt)
    _opt(p, "extra_files", default="", help="more files to combine")
    _opt(p, "skip_fix", type=str2bool, default=False, help="do not fix the result")
    p.add_argument("dst")
    p.add_argument("srcs", nargs="+", metavar="src")
    p = sub.add_parser("subset", help="subset a data directory", **fmt)
    g = p.add_mutually_exclusive_group(required=True)
    for name, help in _NUM_METHODS.items():
        _opt(g, name, type=_positive(int, "integer"), metavar="N", help=help)
    g.add_argument(
        "--hours", type=_positive(float, "number"), metavar="H", help="at most H hours at random (--seed)"
    )
    _opt(g, "utt_list", metavar="FILE", help="the utterances listed in FILE")
    _opt(g, "spk_list", metavar="FILE", help="the speakers listed in FILE")
    p.add_argument("--seed", type=int, default=0, help="random seed of --random, --speakers and --hours")
    p.add_argument("src")
    p.add_argument("dst")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    prog = args.prog or f"speechsent-data-dir {args.command}"
    opts = {k: v for k, v in vars(args).items() if k not in ("command", "prog")}
    try:
        if args.command == "validate":
            return commands.run_validate(opts.pop("data_dir"), **opts, prog=prog)
        if args.command == "fix":
            return commands.run_fix(opts.pop("data_dir"), **opts, prog=prog)
        if args.command == "copy":
            return commands.run_copy(opts.pop("src"), opts.pop("dst"), **opts, prog=prog)
        if args.command == "combine":
            return commands.run_combine(opts.pop("dst"), opts.pop("srcs"), **opts, prog=prog)
        return commands.run_subset(args.src, args.dst, **_subset_method(args), prog=prog)
    except (KaldiDataError, ValueError, OSError) as e:
        commands.say(prog, f"ERROR: {e}", err=True)
        return 1


def _subset_method(args: argparse.Namespace) -> dict:
    """The method of ``subset`` the options chose, and its argument (and seed)."""
    for method in _NUM_METHODS:
        if getattr(args, method) is not None:
            return {"method": method, "num": getattr(args, method), "seed": args.seed}
    if args.hours is not None:
        return {"method": "hours", "hours": args.hours, "seed": args.seed}
    method = "utt_list" if args.utt_list is not None else "spk_list"
    return {"method": method, "id_list": args.utt_list or args.spk_list}


if __name__ == "__main__":
    sys.exit(main())
