"""speechsent-export: stage 11, a trained system packed into a self-contained model dir.

The system is given (``--system_dir exp/<system>``) or chosen (``--exp_root exp --family e2e|two_step``: the
system of that family with the best validation unweighted F1 on ``--select_set``, for two_step on its ASR
transcripts ``score_<set>_asr`` when scored there). The dir holds the ESPnet ASR model (``--asr_model``, the
recipe's ``exp/asr_model`` pointer by default), the classifier, the label set, the sampling rate, the
decoding options of a 2-step system and a model card (see :mod:`speechsent.inference.export`)::

    speechsent-export --exp_root exp --family e2e --select_set swbd_test --out_dir exp/export/e2e
    speechsent-export --exp_root exp --family two_step --out_dir exp/export/two_step \\
        --decode_config conf/decode_asr.yaml --decode_mode beam
    speechsent-export --system_dir exp/text_lm_asr_s0 --out_dir my_model --decode_mode ctc_greedy

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
import sys
from collections.abc import Sequence

from speechsent import cli
from speechsent.inference.export_cli import (
    add_export_arguments,
    add_hub_arguments,
    check_export_arguments,
    log,
)

__all__ = ["get_parser", "main"]

PROG = "speechsent-export"


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__)
    add_export_arguments(parser)
    add_hub_arguments(parser)
    cli.add_log_level_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    check_export_arguments(parser, args)
    cli.setup_logging(args.log_level)
    from speechsent.asr.model_dir import ModelDirError
    from speechsent.inference.export import ExportError
    from speechsent.inference.export_cli import export_model
    from speechsent.inference.hub import HubError

    return cli.run_reporting_errors(
        lambda: export_model(args), log, (ExportError, ModelDirError, HubError, OSError)
    )


if __name__ == "__main__":
    sys.exit(main())
