"""``speechsent-dump-fbank``'s options, their usage checks, the typed config they make
(:class:`speechsent.features.fbank.FbankDumpConfig`) and the dump they ask for.

Nothing heavy is imported here (``--help`` stays fast): numpy and torchaudio come with the work.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from speechsent.asr.dump_cli import add_job_arguments, add_storage_arguments
from speechsent.cli import str2bool

__all__ = ["add_fbank_dump_arguments", "check_fbank_dump_arguments", "dump_fbank", "make_config"]

WORKER_MODULE = "speechsent.bin.dump_fbank"


def _none_or_int(value: str) -> int | None:
    return None if value.lower() in ("", "none", "null", "0") else int(value)


def add_fbank_dump_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option but ``--config`` and ``--log_level``: data and jobs, filterbank, storage."""
    g = parser.add_argument_group("data and jobs")
    g.add_argument("--data_dir", default=None, help="Kaldi data dir (wav.scp, segments, ...)")
    g.add_argument("--out_dir", default=None, help="output dir (default dump/fbank/<basename of data_dir>)")
    add_job_arguments(g)
    g = parser.add_argument_group("filterbank (Kaldi compute-fbank-feats options)")
    g.add_argument("--num_mel_bins", type=int, default=80)
    g.add_argument("--frame_length", type=float, default=25.0, help="ms")
    g.add_argument("--frame_shift", type=float, default=10.0, help="ms")
    g.add_argument(
        "--dither", type=float, default=0.0, help="0: reproducible features (Kaldi's default is 1)"
    )
    g.add_argument("--low_freq", type=float, default=20.0)
    g.add_argument("--high_freq", type=float, default=0.0, help="<= 0: offset from the Nyquist frequency")
    g.add_argument("--preemphasis_coefficient", type=float, default=0.97)
    g.add_argument(
        "--sample_rate", type=_none_or_int, default=None, help="resample to this rate (default: the audio's)"
    )
    add_storage_arguments(parser.add_argument_group("storage (as speechsent-dump-encoder)"))
    parser.add_argument("--progress", type=str2bool, default=True, help="progress bar on stderr")


def check_fbank_dump_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors (exit via ``parser.error``): the job options, ``--data_dir``, the compression method."""
    from speechsent.asr.dump_cli import check_compression_option, check_job_options

    check_job_options(parser, args)
    if not args.data_dir and not args.worker:
        parser.error("--data_dir is required")
    check_compression_option(parser, args)


def make_config(args: argparse.Namespace) -> Any:
    """The :class:`speechsent.features.fbank.FbankDumpConfig` of parsed options."""
    from speechsent.asr.dump_cli import storage_spec
    from speechsent.features.fbank import FbankConfig, FbankDumpConfig

    fbank = FbankConfig(
        num_mel_bins=args.num_mel_bins,
        frame_length=args.frame_length,
        frame_shift=args.frame_shift,
        dither=args.dither,
        low_freq=args.low_freq,
        high_freq=args.high_freq,
        preemphasis_coefficient=args.preemphasis_coefficient,
        sample_rate=args.sample_rate,
    )
    out_dir = args.out_dir or str(Path("dump/fbank") / Path(args.data_dir).name)
    return FbankDumpConfig(
        data_dir=Path(args.data_dir),
        out_dir=Path(out_dir),
        nj=args.nj,
        fbank=fbank,
        storage=storage_spec(args),
        skip_unreadable=args.skip_unreadable,
        channel=args.channel,
        progress=args.progress,
    )


def dump_fbank(args: argparse.Namespace) -> Any:
    """A worker job (``--worker``), one job (``--job``), the merge (``--merge``), or the whole dump (its
    jobs through ``--cmd``, or here) then the merge."""
    from speechsent.asr.dump_cli import run_dump_command
    from speechsent.features.fbank import FbankDumpConfig, dump_fbank_job

    results = run_dump_command(
        args,
        lambda: [make_config(args)],
        FbankDumpConfig.from_dict,
        dump_fbank_job,
        worker_module=WORKER_MODULE,
    )
    return results[0] if len(results) == 1 else results
