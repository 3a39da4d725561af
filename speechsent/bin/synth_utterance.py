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
slower and lower. ``--utt2sentiment FILE`` (``<utt-id> Negative|Neutral|Positive``) applies that same prosody
shift per sentence (``--prosody_strength``), so that new sentences sound as the corpus's speech of that
sentiment does: a classifier trained on that corpus learns from the prosody as well as from the words.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from speechsent import cli
from speechsent.cli import str2bool
from speechsent.data.kaldi_dir import atomic_write_bytes, parse_sentiment_label, read_typed_table, write_table

__all__ = ["get_parser", "main", "read_sentences", "synth_utterances"]

PROG = "speechsent-synth-utterance"
ESPEAK_RATE = 22050
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]+$")

logger = logging.getLogger(PROG)


def read_sentences(path: Path) -> list[tuple[str, str]]:
    """``(utt_id, text)`` pairs of a Kaldi text file, in file order; bad lines are errors (file:line)."""
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.split(maxsplit=1)
            if len(parts) < 2:
                raise ValueError(f"{path}:{number}: expected '<utt-id> <words ...>', got {line.strip()!r}")
            utt, text = parts[0], parts[1].strip()
            if not _SAFE_ID.match(utt):
                raise ValueError(f"{path}:{number}: utterance id {utt!r} is not a safe file name")
            if utt in seen:
                raise ValueError(f"{path}:{number}: duplicate utterance id {utt!r}")
            seen.add(utt)
            pairs.append((utt, text))
    if not pairs:
        raise ValueError(f"{path}: no sentences")
    return pairs


@dataclass
class Rendering:
    """How the sentences are spoken (see the module docstring)."""

    voice: str = "en-us"
    fs: int = 8000
    rate: int = 170  # words per minute (the corpus's talkers: 150-200)
    pitch: int = 50
    pitch_range: int = 50
    telephone: bool = False
    gain_db: float = -6.0  # the corpus's talkers: -10 .. -3 dBFS
    noise_db: float = -58.0
    prosody_strength: float = 1.0
    seed: int = 0


def _render(text: str, sentiment: str | None, r: Rendering, nprng: Any) -> Any:
    """Float samples in [-1, 1] at ``r.fs`` of ``text`` (silence-padded)."""
    import numpy as np

    from speechsent.audio.io import resample
    from speechsent.synth.espeak import get_espeak
    from speechsent.synth.sentences import prosody_for

    shift = prosody_for(sentiment or "Neutral", r.prosody_strength)
    samples = get_espeak().synthesize(
        text,
        voice=r.voice,
        rate=round(r.rate * shift.rate_factor),
        pitch=round(min(100, max(0, r.pitch + shift.pitch_delta))),
        pitch_range=round(min(100, max(0, r.pitch_range + shift.range_delta))),
        seed=r.seed,
    )
    if samples.size == 0:
        raise ValueError(f"eSpeak produced no audio for {text!r} (voice {r.voice})")
    audio = resample(samples.astype(np.float32) / 32768.0, ESPEAK_RATE, r.fs).astype(np.float64)
    pad = np.zeros(int(0.2 * r.fs))  # a little silence around the words
    audio = np.concatenate([pad, audio, pad])
    if r.telephone:  # the corpus synthesizer's channel (speechsent.synth.voice), at this rate
        from speechsent.synth.voice import telephone_band

        audio = audio * 10.0 ** (r.gain_db / 20.0) + nprng.normal(
            0.0, 10.0 ** (r.noise_db / 20.0), audio.size
        )
        if r.fs > 6800:
            audio = telephone_band(audio, r.fs)
    return np.clip(audio, -1.0, 1.0)


def synth_utterances(
    sentences: Sequence[tuple[str, str]],
    out_dir: str | Path,
    rendering: Rendering | None = None,
    sentiments: dict[str, str] | None = None,
) -> Path:
    """Write ``<out_dir>/<utt>.wav`` per sentence and ``<out_dir>/wav.scp``; returns the wav.scp path.

    ``sentiments`` (utt -> label) gives a sentence the corpus's prosody for that label (Neutral: none).
    """
    import io

    import numpy as np
    import soundfile

    r = rendering or Rendering()
    sentiments = sentiments or {}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    nprng = np.random.default_rng(r.seed)
    scp: dict[str, str] = {}
    for utt, text in sentences:
        try:
            audio = _render(text, sentiments.get(utt), r, nprng)
        except ValueError as error:
            raise ValueError(f"{utt}: {error}") from None
        fs = r.fs
        path = out / f"{utt}.wav"
        buffer = io.BytesIO()
        soundfile.write(buffer, audio, fs, subtype="PCM_16", format="WAV")
        atomic_write_bytes(path, buffer.getvalue())
        scp[utt] = str(path)
        logger.info(
            "%s: %.2f s, %s, %r", path, len(audio) / fs, sentiments.get(utt, "no prosody shift"), text
        )
    write_table(out / "wav.scp", scp)
    return out / "wav.scp"


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
    parser.add_argument("--voice", default="en-us", help="eSpeak NG voice, e.g. en-us+m3, en-gb+f2")
    parser.add_argument("--fs", type=int, default=8000, help="sampling rate of the wavs (Hz)")
    parser.add_argument("--rate", type=int, default=170, help="speaking rate (words per minute)")
    parser.add_argument("--pitch", type=int, default=50, help="pitch 0..100 (50: the voice's own)")
    parser.add_argument("--pitch_range", type=int, default=50, help="pitch range 0..100")
    parser.add_argument(
        "--utt2sentiment",
        type=Path,
        default=None,
        help="'<utt-id> Negative|Neutral|Positive' lines: the corpus synthesizer's prosody for each",
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
    if args.text is not None and not _SAFE_ID.match(args.utt_id):
        parser.error(f"--utt_id {args.utt_id!r} is not a safe file name")

    def work() -> None:
        sentences = read_sentences(args.text_file) if args.text_file else [(args.utt_id, args.text)]
        sentiments = read_typed_table(args.utt2sentiment, parse_sentiment_label) if args.utt2sentiment else {}
        unknown = sorted(set(sentiments) - {utt for utt, _ in sentences})
        if unknown:
            raise ValueError(f"{args.utt2sentiment}: utterances without a sentence: {' '.join(unknown[:5])}")
        rendering = Rendering(**{f.name: getattr(args, f.name) for f in fields(Rendering)})
        scp = synth_utterances(sentences, args.out_dir, rendering, sentiments)
        logger.info("%d utterances -> %s", len(sentences), scp)

    from speechsent.synth.espeak import EspeakError

    return cli.run_reporting_errors(work, logger, (OSError, ValueError, EspeakError))


if __name__ == "__main__":
    sys.exit(main())
