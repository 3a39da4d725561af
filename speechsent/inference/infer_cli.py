"""``speechsent-infer``'s options, their usage checks, the
:class:`~speechsent.inference.batch_infer.InferConfig` they make and the run they ask for (JSON lines to
stdout or ``--output``).

Nothing heavy is imported here (``--help`` stays fast): torch and the model come with the work.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from speechsent.cli import amp_or_auto_type, none_or_str

__all__ = ["add_infer_arguments", "check_infer_arguments", "make_config", "run_infer"]


def add_infer_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option but ``--config`` and ``--log_level``."""
    add = parser.add_argument
    add("files", nargs="*", metavar="FILE", help="audio files (wav, flac, SPHERE, ...)")
    add(
        "--model_dir",
        default=None,
        help="an exported model dir (speechsent-export), or its Hugging Face Hub id (org/name: downloaded "
        "into the Hub cache; HF_HUB_OFFLINE=1 reads the cache only); required",
    )
    add("--revision", type=none_or_str, default=None, help="with a Hub id: a branch, tag or commit")
    add("--wav_scp", type=none_or_str, default=None, help="a Kaldi wav.scp of inputs")
    add("--segments", type=none_or_str, default=None, help="Kaldi segments of --wav_scp's recordings")
    add(
        "--channel",
        type=int,
        default=None,
        help="0-based channel of multi-channel inputs (required for them)",
    )
    add("--batch_size", type=int, default=16, help="inputs (or --chunk_seconds windows) classified together")
    add(
        "--max_duration",
        type=float,
        default=None,
        help="longest input classified whole, in seconds (default 60; 0: no limit); a longer one is an "
        "error line: use --chunk_seconds or --segments",
    )
    add(
        "--chunk_seconds",
        type=float,
        default=None,
        help="classify each input as consecutive windows of this many seconds, one line per window with "
        "start/end",
    )
    add("--device", default="auto", help="auto (cuda if available) | cpu | cuda | cuda:N")
    add("--amp", type=amp_or_auto_type, default=None, help="none | fp16 | bf16 | auto: the ASR on CUDA")
    add("--output", default=None, help="write the JSON lines here (default: stdout)")


def check_infer_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors (exit via ``parser.error``); a YAML ``amp: true/false`` made ``auto``/None."""
    if not args.model_dir:
        parser.error("--model_dir is required")
    if not args.files and not args.wav_scp:
        parser.error("give audio FILEs and/or --wav_scp")
    if args.segments and not args.wav_scp:
        parser.error("--segments needs --wav_scp")
    if args.batch_size < 1:
        parser.error("--batch_size must be at least 1")
    if args.max_duration is not None and not args.max_duration >= 0:
        parser.error("--max_duration must be positive (0: no limit)")
    if args.chunk_seconds is not None and not args.chunk_seconds > 0:
        parser.error("--chunk_seconds must be positive")
    if (
        args.chunk_seconds is not None
        and args.max_duration  # (None: the default, 60 s, checked when the model is loaded)
        and args.chunk_seconds > args.max_duration
    ):
        parser.error("--chunk_seconds must not be longer than --max_duration")
    if isinstance(args.amp, bool):  # YAML true/false
        args.amp = "auto" if args.amp else None


def make_config(args: argparse.Namespace) -> Any:
    """The :class:`speechsent.inference.batch_infer.InferConfig` of parsed options."""
    from speechsent.inference.batch_infer import InferConfig

    return InferConfig(
        model_dir=args.model_dir,
        files=list(args.files),
        wav_scp=args.wav_scp,
        segments=args.segments,
        channel=args.channel,
        batch_size=args.batch_size,
        max_duration=args.max_duration,
        chunk_seconds=args.chunk_seconds,
        device=args.device,
        amp=args.amp,
        revision=args.revision,
    )


def run_infer(args: argparse.Namespace) -> int:
    """Every input classified, one JSON line each to stdout (or ``--output``, atomically); the exit status:
    0 when every input was classified, else 1."""
    from speechsent.inference.batch_infer import infer, infer_to_file

    # Only the JSON lines go to stdout: what libraries print there (ESPnet does on import) goes to stderr.
    stdout = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        if args.output is None:
            return 1 if infer(make_config(args), stdout)[1] else 0
        return 1 if infer_to_file(make_config(args), args.output)[1] else 0
