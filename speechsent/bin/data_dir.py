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
Exit status: 0 on success, 1 on a failed check or an error, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from speechsent.cli import str2bool
from speechsent.data import ops
from speechsent.data.kaldi_dir import KaldiDataError

__all__ = ["get_parser", "main", "run_combine", "run_copy", "run_fix", "run_subset", "run_validate"]


def positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return n


def positive_float(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}") from None
    if not x > 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}")
    return x


def _say(prog: str, message: str, *, err: bool = False) -> None:
    print(f"{prog}: {message}", file=sys.stderr if err else sys.stdout, flush=True)


# ----------------------------------------------------------------------------------------------------------
# Work functions


def run_validate(
    data_dir: str,
    *,
    no_feats: bool = False,
    no_text: bool = False,
    no_wav: bool = False,
    no_spk_sort: bool = False,
    non_print: bool = False,
    no_audio_headers: bool = False,
    prog: str = "validate_data_dir",
) -> int:
    """Validate ``data_dir``, print the problems (stderr) or a success line (stdout); exit status."""
    warnings: list[str] = []
    problems = ops.validate(
        data_dir,
        no_feats=no_feats,
        no_text=no_text,
        no_wav=no_wav,
        no_spk_sort=no_spk_sort,
        non_print=non_print,
        no_audio_headers=no_audio_headers,
        warnings=warnings,
    )
    for w in warnings:
        _say(prog, f"WARNING: {w}", err=True)
    for p in problems:
        _say(prog, f"ERROR: {p}", err=True)
    if problems:
        _say(prog, f"{len(problems)} problem(s) in data-directory {data_dir}", err=True)
        return 1
    _say(prog, f"Successfully validated data-directory {data_dir}")
    return 0


def run_fix(
    data_dir: str,
    *,
    utt_extra_files: str = "",
    spk_extra_files: str = "",
    prog: str = "fix_data_dir",
) -> int:
    """Fix ``data_dir`` in place and print what was done; 1 if the result still fails validation."""
    report = ops.fix(
        data_dir,
        utt_extra_files=utt_extra_files,
        spk_extra_files=spk_extra_files,
        log=lambda m: _say(prog, m, err=True),
    )
    for m in report.messages:
        _say(prog, m, err=m.startswith("WARNING"))
    return _report_problems(prog, data_dir, report)


def _report_problems(prog: str, data_dir: str, report: ops.FixReport) -> int:
    for p in report.problems:
        _say(prog, f"ERROR: {p}", err=True)
    if report.problems:
        kept = f"; the files before this run are in {report.backup_dir}" if report.backup_dir else ""
        _say(
            prog,
            f"ERROR: {data_dir} still fails validation after fixing ({len(report.problems)} problem(s) that "
            f"fix_data_dir.sh does not repair){kept}",
            err=True,
        )
        return 1
    return 0


def run_copy(
    src: str,
    dst: str,
    *,
    utt_prefix: str = "",
    utt_suffix: str = "",
    spk_prefix: str = "",
    spk_suffix: str = "",
    validate_opts: str = "",
    prog: str = "copy_data_dir",
) -> int:
    """Copy ``src`` to ``dst`` (ids optionally renamed), then validate ``dst``."""
    messages: list[str] = []
    problems = ops.copy(
        src,
        dst,
        utt_prefix=utt_prefix,
        utt_suffix=utt_suffix,
        spk_prefix=spk_prefix,
        spk_suffix=spk_suffix,
        validate_opts=validate_opts.split(),
        messages=messages,
    )
    for m in messages:
        _say(prog, m)
    for p in problems:
        _say(prog, f"ERROR: {p}", err=True)
    if problems:
        _say(prog, f"the copy {dst} does not validate ({len(problems)} problem(s))", err=True)
        return 1
    return 0


def run_combine(
    dst: str,
    srcs: Sequence[str],
    *,
    extra_files: str = "",
    skip_fix: bool = False,
    prog: str = "combine_data",
) -> int:
    """Combine ``srcs`` into ``dst``."""
    report = ops.combine(dst, srcs, extra_files=extra_files, skip_fix=skip_fix)
    for m in report.messages:
        _say(prog, m, err=m.startswith("WARNING"))
    return _report_problems(prog, dst, report.fix) if report.fix is not None else 0


def run_subset(
    src: str,
    dst: str,
    *,
    method: str,
    num: int | None = None,
    hours: float | None = None,
    id_list: str | None = None,
    seed: int = 0,
    prog: str = "subset_data_dir",
) -> int:
    """Subset ``src`` into ``dst`` (see :func:`speechsent.data.ops.subset`)."""
    report = ops.subset(src, dst, method, num=num, hours=hours, id_list=id_list, seed=seed)
    for m in report.messages:
        _say(prog, m, err=m.startswith("WARNING"))
    return 0


# ----------------------------------------------------------------------------------------------------------
# Command line


