"""The options of the E2E task (``speechsent-train-e2e``), as ESPnet's ``add_task_arguments``: the names and
defaults of :class:`speechsent.tasks.e2e.E2EConfig`. Light: no torch."""

from __future__ import annotations

import argparse
from typing import Any

from speechsent import cli
from speechsent.cli import none_or_float, none_or_str, str2bool
from speechsent.training.options import add_trainer_arguments

__all__ = ["add_e2e_arguments", "as_list", "int_list"]


class _Repeatable(argparse.Action):
    """A repeatable option whose values may each hold several whitespace-separated items; its first use on
    the command line replaces the value from ``--config`` (the command line wins), later uses add to it."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        given = getattr(namespace, "_given_lists", set())
        current = [] if self.dest not in given else list(getattr(namespace, self.dest))
        given.add(self.dest)
        namespace._given_lists = given
        setattr(namespace, self.dest, current + str(values).split())


def as_list(value: Any) -> list[str]:
    """A list option's value (None, a whitespace-separated string, or a list) as a list of items."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    return [item for v in value for item in str(v).split()]


def int_list(value: str) -> list[int]:
    try:
        return [int(v) for v in str(value).replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected space-separated integers, got {value!r}") from None


def _add_batching_arguments(g: Any) -> None:
    g.add_argument("--max_frames", type=int, default=0, help="max padded frames per batch (0: no cap)")
    g.add_argument("--num_buckets", type=int, default=10, help="length buckets of the batch sampler")


def _add_data_arguments(g: Any) -> None:
    g.add_argument(
        "--task", default="sentiment", choices=("sentiment", "pseudo"), help="3 classes or 2 (pseudo)"
    )
    g.add_argument(
        "--train_feats",
        action=_Repeatable,
        default=[],
        help="feats.scp to train on (repeatable; paired in order with --train_labels)",
    )
    g.add_argument(
        "--train_labels",
        action=_Repeatable,
        default=[],
        help="utt2sentiment (--task sentiment) or utt2pseudo (--task pseudo) of each --train_feats",
    )
    g.add_argument(
        "--train_utt_list",
        type=none_or_str,
        default=None,
        help="train on these utterances only (first column, e.g. data/swbd_train_5h/utt2spk)",
    )
    g.add_argument("--valid_feats", type=none_or_str, default=None, help="feats.scp selecting the best epoch")
    g.add_argument("--valid_labels", type=none_or_str, default=None, help="its labels (the task's label set)")
    g.add_argument(
        "--valid_fraction",
        type=float,
        default=0.05,
        help="without --valid_feats: share of the training conversation sides held out for selection",
    )
    g.add_argument(
        "--score_sets",
        action=_Repeatable,
        default=[],
        help="sets to score after training: NAME:FEATS_SCP:UTT2SENTIMENT (repeatable or space-separated; "
        "a set whose feats.scp is absent is skipped with a note)",
    )
    g.add_argument(
        "--pseudo_labeler_dir",
        type=none_or_str,
        default=None,
        help="--task pseudo: the labeler whose labels every --train_labels must be (e.g. "
        "exp/pseudo_labeler_bert_sst2): its record <dir>/label/<set dir>/done.json must name the file and "
        "its SHA-256, else an error before training",
    )
    g.add_argument(
        "--expect_pseudo_fingerprint",
        type=none_or_str,
        default=None,
        help="with --init_from: refuse a pre-trained model whose pretrain.json pseudo_fingerprint differs",
    )
    g.add_argument("--exp_dir", default=None, help="experiment dir, e.g. exp/e2e_blstm")
    g.add_argument("--max_open_files", type=int, default=64, help="ark files kept open per process")


def _add_model_arguments(g: Any) -> None:
    g.add_argument("--model", default="blstm", choices=("blstm", "cnn"), help="§3.2.1 BLSTM or fbank CNN")
    g.add_argument("--fc_dim", type=int, default=256, help="blstm: the FC layer before the BLSTM")
    g.add_argument("--lstm_dim", type=int, default=128, help="blstm: cells per direction")
    g.add_argument("--num_lstm_layers", type=int, default=2)
    g.add_argument("--attention_dim", type=int, default=0, help="attentive pooling: 0 linear scores, >0 MLP")
    g.add_argument("--cnn_channels", type=int_list, default=[128, 128, 256, 256], help="cnn: per layer")
    g.add_argument("--cnn_kernels", type=int_list, default=[5, 5, 3, 3])
    g.add_argument("--cnn_strides", type=int_list, default=[1, 2, 1, 2])
    g.add_argument("--cnn_pooling", default="mean", choices=("mean", "attention"))
    g.add_argument("--cnn_input_norm", default="utterance", choices=("utterance", "none"))
    g.add_argument("--dropout", type=float, default=0.2)
    g.add_argument(
        "--init_from", type=none_or_str, default=None, help="start from this model (e.g. exp/X/best.pth)"
    )
    g.add_argument(
        "--reset_head",
        type=str2bool,
        default=True,
        help="with --init_from: a new random output layer (pre-trained 2-class head discarded)",
    )
    g.add_argument(
        "--body_lr",
        type=none_or_float,
        default=None,
        help="learning rate of every layer but the output layer (default: --lr; 0: only the output layer "
        "trains, e.g. a frozen pre-trained body)",
    )
    g.add_argument("--class_weights", default="none", choices=("none", "balanced"), help="weighted CE")


def _add_system_arguments(g: Any) -> None:
    g.add_argument("--system_train_set", default="auto", help="auto: the dir of the first --train_labels")
    g.add_argument(
        "--system_train_hours",
        type=none_or_float,
        default=None,
        help="hours of a --train_utt_list subset (default: summed from utt2dur beside the labels)",
    )
    g.add_argument("--system_input", default="auto", choices=("auto", "encoder", "fbank"))
    g.add_argument(
        "--system_encoder",
        default="auto",
        help="the frozen encoder of the features (system.json's encoder: asr, hf:<hub id or dir>); auto: "
        "from the info.json beside the first --train_feats (a Hugging Face encoder's dump: hf:<its model>, "
        "else asr)",
    )
    g.add_argument(
        "--system_pseudo_labeler",
        type=none_or_str,
        default=None,
        help="pseudo labeler of the labels (pseudo task; default: the --pseudo_labeler_dir name without "
        "pseudo_labeler_) or of the --init_from model (default: its pretrain.json)",
    )
    g.add_argument(
        "--system_pseudo_sets",
        type=none_or_str,
        default=None,
        help="e.g. 'swbd_train fisher' (default: derived)",
    )
    g.add_argument(
        "--system_pseudo_transcript",
        default="auto",
        choices=("auto", "gt", "asr"),
        help="auto: from dir names",
    )


def add_e2e_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option of the E2E task, in ``--help`` order (``--config`` and ``--log_level`` included)."""
    cli.add_config_argument(parser)
    _add_data_arguments(parser.add_argument_group("data"))
    _add_model_arguments(parser.add_argument_group("model"))
    add_trainer_arguments(
        parser.add_argument_group("training"),
        select_metric="auto",
        select_metric_help="a scores.json key, loss, or auto (see above)",
        batching_arguments=_add_batching_arguments,
    )
    _add_system_arguments(
        parser.add_argument_group("system.json (descriptive; auto: derived from the inputs)")
    )
    parser.add_argument("--progress", type=str2bool, default=True, help="progress bars on stderr")
    cli.add_log_level_argument(parser)
