"""``speechsent-format-wav``'s options, the formatting they ask for (a worker job, or the whole data dir,
:mod:`speechsent.asr.format_audio`) and its report in the log.

Nothing heavy is imported here (``--help`` stays fast).
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from speechsent.asr.failures import add_max_failed_fraction_argument
from speechsent.cli import add_job_runner_arguments, none_or_float, str2bool
from speechsent.jobs import add_worker_arguments

__all__ = ["add_format_arguments", "format_wav", "log_format_report"]


def add_format_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option but ``--config`` and ``--log_level``."""
    add = parser.add_argument
    add("--data_dir", help="the Kaldi data dir (wav.scp, segments, utt2spk, text ...)")
    add("--out_dir", help="the formatted dir, e.g. dump/raw/<set>")
    add("--fs", type=int, default=8000, help="sampling rate of the written audio (Hz)")
    add("--audio_format", default="flac", choices=("flac", "wav"))
    add_job_runner_arguments(parser)
    add(
        "--min_duration",
        type=none_or_float,
        default=None,
        help="keep utterances longer than this (s; none: no limit)",
    )
    add(
        "--max_duration",
        type=none_or_float,
        default=None,
        help="keep utterances shorter than this (s; none: no limit)",
    )
    add(
        "--drop_empty_text",
        type=str2bool,
        default=False,
        help="leave out utterances with an empty transcript",
    )
    add_max_failed_fraction_argument(parser)
    add_worker_arguments(parser)


def format_wav(args: argparse.Namespace) -> Any:
    """A worker job (None), or the whole formatting of ``--data_dir`` (its
    :class:`~speechsent.asr.format_audio.FormatReport`)."""
    from speechsent.asr.format_audio import format_data_dir, format_job

    if args.worker:
        format_job(args.worker, args.job)
        return None
    return format_data_dir(
        args.data_dir,
        args.out_dir,
        fs=args.fs,
        audio_format=args.audio_format,
        nj=args.nj,
        cmd=args.cmd,
        min_duration=args.min_duration,
        max_duration=args.max_duration,
        drop_empty_text=args.drop_empty_text,
        max_failed_fraction=args.max_failed_fraction,
    )


def log_format_report(report: Any, log: logging.Logger) -> None:
    """What was written, left out and removed (info); nothing for a worker job (``report`` None)."""
    if report is None:
        return
    removed = ", ".join(f"{n} {why}" for why, n in report.removed.items()) or "none"
    failed = f", listed in {report.out_dir / 'failed'}" if report.num_failed else ""
    log.info(
        "%s: %d utterances (%d files written now, %d unreadable of %d%s, removed: %s) in %.1f s",
        report.out_dir,
        report.num_utts,
        report.num_written,
        report.num_failed,
        report.num_source,
        failed,
        removed,
        report.seconds,
    )
