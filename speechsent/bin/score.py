"""speechsent-score: recompute a system's scores.json from its saved predictions.

Reads the reference labels (``utt2sentiment``) and the system's ``utt2pred`` and writes the docs/contracts.md
``scores.json`` (unweighted/weighted recall, precision, F1 in percent, ``num_utts``, ``confusion``)::

    python -m speechsent.bin.score --ref data/swbd_holdout/utt2sentiment \\
        --hyp exp/e2e_blstm/score_swbd_holdout/utt2pred
    # writes exp/e2e_blstm/score_swbd_holdout/scores.json (or --out FILE) and prints a summary line

    # pseudo-label (2-class) predictions:
    python -m speechsent.bin.score --ref data/swbd_test/utt2pseudo --hyp exp/x/utt2pred \\
        --labels Negative Positive --out exp/x/scores.json

``--hyp`` may also be the score dir holding ``utt2pred``. A reference utterance without a prediction is an
error naming a few of them and their count (``--allow_missing true``: counted in ``num_missing``, logged,
the rest scored); an unknown label is an error naming file and line. Predictions listed in
``utt2imputed`` beside ``utt2pred`` (e.g. the training prior's class for an utterance without usable
features) are scored as written and counted (``num_missing``, ``num_imputed``, ``imputed``: reason ->
count). Exit status: 0 on success, 1 on an error, 2 on a usage error.

**An exported model's check** (recipe stage 11 with ``--export_check_labels``): ``--infer_jsonl FILE``
instead of ``--hyp`` scores ``speechsent-infer``'s JSON lines (``"file"``: the utterance id of its
``--wav_scp`` input, ``"label"``); the scores (with ``num_right``, ``accuracy``, ``polar``: the Negative and
Positive references, ``wrong``: the wrong answers) go to ``--out`` (default ``check_scores.json`` beside a
``check.jsonl``) and one line is printed::

    python -m speechsent.bin.score --ref conf/check_set/utt2sentiment --infer_jsonl exp/export/e2e/check.jsonl
    # exp/export/e2e/check.jsonl: 25/36 right (69.4 %); polar 18/24 (75.0 %); Negative 9/12 Neutral 7/12 ...

Every reference utterance needs an answer there (an ``"error"`` line is none): a missing one is an error
naming both files (see :mod:`speechsent.inference.check`). ``--text FILE`` (the Kaldi text of the spoken
sentences) adds the WER of a 2-step model's transcripts (``asr`` in the scores, and on the printed line).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from speechsent import cli
from speechsent.cli import str2bool
from speechsent.data.labels import SENTIMENT_LABELS

__all__ = ["get_parser", "main", "score"]

PROG = "speechsent-score"


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__)
    parser.add_argument("--ref", default=None, help="reference labels, e.g. data/swbd_test/utt2sentiment")
    parser.add_argument("--hyp", default=None, help="the system's utt2pred (or the score dir holding it)")
    parser.add_argument(
        "--infer_jsonl",
        default=None,
        help="instead of --hyp: speechsent-infer's JSON lines (a --wav_scp's utterances), e.g. check.jsonl",
    )
    parser.add_argument(
        "--text",
        default=None,
        help="with --infer_jsonl: the Kaldi text of the spoken sentences; a 2-step model's transcripts are "
        "scored against it (WER)",
    )
    parser.add_argument(
        "--heard_text",
        nargs="+",
        default=[],
        help="with --text: the Kaldi texts the ASR was trained on; the words of the spoken sentences they "
        "lack are counted (a recognizer cannot know words it never heard)",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="scores.json to write (default: beside utt2pred; <name>_scores.json beside --infer_jsonl)",
    )
    parser.add_argument(
        "--labels", nargs="+", default=list(SENTIMENT_LABELS), help="class labels, in confusion-matrix order"
    )
    parser.add_argument(
        "--allow_missing",
        type=str2bool,
        default=False,
        help="score the predicted utterances when some reference utterances have no prediction",
    )
    cli.add_log_level_argument(parser)
    return parser


def score(ref: str, hyp: str, out: str | None, labels: Sequence[str], allow_missing: bool) -> dict[str, Any]:
    """The work function: score ``hyp`` against ``ref``, write ``out``; returns the scores."""
    from speechsent.scoring import score_system

    hyp_path = Path(hyp)
    score_dir = hyp_path if hyp_path.is_dir() else hyp_path.parent
    hyp_file = hyp_path / "utt2pred" if hyp_path.is_dir() else hyp_path
    out_path = Path(out) if out else score_dir / "scores.json"
    return score_system(score_dir, ref, labels, hyp_file=hyp_file, out=out_path, allow_missing=allow_missing)


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    if not args.ref or not (args.hyp or args.infer_jsonl):
        parser.error("--ref and --hyp (or --infer_jsonl) are required")
    if args.hyp and args.infer_jsonl:
        parser.error("--hyp and --infer_jsonl: give one")
    if args.text and not args.infer_jsonl:
        parser.error("--text scores the transcripts of --infer_jsonl")
    if args.heard_text and not args.text:
        parser.error("--heard_text needs --text (the spoken sentences)")
    if args.infer_jsonl and args.allow_missing:
        parser.error("--allow_missing is for --hyp: every utterance of a check needs an answer")
    if len(set(args.labels)) != len(args.labels) or len(args.labels) < 2:
        parser.error("--labels needs at least two distinct labels")
    cli.setup_logging(args.log_level)
    log = logging.getLogger("speechsent.score")
    from speechsent.kaldi.table import KaldiDataError
    from speechsent.scoring import ScoringError

    if args.infer_jsonl:
        from speechsent.inference.check import default_scores_path, format_check, score_check

        out = args.out or default_scores_path(args.infer_jsonl)
        try:
            scores = score_check(
                args.infer_jsonl, args.ref, args.labels, out, text=args.text, heard_text=args.heard_text
            )
        except (ScoringError, KaldiDataError, OSError) as error:
            log.error("%s", error)
            return 1
        print(format_check(args.infer_jsonl, scores))
        return 0
    try:
        scores = score(args.ref, args.hyp, args.out, args.labels, args.allow_missing)
    except (ScoringError, KaldiDataError, OSError) as error:
        log.error("%s", error)
        return 1
    print(
        f"{args.hyp}: {scores['num_utts']} utts"
        + (f" ({scores['num_imputed']} imputed)" if scores.get("num_imputed") else "")
        + (f", {scores['num_missing']} without their own prediction" if scores.get("num_missing") else "")
        + "".join(f" {k}={scores[k]:.2f}" for k in ("unweighted_recall", "unweighted_f1", "weighted_f1"))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
