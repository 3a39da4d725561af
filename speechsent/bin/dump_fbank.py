"""speechsent-dump-fbank: 80-dim log-mel filterbank features of a data dir as Kaldi ark/scp (Table 2's FBank).

Writes ``<out_dir>/feats.scp`` (+ ``feats.J.ark``), ``utt2num_frames``, ``skipped_utts`` and ``info.json``,
in ``nj`` resumable jobs exactly like ``speechsent-dump-encoder`` (stage 5)::

    # stage 9: one call; its four jobs through --cmd (logs in dump/fbank/swbd_train/log/dump.JOB.log)
    python -m speechsent.bin.dump_fbank --data_dir data/swbd_train --out_dir dump/fbank/swbd_train \\
        --nj 4 --cmd run.pl

    # by hand: one job of four (under any job runner), then the merge
    python -m speechsent.bin.dump_fbank --data_dir data/swbd_train --nj 4 --job 2
    python -m speechsent.bin.dump_fbank --data_dir data/swbd_train --nj 4 --merge true

    # everything in this process:
    python -m speechsent.bin.dump_fbank --data_dir data/swbd_test

Features: ``torchaudio.compliance.kaldi.fbank`` (Kaldi's ``compute-fbank-feats``) at the audio's own rate
(``--sample_rate`` resamples first), no dither unless ``--dither``. A rerun skips finished jobs with the
same options (a job that listed unreadable utterances is done again); the merge stops when none was dumped
or more than ``--max_failed_fraction`` are unreadable; ``feats.scp`` is written last. Options may also come
from ``--config FILE`` (YAML).
Exit status: 0 on success, 1 on an error (naming the utterance or file), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from speechsent import cli
from speechsent.asr.dump_cli import add_job_arguments, add_storage_arguments
from speechsent.cli import str2bool

__all__ = ["dump_fbank", "get_parser", "main"]

PROG = "speechsent-dump-fbank"
PROG_MODULE = "speechsent.bin.dump_fbank"


def _none_or_int(value: str) -> int | None:
    return None if value.lower() in ("", "none", "null", "0") else int(value)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_config_argument(parser)
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
    cli.add_log_level_argument(parser)
    return parser


def make_config(args: argparse.Namespace) -> Any:
    """The :class:`speechsent.features.fbank.FbankDumpConfig` of parsed options."""
    from pathlib import Path

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
    """The work function: a worker job (``--worker``), one job (``--job``), the merge (``--merge``), or the
    whole dump (its jobs through ``--cmd``, or here) then the merge."""
    from speechsent.asr.dump_cli import run_dump_command
    from speechsent.features.fbank import FbankDumpConfig, dump_fbank_job

    results = run_dump_command(
        args,
        lambda: [make_config(args)],
        FbankDumpConfig.from_dict,
        dump_fbank_job,
        worker_module=PROG_MODULE,
    )
    return results[0] if len(results) == 1 else results


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    from speechsent.asr.dump_cli import check_compression_option, check_job_options, run_reporting_errors

    check_job_options(parser, args)
    if not args.data_dir and not args.worker:
        parser.error("--data_dir is required")
    check_compression_option(parser, args)
    cli.setup_logging(args.log_level)
    return run_reporting_errors(lambda: dump_fbank(args), logging.getLogger("speechsent.dump_fbank"))


if __name__ == "__main__":
    sys.exit(main())
