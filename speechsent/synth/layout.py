"""Where the synthetic corpus puts each file: the LDC releases' numbering and directory layouts.

Paths are relative to the corpus directory (``out_dir`` of :func:`speechsent.synth.corpus.synthesize_corpus`);
the writers here create the parent directories and write atomically (:mod:`speechsent.utils.fileio`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from speechsent.utils.fileio import atomic_write, atomic_write_text

__all__ = [
    "FISHER_PART2_FIRST",
    "MAX_SWBD",
    "SAMPLE_RATE",
    "fisher_paths",
    "ms98_path",
    "ms98_word_path",
    "swbd_sph_path",
    "write_sphere_file",
    "write_text_file",
]

#: Every audio file of the corpus is 8 kHz (telephone speech).
SAMPLE_RATE = 8000
FISHER_PART2_FIRST = 5851  # Fisher Part 2 (LDC2005S13 / LDC2005T19) starts at fe_03_05851
#: Switchboard-1 conversations are numbered sw02001..sw04999.
MAX_SWBD = 4999 - 2001 + 1
_FISHER_CALLS_PER_DISC = 850
_SWBD_CALLS_PER_DISC = 1200


def swbd_sph_path(number: int, index: int = 0) -> str:
    """``swbd/swb1_dN/data/sw0NNNN.sph`` (disc by position in the corpus, as LDC spread them)."""
    disc = min(4, 1 + index // _SWBD_CALLS_PER_DISC)
    return f"swbd/swb1_d{disc}/data/sw0{number:04d}.sph"


def ms98_path(number: int, side: str) -> str:
    """``swb_ms98_transcriptions/20/2001/sw2001A-ms98-a-trans.text``."""
    digits = f"{number:04d}"
    return f"swb_ms98_transcriptions/{digits[:2]}/{digits}/sw{digits}{side}-ms98-a-trans.text"


def ms98_word_path(number: int, side: str) -> str:
    """``swb_ms98_transcriptions/20/2001/sw2001A-ms98-a-word.text`` (the word-level companion)."""
    return ms98_path(number, side).replace("-trans.text", "-word.text")


def fisher_paths(number: int) -> tuple[str, str]:
    """(audio, transcript) paths of Fisher call ``number`` relative to out_dir (Part 1 or Part 2)."""
    name = f"fe_03_{number:05d}"
    subdir = name[6:9]
    if number < FISHER_PART2_FIRST:
        disc = min(7, 1 + (number - 1) // _FISHER_CALLS_PER_DISC)
        return (
            f"fisher/LDC2004S13/fe_03_p1_sph{disc}/audio/{subdir}/{name}.sph",
            f"fisher/LDC2004T19/fe_03_p1_tran/data/trans/{subdir}/{name}.txt",
        )
    disc = min(7, 1 + (number - FISHER_PART2_FIRST) // _FISHER_CALLS_PER_DISC)
    return (
        f"fisher/LDC2005S13/fe_03_p2_sph{disc}/audio/{subdir}/{name}.sph",
        f"fisher/LDC2005T19/fe_03_p2_tran/data/trans/{subdir}/{name}.txt",
    )


def write_text_file(path: Path, text: str) -> None:
    """``text`` (UTF-8) to ``path``, its directories made, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)


def write_sphere_file(path: Path, samples: Any, *, shorten: bool, fields: Sequence[tuple[str, Any]]) -> None:
    """8 kHz µ-law SPHERE (shortened when ``shorten``) to ``path``, its directories made, atomically."""
    from speechsent.audio.sphere import write_sphere

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(
        path, lambda f: write_sphere(f, samples, SAMPLE_RATE, coding="ulaw", shorten=shorten, fields=fields)
    )
