"""Synthetic conversational speech in the layouts of the LDC corpora (Switchboard, MS98, LDC2020T14, Fisher).

``speechsent.synth.espeak``     ctypes binding to libespeak-ng (loaded lazily, on first use)
``speechsent.synth.sentences``  conversational sentences whose sentiment is carried by words
``speechsent.synth.corpus``     :func:`synthesize_corpus`: the corpus, its transcripts, labels and manifest

Importing this package loads neither libespeak-ng nor numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from speechsent.synth.corpus import CorpusConfig, CorpusManifest, load_manifest, synthesize_corpus

__all__ = ["CorpusConfig", "CorpusManifest", "load_manifest", "synthesize_corpus"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from speechsent.synth import corpus

        return getattr(corpus, name)
    raise AttributeError(f"module 'speechsent.synth' has no attribute {name!r}")
