"""What the two feature-dump entry points (``speechsent-dump-encoder``, ``speechsent-dump-fbank``) share: the
options of their jobs and storage, the usage checks, the error report, and the dispatch of a parsed command
line to a worker job, one job, the merge or the whole dump (:mod:`speechsent.asr.dump_jobs`).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from typing import Any

from speechsent.asr.failures import add_max_failed_fraction_argument
from speechsent.cli import none_or_str, str2bool

__all__ = [
    "add_job_arguments",
    "add_storage_arguments",
    "check_compression_option",
    "check_job_options",
    "run_dump_command",
    "run_reporting_errors",
    "storage_spec",
]


def add_job_arguments(g: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    """``--nj``, ``--cmd``, ``--log_dir``, ``--job``, ``--merge``, ``--worker``, ``--force``, the unreadable
    audio options and ``--channel``."""
    g.add_argument("--nj", type=int, default=1, help="number of jobs the data dir is split into")
    g.add_argument(
        "--cmd",
        type=none_or_str,
        default=None,
        help="job runner of the nj jobs (run.pl, slurm.pl, queue.pl + options), then the merge: the stage's "
        "one call; default: every job in this process, then the merge",
    )
    g.add_argument(
        "--log_dir",
        default=None,
        help="with --cmd: the jobs' logs dump.JOB.log and spec.json (default <out_dir>/log; several sets: "
        "<their parent>/log)",
    )
    g.add_argument(
        "--job",
        type=int,
        default=None,
        help="dump only job JOB (1..nj), e.g. under run.pl JOB=1:nj by hand; then --merge true",
    )
    g.add_argument(
        "--merge",
        type=str2bool,
        default=False,
        help="only merge the nj finished jobs into feats.scp, utt2num_frames, skipped_utts, info.json",
    )
    g.add_argument("--worker", default=None, metavar="SPEC", help="run job --job of a spec (what --cmd runs)")
    g.add_argument("--force", type=str2bool, default=False, help="redo jobs even when already complete")
    g.add_argument(
        "--skip_unreadable",
        type=str2bool,
        default=False,
        help="list utterances whose audio cannot be read in skipped_utts instead of failing",
    )
    add_max_failed_fraction_argument(g, " (checked by the merge, with --skip_unreadable true)")
    g.add_argument("--channel", type=int, default=None, help="0-based channel of multi-channel recordings")


def add_storage_arguments(g: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    g.add_argument(
        "--storage", default="float", choices=("float", "compressed"), help="float32 (FM) or compressed"
    )
    g.add_argument(
        "--compression_method",
        default="speech_feature",
        help="Kaldi compression method of --storage compressed: speech_feature (2, default), auto (1), "
        "two_byte (3: more than half of float32's bytes), one_byte (5)",
    )
    g.add_argument(
        "--compress_max_rel_error",
        type=float,
        default=0.1,
        help="largest max abs error of a compressed matrix, relative to the matrix's std",
    )
    g.add_argument(
        "--compress_fallback",
        default="float",
        choices=("float", "error"),
        help="a matrix over that limit: store it as float32 (with a warning), or fail",
    )


def storage_spec(args: argparse.Namespace) -> Any:
    """The :class:`speechsent.kaldi.ark.StorageSpec` of the storage options."""
    from speechsent.kaldi.ark import StorageSpec, parse_compression_method

    return StorageSpec(
        kind=args.storage,
        method=parse_compression_method(args.compression_method),
        max_rel_error=args.compress_max_rel_error,
        fallback=args.compress_fallback,
    )


def check_job_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors of ``--nj``, ``--job``, ``--merge`` and ``--worker`` (exit via ``parser.error``)."""
    if args.nj < 1:
        parser.error("--nj must be at least 1")
    if getattr(args, "worker", None):
        if args.job is None:
            parser.error("--worker needs --job")
        return
    if args.job is not None and not 1 <= args.job <= args.nj:
        parser.error(f"--job must be in 1..--nj ({args.nj})")
    if args.merge and args.job is not None:
        parser.error("--merge and --job exclude each other")


def check_compression_option(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A usage error for an unknown ``--compression_method``."""
    from speechsent.kaldi.ark import CompressionError, parse_compression_method

    try:
        parse_compression_method(args.compression_method)
    except CompressionError as error:
        parser.error(f"--compression_method: {error}")


def run_dump_command(
    args: argparse.Namespace,
    configs: Callable[[], Sequence[Any]],
    from_dict: Callable[[dict[str, Any]], Any],
    dump_job: Callable[..., Any],
    *,
    worker_module: str,
    gpu: int | None = None,
) -> list[Any]:
    """What a dump command line asks: a worker job (``--worker``), the merge (``--merge``), one job
    (``--job``) of each set, or the whole dump (:func:`speechsent.asr.dump_jobs.run_dump`, through ``--cmd``
    when given). ``configs()`` makes the sets' configs from ``args``."""
    from speechsent.asr.dump_jobs import merge_jobs, run_dump, run_worker

    if args.worker:
        return run_worker(args.worker, args.job, from_dict, dump_job)
    sets = configs()
    if args.merge:
        fraction = args.max_failed_fraction
        return [merge_jobs(c.data_dir, c.out_dir, c.nj, max_failed_fraction=fraction) for c in sets]
    if args.job is not None:
        return [dump_job(c, args.job, force=args.force) for c in sets]
    return run_dump(
        sets,
        dump_job,
        worker_module=worker_module,
        cmd=args.cmd,
        log_dir=args.log_dir,
        gpu=gpu,
        force=args.force,
        max_failed_fraction=args.max_failed_fraction,
    )


def run_reporting_errors(work: Callable[[], object], logger: logging.Logger) -> int:
    """Run ``work()``: 0, or 1 with the error logged (no traceback) for bad input, storage, data or job
    errors."""
    from speechsent import cli
    from speechsent.asr.dump_jobs import DumpError
    from speechsent.audio.io import AudioError
    from speechsent.jobs import JobError
    from speechsent.kaldi.ark import CompressionError
    from speechsent.kaldi.table import KaldiDataError

    errors = (DumpError, CompressionError, AudioError, KaldiDataError, JobError, OSError, ValueError)
    return cli.run_reporting_errors(work, logger, errors)
