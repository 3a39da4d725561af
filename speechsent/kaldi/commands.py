"""The data-dir commands as ``speechsent-data-dir`` and the ``utils/*.sh`` wrappers run them (stdlib only).

:func:`add_arguments` defines the six subcommands and their options (as Kaldi's scripts spell them:
``--per_spk`` and ``--per-spk``); :func:`run_command` runs the one a parsed command line names.  Each
``run_*`` calls one operation (:mod:`speechsent.kaldi.validate`, :mod:`~speechsent.kaldi.fix`,
:mod:`~speechsent.kaldi.copy`, :mod:`~speechsent.kaldi.combine`, :mod:`~speechsent.kaldi.subset`,
:mod:`~speechsent.kaldi.overlap`), prints its
messages and problems prefixed with ``prog`` (warnings and errors on stderr, the rest on stdout) and returns
the exit status: 0 on success, 1 on a failed check.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from speechsent.cli import str2bool
from speechsent.kaldi.combine import combine
from speechsent.kaldi.copy import copy
from speechsent.kaldi.fix import FixReport, fix
from speechsent.kaldi.overlap import TrainingAudio, format_overlap, update_overlap_json
from speechsent.kaldi.subset import subset
from speechsent.kaldi.table import KaldiDataError
from speechsent.kaldi.validate import validate

__all__ = [
    "add_arguments",
    "run_combine",
    "run_command",
    "run_copy",
    "run_fix",
    "run_overlap",
    "run_subset",
    "run_validate",
    "say",
]


def say(prog: str, message: str, *, err: bool = False) -> None:
    """Print ``prog: message`` (on stderr when ``err``)."""
    print(f"{prog}: {message}", file=sys.stderr if err else sys.stdout, flush=True)


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
    problems = validate(
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
        say(prog, f"WARNING: {w}", err=True)
    for p in problems:
        say(prog, f"ERROR: {p}", err=True)
    if problems:
        say(prog, f"{len(problems)} problem(s) in data-directory {data_dir}", err=True)
        return 1
    say(prog, f"Successfully validated data-directory {data_dir}")
    return 0


def run_fix(
    data_dir: str,
    *,
    utt_extra_files: str = "",
    spk_extra_files: str = "",
    prog: str = "fix_data_dir",
) -> int:
    """Fix ``data_dir`` in place and print what was done; 1 if the result still fails validation."""
    report = fix(
        data_dir,
        utt_extra_files=utt_extra_files,
        spk_extra_files=spk_extra_files,
        log=lambda m: say(prog, m, err=True),
    )
    for m in report.messages:
        say(prog, m, err=m.startswith("WARNING"))
    return _report_problems(prog, data_dir, report)


def _report_problems(prog: str, data_dir: str, report: FixReport) -> int:
    for p in report.problems:
        say(prog, f"ERROR: {p}", err=True)
    if report.problems:
        kept = f"; the files before this run are in {report.backup_dir}" if report.backup_dir else ""
        say(
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
    problems = copy(
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
        say(prog, m)
    for p in problems:
        say(prog, f"ERROR: {p}", err=True)
    if problems:
        say(prog, f"the copy {dst} does not validate ({len(problems)} problem(s))", err=True)
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
    report = combine(dst, srcs, extra_files=extra_files, skip_fix=skip_fix)
    for m in report.messages:
        say(prog, m, err=m.startswith("WARNING"))
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
    """Subset ``src`` into ``dst`` (see :func:`speechsent.kaldi.subset.subset`)."""
    report = subset(src, dst, method, num=num, hours=hours, id_list=id_list, seed=seed)
    for m in report.messages:
        say(prog, m, err=m.startswith("WARNING"))
    return 0


def run_overlap(
    data_dirs: Sequence[str],
    *,
    train: str,
    out: str | None = None,
    no_audio_headers: bool = False,
    prog: str = "data_overlap",
) -> int:
    """Measure each of ``data_dirs`` against the training sets ``train`` (space-separated dirs); print one
    line per set (stdout) and merge the results into ``out`` (JSON) when given."""
    train_dirs = train.split()
    names = [Path(d).name for d in data_dirs]
    if len(set(names)) < len(names):
        raise ValueError(f"two data directories of one name: {' '.join(data_dirs)} (sets are named by it)")
    audio = TrainingAudio(train_dirs, read_headers=not no_audio_headers)
    results = {}
    for name, d in zip(names, data_dirs, strict=True):
        results[name] = audio.overlap(d)
        for w in results[name].warnings:
            say(prog, f"WARNING: {w}", err=True)
        print(format_overlap(name, results[name], train_dirs), flush=True)
    if out is not None:
        update_overlap_json(out, audio, results, warn=lambda m: say(prog, f"WARNING: {m}", err=True))
    return 0


# ----------------------------------------------------------------------------------------------------------
# The command line of ``speechsent-data-dir``
# ----------------------------------------------------------------------------------------------------------

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
_DEFAULTS_SHOWN = {"formatter_class": argparse.ArgumentDefaultsHelpFormatter}


def _positive(kind: type, what: str) -> Callable[[str], Any]:
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The hidden ``--prog`` (the name messages start with) and the subcommands, on ``parser``."""
    parser.add_argument("--prog", default=None, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
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
        **_DEFAULTS_SHOWN,
    )
    _opt(p, "utt_extra_files", default="", help="more utterance-indexed files")
    _opt(p, "spk_extra_files", default="", help="more speaker-indexed files")
    p.add_argument("data_dir")
    p = sub.add_parser(
        "copy", help="copy a data directory, optionally renaming utterances/speakers", **_DEFAULTS_SHOWN
    )
    for name in ("utt_prefix", "utt_suffix", "spk_prefix", "spk_suffix"):
        _opt(p, name, default="", help=name.replace("_", " "))
    _opt(p, "validate_opts", default="", help="options for validating the copy, e.g. '--no-wav'")
    p.add_argument("src")
    p.add_argument("dst")
    p = sub.add_parser("combine", help="combine data directories (then fix)", **_DEFAULTS_SHOWN)
    _opt(p, "extra_files", default="", help="more files to combine")
    _opt(p, "skip_fix", type=str2bool, default=False, help="do not fix the result")
    p.add_argument("dst")
    p.add_argument("srcs", nargs="+", metavar="src")
    _add_subset(sub.add_parser("subset", help="subset a data directory", **_DEFAULTS_SHOWN))
    p = sub.add_parser(
        "overlap",
        help="hours of each data directory's audio that lie in the audio of ASR training sets",
        description="Per data directory: the hours of its utterances' audio (segments, or whole recordings) "
        "that lie in the training sets' audio, same recording ids; one line per set, and a JSON file that "
        "later runs add their sets to.",
        **_DEFAULTS_SHOWN,
    )
    p.add_argument("--train", required=True, help="the ASR's training data directories, space-separated")
    p.add_argument(
        "--out", default=None, metavar="FILE.json", help="merge the results into this JSON file (atomic)"
    )
    _opt(p, "no_audio_headers", action="store_true", help="never read audio headers for lengths")
    p.add_argument("data_dirs", nargs="+", metavar="DIR")


