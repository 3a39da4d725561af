"""The options of stages 6 and 7 (``speechsent-pseudo-labeler``, ``speechsent-pseudo-label``), the typed
configs they make (:class:`~speechsent.text.pseudo_labeler.PseudoLabelerConfig`,
:class:`~speechsent.text.pseudo_label.LabelOptions`) and stage 7's run; their labeler's device options once.

Nothing heavy is imported here (``--help`` stays fast): numpy, torch and transformers come with the work.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

from speechsent.cli import add_job_runner_arguments, add_list_argument, none_or_str, split_words, str2bool

if TYPE_CHECKING:
    from speechsent.text.pseudo_label import LabelOptions
    from speechsent.text.pseudo_labeler import PseudoLabelerConfig

__all__ = [
    "add_pseudo_label_arguments",
    "add_pseudo_labeler_arguments",
    "label_options",
    "pseudo_label",
    "pseudo_labeler_config",
]

#: SST-2 options given under their own names (--train_max_length is SST2Options.max_length)
_SST2_ARGS = ("epochs", "batch_size", "lr", "weight_decay", "warmup_ratio", "grad_clip", "seed")


def _add_device_arguments(g: argparse._ArgumentGroup | argparse.ArgumentParser, ngpu_help: str) -> None:
    """``--ngpu``, ``--amp``, ``--batch_tokens``, ``--max_batch_size``: how a labeler runs."""
    g.add_argument("--ngpu", type=int, default=0, help=ngpu_help)
    g.add_argument("--amp", type=none_or_str, default=None, help="none | auto | fp16 | bf16 (GPU only)")
    g.add_argument(
        "--batch_tokens", type=int, default=0, help="padded tokens per batch (0: 512 on CPU, 16384 on GPU)"
    )
    g.add_argument("--max_batch_size", type=int, default=256)


# ----------------------------------------------------------------------------------------------------------
# stage 7: speechsent-pseudo-label


def add_pseudo_label_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option of stage 7 but ``--config`` and ``--log_level``."""
    add = parser.add_argument
    add("--labeler_dir", help="stage 6's exp/pseudo_labeler_<name> (or a labeler spec)")
    add_list_argument(parser, "--data_dir", "data dir to label (repeat, or a space-separated list)")
    add("--work_dir", help="<set>/done.json, splits, job logs and parts (default: <labeler_dir>/label)")
    add(
        "--labels_name",
        default="utt2pseudo",
        help="the labels' file in each data dir: utt2pseudo or utt2pseudo_<tag> (probabilities: "
        "utt2pseudo_prob[_<tag>])",
    )
    add(
        "--default_copy",
        type=str2bool,
        default=False,
        help="also write the labels as utt2pseudo + utt2pseudo_prob (the default labeler's)",
    )
    add(
        "--empty_text",
        default="skip",
        choices=("skip", "label"),
        help="utterances with an empty text: skip (counted, listed) or label the empty string",
    )
    add("--chunk_size", type=int, default=10000, help="utterances per part file (resume unit)")
    add_job_runner_arguments(parser, "job runner (run.pl, slurm.pl, queue.pl + options; local)")
    _add_device_arguments(parser, "GPUs per job (0: CPU)")
    add("--num_threads", type=int, default=0, help="torch threads per job (0: torch's default)")
    add(
        "--runtime",
        default="auto",
        choices=("auto", "torch", "onnx"),
        help="how a Hugging Face labeler runs on the CPU: onnx (ONNX Runtime, checked against PyTorch on "
        "probe texts; ~3x faster), torch, or auto (onnx when onnxruntime is installed)",
    )
    from speechsent.jobs import add_worker_arguments

    add_worker_arguments(parser)


def label_options(args: argparse.Namespace) -> LabelOptions:
    """How stage 7's jobs run, from the command line."""
    from speechsent.text.pseudo_label import LabelOptions  # numpy and the job runner: not for --help

    return LabelOptions(
        empty_text=args.empty_text,
        chunk_size=args.chunk_size,
        device="cuda" if args.ngpu > 0 else "cpu",
        amp=args.amp,
        batch_tokens=args.batch_tokens or None,
        max_batch_size=args.max_batch_size,
        num_threads=args.num_threads,
        runtime=args.runtime,
    )


def pseudo_label(args: argparse.Namespace) -> None:
    """A worker job, or the labeling of every ``--data_dir``."""
    from speechsent.text.pseudo_label import label_job, pseudo_label_sets

    if args.worker:
        label_job(args.worker, args.job)
        return
    pseudo_label_sets(
        args.labeler_dir,
        split_words(args.data_dir),
        work_dir=args.work_dir,
        options=label_options(args),
        nj=args.nj,
        cmd=args.cmd,
        ngpu=args.ngpu,
        labels_name=args.labels_name,
        default_copy=args.default_copy,
    )


# ----------------------------------------------------------------------------------------------------------
# stage 6: speechsent-pseudo-labeler


def add_pseudo_labeler_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option of stage 6 but ``--config`` and ``--log_level``."""
    from speechsent.text.sst2 import SST2Options

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
    add(
        "--print_tag",
        type=str2bool,
        default=False,
        help="print the labeler's tag (exp/pseudo_labeler_<tag>, utt2pseudo_<tag>) and exit",
    )
    g = parser.add_argument_group("SST-2 fine-tuning (with --sst2 true or --sst2_dir)")
    g.add_argument(
        "--sst2",
        dest="sst2_finetune",
        type=str2bool,
        default=False,
        help="fine-tune --pseudo_labeler on SST-2: GLUE's TSVs from --sst2_dir, else the Hugging Face hub "
        "(glue/sst2, else stanfordnlp/sst2; needs pip install datasets)",
    )
    g.add_argument(
        "--sst2_dir",
        type=none_or_str,
        default=None,
        help="dir with GLUE SST-2 train.tsv, dev.tsv (implies --sst2 true)",
    )
    d = SST2Options()  # the defaults are the library's
    for opt in _SST2_ARGS:
        g.add_argument(f"--{opt}", type=type(getattr(d, opt)), default=getattr(d, opt))
    g.add_argument("--train_max_length", type=int, default=d.max_length, help="tokens per training sentence")
    g.add_argument("--max_train_samples", type=int, default=d.max_train_samples, help="0: all of train.tsv")
    g = parser.add_argument_group("evaluation (Table 3)")
    eval_help = "labeled data dirs (utt2sentiment) to evaluate on (repeat, or a space-separated list)"
    add_list_argument(g, "--eval_sets", eval_help)
    g.add_argument("--eval_asr", type=str2bool, default=False, help="also evaluate <set>_asr where it exists")
    g.add_argument("--text_file", default="text", help="the data dir file holding the transcripts")
    _add_device_arguments(parser.add_argument_group("device"), "0: CPU, 1: a GPU")


def pseudo_labeler_config(args: argparse.Namespace) -> PseudoLabelerConfig:
    """Stage 6's parsed command line as the library's typed config."""
    from speechsent.text.pseudo_labeler import PseudoLabelerConfig
    from speechsent.text.sst2 import SST2Options

    sst2 = SST2Options(
        max_length=args.train_max_length,
        max_train_samples=args.max_train_samples,
        **{k: getattr(args, k) for k in _SST2_ARGS},
    )
    names = {f.name for f in dataclasses.fields(PseudoLabelerConfig)} - {"sst2"}
    return PseudoLabelerConfig(sst2=sst2, **{k: getattr(args, k) for k in names})
