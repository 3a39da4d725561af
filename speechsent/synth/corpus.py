"""A deterministic synthetic conversational corpus in the exact layouts of the LDC releases.

:func:`synthesize_corpus` writes, under ``out_dir``::

    swbd/swb1_d1/data/sw02001.sph                        Switchboard-1 Release 2 (LDC97S62): 2-ch, 8 kHz,
                                                          mu-law SPHERE, a fraction shorten-compressed
    swb_ms98_transcriptions/20/2001/sw2001A-ms98-a-trans.text   MS-State transcripts, both sides
    swb_ms98_transcriptions/20/2001/sw2001A-ms98-a-word.text    ... and their word alignments
    swbd_sentiment/data/sentiment_labels.tsv             Speech Sentiment Annotations (LDC2020T14)
    fisher/LDC2004S13/fe_03_p1_sph1/audio/000/fe_03_00001.sph   Fisher Part 1 speech (shortened mu-law)
    fisher/LDC2004T19/fe_03_p1_tran/data/trans/000/fe_03_00001.txt   Fisher Part 1 transcripts
    fisher/LDC2005S13/fe_03_p2_sph1/audio/058/fe_03_05851.sph   (Part 2, when asked for)
    fisher/LDC2005T19/fe_03_p2_tran/data/trans/058/fe_03_05851.txt
    manifest.json                                        the ground truth (``CorpusManifest``)

so that a recipe's data preparation parses it with the code that parses the real releases
(``db.sh``: ``SWBD``, ``SWBD_MS98``, ``SWBD_SENTIMENT``, ``FISHER`` = ``CorpusManifest.db``).

Conversations are two synthetic talkers (eSpeak NG voices and variants, each with its own pitch,
range, rate and level) taking turns on one topic; each turn is a sentence whose sentiment is carried
by its words (:mod:`speechsent.synth.sentences`), optionally with sentiment-dependent prosody (on every
turn, or only partly and noisily: ``prosody_consistency``).
Listeners backchannel (``uh-huh``, ``oh that's great``) over the talker, laugh, make noises; turns
sometimes overlap.  Each turn is synthesized at 22,050 Hz, resampled to 8 kHz and put in its
speaker's channel at its time; the channels get a little crosstalk and background noise and a
telephone band-pass (300-3400 Hz) before mu-law coding.

Transcripts follow the real formats:

* MS98: ``sw2001A-ms98-a-0001 0.000000 0.977625 [silence]`` lines, 6-decimal times on the 8 kHz sample
  grid, segment ids numbered per side, each side tiled from 0 to the end of the file by speech and
  ``[silence]`` segments; lower-case words with MS98 markup: ``[noise]``, ``[vocalized-noise]``,
  ``[laughter]``, ``[laughter-word]``, partial words ``wo[rd]-`` / ``-[wo]rd``, ``<b_aside>`` ...
  ``<e_aside>``, hesitations ``uh`` ``um`` ``uh-huh`` ``um-hum``; noise- and laughter-only segments.
  The ``-word.text`` companions have one ``sw2001A-ms98-a-0002 0.977625 1.185875 hi`` line per token
  (``[silence]`` for a silence segment), timed by eSpeak's word events.
* LDC2020T14: ``sw02005_57<TAB>400.271875<TAB>404.732375<TAB>Negative-{Scared}#Neutral-{Mixed
  emotions}#Negative-{Scared}`` rows, no header; the number after ``_`` indexes the conversation's
  transcribed (non-silence) segments of both sides in time order, so unlabeled segments leave gaps;
  times are the MS98 segment's, off by up to ``time_jitter`` seconds, written as Python floats
  (``0.0``); 3 votes, sometimes 4, ``Label-{reason}`` joined by ``#``; annotators are noisy,
  some rows have no majority (3 different labels, or 2-2), a few rows match no segment.
* Fisher (LDC2004T19): ``# fe_03_00001.sph`` and ``# Transcribed at the LDC`` (or ``# Transcribed by
  BBN/WordWave``), a blank line, then ``3.76 5.54 A: words `` lines (2-decimal times, a trailing
  space) each followed by a blank line, in order of start time; ``(( ... ))`` around uncertain words
  (empty ``(( ))`` where nothing could be made out), ``[laughter]``, ``[noise]``, ``[lipsmack]``,
  ``[breath]``, ``[cough]``, ``[sigh]``, ``[mn]`` tags and partial words ``wo-``.

Everything is a pure function of ``CorpusConfig`` (same bytes on every run, on any number of
worker processes: every conversation draws from its own random streams, and the synthesizer is reset
before each utterance).  Files are written atomically (a hidden temporary in the same directory,
then a rename): an interrupted run leaves complete files or none.  ``out_dir`` must be new, empty or
an earlier synthetic corpus (it holds a ``.speechsent-synth-corpus`` marker); in the last case the files
of the earlier corpus that this one does not have are removed, so the directory holds exactly one corpus.

This module is the driver (the conversations in worker processes, then the labels and the manifest); the
parts are :mod:`speechsent.synth.swbd` and :mod:`speechsent.synth.fisher` (one conversation each, with
:mod:`~speechsent.synth.conversation`, :mod:`~speechsent.synth.voice` and :mod:`~speechsent.synth.markup`),
:mod:`speechsent.synth.annotations` (the TSV rows, written by :mod:`speechsent.data.sentiment`),
:mod:`speechsent.synth.layout` (paths, atomic writers) and :mod:`speechsent.synth.manifest`.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path

from speechsent.data.sentiment import write_sentiment_tsv
from speechsent.synth.annotations import annotate
from speechsent.synth.fisher import FisherSpec, render_fisher
from speechsent.synth.layout import FISHER_PART2_FIRST, MAX_SWBD
from speechsent.synth.manifest import (
    CorpusConfig,
    CorpusManifest,
    FisherConversation,
    Speaker,
    SwbdConversation,
)
from speechsent.synth.swbd import SwbdSpec, render_swbd
from speechsent.synth.voice import assign_speakers, speaker_pool
from speechsent.utils.fileio import atomic_write_text

__all__ = ["synthesize_corpus"]

_Task = tuple[str, str, CorpusConfig, "SwbdSpec | FisherSpec"]
_TSV = Path("swbd_sentiment") / "data" / "sentiment_labels.tsv"

_MARKER = ".speechsent-synth-corpus"
_SUBTREES = ("swbd", "swb_ms98_transcriptions", "swbd_sentiment", "fisher")


def _claim(out: Path) -> None:
    """Make ``out`` a corpus directory: new or empty, or one this module wrote before (it has the marker).

    Anything else is refused, so that a corpus is never mixed into (or cleaned out of) other data.
    """
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / _MARKER).is_file():
        raise ValueError(
            f"{out} is not empty and holds no synthetic corpus (no {_MARKER}): give a new or empty directory"
        )
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / _MARKER, f"written by {__name__}: may be rewritten and cleaned by it\n")


def _remove_stale(out: Path, keep: set[Path]) -> None:
    """Delete the files of an earlier, different corpus from the LDC subtrees (and the dirs left empty)."""
    for name in _SUBTREES:
        root = out / name
        if not root.is_dir() or root.is_symlink():
            continue
        for dirpath, dirnames, filenames in os.walk(root, topdown=False):
            here = Path(dirpath)
            for filename in filenames:
                path = here / filename
                if path not in keep:
                    path.unlink()
            for dirname in dirnames:
                sub = here / dirname
                if sub.is_dir() and not sub.is_symlink() and not any(sub.iterdir()):
                    sub.rmdir()
        if not any(root.iterdir()):
            root.rmdir()


def _swbd_numbers(config: CorpusConfig) -> list[int]:
    rng = random.Random(f"{config.seed}:swbd-numbers")
    n = config.num_swbd_convs
    span = min(MAX_SWBD, 3 * n)
    return sorted(rng.sample(range(2001, 2001 + span), n))


def _shortened(config: CorpusConfig, numbers: list[int]) -> set[int]:
    """The Switchboard conversations stored shorten-compressed (at least one, not all, when 2 or more)."""
    shorten_rng = random.Random(f"{config.seed}:shorten")
    n_short = round(config.swbd_shorten_fraction * len(numbers))
    if len(numbers) >= 2 and 0.0 < config.swbd_shorten_fraction < 1.0:
        n_short = min(max(n_short, 1), len(numbers) - 1)
    return set(shorten_rng.sample(numbers, n_short))


def _tasks(out: Path, config: CorpusConfig, pool: list[Speaker]) -> list[_Task]:
    """One task per conversation: the Switchboard ones, then Fisher Part 1 and Part 2."""
    numbers = _swbd_numbers(config)
    shortened = _shortened(config, numbers)
    tasks: list[_Task] = []
    for index, number in enumerate(numbers):
        speakers = assign_speakers(pool, config.seed, f"sw0{number:04d}")
        tasks.append(("swbd", str(out), config, SwbdSpec(index, number, number in shortened, speakers)))
    fisher_numbers = list(range(1, config.num_fisher_convs + 1)) + list(
        range(FISHER_PART2_FIRST, FISHER_PART2_FIRST + config.num_fisher_p2_convs)
    )
    for number in fisher_numbers:
        speakers = assign_speakers(pool, config.seed, f"fe_03_{number:05d}")
        tasks.append(("fisher", str(out), config, FisherSpec(number, speakers)))
    return tasks


def _work(task: _Task) -> SwbdConversation | FisherConversation:
    kind, out_dir, config, spec = task
    if kind == "swbd":
        assert isinstance(spec, SwbdSpec)
        return render_swbd(out_dir, config, spec)
    assert isinstance(spec, FisherSpec)
    return render_fisher(out_dir, config, spec)


def _render_all(
    tasks: list[_Task], nj: int, progress: Callable[[str], None] | None
) -> list[SwbdConversation | FisherConversation]:
    """Every conversation rendered (in ``nj`` spawned worker processes when more than one), in task order."""
    results: list[SwbdConversation | FisherConversation] = []
    if nj > 1 and len(tasks) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(nj, len(tasks)), mp_context=context) as executor:
            for result in executor.map(_work, tasks, chunksize=1):
                results.append(result)
                if progress is not None:
                    progress(result.conversation)
    else:
        for task in tasks:
            result = _work(task)
            results.append(result)
            if progress is not None:
                progress(result.conversation)
    return results


def _db(out: Path, config: CorpusConfig, has_swbd: bool) -> dict[str, str]:
    """The ``db.sh`` values: empty where the corpus has no such part."""
    fisher_roots = ["fisher/LDC2004S13", "fisher/LDC2004T19"] if config.num_fisher_convs else []
    if config.num_fisher_p2_convs:
        fisher_roots += ["fisher/LDC2005S13", "fisher/LDC2005T19"]
    return {
        "SWBD": str(out / "swbd") if has_swbd else "",
        "SWBD_MS98": str(out / "swb_ms98_transcriptions") if has_swbd else "",
        "SWBD_SENTIMENT": str(out / "swbd_sentiment") if has_swbd else "",
        "FISHER": " ".join(str(out / root) for root in fisher_roots),
    }


def _written(out: Path, manifest: CorpusManifest) -> set[Path]:
    """Every file of the corpus below the LDC subtrees."""
    swbd, fisher = manifest.swbd, manifest.fisher
    keep = {out / c.path for c in swbd} | {out / p for c in swbd for p in c.ms98_paths.values()}
    keep |= {out / p for c in swbd for p in c.ms98_word_paths.values()}
    keep |= {out / c.audio_path for c in fisher} | {out / c.transcript_path for c in fisher}
    if swbd:
        keep.add(out / _TSV)
    return keep


def synthesize_corpus(
    out_dir: str | os.PathLike[str],
    config: CorpusConfig | None = None,
    *,
    nj: int = 1,
    progress: Callable[[str], None] | None = None,
) -> CorpusManifest:
    """Synthesize the corpus described by ``config`` under ``out_dir``; returns (and writes) the manifest.

    ``nj`` worker processes render conversations in parallel (the output does not depend on it);
    ``progress`` is called with each finished conversation's id.
    """
    config = config or CorpusConfig()
    config.validate()
    out = Path(out_dir).resolve()
    _claim(out)
    began = time.perf_counter()

    pool = speaker_pool(config)
    if len(pool) < 2:
        raise ValueError("num_speakers must be at least 2")
    results = _render_all(_tasks(out, config, pool), nj, progress)
    swbd = [r for r in results if isinstance(r, SwbdConversation)]
    fisher = [r for r in results if isinstance(r, FisherConversation)]

    rows = annotate(swbd, config)
    if swbd:
        (out / _TSV).parent.mkdir(parents=True, exist_ok=True)
        write_sentiment_tsv(out / _TSV, (row.tsv_row(n) for n, row in enumerate(rows, start=1)))
    manifest = CorpusManifest(
        out_dir=str(out),
        config=config,
        db=_db(out, config, bool(swbd)),
        swbd=swbd,
        sentiment_rows=rows,
        fisher=fisher,
        audio_seconds=sum(c.duration for c in swbd) + sum(c.duration for c in fisher),
    )
    manifest.write()
    _remove_stale(out, _written(out, manifest))
    manifest.synthesis_seconds = time.perf_counter() - began
    return manifest
