"""speechsent-synth-corpus: synthesize a small conversational corpus in the exact LDC layouts.

Writes Switchboard-1 audio (LDC97S62 layout), MS-State transcripts, Speech Sentiment Annotations
(LDC2020T14) and Fisher audio and transcripts (LDC2004S13/T19, and LDC2005S13/T19 with
``--num_fisher_p2_convs``) under ``--out_dir``, plus ``manifest.json`` (the ground truth), and prints
the ``db.sh`` lines that point a recipe at it::

    speechsent-synth-corpus --out_dir downloads/synth --seed 1 --num_swbd_convs 40 --num_fisher_convs 20

Every option of :class:`speechsent.synth.manifest.CorpusConfig` is an option here (``--prosody false``,
``--sentiment_weights "0.25 0.45 0.3"``, ``--voices "en-us+m3 en+f2"``); ``--config FILE`` reads them from
a YAML mapping (command-line options win).  The output depends only on the options (not on ``--nj``):
the same bytes on every run.  Exit status: 0 on success, 1 on an error (eSpeak missing, bad value),
2 on a usage error.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from speechsent import cli
from speechsent.cli import str2bool

if TYPE_CHECKING:
    from speechsent.synth.manifest import CorpusConfig, CorpusManifest

__all__ = ["get_parser", "main", "synth_corpus"]

PROG = "speechsent-synth-corpus"

# Kept in step with speechsent.synth.manifest.CorpusConfig (a test checks it); the defaults are taken
# from the dataclass when the parser is built, without importing numpy or eSpeak.
_HELP: dict[str, str] = {
    "seed": "random seed: everything is a function of it and the other options",
    "num_swbd_convs": "Switchboard conversations (sw02001.. with gaps), all with MS98 transcripts",
    "num_fisher_convs": "Fisher Part 1 conversations (fe_03_00001..), unlabeled",
    "num_fisher_p2_convs": "Fisher Part 2 conversations (fe_03_05851.., LDC2005S13/T19 layout)",
    "turns_per_conv": "speaker turns per Switchboard conversation (backchannels come on top)",
    "fisher_turns_per_conv": "speaker turns per Fisher conversation",
    "swbd_shorten_fraction": "fraction of Switchboard files shorten-compressed (Fisher: all)",
    "prosody": "sentiment-dependent prosody (Positive faster/higher, Negative slower/lower)",
    "prosody_strength": "scale of the sentiment prosody shift",
    "labeled_fraction": "fraction of transcribed Switchboard segments with sentiment labels",
    "four_vote_fraction": "fraction of labeled rows with 4 votes instead of 3",
    "annotator_accuracy": "probability that a vote is the segment's true sentiment",
    "tie_fraction": "fraction of rows made to have no majority (others arise from annotator noise)",
    "unmatched_rows": "rows whose times match no MS98 segment",
    "time_jitter": "largest difference (s) between a row's times and its segment's",
    "sentiment_weights": "relative frequencies of Negative, Neutral, Positive turns",
    "disfluency_rate": "probability of disfluencies (uh, um, you know, repetitions) in a sentence",
    "markup_rate": "rate of transcript markup ([noise], [laughter], partial words, (( )), asides)",
    "backchannel_rate": "probability of a listener backchannel during a long turn",
    "num_speakers": "size of the speaker pool (0: 120)",
    "voices": "eSpeak voices to draw speakers from (default: English languages x human-like variants)",
    "noise_db": "background noise level (dBFS)",
    "crosstalk_db": "level of each side in the other's channel (dB)",
    "telephone_band": "300-3400 Hz band-pass of both channels",
}


def _floats(value: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in value.replace(",", " ").split())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers, got {value!r}") from None


def _words(value: str) -> tuple[str, ...]:
    return tuple(value.replace(",", " ").split())


def _config_fields() -> list[tuple[str, Any, Any]]:
    """(name, default, argparse type) of every CorpusConfig field (manifest.py imports no numpy)."""
    from speechsent.synth.manifest import CorpusConfig

    out = []
    for f in dataclasses.fields(CorpusConfig):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        if isinstance(default, bool):
            kind: Any = str2bool
        elif isinstance(default, int):
            kind = int
        elif isinstance(default, float):
            kind = float
        elif f.name == "voices":
            kind = _words
        else:
            kind = _floats
        out.append((f.name, default, kind))
    return out


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default=None, help="YAML file of option values")
    parser.add_argument("--out_dir", required=True, help="where the corpus is written")
    parser.add_argument(
        "--nj", type=int, default=1, help="worker processes (the output does not depend on it)"
    )
    parser.add_argument("--progress", type=str2bool, default=True, help="show a progress bar on stderr")
    parser.add_argument("--log_level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    group = parser.add_argument_group("corpus (speechsent.synth.manifest.CorpusConfig)")
    for name, default, kind in _config_fields():
        shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
        group.add_argument(
            f"--{name}", type=kind, default=default, help=f"{_HELP.get(name, name)} (default: {shown})"
        )
    return parser


def make_config(args: argparse.Namespace) -> CorpusConfig:
    """The :class:`CorpusConfig` of parsed options."""
    from speechsent.synth.manifest import CorpusConfig

    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(CorpusConfig)}
    values["sentiment_weights"] = tuple(float(x) for x in values["sentiment_weights"])
    values["voices"] = tuple(values["voices"])
    return CorpusConfig(**values)


def synth_corpus(args: argparse.Namespace) -> CorpusManifest:
    """The work function: options → :func:`speechsent.synth.corpus.synthesize_corpus`."""
    from speechsent.synth.corpus import synthesize_corpus

    config = make_config(args)
    config.validate()
    total = config.num_swbd_convs + config.num_fisher_convs + config.num_fisher_p2_convs
    bar = None
    if args.progress and total:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="conversations", unit="conv", file=sys.stderr)
    try:
        manifest = synthesize_corpus(
            args.out_dir, config, nj=args.nj, progress=(lambda _: bar.update(1)) if bar else None
        )
    finally:
        if bar is not None:
            bar.close()
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    if not args.out_dir:
        parser.error("--out_dir is required")
    if args.nj < 1:
        parser.error("--nj must be at least 1")
    cli.setup_logging(args.log_level)
    log = logging.getLogger("speechsent.synth_corpus")
    from speechsent.synth.espeak import EspeakError

    try:
        manifest = synth_corpus(args)
    except (EspeakError, ValueError, OSError) as exc:
        log.error("%s", exc)
        return 1
    minutes = manifest.audio_seconds / 60.0
    rate = manifest.synthesis_seconds / minutes if minutes else 0.0
    labeled = sum(1 for r in manifest.sentiment_rows if r.outcome not in ("tie", "unmatched"))
    log.info(
        "wrote %d Switchboard + %d Fisher conversations (%.1f min of audio, %d sentiment rows, %d with a "
        "majority) in %.1f s (%.2f s per minute of audio) under %s",
        len(manifest.swbd),
        len(manifest.fisher),
        minutes,
        len(manifest.sentiment_rows),
        labeled,
        manifest.synthesis_seconds,
        rate,
        manifest.out_dir,
    )
    for line in manifest.db_lines():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
