"""speechsent-synth-corpus: synthesize a small conversational corpus in the exact LDC layouts.

Writes Switchboard-1 audio (LDC97S62 layout), MS-State transcripts, Speech Sentiment Annotations
(LDC2020T14) and Fisher audio and transcripts (LDC2004S13/T19, and LDC2005S13/T19 with
``--num_fisher_p2_convs``) under ``--out_dir``, plus ``manifest.json`` (the ground truth), and prints
the ``db.sh`` lines that point a recipe at it::

    speechsent-synth-corpus --out_dir downloads/synth --seed 1 --num_swbd_convs 40 --num_fisher_convs 20

Every option of :class:`speechsent.synth.manifest.CorpusConfig` is an option here (``--prosody false``,
``--sentiment_weights "0.25 0.45 0.3"``, ``--voices "en-us+m3 en+f2"``); ``--config FILE`` reads them from
a YAML mapping (command-line options win).  The output depends only on the options (not on ``--nj``):
the same bytes on every run.  Exit status: 0 on success, 1 on an error (eSpeak missing, bad value),
2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from speechsent import cli
from speechsent.synth.corpus_cli import add_config_arguments, add_corpus_arguments

__all__ = ["get_parser", "main"]

PROG = "speechsent-synth-corpus"


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__)
    add_corpus_arguments(parser)
    cli.add_log_level_argument(parser)
    add_config_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    if not args.out_dir:
        parser.error("--out_dir is required")
    if args.nj < 1:
        parser.error("--nj must be at least 1")
    cli.setup_logging(args.log_level)
    log = logging.getLogger("speechsent.synth_corpus")
    from speechsent.synth.corpus_cli import make_config, synth_corpus
    from speechsent.synth.espeak import EspeakError

    try:
        manifest = synth_corpus(make_config(args), args.out_dir, args.nj, args.progress)
    except (EspeakError, ValueError, OSError) as exc:
        log.error("%s", exc)
        return 1
    log.info("%s", manifest.summary())
    for line in manifest.db_lines():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
