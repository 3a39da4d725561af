"""speechsent-export: stage 11, a trained system packed into a self-contained model dir.

The system is given (``--system_dir exp/<system>``) or chosen (``--exp_root exp --family e2e|two_step``: the
system of that family with the best validation unweighted F1 on ``--select_set``, for two_step on its ASR
transcripts ``score_<set>_asr`` when scored there). The dir holds the ESPnet ASR model (``--asr_model``, the
recipe's ``exp/asr_model`` pointer by default), the classifier, the label set, the sampling rate, the
decoding options of a 2-step system and a model card (see :mod:`speechsent.inference.export`)::

    speechsent-export --exp_root exp --family e2e --select_set swbd_test --out_dir exp/export/e2e
    speechsent-export --exp_root exp --family two_step --out_dir exp/export/two_step \\
        --decode_config conf/decode_asr.yaml --decode_mode beam
    speechsent-export --system_dir exp/text_lm_asr_s0 --out_dir /tmp/my_model --decode_mode ctc_greedy

Run it from the recipe dir (relative paths of the systems, e.g. an fbank system's dump, are read from
there). The export is atomic (built beside ``--out_dir``, then renamed); a rerun replaces it. What was
written is checked as ``speechsent-infer`` reads it (``speechsent_model.json`` and every file it names), and a
weights file that is not a complete ``torch.save`` checkpoint (truncated, or another format) is refused
with its name. Use the model
with ``speechsent-infer --model_dir DIR FILE...`` or ``speechsent.SentimentModel.from_pretrained(DIR)``.

Options may also come from ``--config FILE`` (YAML; command-line options win). Exit status: 0 on success, 1
on an error (the message says what is missing), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from speechsent import cli
from speechsent.cli import none_or_str, str2bool

__all__ = ["export_model", "get_parser", "main"]

PROG = "speechsent-export"
log = logging.getLogger("speechsent.export_model")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_config_argument(parser)
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
    cli.add_log_level_argument(parser)
    return parser


def _decode_config(args: argparse.Namespace) -> dict[str, Any]:
    from speechsent.inference.export import ExportError

    config: dict[str, Any] = {}
    if args.decode_config:
        import yaml

        try:
            with open(args.decode_config, encoding="utf-8") as f:
                config = yaml.safe_load(f) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ExportError(f"--decode_config {args.decode_config}: {error}") from None
        if not isinstance(config, dict):
            raise ExportError(f"--decode_config {args.decode_config}: not a mapping of options")
    if args.decode_mode:
        config["mode"] = args.decode_mode
    return config


def export_model(args: argparse.Namespace) -> Path:
    """The work function: select (or take) the system and export it; returns the model dir."""
    from speechsent.inference.export import export_system, select_best_system

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
        decode_config=_decode_config(args),
        asr_model_file=args.asr_model_file,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    if not args.out_dir:
        parser.error("--out_dir is required")
    if bool(args.system_dir) == bool(args.exp_root):
        parser.error("give --system_dir, or --exp_root with --family")
    if args.exp_root and not args.family:
        parser.error("--exp_root needs --family e2e|two_step")
    cli.setup_logging(args.log_level)
    from speechsent.asr.model_dir import ModelDirError
    from speechsent.inference.export import ExportError

    return cli.run_reporting_errors(lambda: export_model(args), log, (ExportError, ModelDirError, OSError))


if __name__ == "__main__":
    sys.exit(main())
