"""Synthetic conversational speech in the layouts of the LDC corpora (Switchboard, MS98, LDC2020T14, Fisher).

``speechsent.synth.espeak``       ctypes binding to libespeak-ng (loaded lazily, on first use)
``speechsent.synth.topics``       the conversation topics and their neutral lexicons (data)
``speechsent.synth.lexicon``      sentiment lexicons, sentence templates, backchannels, disfluencies (data)
``speechsent.synth.sentences``    conversational sentences whose sentiment is carried by words
``speechsent.synth.corpus``       :func:`synthesize_corpus`: the driver (conversations, labels, manifest)
``speechsent.synth.manifest``     :class:`CorpusConfig`, the ground truth types and ``manifest.json``
``speechsent.synth.layout``       the LDC releases' paths and numbering; the atomic file writers
``speechsent.synth.voice``        the speaker pool; a speaker's speech rendered at 8 kHz; the telephone band
``speechsent.synth.markup``       MS98 / Fisher transcript markup and the audio pieces it stands for
``speechsent.synth.conversation`` a conversation's timeline and its two channels
``speechsent.synth.swbd``         one Switchboard conversation: SPHERE audio, MS98 transcripts
``speechsent.synth.fisher``       one Fisher call: SPHERE audio, transcript
``speechsent.synth.annotations``  the sentiment TSV's rows (LDC2020T14) and their ground truth

Importing this package loads neither libespeak-ng nor numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from speechsent.synth.corpus import synthesize_corpus
    from speechsent.synth.manifest import CorpusConfig, CorpusManifest, load_manifest

__all__ = ["CorpusConfig", "CorpusManifest", "load_manifest", "synthesize_corpus"]

_HOMES = {
    "CorpusConfig": "manifest",
    "CorpusManifest": "manifest",
    "load_manifest": "manifest",
    "synthesize_corpus": "corpus",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f"speechsent.synth.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'speechsent.synth' has no attribute {name!r}")
