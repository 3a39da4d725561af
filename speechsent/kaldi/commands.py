"""The data-dir commands as ``speechsent-data-dir`` and the ``utils/*.sh`` wrappers run them (stdlib only).

Each ``run_*`` calls one operation (:mod:`speechsent.kaldi.validate`, :mod:`~speechsent.kaldi.fix`,
:mod:`~speechsent.kaldi.copy`, :mod:`~speechsent.kaldi.combine`, :mod:`~speechsent.kaldi.subset`), prints its
messages and problems prefixed with ``prog`` (warnings and errors on stderr, the rest on stdout) and returns
the exit status: 0 on success, 1 on a failed check.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from speechsent.kaldi.combine import combine
from speechsent.kaldi.copy import copy
from speechsent.kaldi.fix import FixReport, fix
from speechsent.kaldi.subset import subset
from speechsent.kaldi.validate import validate

__all__ = ["run_combine", "run_copy", "run_fix", "run_subset", "run_validate", "say"]


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
