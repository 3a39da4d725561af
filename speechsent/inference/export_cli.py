"""``speechsent-export``'s options, their usage checks and the export they ask for (the system given, or
the best of a family chosen, see :mod:`speechsent.inference.export`).

Nothing heavy is imported here (``--help`` stays fast).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from speechsent.cli import none_or_str, str2bool

__all__ = ["add_export_arguments", "check_export_arguments", "export_model"]

log = logging.getLogger("speechsent.export_model")


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option but ``--config`` and ``--log_level``: the output, the system, the ASR."""
    parser.add_argument(
        "--out_dir", default=None, help="the model dir to write (replaced if present); required"
    )
    g = parser.add_argument_group("the system (give --system_dir, or --exp_root and --family)")
    g.add_argument("--system_dir", default=None, help="a trained system, e.g. exp/e2e_blstm_all_s0")
    g.add_argument("--exp_root", default=None, help="choose the best system of --family under this dir")
    g.add_argument("--family", choices=("e2e", "two_step"), default=None)
    g.add_argument(
        "--select_set",
        default="swbd_test",
        help="validation set whose unweighted F1 chooses the system (two_step: its _asr score if present)",
    )
    g.add_argument(
        "--include_subsets",
        type=str2bool,
        default=False,
        help="also consider systems trained on hours subsets (default: only those trained on the whole "
        "labeled set, unless there is none)",
    )
    g = parser.add_argument_group("ASR")
    g.add_argument(
        "--asr_model",
        default="exp/asr_model",
        help="the ESPnet2 ASR model: a model dir, its config.yaml, or the recipe's exp/asr_model pointer "
        "(not used by an fbank system)",
    )
    g.add_argument(
        "--asr_model_file",
        type=none_or_str,
        default=None,
        help="the ASR model's *.pth (default: the one ESPnet's packs choose: valid.acc.ave*, ...)",
    )
    g.add_argument(
        "--decode_config",
        default=None,
        help="two_step: YAML of ESPnet beam-search options (beam_size, ctc_weight, penalty, maxlenratio, "
        "minlenratio), e.g. stage 4's conf/decode_asr.yaml (its job options are ignored)",
    )
    g.add_argument(
        "--decode_mode",
        choices=("beam", "ctc_greedy"),
        default=None,
        help="two_step: how the model decodes (default: the decode_config's mode, else beam)",
    )


def add_hub_arguments(parser: argparse.ArgumentParser) -> None:
    """``--push_to_hub`` and its options."""
    g = parser.add_argument_group("Hugging Face Hub")
    g.add_argument(
        "--push_to_hub",
        default=None,
        metavar="ORG/NAME",
        help="upload the exported dir to this Hub repository with its model card (made if absent; the token "
        "of huggingface-cli login or HF_TOKEN)",
    )
    g.add_argument(
        "--hub_private",
        type=str2bool,
        default=True,
        help="a new repository is private (default: the LDC corpora's agreements decide what may be shared)",
    )


def check_export_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors (exit via ``parser.error``): the output and the system."""
    if not args.out_dir:
        parser.error("--out_dir is required")
    if bool(args.system_dir) == bool(args.exp_root):
        parser.error("give --system_dir, or --exp_root with --family")
    if args.exp_root and not args.family:
        parser.error("--exp_root needs --family e2e|two_step")


def export_model(args: argparse.Namespace) -> Path:
    """Select (or take) the system and export it (and push it to the Hub with ``--push_to_hub``); returns
    the model dir."""
    out = _export(args)
    if getattr(args, "push_to_hub", None):
        from speechsent.inference.hub import push_model

        url = push_model(out, args.push_to_hub, private=args.hub_private)
        log.info("pushed %s to the Hugging Face Hub: %s", out, url)
    return out


def _export(args: argparse.Namespace) -> Path:
    from speechsent.inference.export import export_system, read_decode_config, select_best_system

    if args.system_dir:
        system_dir = Path(args.system_dir)
        log.info("exporting %s", system_dir)
    else:
        # (logs every candidate with its score, the chosen one marked)
        system_dir = select_best_system(args.exp_root, args.family, args.select_set, args.include_subsets)
    return export_system(
        system_dir,
        args.out_dir,
        asr_model=args.asr_model,
        decode_config=read_decode_config(args.decode_config, args.decode_mode),
        asr_model_file=args.asr_model_file,
    )
