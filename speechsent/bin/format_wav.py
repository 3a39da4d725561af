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

from speechsent import cli
from speechsent.asr.format_cli import add_format_arguments
from speechsent.jobs import check_worker_arguments

__all__ = ["get_parser", "main"]

PROG = "speechsent-format-wav"


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__)
    add_format_arguments(parser)
    cli.add_log_level_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    check_worker_arguments(parser, args, "data_dir", "out_dir")
    cli.setup_logging(args.log_level)
    from speechsent.asr.format_cli import format_wav, log_format_report

    log = logging.getLogger(PROG)
    errors = (OSError, ValueError, RuntimeError)
    return cli.run_reporting_errors(lambda: log_format_report(format_wav(args), log), log, errors)


if __name__ == "__main__":
    sys.exit(main())
