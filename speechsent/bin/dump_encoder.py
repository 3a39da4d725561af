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

from speechsent import cli
from speechsent.asr.encoder_dump_cli import add_encoder_dump_arguments, check_encoder_dump_arguments

__all__ = ["get_parser", "main"]

PROG = "speechsent-dump-encoder"


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__)
    add_encoder_dump_arguments(parser)
    cli.add_log_level_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    check_encoder_dump_arguments(parser, args)
    cli.setup_logging(args.log_level)
    from speechsent.asr.dump_cli import run_reporting_errors
    from speechsent.asr.encoder_dump_cli import dump_encoder

    return run_reporting_errors(lambda: dump_encoder(args), logging.getLogger("speechsent.dump_encoder"))


if __name__ == "__main__":
    sys.exit(main())
