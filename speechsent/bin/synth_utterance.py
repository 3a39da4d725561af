"""speechsent-synth-utterance: speak sentences with eSpeak NG into wav files (new test inputs for a model).

Reads a Kaldi-style text file (``<utt-id> <words ...>`` per line) and writes ``<out_dir>/<utt-id>.wav``
(16-bit PCM at ``--fs``, resampled from eSpeak's 22,050 Hz) and ``<out_dir>/wav.scp``, e.g. to try an
exported model on sentences it has never heard::

    printf 'pos i love this it is wonderful\\nneg this is awful i hate it\\n' > try.txt
    speechsent-synth-utterance --text_file try.txt --out_dir try --voice en-us+m3 --fs 8000
    speechsent-infer --model_dir exp/export/e2e --wav_scp try/wav.scp

``--text "words"`` with ``--utt_id ID`` speaks one sentence without a file. Writes are atomic; a bad line
(no words after the id, a duplicate id, an id that is not a safe file name) is an error naming the file and
line. Exit status 0 on success, 1 on an error, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from speechsent import cli

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


def synth_utterances(
    sentences: Sequence[tuple[str, str]],
    out_dir: str | Path,
    voice: str = "en-us",
    fs: int = 8000,
    rate: int = 160,
    pitch: int = 50,
) -> Path:
    """Write ``<out_dir>/<utt>.wav`` per sentence and ``<out_dir>/wav.scp``; returns the wav.scp path."""
    import io

    import numpy as np
    import soundfile

    from speechsent.audio.io import resample
    from speechsent.data.kaldi_dir import atomic_write_bytes, write_table
    from speechsent.synth.espeak import get_espeak

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    espeak = get_espeak()
    scp: dict[str, str] = {}
    for utt, text in sentences:
        samples = espeak.synthesize(text, voice=voice, rate=rate, pitch=pitch)
        if samples.size == 0:
            raise ValueError(f"{utt}: eSpeak produced no audio for {text!r} (voice {voice})")
        audio = resample(samples.astype(np.float32) / 32768.0, ESPEAK_RATE, fs)
        pad = np.zeros(int(0.2 * fs), dtype=np.float32)  # a little silence around the words
        audio = np.clip(np.concatenate([pad, audio, pad]), -1.0, 1.0)
        path = out / f"{utt}.wav"
        buffer = io.BytesIO()
        soundfile.write(buffer, audio, fs, subtype="PCM_16", format="WAV")
        atomic_write_bytes(path, buffer.getvalue())
        scp[utt] = str(path)
        logger.info("%s: %.2f s, %r", path, len(audio) / fs, text)
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
    parser.add_argument("--rate", type=int, default=160, help="speaking rate (words per minute)")
    parser.add_argument("--pitch", type=int, default=50, help="pitch 0..100 (50: the voice's own)")
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
        scp = synth_utterances(sentences, args.out_dir, args.voice, args.fs, args.rate, args.pitch)
        logger.info("%d utterances -> %s", len(sentences), scp)

    from speechsent.synth.espeak import EspeakError

    return cli.run_reporting_errors(work, logger, (OSError, ValueError, EspeakError))


if __name__ == "__main__":
    sys.exit(main())
