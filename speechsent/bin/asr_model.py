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

__all__ = ["asr_model", "get_parser", "main"]

PROG = "speechsent-asr-model"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_config_argument(parser)
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


def asr_model(args: argparse.Namespace):  # -> ModelFiles
    """The work function: resolve, report, record."""
    from speechsent.asr.model_dir import resolve_model_dir, write_model_pointer, write_resolved_config

    files = resolve_model_dir(args.model_dir, args.model_file)
    if args.resolved_config:
        write_resolved_config(files, args.resolved_config)
    if args.pointer:
        from pathlib import Path

        # what the user named (a dir, config or *.pth: the pointer is followed the same way), or the
        # explicitly chosen model file
        target = files.model_file if args.model_file else Path(args.model_dir)
        if target.resolve() != Path(args.pointer).resolve():
            write_model_pointer(target, args.pointer)
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    if not args.model_dir:
        parser.error("--model_dir is required")
    cli.setup_logging(args.log_level)
    log = logging.getLogger(PROG)
    from speechsent.asr.model_dir import ModelDirError

    try:
        files = asr_model(args)
    except (ModelDirError, OSError) as error:
        log.error("%s", error)
        return 1
    log.info("config: %s", files.config_file)
    log.info("model file: %s", files.model_file)
    log.info(
        "bpemodel: %s; %d tokens; token_type %s", files.bpemodel, len(files.token_list), files.token_type
    )
    stats = (files.config.get("normalize_conf") or {}).get("stats_file")
    log.info(
        "normalize: %s%s; fs: %d Hz", files.config.get("normalize"), f" ({stats})" if stats else "", files.fs
    )
    if args.expect_fs and args.expect_fs != files.fs:
        log.warning(
            "the model expects %d Hz audio, not %d Hz: audio is resampled to %d Hz when decoding",
            files.fs,
            args.expect_fs,
            files.fs,
        )
    if args.pointer:
        log.info("recorded in %s", args.pointer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
