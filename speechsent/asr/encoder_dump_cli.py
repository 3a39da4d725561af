"""``speechsent-dump-encoder``'s options, their usage checks and the typed configs they make
(:class:`speechsent.asr.encoder_dump.DumpConfig`, one per ``--data_dir``), and the dump they ask for.

Nothing heavy is imported here (``--help`` stays fast): ESPnet and torch come with the work.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

from speechsent.asr.dump_cli import add_job_arguments, add_storage_arguments
from speechsent.cli import amp_or_auto_type, none_or_str, str2bool

__all__ = ["add_encoder_dump_arguments", "check_encoder_dump_arguments", "dump_encoder", "make_configs"]

WORKER_MODULE = "speechsent.bin.dump_encoder"


def add_encoder_dump_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option but ``--config`` and ``--log_level``: data and jobs, model, compute, storage."""
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
    _add_model_arguments(parser.add_argument_group("model"))
    _add_compute_arguments(parser.add_argument_group("compute"))
    add_storage_arguments(parser.add_argument_group("storage"))
    parser.add_argument("--progress", type=str2bool, default=True, help="progress bar on stderr")


def _add_model_arguments(g: argparse._ArgumentGroup) -> None:
    g.add_argument(
        "--encoder",
        default="asr",
        help="asr: the ESPnet ASR model's encoder (--asr_model_dir / --asr_config); hf:<hub id or local "
        "dir>[@revision]: a Hugging Face speech encoder (wav2vec2, HuBERT, WavLM, data2vec-audio, Whisper), "
        "frozen, audio resampled to its rate",
    )
    g.add_argument(
        "--hf_revision",
        type=none_or_str,
        default=None,
        help="with hf:<hub id>: the model's revision (a commit)",
    )
    g.add_argument(
        "--hf_layers",
        default="all",
        help="with hf:: the hidden states stored, 'all' (for a learnable weighted sum of layers), 'last', or "
        "indices ('0 4 8 12'; 0 = the first layer's input, -1 = the output): frames x (layers x hidden) "
        "matrices, so the storage grows with the number of layers",
    )
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


def _add_compute_arguments(g: argparse._ArgumentGroup) -> None:
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


def check_encoder_dump_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors (exit via ``parser.error``): the job options, the sets, the model, ``--amp``, the
    compression method."""
    from speechsent.asr.dump_cli import check_compression_option, check_job_options

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
        if args.encoder != "asr":
            from speechsent.asr.hf_encoder import HFEncoderError, hf_model_id, split_revision

            try:
                encoder, revision = split_revision(args.encoder)
                hf_model_id(encoder)
            except HFEncoderError:
                parser.error(f"--encoder {args.encoder}: expected asr or hf:<hub id or local dir>[@revision]")
            if revision is not None and args.hf_revision not in (None, revision):
                parser.error(f"--encoder {args.encoder} and --hf_revision {args.hf_revision}: two revisions")
            # hf:<id>@<revision> (as the recipe's --encoders gives it) is --encoder hf:<id> --hf_revision
            args.encoder, args.hf_revision = encoder, revision or args.hf_revision
            if args.asr_model_dir or args.asr_config or args.asr_model_file:
                parser.error("--encoder hf:... reads no ESPnet model: drop --asr_model_dir / --asr_config")
        elif not args.merge and not (args.asr_model_dir or args.asr_config):
            parser.error("give --asr_model_dir, or --asr_config (and --asr_model_file)")
        if args.asr_model_dir and args.asr_config:
            parser.error("give --asr_model_dir or --asr_config, not both")
    check_compression_option(parser, args)


def _resolve_amp(amp: str | None) -> str | None:
    if amp != "auto":
        return amp
    import torch

    return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp16"


def make_configs(args: argparse.Namespace) -> list[Any]:
    """One :class:`speechsent.asr.encoder_dump.DumpConfig` per ``--data_dir`` (and its ``--out_dir``)."""
    out_dirs = args.out_dir or [None] * len(args.data_dir)
    configs = []
    for data_dir, out_dir in zip(args.data_dir, out_dirs, strict=True):
        one = copy.copy(args)
        one.data_dir, one.out_dir = data_dir, out_dir
        configs.append(make_config(one))
    return configs


def make_config(args: argparse.Namespace) -> Any:
    """The :class:`speechsent.asr.encoder_dump.DumpConfig` of parsed options (one data_dir, out_dir)."""
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
        encoder=args.encoder,
        hf_revision=args.hf_revision,
        hf_layers=str(args.hf_layers),
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
    """A worker job (``--worker``), one job (``--job``) or the merge (``--merge``) of each ``--data_dir``,
    else the whole dump (its jobs through ``--cmd``, or here), then the merge.

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
        worker_module=WORKER_MODULE,
        gpu=args.ngpu,
    )
