"""speechsent-synth-utterance: speak sentences with eSpeak NG into wav files (new test inputs for a model).

Reads a Kaldi-style text file (``<utt-id> <words ...>`` per line) and writes ``<out_dir>/<utt-id>.wav``
(16-bit PCM at ``--fs``, resampled from eSpeak's 22,050 Hz) and ``<out_dir>/wav.scp``, e.g. to try an
exported model on sentences it has never heard::

    printf 'pos i love this it is wonderful\\nneg this is awful i hate it\\n' > try.txt
    speechsent-synth-utterance --text_file try.txt --out_dir try --voice en-us+m3 --fs 8000
    speechsent-infer --model_dir exp/export/e2e --wav_scp try/wav.scp

``--text "words"`` with ``--utt_id ID`` speaks one sentence without a file. Writes are atomic; a bad line
(no words after the id, a duplicate id, an id that is not a safe file name, an unknown label) is an error
naming the file and line. Exit status 0 on success, 1 on an error, 2 on a usage error.

**Like the demo corpus.** ``speechsent-synth-corpus`` renders speech the way a telephone call sounds
(``--telephone true`` here: the talker's level ``--gain_db``, background noise ``--noise_db``, the 300-3400 Hz
band) and, with its default ``prosody: true``, says Positive sentences faster and higher and Negative ones
slower and lower; the demo corpus does so only partly (``prosody_consistency: 0.15``: most turns get a random
sentiment's shift, at a random intensity), so that its sentiment is carried by the words. ``--utt2sentiment
FILE`` (``<utt-id> Negative|Neutral|Positive``) applies that sentiment's full prosody shift to every sentence
(``--prosody_strength``; no random draw): new sentences sound as the corpus's speech of that sentiment does
when its prosody agrees with its words.

**Several talkers.** ``--voice``, ``--rate``, ``--pitch`` and ``--pitch_range`` take one value or several
(``--voices``, ``--rates``, ``--pitches``, ``--pitch_ranges`` are the same options), cycled over the
sentences in file order: sentence ``i`` (0-based) gets the ``i mod n``-th of each list. The demo's held-out
check set (``egs/mini_sentiment/run.sh``) is spoken so, with voices, rates and pitches that the corpus's
talkers never have::

    speechsent-synth-utterance --text_file text --out_dir check --voices en-us+Alex en-gb-x-rp+steph2 \\
        --rates 135 220 140 --pitches 15 80
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from speechsent import cli
from speechsent.cli import str2bool
from speechsent.kaldi.data_dir import parse_sentiment_label
from speechsent.kaldi.table import read_typed_table

__all__ = ["get_parser", "main"]

PROG = "speechsent-synth-utterance"

logger = logging.getLogger(PROG)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Speak sentences with eSpeak NG into wav files (+ wav.scp).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    cli.add_config_argument(parser)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--text_file", type=Path, help="Kaldi text file: '<utt-id> <words ...>' per line")
    source.add_argument("--text", help="one sentence (with --utt_id)")
    parser.add_argument("--utt_id", default="utt1", help="the id (file name) of --text")
    parser.add_argument("--out_dir", type=Path, required=True, help="where the wavs and wav.scp go")
    cycled = "; several: cycled over the sentences (sentence i gets the (i mod n)-th)"
    parser.add_argument(
        "--voice",
        "--voices",
        nargs="+",
        default="en-us",
        metavar="VOICE",
        help="eSpeak NG voice(s), e.g. en-us+m3, en-gb+f4" + cycled,
    )
    parser.add_argument("--fs", type=int, default=8000, help="sampling rate of the wavs (Hz)")
    # the talker's numeric settings: one value, or several cycled over the sentences
    for name, plural, default, metavar, help_text in (
        ("--rate", "--rates", 170, "WPM", "speaking rate(s) (words per minute)"),
        ("--pitch", "--pitches", 50, "P", "pitch(es) 0..100 (50: the voice's own)"),
        ("--pitch_range", "--pitch_ranges", 50, "R", "pitch range(s) 0..100"),
    ):
        parser.add_argument(
            name, plural, type=int, nargs="+", default=default, metavar=metavar, help=help_text + cycled
        )
    parser.add_argument(
        "--utt2sentiment",
        type=Path,
        default=None,
        help="'<utt-id> Negative|Neutral|Positive' lines: the corpus synthesizer's full prosody shift",
    )
    parser.add_argument("--prosody_strength", type=float, default=1.0, help="scale of that prosody shift")
    parser.add_argument(
        "--telephone", type=str2bool, default=False, help="the corpus's channel: level, noise, 300-3400 Hz"
    )
    parser.add_argument("--gain_db", type=float, default=-6.0, help="talker level (dBFS), with --telephone")
    parser.add_argument("--noise_db", type=float, default=-58.0, help="noise level (dBFS), with --telephone")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise (and of breathy voices)")
    cli.add_log_level_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    cli.setup_logging(args.log_level)
    if args.fs < 1000:
        parser.error(f"--fs {args.fs}: expected a sampling rate in Hz")
    from speechsent.synth.utterance import SAFE_ID, Rendering, read_sentences, synth_utterances

    if args.text is not None and not SAFE_ID.match(args.utt_id):
        parser.error(f"--utt_id {args.utt_id!r} is not a safe file name")
    try:
        rendering = Rendering(**{f.name: getattr(args, f.name) for f in fields(Rendering)})
    except ValueError as error:
        parser.error(str(error).replace("Rendering.", "--"))

    def work() -> None:
        sentences = read_sentences(args.text_file) if args.text_file else [(args.utt_id, args.text)]
        sentiments = read_typed_table(args.utt2sentiment, parse_sentiment_label) if args.utt2sentiment else {}
        unknown = sorted(set(sentiments) - {utt for utt, _ in sentences})
        if unknown:
            raise ValueError(f"{args.utt2sentiment}: utterances without a sentence: {' '.join(unknown[:5])}")
        scp = synth_utterances(sentences, args.out_dir, rendering, sentiments)
        logger.info("%d utterances -> %s", len(sentences), scp)

    from speechsent.synth.espeak import EspeakError

    return cli.run_reporting_errors(work, logger, (OSError, ValueError, EspeakError))


if __name__ == "__main__":
    sys.exit(main())
