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
for every ``--eval_sets`` dir ``eval_<set>/{scores.json,utt2pred,utt2prob}``: the labeler on the set's
Negative and Positive utterances (Neutral excluded and counted), labels (Negative, Positive): the paper's
Table 3 unweighted/weighted recall plus the other scores. ``--eval_asr true`` also evaluates ``<set>_asr``
(ASR transcripts, stage 4) where it exists.

A model's classes are mapped from its ``config.id2label`` (``--label_map "0:Negative,1:Positive"`` to
override; a 3-class model is renormalised over Negative/Positive). Everything is idempotent: the fine-tuning
resumes per epoch and is skipped when done with the same model/data/options, each evaluation is skipped when
its stamp (labeler files, text, labels) is unchanged, so a rerun does no work.

Exit status: 0 on success, 1 on an error, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from speechsent import cli
from speechsent.cli import none_or_str, str2bool

__all__ = ["get_parser", "main", "make_pseudo_labeler"]

PROG = "speechsent-pseudo-labeler"
SETUP_JSON = "stage6_setup.json"

logger = logging.getLogger(PROG)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_config_argument(parser)
    parser.add_argument(
        "--pseudo_labeler",
        required=False,
        help="HF model id or dir, 'vader', a labeler dir, or a comma-separated ensemble of these",
    )
    parser.add_argument("--out_dir", default=None, help="default exp/pseudo_labeler_<name>")
    parser.add_argument("--name", default=None, help="the labeler's name (default: from --out_dir)")
    parser.add_argument(
        "--label_map",
        type=none_or_str,
        default=None,
        help='class index -> label of a HF model, e.g. "0:Negative,1:Positive" (default: from id2label)',
    )
    parser.add_argument(
        "--max_length", type=int, default=512, help="tokens per text at inference (longer: truncated)"
    )
    parser.add_argument(
        "--copy_model", type=str2bool, default=False, help="save the HF model into out_dir (self-contained)"
    )
    g = parser.add_argument_group("SST-2 fine-tuning (with --sst2_dir)")
    g.add_argument(
        "--sst2_dir", type=none_or_str, default=None, help="dir with GLUE SST-2 train.tsv, dev.tsv"
    )
    g.add_argument("--epochs", type=int, default=3)
    g.add_argument("--batch_size", type=int, default=32)
    g.add_argument("--lr", type=float, default=2e-5)
    g.add_argument("--weight_decay", type=float, default=0.01)
    g.add_argument("--warmup_ratio", type=float, default=0.06)
    g.add_argument("--train_max_length", type=int, default=128, help="tokens per training sentence")
    g.add_argument("--grad_clip", type=float, default=1.0)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--max_train_samples", type=int, default=0, help="0: all of train.tsv")
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
        "--batch_tokens", type=int, default=0, help="padded tokens per batch (0: 1024 on CPU, 16384 on GPU)"
    )
    g.add_argument("--max_batch_size", type=int, default=256)
    cli.add_log_level_argument(parser)
    return parser


