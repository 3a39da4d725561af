"""speechsent-dump-encoder: stage 5, frozen ASR-encoder features of a data dir as Kaldi ark/scp.

Runs the frontend, normalisation and encoder of an ESPnet2 ASR model (eval mode, no gradients) on every
utterance of ``--data_dir`` and writes ``<out_dir>/feats.scp`` (+ ``feats.J.ark``), ``utt2num_frames``,
``skipped_utts`` (utterances too short for the encoder's subsampling, with the reason) and ``info.json``::

    # stage 5: one call; its nj jobs through --cmd (logs in dump/encoder/log/dump.JOB.log), then the merge
    speechsent-dump-encoder --data_dir data/swbd_test --out_dir dump/encoder/swbd_test \\
        --data_dir data/swbd_holdout --out_dir dump/encoder/swbd_holdout --asr_model_dir exp/asr_model \\
        --nj 4 --cmd run.pl

    # by hand: one job of four (under any job runner), then the merge
    speechsent-dump-encoder --data_dir data/swbd_train --out_dir dump/encoder/swbd_train \\
        --asr_model_dir exp/asr_train --nj 4 --job 2
    speechsent-dump-encoder --data_dir data/swbd_train --out_dir dump/encoder/swbd_train --nj 4 --merge true

    # everything in this process (all jobs, then the merge):
    speechsent-dump-encoder --data_dir data/swbd_test --out_dir dump/encoder/swbd_test \\
        --asr_config exp/asr_train/config.yaml --asr_model_file exp/asr_train/valid.acc.ave.pth

With several ``--data_dir``, each job does its share of every set (ESPnet is imported and the model loaded
once per job); ``--cmd`` runs the jobs as every parallel stage runs its jobs (:mod:`speechsent.jobs`; the
exact ``${cmd} JOB=1:N ...`` line is logged), with ``--ngpu 1`` adding ``--gpu 1`` to the runner.

Each dumped matrix equals what ``model.encode(speech[None], lengths)`` gives for the utterance alone, whatever
the batch it was encoded in (on GPU, batches are length-sorted and made exact; on CPU one utterance at a
time is fastest). ``--data_dir`` may also be a pre-split ``.../splitN/J`` dir (with ``--nj N --job J``).
A rerun skips the jobs already complete with the same model, storage and utterances; an interrupted job is
redone from its start; ``feats.scp`` is written last.

Audio that cannot be read fails the job, or, with ``--skip_unreadable true`` (stage 5), is listed in
``skipped_utts`` (``unreadable: <reason>``); a job that listed any is not complete, so a rerun after the
audio was fixed does it again. The merge stops with an error naming ``skipped_utts`` and the first reasons
when no utterance was dumped or more than ``--max_failed_fraction`` (default 0.1) of the set is unreadable.

``--storage compressed`` writes Kaldi compressed matrices (``--compression_method speech_feature``: about
a quarter of float32's bytes); every matrix is decompressed again and its max abs error checked against
``--compress_max_rel_error`` x its std (a failing matrix is stored as float32, with a warning, or fails the
job with ``--compress_fallback error``). Methods meant for integers (4, 6, 7) are refused.

Options may also come from ``--config FILE`` (YAML mapping of option names to values; command-line options
win). Exit status: 0 on success, 1 on an error (the message says which utterance or file), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from speechsent import cli
from speechsent.asr.dump_cli import add_job_arguments, add_storage_arguments
from speechsent.cli import amp_or_auto_type, none_or_str, str2bool

__all__ = ["dump_encoder", "get_parser", "main"]

PROG = "speechsent-dump-encoder"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_config_argument(parser)
    g = parser.add_argument_group("data and jobs")
    g.add_argument(
        "--data_dir",
        action="append",
        default=None,
        help="Kaldi data dir (wav.scp, segments, ...); repeat it to dump several sets in one process (each "
        "job does its share of every set: the model and ESPnet are loaded once)",
    )
    g.add_argument(
        "--out_dir",
        action="append",
        default=None,
        help="output dir, one per --data_dir in the same order (default dump/encoder/<basename of data_dir>)",
    )
    add_job_arguments(g)
    g = parser.add_argument_group("model")
    g.add_argument(
        "--asr_model_dir",
        type=none_or_str,
        default=None,
        help="ESPnet2 ASR model: a dir with config.yaml + *.pth (exp/asr_*, an unpacked model-zoo model), or "
        "the exp/asr_model pointer",
    )
    g.add_argument("--asr_config", type=none_or_str, default=None, help="or the model's config.yaml")
    g.add_argument(
        "--asr_model_file",
        type=none_or_str,
        default=None,
        help="the model file (default: valid.acc.ave*, valid.acc.best, the newest *.pth by the config)",
    )
    g = parser.add_argument_group("compute")
    g.add_argument("--ngpu", type=int, default=0, choices=(0, 1), help="1: encode on CUDA")
    g.add_argument(
        "--amp",
        type=amp_or_auto_type,
        default=None,
        help="autocast the encoder on GPU: none (default), true (bf16 if supported, else fp16), fp16, bf16",
    )
    g.add_argument(
        "--batch_size",
        type=int,
        default=0,
        help="max utterances per batch (0: 1 on CPU, where it is fastest; 256 on GPU)",
    )
    g.add_argument(
        "--batch_frames",
        type=int,
        default=0,
        help="max padded feature frames per batch (0: unlimited on CPU, 60000 on GPU)",
    )
    g.add_argument(
        "--sort_buffer",
        type=int,
        default=0,
        help="utterances read ahead and sorted by length into batches (0: 2000 when batching)",
    )
    g.add_argument(
        "--num_threads",
        type=int,
        default=0,
        help="torch CPU threads per job (0: 1 on CPU, as ESPnet's OMP_NUM_THREADS=1; parallelism from --nj)",
    )
    g.add_argument(
        "--check_invariance",
        type=str2bool,
        default=True,
        help="compare the first batch with single-utterance encode(); batching is turned off if they differ",
    )
    g.add_argument(
        "--invariance_tol",
        type=float,
        default=0.0,
        help="max abs difference allowed by that check (0: 1e-4, or 5e-2 with --amp)",
    )
    add_storage_arguments(parser.add_argument_group("storage"))
    parser.add_argument("--progress", type=str2bool, default=True, help="progress bar on stderr")
    cli.add_log_level_argument(parser)
    return parser


def _resolve_amp(amp: str | None) -> str | None:
    if amp != "auto":
        return amp
    import torch

    return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp16"


def make_configs(args: argparse.Namespace) -> list[Any]:
    """One :class:`speechsent.asr.encoder_dump.DumpConfig` per ``--data_dir`` (and its ``--out_dir``)."""
    import copy

    out_dirs = args.out_dir or [None] * len(args.data_dir)
    configs = []
    for data_dir, out_dir in zip(args.data_dir, out_dirs, strict=True):
        one = copy.copy(args)
        one.data_dir, one.out_dir = data_dir, out_dir
        configs.append(make_config(one))
    return configs


def make_config(args: argparse.Namespace) -> Any:
    """The :class:`speechsent.asr.encoder_dump.DumpConfig` of parsed options (one data_dir, out_dir)."""
    from pathlib import Path

    from speechsent.asr.dump_cli import storage_spec
    from speechsent.asr.encoder_dump import DumpConfig

    amp = amp_or_auto_type(str(args.amp)) if isinstance(args.amp, bool) else args.amp  # YAML true/false
    out_dir = args.out_dir or str(Path("dump/encoder") / Path(args.data_dir).name)
    return DumpConfig(
        data_dir=Path(args.data_dir),
        out_dir=Path(out_dir),
        nj=args.nj,
        asr_model_dir=Path(args.asr_model_dir) if args.asr_model_dir else None,
        asr_config=Path(args.asr_config) if args.asr_config else None,
        asr_model_file=Path(args.asr_model_file) if args.asr_model_file else None,
        storage=storage_spec(args),
        device="cuda" if args.ngpu > 0 else "cpu",
        amp=_resolve_amp(amp) if args.ngpu > 0 else amp,
        batch_size=args.batch_size,
        batch_frames=args.batch_frames,
        sort_buffer=args.sort_buffer,
        num_threads=args.num_threads,
        check_invariance=args.check_invariance,
        invariance_tol=args.invariance_tol,
        skip_unreadable=args.skip_unreadable,
        channel=args.channel,
        progress=args.progress,
    )


def dump_encoder(args: argparse.Namespace) -> list[Any]:
    """The work function: a worker job (``--worker``), one job (``--job``) or the merge (``--merge``) of each
    ``--data_dir``, else the whole dump (its jobs through ``--cmd``, or here), then the merge.

    Returns, per data dir, the :class:`~speechsent.asr.dump_jobs.JobResult` of a job, else the
    :class:`~speechsent.asr.dump_jobs.MergeResult`.
    """
    from speechsent.asr.dump_cli import run_dump_command
    from speechsent.asr.encoder_dump import DumpConfig, dump_job

    return run_dump_command(
        args,
        lambda: make_configs(args),
        DumpConfig.from_dict,
        dump_job,
        worker_module="speechsent.bin.dump_encoder",
        gpu=args.ngpu,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    from speechsent.asr.dump_cli import check_compression_option, check_job_options, run_reporting_errors

    check_job_options(parser, args)
    if not args.worker:
        if not args.data_dir:
            parser.error("--data_dir is required")
        if args.out_dir and len(args.out_dir) != len(args.data_dir):
            parser.error(
                f"{len(args.data_dir)} --data_dir, {len(args.out_dir)} --out_dir: give one per data dir"
            )
        if args.amp not in (None, False) and args.ngpu == 0:
            parser.error("--amp needs --ngpu 1")
        if not args.merge and not (args.asr_model_dir or args.asr_config):
            parser.error("give --asr_model_dir, or --asr_config (and --asr_model_file)")
        if args.asr_model_dir and args.asr_config:
            parser.error("give --asr_model_dir or --asr_config, not both")
    check_compression_option(parser, args)
    cli.setup_logging(args.log_level)
    return run_reporting_errors(lambda: dump_encoder(args), logging.getLogger("speechsent.dump_encoder"))


if __name__ == "__main__":
    sys.exit(main())
