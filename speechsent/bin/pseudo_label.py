"""speechsent-pseudo-label: stage 7, pseudo labels of data dirs from their text with a stage-6 labeler.

::

    python -m speechsent.bin.pseudo_label --labeler_dir exp/pseudo_labeler_bert \\
        --data_dir "data/swbd_train data/fisher" --nj 8 --cmd "run.pl"
    # from ASR transcripts (stage 4's data/<set>_asr):
    python -m speechsent.bin.pseudo_label --labeler_dir exp/pseudo_labeler_bert \\
        --data_dir "data/swbd_train_asr data/fisher_asr" --nj 8 --cmd "run.pl" --ngpu 1 --amp auto
    # one labeler's own files (several labelers' labels side by side), also as the default utt2pseudo:
    python -m speechsent.bin.pseudo_label --labeler_dir exp/pseudo_labeler_bert-base-uncased_sst2 \\
        --data_dir "data/swbd_train data/fisher" --labels_name utt2pseudo_bert-base-uncased_sst2 \\
        --default_copy true --work_dir exp/pseudo_labeler_bert-base-uncased_sst2/label

writes ``<data_dir>/<labels_name>`` (default ``utt2pseudo``; ``<utt> Negative|Positive``) and its
probabilities ``<data_dir>/utt2pseudo_prob[_<tag>]`` (``<utt> P(Positive)``; ``--labels_name
utt2pseudo_<tag>`` gives ``utt2pseudo_prob_<tag>``) for every ``--data_dir``; ``--default_copy true`` also
writes the same bytes as ``utt2pseudo`` + ``utt2pseudo_prob``. The utterances are split into ``--nj`` jobs run
through ``--cmd`` (``run.pl``, ``slurm.pl``, ``queue.pl``; ``local``: one after another in this process); each
job labels its share in chunks of ``--chunk_size`` utterances, each chunk saved atomically, so a killed or
failed run resumes where it stopped; the merge writes every file atomically. ``<work_dir>/<set>/done.json``
(default work dir: ``<labeler_dir>/label``) records ``labels_file`` (the labels' file name), ``labels_sha256``
(its SHA-256), ``labeler`` (its name), ``files`` (SHA-256 of every file written) and what they were computed
from: a rerun with the same labeler, text, options and outputs does nothing. ``<work_dir>/<set>/skipped``
lists the utterances with an empty or missing text (not labeled unless ``--empty_text label``).
``--labeler_dir`` may also be any labeler spec (HF id/dir, ``vader``, an ensemble; see
``speechsent.text.labelers``) with ``--work_dir``.

Exit status: 0 on success, 1 on an error, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from speechsent import cli
from speechsent.jobs import check_worker_arguments
from speechsent.text.pseudo_label_cli import add_pseudo_label_arguments

__all__ = ["get_parser", "main"]

PROG = "speechsent-pseudo-label"


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__)
    add_pseudo_label_arguments(parser)
    cli.add_log_level_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    check_worker_arguments(parser, args, "labeler_dir", "data_dir")
    cli.setup_logging(args.log_level)
    from speechsent.text.pseudo_label_cli import pseudo_label

    errors = (OSError, ValueError, RuntimeError)
    return cli.run_reporting_errors(lambda: pseudo_label(args), logging.getLogger(PROG), errors)


if __name__ == "__main__":
    sys.exit(main())
