"""speechsent-pseudo-label: stage 7, pseudo labels of data dirs from their text with a stage-6 labeler.

::

    python -m speechsent.bin.pseudo_label --labeler_dir exp/pseudo_labeler_bert \\
        --data_dir "data/swbd_train data/fisher" --nj 8 --cmd "run.pl"
    # from ASR transcripts (stage 4's data/<set>_asr):
    python -m speechsent.bin.pseudo_label --labeler_dir exp/pseudo_labeler_bert \\
        --data_dir "data/swbd_train_asr data/fisher_asr" --nj 8 --cmd "run.pl" --ngpu 1 --amp auto

writes ``<data_dir>/utt2pseudo`` (``<utt> Negative|Positive``) and ``<data_dir>/utt2pseudo_prob``
(``<utt> P(Positive)``) for every ``--data_dir``. The utterances are split into ``--nj`` jobs run through
``--cmd`` (``run.pl``, ``slurm.pl``, ``queue.pl``; ``local``: one after another in this process); each job
labels its share in chunks of ``--chunk_size`` utterances, each chunk saved atomically, so a killed or failed
run resumes where it stopped; the merge writes the two files atomically. A rerun with the same labeler, text
and options does nothing. Work files: ``<work_dir>/pseudo_<set>/`` (default work dir: the labeler dir), with
``skipped`` (utterances with an empty or missing text: not labeled unless ``--empty_text label``).
``--labeler_dir`` may also be any labeler spec (HF id/dir, ``vader``, an ensemble; see
``speechsent.text.labelers``) with ``--work_dir``.

Exit status: 0 on success, 1 on an error, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from speechsent import cli
from speechsent.cli import none_or_str

if TYPE_CHECKING:
    from speechsent.text.pseudo_label import LabelOptions

__all__ = ["get_options", "get_parser", "main", "run"]

PROG = "speechsent-pseudo-label"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_config_argument(parser)
    add = parser.add_argument
    add("--labeler_dir", help="stage 6's exp/pseudo_labeler_<name> (or a labeler spec)")
    add(
        "--data_dir",
        action="append",
        default=[],
        help="data dir to label (repeat, or a space-separated list)",
    )
    add("--work_dir", help="splits, job logs and parts (default: --labeler_dir)")
    add(
        "--empty_text",
        default="skip",
        choices=("skip", "label"),
        help="utterances with an empty text: skip (counted, listed) or label the empty string",
    )
    add("--chunk_size", type=int, default=10000, help="utterances per part file (resume unit)")
    add("--nj", type=int, default=1, help="number of parallel jobs")
    add("--cmd", default="run.pl", help="job runner (run.pl, slurm.pl, queue.pl + options; local)")
    add("--ngpu", type=int, default=0, help="GPUs per job (0: CPU)")
    add("--amp", type=none_or_str, default=None, help="none | auto | fp16 | bf16 (GPU only)")
    add("--batch_tokens", type=int, default=0, help="padded tokens per batch (0: 1024 on CPU, 16384 on GPU)")
    add("--max_batch_size", type=int, default=256)
    add("--num_threads", type=int, default=0, help="torch threads per job (0: torch's default)")
    g = parser.add_argument_group("worker (run by the jobs)")
    g.add_argument("--worker", default=None, metavar="SPEC", help="run one job of the spec file")
    g.add_argument("--job", type=int, default=None, help="the job number (with --worker)")
    cli.add_log_level_argument(parser)
    return parser


def get_options(args: argparse.Namespace) -> LabelOptions:
    """How the jobs run, from the command line."""
    from speechsent.text.pseudo_label import LabelOptions  # numpy and the job runner: not for --help

    return LabelOptions(
        empty_text=args.empty_text,
        chunk_size=args.chunk_size,
        device="cuda" if args.ngpu > 0 else "cpu",
        amp=args.amp,
        batch_tokens=args.batch_tokens or None,
        max_batch_size=args.max_batch_size,
        num_threads=args.num_threads,
    )


def run(args: argparse.Namespace) -> None:
    """A worker job, or the labeling of every ``--data_dir``."""
    from speechsent.text.pseudo_label import label_job, pseudo_label_sets

    if args.worker:
        label_job(args.worker, args.job)
        return
    data_dirs = [d for arg in args.data_dir for d in str(arg).split()]
    pseudo_label_sets(
        args.labeler_dir,
        data_dirs,
        work_dir=args.work_dir,
        options=get_options(args),
        nj=args.nj,
        cmd=args.cmd,
        ngpu=args.ngpu,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    if args.worker and args.job is None:
        parser.error("--worker needs --job")
    if not args.worker and not (args.labeler_dir and args.data_dir):
        parser.error("--labeler_dir and --data_dir are required")
    cli.setup_logging(args.log_level)
    return cli.run_reporting_errors(
        lambda: run(args), logging.getLogger(PROG), (OSError, ValueError, RuntimeError)
    )


if __name__ == "__main__":
    sys.exit(main())
