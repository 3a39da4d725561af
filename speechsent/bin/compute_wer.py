"""speechsent-compute-wer: word error rate of a hypothesis ``text`` against a reference ``text``.

::

    speechsent-compute-wer --ref data/swbd_test/text --hyp exp/asr_x/decode_beam/swbd_test/text

prints Kaldi's ``%WER 12.34 [ 123 / 997, 10 ins, 20 del, 93 sub ]`` line, the sentence error rate, and how
many reference utterances have no hypothesis (counted as deletions). See ``speechsent.asr.wer``.
Exit status: 0 on success, 1 on an unreadable file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from speechsent import cli

__all__ = ["compute_wer", "get_parser", "main"]

PROG = "speechsent-compute-wer"


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__)
    parser.add_argument("--ref", required=False, help="reference Kaldi text")
    parser.add_argument("--hyp", required=False, help="hypothesis Kaldi text")
    cli.add_log_level_argument(parser)
    return parser


def compute_wer(args: argparse.Namespace) -> str:
    """The work function: the score lines."""
    from speechsent.asr.wer import format_score, score_texts
    from speechsent.kaldi.table import read_table

    return format_score(score_texts(read_table(args.ref), read_table(args.hyp)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    if not (args.ref and args.hyp):
        parser.error("--ref and --hyp are required")
    cli.setup_logging(args.log_level)
    try:
        sys.stdout.write(compute_wer(args))
    except (OSError, ValueError) as error:
        logging.getLogger(PROG).error("%s", error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
