"""``speechsent-synth-corpus``'s options (one per field of :class:`speechsent.synth.manifest.CorpusConfig`),
the config they make and the synthesis with a progress bar.

Nothing heavy is imported here (no numpy: ``--help`` stays fast).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TYPE_CHECKING, Any

from speechsent.cli import str2bool

if TYPE_CHECKING:
    from speechsent.synth.manifest import CorpusConfig, CorpusManifest

__all__ = ["add_config_arguments", "add_corpus_arguments", "make_config", "synth_corpus"]


def _floats(value: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in value.replace(",", " ").split())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers, got {value!r}") from None


def _words(value: str) -> tuple[str, ...]:
    return tuple(value.replace(",", " ").split())


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """``--out_dir``, ``--nj``, ``--progress``: where and how (not what) to synthesize."""
    parser.add_argument("--out_dir", required=True, help="where the corpus is written")
    parser.add_argument(
        "--nj", type=int, default=1, help="worker processes (the output does not depend on it)"
    )
    parser.add_argument("--progress", type=str2bool, default=True, help="show a progress bar on stderr")


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`CorpusConfig` field (its default and help)."""
    from speechsent.synth.manifest import CONFIG_HELP, CorpusConfig

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
