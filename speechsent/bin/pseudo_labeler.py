"""speechsent-pseudo-labeler: stage 6, the pseudo labeler (paper §3.2.2) and its Table 3 evaluation.

::

    # fine-tune a pre-trained LM on GLUE SST-2, then evaluate it on the Negative/Positive utterances:
    python -m speechsent.bin.pseudo_labeler --pseudo_labeler bert-base-uncased --sst2_dir downloads/SST-2 \\
        --out_dir exp/pseudo_labeler_bert --eval_sets "data/swbd_holdout data/swbd_test" --eval_asr true

    # an existing sentiment classifier (hub id or dir), VADER, or an ensemble, no fine-tuning:
    python -m speechsent.bin.pseudo_labeler \\
        --pseudo_labeler distilbert-base-uncased-finetuned-sst-2-english \\
        --out_dir exp/pseudo_labeler_distilbert
    python -m speechsent.bin.pseudo_labeler --pseudo_labeler vader --out_dir exp/pseudo_labeler_vader
    python -m speechsent.bin.pseudo_labeler --pseudo_labeler "vader,exp/pseudo_labeler_bert" \\
        --out_dir exp/pseudo_labeler_ensemble

``<out_dir>`` gets ``labeler.json`` (how stage 7 loads the labeler; see ``speechsent.text.labelers``), the
model files of a fine-tuned model (``--sst2_dir``: ``save_pretrained`` + tokenizer, ``sst2_results.json`` with
the dev accuracy of every epoch; see ``speechsent.text.sst2``) or of a copied one (``--copy_model true``), and
for every ``--eval_sets`` dir ``eval_<set>/{scores.json,utt2pred,utt2prob}``
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
import dataclasses
import logging
import sys
from collections.abc import Sequence

from speechsent import cli
from speechsent.cli import none_or_str, str2bool
from speechsent.text.pseudo_labeler import PseudoLabelerConfig, make_pseudo_labeler
from speechsent.text.sst2 import SST2Options

__all__ = ["get_config", "get_parser", "main"]

PROG = "speechsent-pseudo-labeler"

logger = logging.getLogger(PROG)

#: SST-2 options given under their own names (--train_max_length is SST2Options.max_length)
_SST2_ARGS = ("epochs", "batch_size", "lr", "weight_decay", "warmup_ratio", "grad_clip", "seed")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_config_argument(parser)
    add = parser.add_argument
    add("--pseudo_labeler", help="HF model id or dir, 'vader', a labeler dir, or a comma-separated ensemble")
    add("--out_dir", default=None, help="default exp/pseudo_labeler_<name>")
    add("--name", default=None, help="the labeler's name (default: from --out_dir)")
    add(
        "--label_map",
        type=none_or_str,
        default=None,
        help='class index -> label of a HF model, e.g. "0:Negative,1:Positive" (default: from id2label)',
    )
    add("--max_length", type=int, default=512, help="tokens per text at inference (longer: truncated)")
    add("--copy_model", type=str2bool, default=False, help="save the HF model into out_dir (self-contained)")
    g = parser.add_argument_group("SST-2 fine-tuning (with --sst2_dir)")
    g.add_argument(
        "--sst2_dir", type=none_or_str, default=None, help="dir with GLUE SST-2 train.tsv, dev.tsv"
    )
    d = SST2Options()  # the defaults are the library's
    for opt in _SST2_ARGS:
        g.add_argument(f"--{opt}", type=type(getattr(d, opt)), default=getattr(d, opt))
    g.add_argument("--train_max_length", type=int, default=d.max_length, help="tokens per training sentence")
    g.add_argument("--max_train_samples", type=int, default=d.max_train_samples, help="0: all of train.tsv")
    g = parser.add_argument_group("evaluation (Table 3)")
    g.add_argument(
        "--eval_sets",
        action="append",
        default=[],
        help="labeled data dirs (utt2sentiment) to evaluate on (repeat, or a space-separated list)",
    )
    g.add_argument("--eval_asr", type=str2bool, default=False, help="also evaluate <set>_asr where it exists")
    g.add_argument("--text_file", default="text", help="the data dir file holding the transcripts")
    g = parser.add_argument_group("device")
    g.add_argument("--ngpu", type=int, default=0, help="0: CPU, 1: a GPU")
    g.add_argument("--amp", type=none_or_str, default=None, help="none | auto | fp16 | bf16 (GPU only)")
    g.add_argument(
        "--batch_tokens", type=int, default=0, help="padded tokens per batch (0: 1024 CPU, 16384 GPU)"
    )
    g.add_argument("--max_batch_size", type=int, default=256)
    cli.add_log_level_argument(parser)
    return parser


def get_config(args: argparse.Namespace) -> PseudoLabelerConfig:
    """The parsed command line as the library's typed config."""
    sst2 = SST2Options(
        max_length=args.train_max_length,
        max_train_samples=args.max_train_samples,
        **{k: getattr(args, k) for k in _SST2_ARGS},
    )
    names = {f.name for f in dataclasses.fields(PseudoLabelerConfig)} - {"sst2"}
    return PseudoLabelerConfig(sst2=sst2, **{k: getattr(args, k) for k in names})


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    if not args.pseudo_labeler:
        parser.error("--pseudo_labeler is required")
    cli.setup_logging(args.log_level)
    errors = (OSError, ValueError, RuntimeError)
    return cli.run_reporting_errors(lambda: make_pseudo_labeler(get_config(args)), logger, errors)


if __name__ == "__main__":
    sys.exit(main())
