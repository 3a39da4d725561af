"""Recording lengths and the segments that run past them (shared by validate and fix; stdlib only).

A recording's length comes from ``reco2dur``, else from the audio header of a ``wav.scp`` entry that names
a file without running anything (:mod:`speechsent.kaldi.audio_headers`); a segment that starts at or after
it, or ends :data:`MAX_OVERSHOOT` s or more after it, is what Kaldi's ``extract-segments`` skips.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from speechsent.kaldi.audio_headers import header_path, header_reader
from speechsent.kaldi.table import c_sorted

__all__ = [
    "MAX_OVERSHOOT",
    "Length",
    "past_end",
    "past_end_message",
    "recording_lengths",
]

#: A segment may end this many seconds after its recording's end (Kaldi's ``extract-segments
#: --max-overshoot`` default: longer overshoots are rejected there).
MAX_OVERSHOOT = 0.5


@dataclasses.dataclass(frozen=True)
class Length:
    """A recording's length: from ``reco2dur`` (seconds), or from its audio header (samples at a rate)."""

    seconds: float
    samples: int | None = None
    rate: int | None = None
    source: str = "reco2dur"


def recording_lengths(
    wav_path: Path,
    recos: Iterable[str],
    wav: Mapping[str, str],
    reco2dur: Mapping[str, str],
    *,
    read_headers: bool = True,
) -> tuple[dict[str, Length], list[str]]:
    """The lengths of ``recos`` that are known, and warnings about those that could not be known.

    ``reco2dur`` takes precedence; the other recordings' audio headers are read where the ``wav.scp`` entry
    names a file without running anything (:func:`speechsent.kaldi.audio_headers.header_path`: a plain path
    or a sph2pipe pipe's input), when numpy or soundfile is importable and ``read_headers``.
    """
    lengths: dict[str, Length] = {}
    for r, d in reco2dur.items():
        with contextlib.suppress(ValueError):
            lengths[r] = Length(float(d))
    need = [r for r in c_sorted(set(recos)) if r not in lengths and r in wav]
    if not need or not read_headers:
        return lengths, []
    paths = {r: p for r in need if (p := header_path(wav[r])) is not None}
    if not paths:
        return lengths, []
    reader = header_reader()
    if reader is None:
        return lengths, [
            f"{wav_path}: the audio headers of {len(paths)} recording(s) without reco2dur were not read "
            "(this python has neither numpy nor soundfile: run tools/setup.sh, or write reco2dur): their "
            "segments are not checked against the recordings' lengths"
        ]
    failed: dict[str, str] = {}
    read: dict[str, Length | str] = {}  # by path: both sides of a conversation read once
    for r, path in paths.items():
        if path not in read:
            try:
                a = reader(path)
                read[path] = Length(a.seconds, a.samples, a.rate, a.path)
            except (OSError, ValueError) as e:
                read[path] = str(e)
        got = read[path]
        if isinstance(got, str):
            failed[r] = got
        else:
            lengths[r] = got
    if not failed:
        return lengths, []
    r0 = next(iter(failed))
    return lengths, [
        f"{wav_path}: the audio header of {len(failed)} recording(s) could not be read (e.g. {r0}: "
        f"{failed[r0]}): their segments are not checked against the recordings' lengths"
    ]


def past_end(
    keys: Sequence[str],
    recos: Sequence[str],
    starts: Sequence[float],
    ends: Sequence[float],
    lengths: Mapping[str, Length],
) -> tuple[list[tuple[str, str, float, float]], list[tuple[str, str, float, float]]]:
    """The segments ``(utt, reco, start, end)`` that start at or after their recording's end, and those that
    end :data:`MAX_OVERSHOOT` s or more after it, as Kaldi's ``extract-segments`` (and
    :func:`speechsent.audio.io.cut_segment`) reject them: in samples ``int(t * rate)`` where the header gave
    the length (an end past it by less is truncated there), in seconds from ``reco2dur``."""
    starts_after: list[tuple[str, str, float, float]] = []
    ends_after: list[tuple[str, str, float, float]] = []
    if all(n.rate is None for n in lengths.values()):
        # reco2dur only (the common case): one pass in C finds whether anything is wrong
        durs = list(map(lengths.get, recos, itertools.repeat(None)))
        secs = [math.inf if n is None else n.seconds for n in durs]
        if not any(map(operator.ge, starts, secs)) and not any(
            map(operator.ge, ends, map(operator.add, secs, itertools.repeat(MAX_OVERSHOOT)))
        ):
            return starts_after, ends_after
    for u, r, start, end in zip(keys, recos, starts, ends, strict=True):
        n = lengths.get(r)
        if n is None:
            continue
        if n.rate is not None and n.samples is not None:
            num = n.samples
            if int(start * n.rate) >= num:
                starts_after.append((u, r, start, end))
            elif int(end * n.rate) >= num + int(MAX_OVERSHOOT * n.rate):
                ends_after.append((u, r, start, end))
        elif start >= n.seconds:
            starts_after.append((u, r, start, end))
        elif end >= n.seconds + MAX_OVERSHOOT:
            ends_after.append((u, r, start, end))
    return starts_after, ends_after


def past_end_message(
    kind: str, found: list[tuple[str, str, float, float]], lengths: Mapping[str, Length]
) -> str:
    u, r, start, end = found[0]
    n = lengths[r]
    src = "reco2dur" if n.rate is None else f"the header of {n.source}"
    if kind == "start":
        return (
            f"{len(found)} segment(s) start at or after the end of their recording (Kaldi's extract-segments "
            f"skips them) (e.g. {u}: starts at {start} s, {r} lasts {n.seconds:.3f} s by {src})"
        )
    return (
        f"{len(found)} segment(s) end {MAX_OVERSHOOT} s or more after their recording ends (Kaldi's "
        f"extract-segments skips them; it truncates shorter overshoots) (e.g. {u}: ends at {end} s, {r} "
        f"lasts {n.seconds:.3f} s by {src})"
    )
