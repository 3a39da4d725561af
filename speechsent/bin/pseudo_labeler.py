"""speechsent-pseudo-labeler: stage 6, the pseudo labeler (paper §3.2.2) and its Table 3 evaluation.

::

    # fine-tune a pre-trained LM on GLUE SST-2, then evaluate it on the Negative/Positive utterances:
    python -m speechsent.bin.pseudo_labeler --pseudo_labeler bert-base-uncased --sst2_dir downloads/SST-2 \\
        --out_dir exp/pseudo_labeler_bert --eval_sets "data/swbd_holdout data/swbd_test" --eval_asr true
    # SST-2 from the Hugging Face hub (pip install datasets), into exp/pseudo_labeler_xlnet-base-cased_sst2:
    python -m speechsent.bin.pseudo_labeler --pseudo_labeler xlnet-base-cased --sst2 true \\
        --eval_sets "data/swbd_holdout data/swbd_test" --eval_asr true
    # that labeler's tag (dir exp/pseudo_labeler_<tag>, labels utt2pseudo_<tag>): xlnet-base-cased_sst2
    python -m speechsent.bin.pseudo_labeler --pseudo_labeler xlnet-base-cased --sst2 true --print_tag true

    # an existing sentiment classifier (hub id or dir), VADER, or an ensemble, no fine-tuning:
    python -m speechsent.bin.pseudo_labeler \\
        --pseudo_labeler distilbert-base-uncased-finetuned-sst-2-english \\
        --out_dir exp/pseudo_labeler_distilbert
    python -m speechsent.bin.pseudo_labeler --pseudo_labeler vader --out_dir exp/pseudo_labeler_vader
    python -m speechsent.bin.pseudo_labeler --pseudo_labeler "vader,exp/pseudo_labeler_bert" \\
        --out_dir exp/pseudo_labeler_ensemble

``<out_dir>`` (default ``exp/pseudo_labeler_<tag>``: the spec's last path part, ``_sst2`` appended when
fine-tuned) gets ``labeler.json`` (how stage 7 loads the labeler; see ``speechsent.text.labelers``), the model
files of a fine-tuned model (``--sst2 true`` or ``--sst2_dir``: ``save_pretrained`` + tokenizer,
``sst2_results.json`` with ``dev_accuracy``, the kept epoch's SST-2 dev accuracy in %, and every epoch's; the
log says ``SST-2 dev accuracy of <name>: 91.23% (epoch 2)``; see ``speechsent.text.sst2``) or of a copied one
(``--copy_model true``), and for every ``--eval_sets`` dir ``eval_<set>/{scores.json,utt2pred,utt2prob}``
(``speechsent.text.pseudo_labeler``): the labeler on the set's Negative and Positive utterances (Neutral
excluded and counted), labels (Negative, Positive): the paper's Table 3 unweighted/weighted recall plus the
other scores. ``--eval_asr true`` also evaluates ``<set>_asr`` (ASR transcripts, stage 4) where it exists.

A model's classes are mapped from its ``config.id2label`` (``--label_map "0:Negative,1:Positive"`` to
override; a 3-class model is renormalised over Negative/Positive). Everything is idempotent: the fine-tuning
resumes per epoch and is skipped when done with the same model/data/options, each evaluation is skipped when
its stamp (labeler files, text, labels) is unchanged, so a rerun does no work.

Exit status: 0 on success, 1 on an error, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from speechsent import cli
from speechsent.text.pseudo_label_cli import add_pseudo_labeler_arguments, pseudo_labeler_config

__all__ = ["get_parser", "main"]

PROG = "speechsent-pseudo-labeler"

logger = logging.getLogger(PROG)


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__)
    add_pseudo_labeler_arguments(parser)
    cli.add_log_level_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    if not args.pseudo_labeler:
        parser.error("--pseudo_labeler is required")
    if args.print_tag:
        from speechsent.text.pseudo_labeler import labeler_tag

        print(labeler_tag(args.pseudo_labeler, args.sst2_finetune or bool(args.sst2_dir)))
        return 0
    cli.setup_logging(args.log_level)
    from speechsent.text.pseudo_labeler import make_pseudo_labeler

    errors = (OSError, ValueError, RuntimeError)
    return cli.run_reporting_errors(lambda: make_pseudo_labeler(pseudo_labeler_config(args)), logger, errors)


if __name__ == "__main__":
    sys.exit(main())
