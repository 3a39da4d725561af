"""speechsent-train-bpe: stage 2, the sentencepiece BPE model and ESPnet token list of the ASR.

As ESPnet's ``asr.sh`` (``--token_type bpe``) writes them::

    speechsent-train-bpe --text data/asr_train/text --nbpe 2000 --bpemode unigram \\
        --token_listdir data/token_list

→ ``data/token_list/bpe_unigram2000/{bpe.model,bpe.vocab,tokens.txt}``; ``tokens.txt`` is ``<blank>``,
``<unk>``, the pieces, ``<sos/eos>``. ``--text`` may be given several times (or as a space-separated list):
their transcripts are pooled. A rerun with the same text and options keeps the model.

``--nbpe`` is an upper bound: a text too small for that many pieces gives a smaller vocabulary, with a
warning naming the requested and the actual size (``spm_train`` would stop: "Vocabulary size too high");
the directory keeps its ``bpe_<mode><nbpe>`` name and ``tokens.txt`` lists the actual tokens.

Options may also come from ``--config FILE`` (YAML). Exit status: 0 on success, 1 on an error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from speechsent import cli

__all__ = ["get_parser", "main", "train_bpe"]

PROG = "speechsent-train-bpe"


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__)
    cli.add_list_argument(parser, "--text", "Kaldi text file(s) to train on")
    parser.add_argument(
        "--token_listdir", default="data/token_list", help="where bpe_<mode><nbpe>/ is written"
    )
    parser.add_argument(
        "--nbpe", type=int, default=2000, help="vocabulary size (at most: a small text gives fewer pieces)"
    )
    parser.add_argument("--bpemode", default="unigram", choices=("unigram", "bpe"))
    parser.add_argument("--bpe_char_cover", type=float, default=1.0, help="character coverage")
    parser.add_argument(
        "--bpe_input_sentence_size", type=int, default=100_000_000, help="sentences sampled for training"
    )
    parser.add_argument("--bpe_nlsyms", default="", help="user-defined symbols, comma-separated")
    cli.add_log_level_argument(parser)
    return parser


def train_bpe(args: argparse.Namespace):  # -> BpeResult
    """Options → :func:`speechsent.asr.tokenizer.train_bpe`."""
    from speechsent.asr.tokenizer import BpeConfig
    from speechsent.asr.tokenizer import train_bpe as run

    config = BpeConfig(
        nbpe=args.nbpe,
        bpemode=args.bpemode,
        bpe_char_cover=args.bpe_char_cover,
        bpe_input_sentence_size=args.bpe_input_sentence_size,
        bpe_nlsyms=[s for s in args.bpe_nlsyms.split(",") if s],
    )
    return run(cli.split_words(args.text), args.token_listdir, config)


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    if not args.text:
        parser.error("--text is required")
    cli.setup_logging(args.log_level)
    log = logging.getLogger(PROG)
    errors = (OSError, ValueError)
    return cli.run_reporting_errors(lambda: log.info("%s", train_bpe(args).summary()), log, errors)


if __name__ == "__main__":
    sys.exit(main())
