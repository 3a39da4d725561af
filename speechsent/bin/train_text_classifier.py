"""speechsent-train-text-classifier: stage 8, the 2-step pipeline's transcript sentiment classifiers.

Trains a classifier on the transcripts (``text``) and labels (``utt2sentiment``) of ``--train_dir``,
selects the best epoch on ``--valid_dir``, and scores every existing dir of ``--score_dirs`` into
``<exp_dir>/score_<set>/{utt2pred,utt2prob,scores.json}`` (paper §3.1, §4.2, Table 1):

* ``--arch baseline``: sentencepiece subword tokens (a model trained on the training transcripts,
  ``--nbpe`` 1000, or ``--bpemodel`` e.g. the ASR's) → embedding 200 → 2 BLSTM layers (128) → output;
  class-weighted cross-entropy.
* ``--arch lm``: a pre-trained LM (``--lm``, default ``bert-base-uncased``; any hub id or local dir) as the
  embedding layer, ``--lm_layers sum_last4`` (the paper's sum of the last four layers; or ``last``; ``cls``,
  the raw [CLS] vector; ``pooler``, BERT's pooled "sentence embedding") → 3 BLSTM layers (128) → output;
  plain cross-entropy. The LM is frozen and its features cached once per set in ``--lm_cache_dir`` (shared
  by every system using the same LM and transcripts), or trained end to end with ``--finetune_lm true``.

Transcripts are cut to ``--max_tokens`` (500) subword tokens (counted in the log). Training utterances with
an empty transcript are skipped (counted); a class left without a training utterance (after those skips and
``--train_utt_list``) is an error, a loud warning with ``--allow_missing_classes true``. In the validation
and scored sets an empty transcript is classified from an empty input, so that every utterance has a
prediction and the best epoch's validation score is the one in ``score_<valid set>/scores.json``. The
BLSTM outputs are mean-pooled over the valid tokens (``--pooling``).

Writes, in ``--exp_dir``: the Trainer's ``checkpoint.pth`` (resume), ``best.pth``, ``metrics.jsonl``,
``train.log``; ``model.json`` (how to rebuild the classifier and its tokenizer, for export) and ``bpe.model``
(baseline); ``system.json`` (for the report); ``.done`` (options + input checksums: a rerun with the same
ones does nothing; changed training options or inputs restart training, except ``--max_epochs`` and
``--patience``, which continue it from its checkpoint; changed score sets are only re-scored)::

    python -m speechsent.bin.train_text_classifier --arch baseline \\
        --train_dir data/swbd_train_asr --valid_dir data/swbd_test_asr \\
        --score_dirs "data/swbd_test data/swbd_holdout data/swbd_test_asr data/swbd_holdout_asr" \\
        --exp_dir exp/text_baseline_asr
    python -m speechsent.bin.train_text_classifier --arch lm --lm bert-base-uncased --ngpu 1 \\
        --train_dir data/swbd_train_asr --train_utt_list data/swbd_train_5h/utt2spk --train_hours 5 \\
        --valid_dir data/swbd_test_asr --score_dirs "data/swbd_test_asr data/swbd_holdout_asr" \\
        --exp_dir exp/text_lm_asr_5h

Several GPUs: ``torchrun --nproc_per_node N -m speechsent.bin.train_text_classifier ... --ngpu N``.
Options may also come from ``--config FILE`` (YAML; the command line wins). Exit status: 0 on success,
1 on an error (the message names the file or option), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from speechsent import cli
from speechsent.tasks.abs_task import ConfigError
from speechsent.tasks.text import TextConfig, TextTask

__all__ = ["get_parser", "main"]

PROG = "speechsent-train-text-classifier"
log = logging.getLogger("speechsent.train_text_classifier")


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__, config=False)
    TextTask.add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    config: TextConfig = TextTask.config_from_namespace(cli.parse_args(parser, argv))
    try:
        TextTask.check_config(config)
    except ConfigError as error:
        parser.error(str(error))
    cli.setup_logging(config.log_level)
    from speechsent.kaldi.table import KaldiDataError

    return cli.run_reporting_errors(
        lambda: TextTask(config).train(), log, (KaldiDataError, OSError, ValueError, RuntimeError)
    )


if __name__ == "__main__":
    sys.exit(main())
