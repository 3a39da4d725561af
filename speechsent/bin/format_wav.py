"""speechsent-format-wav: a Kaldi data dir → one audio file per utterance, as espnet2's data loaders read it.

ESPnet's ``format_wav_scp.sh`` for the recipes' data dirs (pipes to ``speechsent-sph2pipe``, ``segments``)::

    speechsent-format-wav --data_dir data/asr_train --out_dir dump/raw/asr_train --fs 8000 \\
        --nj 8 --cmd "run.pl"

writes ``<out_dir>/wav.scp`` (``<utt> <out_dir>/data/<spk>/<utt>.flac``), ``utt2num_samples``, the source's
``text``/``utt2spk``/``spk2utt`` and other utterance tables, through ``nj`` jobs of ``--cmd`` (logs in
``<out_dir>/logdir/format.JOB.log``). Audio is resampled to ``--fs``. A rerun skips the files and jobs that
are done; other ``--fs``/``--audio_format``/source audio start afresh. ``--min_duration``/``--max_duration``/
``--drop_empty_text`` filter the result as ESPnet's ``asr.sh`` filters its training and validation sets.

Utterances whose audio cannot be read are left out, listed with the reason in ``<out_dir>/failed`` and
counted; a rerun reads them again (after the audio or ``wav.scp`` was fixed). A set with no utterance left,
or with more than ``--max_failed_fraction`` (default 0.1) of its utterances unreadable, is an error that
names that list and shows the first reasons (``<out_dir>/wav.scp`` is then not written).

Options may also come from ``--config FILE`` (YAML). Exit status: 0 on success, 1 on an error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from speechsent import cli
from speechsent.asr.failures import add_max_failed_fraction_argument
from speechsent.cli import str2bool
from speechsent.jobs import add_worker_arguments, check_worker_arguments

__all__ = ["format_wav", "get_parser", "main"]

PROG = "speechsent-format-wav"


def _positive_or_none(value: str) -> float | None:
    if value.lower() in ("", "none"):
        return None
    return float(value)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_config_argument(parser)
    parser.add_argument("--data_dir", help="the Kaldi data dir (wav.scp, segments, utt2spk, text ...)")
    parser.add_argument("--out_dir", help="the formatted dir, e.g. dump/raw/<set>")
    parser.add_argument("--fs", type=int, default=8000, help="sampling rate of the written audio (Hz)")
    parser.add_argument("--audio_format", default="flac", choices=("flac", "wav"))
    parser.add_argument("--nj", type=int, default=1, help="number of parallel jobs")
    parser.add_argument("--cmd", default="run.pl", help="job runner (run.pl, slurm.pl, queue.pl + options)")
    parser.add_argument(
        "--min_duration",
        type=_positive_or_none,
        default=None,
        help="keep utterances longer than this (s; none: no limit)",
    )
    parser.add_argument(
        "--max_duration",
        type=_positive_or_none,
        default=None,
        help="keep utterances shorter than this (s; none: no limit)",
    )
    parser.add_argument(
        "--drop_empty_text",
        type=str2bool,
        default=False,
        help="leave out utterances with an empty transcript",
    )
    add_max_failed_fraction_argument(parser)
    add_worker_arguments(parser)
    cli.add_log_level_argument(parser)
    return parser


def format_wav(args: argparse.Namespace):  # -> FormatReport | None
    """The work function: a worker job, or the whole formatting of ``--data_dir``."""
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    check_worker_arguments(parser, args, "data_dir", "out_dir")
    cli.setup_logging(args.log_level)
    log = logging.getLogger(PROG)
    return cli.run_reporting_errors(
        lambda: _report(format_wav(args), log), log, (OSError, ValueError, RuntimeError)
    )


def _report(report: Any, log: logging.Logger) -> None:
    if report is not None:
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


if __name__ == "__main__":
    sys.exit(main())