def _flag(parser: argparse.ArgumentParser, name: str, help: str) -> None:
    parser.add_argument(f"--{name}", f"--{name.replace('_', '-')}", dest=name, action="store_true", help=help)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="speechsent-data-dir",
        description="Kaldi data-directory tools (validate, fix, copy, combine, subset), with "
        "utt2sentiment/utt2pseudo awareness.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--prog", default=None, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "validate",
        help="check a data directory (Kaldi's validate_data_dir.sh checks, plus ours)",
        description="Check a data directory; exit 1 on any failed check.",
    )
    _flag(p, "no_feats", "feats.scp is optional (checked if present)")
    _flag(p, "no_text", "text is optional (checked if present)")
    _flag(p, "no_wav", "wav.scp is optional (checked if present)")
    _flag(p, "no_spk_sort", "do not require utt2spk to be sorted by speaker as well")
    _flag(p, "non_print", "allow non-printable characters in text")
    _flag(
        p,
        "no_audio_headers",
        "do not read audio headers to check segments against the recordings' lengths (reco2dur still is)",
    )
    p.add_argument("data_dir")

    p = sub.add_parser(
        "fix",
        help="sort and filter a data directory in place (the files before each run in DIR/.backup, then "
        "DIR/.backup.1 ...)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--utt_extra_files", "--utt-extra-files", default="", help="more utterance-indexed files")
    p.add_argument("--spk_extra_files", "--spk-extra-files", default="", help="more speaker-indexed files")
    p.add_argument("data_dir")

    p = sub.add_parser(
        "copy",
        help="copy a data directory, optionally renaming utterances/speakers",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for name in ("utt_prefix", "utt_suffix", "spk_prefix", "spk_suffix"):
        p.add_argument(f"--{name}", f"--{name.replace('_', '-')}", default="", help=name.replace("_", " "))
    p.add_argument(
        "--validate_opts",
        "--validate-opts",
        default="",
        help="options for validating the copy, e.g. '--no-wav'",
    )
    p.add_argument("src")
    p.add_argument("dst")

    p = sub.add_parser(
        "combine",
        help="combine data directories (then fix)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--extra_files", "--extra-files", default="", help="more files to combine")
    p.add_argument("--skip_fix", "--skip-fix", type=str2bool, default=False, help="do not fix the result")
    p.add_argument("dst")
    p.add_argument("srcs", nargs="+", metavar="src")

    p = sub.add_parser(
        "subset",
        help="subset a data directory",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument(
        "--even", type=positive_int, metavar="N", help="N utterances evenly spread (Kaldi's default)"
    )
    g.add_argument("--first", type=positive_int, metavar="N", help="the first N utterances")
    g.add_argument("--last", type=positive_int, metavar="N", help="the last N utterances")
    g.add_argument("--shortest", type=positive_int, metavar="N", help="the N shortest utterances")
    g.add_argument("--random", type=positive_int, metavar="N", help="N random utterances (--seed)")
    g.add_argument("--per_spk", "--per-spk", type=positive_int, metavar="N", help="up to N per speaker")
    g.add_argument("--speakers", type=positive_int, metavar="N", help="random speakers up to N utterances")
    g.add_argument("--hours", type=positive_float, metavar="H", help="at most H hours at random (--seed)")
    g.add_argument("--utt_list", "--utt-list", metavar="FILE", help="the utterances listed in FILE")
    g.add_argument("--spk_list", "--spk-list", metavar="FILE", help="the speakers listed in FILE")
    p.add_argument("--seed", type=int, default=0, help="random seed of --random, --speakers and --hours")
    p.add_argument("src")
    p.add_argument("dst")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = parser.parse_args(argv)
    prog = args.prog or f"speechsent-data-dir {args.command}"
    try:
        if args.command == "validate":
            return run_validate(
                args.data_dir,
                no_feats=args.no_feats,
                no_text=args.no_text,
                no_wav=args.no_wav,
                no_spk_sort=args.no_spk_sort,
                non_print=args.non_print,
                no_audio_headers=args.no_audio_headers,
                prog=prog,
            )
        if args.command == "fix":
            return run_fix(
                args.data_dir,
                utt_extra_files=args.utt_extra_files,
                spk_extra_files=args.spk_extra_files,
                prog=prog,
            )
        if args.command == "copy":
            return run_copy(
                args.src,
                args.dst,
                utt_prefix=args.utt_prefix,
                utt_suffix=args.utt_suffix,
                spk_prefix=args.spk_prefix,
                spk_suffix=args.spk_suffix,
                validate_opts=args.validate_opts,
                prog=prog,
            )
        if args.command == "combine":
            return run_combine(
                args.dst, args.srcs, extra_files=args.extra_files, skip_fix=args.skip_fix, prog=prog
            )
        assert args.command == "subset"
        for method in ("even", "first", "last", "shortest", "random", "per_spk", "speakers"):
            if getattr(args, method) is not None:
                return run_subset(
                    args.src, args.dst, method=method, num=getattr(args, method), seed=args.seed, prog=prog
                )
        if args.hours is not None:
            return run_subset(args.src, args.dst, method="hours", hours=args.hours, seed=args.seed, prog=prog)
        method = "utt_list" if args.utt_list is not None else "spk_list"
        return run_subset(
            args.src, args.dst, method=method, id_list=args.utt_list or args.spk_list, prog=prog
        )
    except (KaldiDataError, ValueError, OSError) as e:
        _say(prog, f"ERROR: {e}", err=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
