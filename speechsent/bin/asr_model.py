"""speechsent-asr-model: check an ESPnet2 ASR model dir and record it as the recipe's ASR (``exp/asr_model``).

::

    speechsent-asr-model --model_dir /models/espnet_swbd_unpacked --pointer exp/asr_model

resolves the model's files (config, model file, BPE model, token list, global-MVN statistics, sampling rate;
see ``speechsent.asr.model_dir``), prints them, optionally writes the resolved config (``--resolved_config``:
every relative path made absolute), and records the model dir in ``--pointer``, from where stages 4 and later
read it. Stage 3 runs it on the model it trained, or on ``--asr_model_dir``. Nothing heavy is imported.

Exit status: 0 on success, 1 when the model is incomplete (the message says what is missing).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from speechsent import cli

__all__ = ["get_parser", "main"]

PROG = "speechsent-asr-model"


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__)
    parser.add_argument(
        "--model_dir", required=False, help="model dir, its config.yaml, a *.pth, or a pointer"
    )
    parser.add_argument(
        "--model_file", default=None, help="the *.pth to use (default: as ESPnet packs choose)"
    )
    parser.add_argument("--pointer", default=None, help="record the model dir here (e.g. exp/asr_model)")
    parser.add_argument("--resolved_config", default=None, help="write the config with absolute paths here")
    parser.add_argument(
        "--expect_fs",
        type=int,
        default=None,
        help="warn when the model's sampling rate differs (the audio is resampled to it)",
    )
    cli.add_log_level_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    if not args.model_dir:
        parser.error("--model_dir is required")
    cli.setup_logging(args.log_level)
    log = logging.getLogger(PROG)
    from speechsent.asr.model_dir import ModelDirError, log_model_files, record_model

    def work() -> None:
        files = record_model(args.model_dir, args.model_file, args.pointer, args.resolved_config)
        log_model_files(files, log, args.expect_fs)
        if args.pointer:
            log.info("recorded in %s", args.pointer)

    return cli.run_reporting_errors(work, log, (ModelDirError, OSError))


if __name__ == "__main__":
    sys.exit(main())
