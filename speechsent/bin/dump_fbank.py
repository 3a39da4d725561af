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

from speechsent import cli
from speechsent.features.fbank_cli import add_fbank_dump_arguments, check_fbank_dump_arguments

__all__ = ["get_parser", "main"]

PROG = "speechsent-dump-fbank"


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__)
    add_fbank_dump_arguments(parser)
    cli.add_log_level_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    check_fbank_dump_arguments(parser, args)
    cli.setup_logging(args.log_level)
    from speechsent.asr.dump_cli import run_reporting_errors
    from speechsent.features.fbank_cli import dump_fbank

    return run_reporting_errors(lambda: dump_fbank(args), logging.getLogger("speechsent.dump_fbank"))


if __name__ == "__main__":
    sys.exit(main())
