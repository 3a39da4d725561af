"""speechsent-infer: the sentiment of audio files with an exported model (stage 11's ``exp/export/*``).

One JSON object per input, one per line, on stdout (or ``--output``)::

    $ speechsent-infer --model_dir exp/export/two_step call.wav side_b.sph
    {"file": "call.wav", "label": "Positive", "probabilities": {"Negative": 0.05, "Neutral": 0.3, \
    "Positive": 0.65}, "transcript": "oh that's great"}
    {"file": "side_b.sph", "error": "side_b.sph: the recording has 2 channels; choose one (...)"}

``"transcript"`` is there for a 2-step model (ASR → text classifier). Inputs: wav, flac, SPHERE (pcm, µ-law,
a-law, shorten), any sampling rate (resampled to the model's), or a Kaldi ``--wav_scp`` (+ ``--segments``)
for batch use (``"file"`` is then the utterance id; pipes such as ``sph2pipe -f wav -p -c 1 x.sph |`` work).
A multi-channel input needs ``--channel`` (0-based; channels are not mixed). Inputs are classified
``--batch_size`` at a time, on the GPU when there is one (``--device auto``).

**Long inputs**: an input longer than ``--max_duration`` seconds (default 60: the ASR encoder's memory
grows with the square of the length; a 10-minute file would take about 9 GB with the demo's small encoder)
is an error line that says what to do. ``--chunk_seconds S`` classifies every input as consecutive windows
of S seconds instead (no overlap; a last window shorter than S/2 is merged into the one before), one line per
window with its ``"start"`` and ``"end"`` (seconds from the start of the input; for a ``--segments``
utterance, of the segment), ``--batch_size`` windows at a time, so the memory stays bounded whatever the
length::

    $ speechsent-infer --model_dir exp/export/e2e --chunk_seconds 10 call.wav
    {"file": "call.wav", "start": 0.0, "end": 10.0, "label": "Neutral", "probabilities": {...}}
    {"file": "call.wav", "start": 10.0, "end": 20.0, "label": "Negative", "probabilities": {...}}

An input that cannot be read or classified gets an ``"error"`` line (a window's error line has its
``"start"``/``"end"``) and the others go on: unreadable audio, samples that are not finite (NaN or
infinity), too short or too long an input. A model dir that cannot be loaded is one line on stderr naming the
file and what is wrong. **Exit status**: 0 when every input was classified, 1 when any failed (or the model
could not be loaded), 2 on a usage error. Logging goes to stderr. Options may also come from ``--config
FILE`` (YAML; command-line options win).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence
from typing import IO, Any

from speechsent import cli
from speechsent.cli import amp_or_auto_type, none_or_str

__all__ = ["get_parser", "infer", "main"]

PROG = "speechsent-infer"
log = logging.getLogger("speechsent.infer")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_config_argument(parser)
    parser.add_argument("files", nargs="*", metavar="FILE", help="audio files (wav, flac, SPHERE, ...)")
    parser.add_argument(
        "--model_dir", default=None, help="an exported model dir (speechsent-export); required"
    )
    parser.add_argument("--wav_scp", type=none_or_str, default=None, help="a Kaldi wav.scp of inputs")
    parser.add_argument(
        "--segments", type=none_or_str, default=None, help="Kaldi segments of --wav_scp's recordings"
    )
    parser.add_argument(
        "--channel",
        type=int,
        default=None,
        help="0-based channel of multi-channel inputs (required for them)",
    )
    parser.add_argument(
        "--batch_size", type=int, default=16, help="inputs (or --chunk_seconds windows) classified together"
    )
    parser.add_argument(
        "--max_duration",
        type=float,
        default=None,
        help="longest input classified whole, in seconds (default 60; 0: no limit); a longer one is an "
        "error line: use --chunk_seconds or --segments",
    )
    parser.add_argument(
        "--chunk_seconds",
        type=float,
        default=None,
        help="classify each input as consecutive windows of this many seconds, one line per window with "
        "start/end",
    )
    parser.add_argument("--device", default="auto", help="auto (cuda if available) | cpu | cuda | cuda:N")
    parser.add_argument(
        "--amp", type=amp_or_auto_type, default=None, help="none | fp16 | bf16 | auto: the ASR on CUDA"
    )
    parser.add_argument("--output", default=None, help="write the JSON lines here (default: stdout)")
    cli.add_log_level_argument(parser)
    return parser


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
    )


def infer(args: argparse.Namespace, out: IO[str]) -> tuple[int, int]:
    """The work function: every input classified, one JSON line each to ``out``; (classified, failed)."""
    from speechsent.inference.batch_infer import infer as infer_inputs

    return infer_inputs(make_config(args), out)


def _run(args: argparse.Namespace) -> int:
    from speechsent.inference.batch_infer import infer_to_file

    # Only the JSON lines go to stdout: what libraries print there (ESPnet does on import) goes to stderr.
    stdout = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        if args.output is None:
            return 1 if infer(args, stdout)[1] else 0
        return 1 if infer_to_file(make_config(args), args.output)[1] else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
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
    cli.setup_logging(args.log_level)
    from speechsent.audio.io import AudioError
    from speechsent.inference.model import InferenceError
    from speechsent.kaldi.table import KaldiDataError

    status = 1
    try:
        status = _run(args)
    except (InferenceError, KaldiDataError, AudioError, OSError) as error:
        log.error("%s", error)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
