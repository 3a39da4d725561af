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


def _floats(value: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in value.replace(",", " ").split())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers, got {value!r}") from None


def _words(value: str) -> tuple[str, ...]:
    return tuple(value.replace(",", " ").split())


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
    from speechsent.synth.manifest import CONFIG_HELP, CorpusConfig  # no numpy: --help stays fast

    group = parser.add_argument_group("corpus (speechsent.synth.manifest.CorpusConfig)")
    kinds: dict[type, Any] = {bool: str2bool, int: int, float: float}
    defaults = CorpusConfig()
    for f in dataclasses.fields(CorpusConfig):
        default = getattr(defaults, f.name)
        kind = kinds.get(type(default)) or (_words if f.name == "voices" else _floats)
        shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
        group.add_argument(
            f"--{f.name}", type=kind, default=default, help=f"{CONFIG_HELP[f.name]} (default: {shown})"
        )
    return parser


def make_config(args: argparse.Namespace) -> CorpusConfig:
    """The :class:`CorpusConfig` of parsed options."""
    from speechsent.synth.manifest import CorpusConfig

    return CorpusConfig.from_dict({f.name: getattr(args, f.name) for f in dataclasses.fields(CorpusConfig)})


def synth_corpus(config: CorpusConfig, out_dir: str, nj: int = 1, progress: bool = True) -> CorpusManifest:
    """:func:`speechsent.synth.corpus.synthesize_corpus` with a progress bar on stderr (``progress``)."""
    from speechsent.synth.corpus import synthesize_corpus

    config.validate()
    total = config.num_swbd_convs + config.num_fisher_convs + config.num_fisher_p2_convs
    bar = None
    if progress and total:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="conversations", unit="conv", file=sys.stderr)
    try:
        return synthesize_corpus(out_dir, config, nj=nj, progress=(lambda _: bar.update(1)) if bar else None)
    finally:
        if bar is not None:
            bar.close()


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
        manifest = synth_corpus(make_config(args), args.out_dir, args.nj, args.progress)
    except (EspeakError, ValueError, OSError) as exc:
        log.error("%s", exc)
        return 1
    log.info("%s", manifest.summary())
    for line in manifest.db_lines():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
