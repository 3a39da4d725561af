"""The options of the 2-step text task (``speechsent-train-text-classifier``), as ESPnet's
``add_task_arguments``: the names and defaults of :class:`speechsent.tasks.text.TextConfig`. No torch."""

from __future__ import annotations

import argparse

from speechsent import cli
from speechsent.cli import none_or_float, none_or_str, str2bool
from speechsent.training.options import add_trainer_arguments

__all__ = ["add_text_arguments"]


def add_text_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option of the text task, in ``--help`` order (``--config`` and ``--log_level`` included)."""
    cli.add_config_argument(parser)
    g = parser.add_argument_group("data")
    g.add_argument("--train_dir", default=None, help="data dir to train on (its text + utt2sentiment)")
    g.add_argument(
        "--train_utt_list",
        type=none_or_str,
        default=None,
        help="train on these utterances only (first column, e.g. data/swbd_train_5h/utt2spk)",
    )
    g.add_argument(
        "--train_hours", type=none_or_float, default=None, help="hours of that subset (system.json)"
    )
    g.add_argument(
        "--valid_dir", default=None, help="data dir selecting the best epoch (data/swbd_test[_asr])"
    )
    g.add_argument(
        "--score_dirs",
        default="",
        help="space-separated data dirs to score (those that do not exist are skipped with a note)",
    )
    g.add_argument(
        "--input",
        default="auto",
        choices=("auto", "gt", "asr"),
        help="transcripts trained on, for system.json (auto: asr if the train dir name ends in _asr)",
    )
    g.add_argument("--exp_dir", default=None, help="experiment dir, e.g. exp/text_lm_gt")
    g.add_argument("--max_tokens", type=int, default=500, help="max subword tokens per transcript")
    g = parser.add_argument_group("model")
    g.add_argument("--arch", default="baseline", choices=("baseline", "lm"))
    g.add_argument(
        "--bpemodel", type=none_or_str, default=None, help="baseline: sentencepiece model to reuse"
    )
    g.add_argument("--nbpe", type=int, default=1000, help="baseline: vocabulary of the model trained here")
    g.add_argument("--bpemode", default="unigram", choices=("unigram", "bpe"))
    g.add_argument("--lm", default="bert-base-uncased", help="lm: transformers hub id or local model dir")
    g.add_argument(
        "--lm_layers",
        default="sum_last4",
        choices=("sum_last4", "last", "cls", "pooler"),
        help="lm: sum of the last 4 layers, the last layer, its raw [CLS] vector, or the pooled sentence "
        "embedding (pooler_output; BERT, not DistilBERT)",
    )
    g.add_argument("--finetune_lm", type=str2bool, default=False, help="lm: train the LM end to end")
    g.add_argument("--lm_lr", type=float, default=2e-5, help="learning rate of the LM with --finetune_lm")
    g.add_argument(
        "--lm_cache_dir", default="dump/lm_features", help="frozen LM: where its features are cached"
    )
    g.add_argument("--lm_batch_size", type=int, default=32, help="utterances per LM forward when caching")
    g.add_argument("--embed_dim", type=int, default=200, help="baseline: token embedding dimension")
    g.add_argument("--hidden", type=int, default=128, help="BLSTM units per direction")
    g.add_argument("--num_layers", type=int, default=0, help="BLSTM layers (0: 2 for baseline, 3 for lm)")
    g.add_argument("--dropout", type=float, default=0.2)
    g.add_argument("--pooling", default="mean", choices=("mean", "last"), help="over the BLSTM outputs")
    g.add_argument(
        "--weighted_loss",
        default="auto",
        choices=("auto", "true", "false"),
        help="class-weighted cross-entropy (auto: baseline yes, lm no, as in the paper)",
    )
    add_trainer_arguments(
        parser.add_argument_group("training"),
        select_metric="unweighted_f1",
        num_threads_help="torch CPU threads (0: torch's default, which follows OMP_NUM_THREADS); 1 is "
        "fastest for the small BLSTMs on a shared machine",
    )
    parser.add_argument("--progress", type=str2bool, default=True, help="progress bars on stderr")
    cli.add_log_level_argument(parser)
