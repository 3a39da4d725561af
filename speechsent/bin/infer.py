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
import logging
import sys
from collections.abc import Sequence

from speechsent import cli
from speechsent.inference.infer_cli import add_infer_arguments, check_infer_arguments

__all__ = ["get_parser", "main"]

PROG = "speechsent-infer"
log = logging.getLogger("speechsent.infer")


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__)
    add_infer_arguments(parser)
    cli.add_log_level_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    check_infer_arguments(parser, args)
    cli.setup_logging(args.log_level)
    from speechsent.audio.io import AudioError
    from speechsent.inference.infer_cli import run_infer
    from speechsent.inference.model import InferenceError
    from speechsent.kaldi.table import KaldiDataError

    status = 1
    try:
        status = run_infer(args)
    except (InferenceError, KaldiDataError, AudioError, OSError) as error:
        log.error("%s", error)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