def _add_subset(p: argparse.ArgumentParser) -> None:
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


def run_command(args: argparse.Namespace) -> int:
    """Run the subcommand of a command line parsed with :func:`add_arguments`; the exit status.

    An error (bad data, a file that cannot be read or written) is printed as ``PROG: ERROR: ...`` on
    stderr: exit status 1.
    """
    prog = args.prog or f"speechsent-data-dir {args.command}"
    opts = {k: v for k, v in vars(args).items() if k not in ("command", "prog")}
    try:
        if args.command == "validate":
            return run_validate(opts.pop("data_dir"), **opts, prog=prog)
        if args.command == "fix":
            return run_fix(opts.pop("data_dir"), **opts, prog=prog)
        if args.command == "copy":
            return run_copy(opts.pop("src"), opts.pop("dst"), **opts, prog=prog)
        if args.command == "combine":
            return run_combine(opts.pop("dst"), opts.pop("srcs"), **opts, prog=prog)
        if args.command == "overlap":
            return run_overlap(opts.pop("data_dirs"), **opts, prog=prog)
        return run_subset(args.src, args.dst, **_subset_method(args), prog=prog)
    except (KaldiDataError, ValueError, OSError) as e:
        say(prog, f"ERROR: {e}", err=True)
        return 1


def _subset_method(args: argparse.Namespace) -> dict[str, Any]:
    """The method of ``subset`` the options chose, and its argument (and seed)."""
    for method in _NUM_METHODS:
        if getattr(args, method) is not None:
            return {"method": method, "num": getattr(args, method), "seed": args.seed}
    if args.hours is not None:
        return {"method": "hours", "hours": args.hours, "seed": args.seed}
    method = "utt_list" if args.utt_list is not None else "spk_list"
    return {"method": method, "id_list": args.utt_list or args.spk_list}