def _default_name(spec: str) -> str:
    parts = [re.sub(r"[^A-Za-z0-9_.+-]+", "_", Path(p.strip().rstrip("/")).name) for p in spec.split(",")]
    parts = [p.removeprefix("pseudo_labeler_") for p in parts if p]
    return "+".join(parts) or "labeler"


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def make_pseudo_labeler(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The work function: build (or fine-tune) the labeler in ``out_dir``, evaluate it; scores by set."""
    from speechsent.data.kaldi_dir import atomic_write_text
    from speechsent.text.pseudo_label import labeler_identity

    out = Path(args.out_dir or f"exp/pseudo_labeler_{_default_name(args.pseudo_labeler)}")
    name = args.name or out.name.removeprefix("pseudo_labeler_")
    runtime = {
        "device": "cuda" if args.ngpu > 0 else "cpu",
        "amp": args.amp,
        "batch_tokens": args.batch_tokens or None,
        "max_batch_size": args.max_batch_size,
    }
    out.mkdir(parents=True, exist_ok=True)
    if args.sst2_dir:
        from speechsent.text.sst2 import SST2Options, finetune_sst2

        if "," in args.pseudo_labeler or args.pseudo_labeler.strip().lower() == "vader":
            raise ValueError(
                "--sst2_dir fine-tunes one Hugging Face model: give its id or dir as --pseudo_labeler"
            )
        options = SST2Options(
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            weight_decay=args.weight_decay,
            warmup_ratio=args.warmup_ratio,
            max_length=args.train_max_length,
            grad_clip=args.grad_clip,
            seed=args.seed,
            amp=args.amp,
            max_train_samples=args.max_train_samples,
            device=runtime["device"],
        )
        finetune_sst2(args.pseudo_labeler, args.sst2_dir, out, options, name=name)
    else:
        setup = {
            "pseudo_labeler": args.pseudo_labeler,
            "label_map": args.label_map,
            "max_length": args.max_length,
            "copy_model": args.copy_model,
            "name": name,
        }
        if _read_json(out / SETUP_JSON) == setup and (out / "labeler.json").is_file():
            logger.info("%s: labeler.json is up to date", out)
        else:
            from speechsent.text.labelers import load_labeler

            labeler = load_labeler(
                args.pseudo_labeler, label_map=args.label_map, max_length=args.max_length, **runtime
            )
            labeler.name = name
            labeler.save(out, copy_model=args.copy_model)
            atomic_write_text(out / SETUP_JSON, json.dumps(setup, indent=1) + "\n")
            logger.info("%s: labeler %s (%s) written", out, name, labeler.kind)

    eval_dirs = [Path(d) for arg in args.eval_sets for d in str(arg).split()]
    if args.eval_asr:
        for d in list(eval_dirs):
            asr = d.parent / f"{d.name}_asr"
            if asr.is_dir():
                if asr not in eval_dirs:
                    eval_dirs.append(asr)
            else:
                logger.warning("%s not found: evaluating %s on its ground-truth text only", asr, d)
    labeler = None
    all_scores: dict[str, dict[str, Any]] = {}
    ident = labeler_identity(out)
    for data in eval_dirs:
        eval_dir = out / f"eval_{data.name}"
        for f in (args.text_file, "utt2sentiment"):
            if not (data / f).is_file():
                raise FileNotFoundError(
                    f"{data / f} not found (an evaluation set needs text and utt2sentiment)"
                )
        stamp = {
            "labeler": ident,
            "data_dir": str(data.resolve()),
            "text_sha1": _sha1(data / args.text_file),
            "utt2sentiment_sha1": _sha1(data / "utt2sentiment"),
            "text_file": args.text_file,
        }
        scores = _read_json(eval_dir / "scores.json")
        if scores is not None and _read_json(eval_dir / "stamp.json") == stamp:
            logger.info("%s: up to date", eval_dir)
        else:
            from speechsent.text.labelers import evaluate_labeler, load_labeler, write_evaluation

            if labeler is None:
                labeler = load_labeler(out, **runtime)
            scores, utt2pred, utt2prob = evaluate_labeler(labeler, data, text_file=args.text_file)
            write_evaluation(eval_dir, scores, utt2pred, utt2prob)
            atomic_write_text(eval_dir / "stamp.json", json.dumps(stamp, indent=1) + "\n")
        logger.info(
            "Table 3: %s on %s: unweighted REC %.2f, weighted REC %.2f (%d Negative/Positive utterances, "
            "%d Neutral excluded) -> %s",
            name,
            data.name,
            scores["unweighted_recall"],
            scores["weighted_recall"],
            scores["num_utts"],
            scores.get("num_neutral_excluded", 0),
            eval_dir / "scores.json",
        )
        all_scores[data.name] = scores
    return all_scores


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    if not args.pseudo_labeler:
        parser.error("--pseudo_labeler is required")
    cli.setup_logging(args.log_level)
    errors = (OSError, ValueError, RuntimeError)
    return cli.run_reporting_errors(lambda: make_pseudo_labeler(args), logger, errors)


if __name__ == "__main__":
    sys.exit(main())
