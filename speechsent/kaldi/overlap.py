"""How much of a data directory's audio lies in the audio an ASR was trained on (stdlib only).

A data directory's utterances are intervals of recordings: ``segments`` (``<utt> <reco> <start> <end>``),
or, without it, each utterance is its own recording ``[0, length]`` (Kaldi's convention), its length from
``utt2dur``, else from ``reco2dur`` or the audio header of its ``wav.scp`` entry
(:func:`speechsent.kaldi.lengths.recording_lengths`). The same recording id in two directories is the same
recording; where both have a ``wav.scp`` entry for it and the entries differ, the audio still counts as
shared, with one warning naming both files.

:class:`TrainingAudio` is the union of the training sets' intervals per recording (sorted and merged once);
:meth:`TrainingAudio.overlap` measures a data directory against it in O(n log n): the union of the
directory's own intervals (overlapping segments counted once) intersected with the training audio.
:func:`overlap_hours` does both for one directory; :func:`update_overlap_json` merges the results into the
JSON file that ``speechsent-data-dir overlap`` writes::

    {"asr_train_sets": ["fisher"], "asr_train_hours": 1915.6,
     "sets": {"swbd_test": {"hours": 4.7, "overlap_hours": 0.0, "overlap_fraction": 0.0,
                            "num_utts": 2330, "num_overlapping_utts": 0}}}
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from speechsent.kaldi.data_dir import parse_duration, parse_segment
from speechsent.kaldi.lengths import recording_lengths
from speechsent.kaldi.table import KaldiDataError, read_table, read_typed_table
from speechsent.utils.fileio import read_json, write_json

__all__ = [
    "MIN_UTT_OVERLAP",
    "Intervals",
    "OverlapResult",
    "TrainingAudio",
    "format_overlap",
    "merge_intervals",
    "overlap_hours",
    "read_intervals",
    "update_overlap_json",
]

#: An utterance counts as heard in training when at least this many seconds of it were (10 ms: a frame).
MIN_UTT_OVERLAP = 0.01
_EPS = 1e-9  # float slack of the threshold (times are given to the centisecond or the sample)

#: Per recording: the ``(start, end, utt)`` intervals of a data directory's utterances, file order.
Intervals = dict[str, list[tuple[float, float, str]]]


@dataclasses.dataclass(frozen=True)
class OverlapResult:
    """A data directory against the training audio: ``hours`` of audio its utterances cover (overlapping
    segments of a recording once), ``overlap_hours`` of them in the training audio, their ratio, the number
    of utterances and of those with at least :data:`MIN_UTT_OVERLAP` s in the training audio."""

    hours: float
    overlap_hours: float
    overlap_fraction: float
    num_utts: int
    num_overlapping_utts: int
    #: Recordings whose ``wav.scp`` entries differ between this directory and a training set (counted).
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, float | int]:
        """The JSON entry of the set (hours and fraction rounded to 6 decimals)."""
        return {
            "hours": round(self.hours, 6),
            "overlap_hours": round(self.overlap_hours, 6),
            "overlap_fraction": round(self.overlap_fraction, 6),
            "num_utts": self.num_utts,
            "num_overlapping_utts": self.num_overlapping_utts,
        }


def merge_intervals(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """The union of intervals as sorted, disjoint ``(start, end)`` pairs (touching intervals merged)."""
    out: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


class _Covered:
    """Sorted disjoint intervals with prefix sums: the covered length of any ``[a, b]`` in O(log n)."""

    def __init__(self, merged: list[tuple[float, float]]):
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]
        self.before = [0.0, *itertools.accumulate(e - s for s, e in merged)]  # length of the first k

    def upto(self, x: float) -> float:
        k = bisect.bisect_right(self.starts, x)
        if k == 0:
            return 0.0
        return self.before[k - 1] + min(self.ends[k - 1], x) - self.starts[k - 1]

    def within(self, a: float, b: float) -> float:
        return self.upto(b) - self.upto(a)


def read_intervals(
    data_dir: str | os.PathLike[str], *, read_headers: bool = True
) -> tuple[Intervals, dict[str, str] | None]:
    """The utterance intervals of ``data_dir`` per recording, and its ``wav.scp`` (``None`` if absent).

    With ``segments``: its lines (``end <= start``, a bad number, a recording missing from ``wav.scp`` are
    :class:`KaldiDataError` naming the file and line). Without: each utterance of ``utt2dur`` is its own
    recording from 0 to its duration; without ``utt2dur``, each ``wav.scp`` entry, its length from
    ``reco2dur`` or its audio header; a length that cannot be known is an error naming ``utt2dur``.
    """
    d = Path(data_dir)
    if not d.is_dir():
        raise KaldiDataError("no such data directory", d)
    wav_path = d / "wav.scp"
    wav = read_table(wav_path) if wav_path.is_file() else None
    intervals: Intervals = {}
    seg_path = d / "segments"
    if seg_path.is_file():
        segments = read_typed_table(seg_path, parse_segment)
        for lineno, seg in enumerate(segments.values(), start=1):  # no blank or duplicate lines: 1 per line
            if wav is not None and seg.reco not in wav:
                raise KaldiDataError(f"recording {seg.reco!r} is not in {wav_path}", seg_path, lineno)
            intervals.setdefault(seg.reco, []).append((seg.start, seg.end, seg.utt))
        return intervals, wav
    dur_path = d / "utt2dur"
    if dur_path.is_file():
        durations = read_typed_table(dur_path, parse_duration)
    else:
        durations = _lengths_from_recordings(d, wav, read_headers)
    for utt, dur in durations.items():
        intervals[utt] = [(0.0, dur, utt)]
    return intervals, wav


def _lengths_from_recordings(d: Path, wav: dict[str, str] | None, read_headers: bool) -> dict[str, float]:
    """Without segments and utt2dur: each wav.scp entry's length (reco2dur, else its audio header)."""
    if wav is None:
        raise KaldiDataError(
            f"no such file (and {d} has neither segments nor wav.scp): the utterances' lengths are unknown",
            d / "utt2dur",
        )
    r2d_path = d / "reco2dur"
    reco2dur = read_table(r2d_path) if r2d_path.is_file() else {}
    lengths, warnings = recording_lengths(d / "wav.scp", wav, wav, reco2dur, read_headers=read_headers)
    missing = [r for r in wav if r not in lengths]
    if missing:
        why = f" ({'; '.join(warnings)})" if warnings else " (their wav.scp entries name no file to read)"
        raise KaldiDataError(
            f"no such file, and {d} has no segments: each utterance is its own recording, whose length "
            f"comes from utt2dur, reco2dur or its audio header; {len(missing)} of {len(wav)} are unknown, "
            f"e.g. {missing[0]}{why}; write utt2dur (utils/data/get_utt2dur.sh)",
            d / "utt2dur",
        )
    return {r: lengths[r].seconds for r in wav}


class TrainingAudio:
    """The union of the intervals of the training data directories ``train_dirs``, per recording."""

    def __init__(self, train_dirs: Sequence[str | os.PathLike[str]], *, read_headers: bool = True):
        self.dirs = [Path(t) for t in train_dirs]
        if not self.dirs:
            raise ValueError("no training data directory given")
        spans: dict[str, list[tuple[float, float]]] = {}
        self.wavs: list[tuple[Path, dict[str, str]]] = []
        for t in self.dirs:
            intervals, wav = read_intervals(t, read_headers=read_headers)
            for reco, ivs in intervals.items():
                spans.setdefault(reco, []).extend((s, e) for s, e, _ in ivs)
            if wav is not None:
                self.wavs.append((t / "wav.scp", wav))
        merged = {reco: merge_intervals(ivs) for reco, ivs in spans.items()}
        self.covered = {reco: _Covered(m) for reco, m in merged.items()}
        self.seconds = sum(c.before[-1] for c in self.covered.values())
        self.read_headers = read_headers

    @property
    def hours(self) -> float:
        """Hours of training audio (overlapping segments once)."""
        return self.seconds / 3600

    def overlap(self, data_dir: str | os.PathLike[str]) -> OverlapResult:
        """How much of ``data_dir``'s audio is training audio (:class:`OverlapResult`)."""
        intervals, wav = read_intervals(data_dir, read_headers=self.read_headers)
        total = heard = 0.0
        num_utts = num_heard = 0
        for reco, ivs in intervals.items():
            num_utts += len(ivs)
            own = merge_intervals((s, e) for s, e, _ in ivs)
            total += sum(e - s for s, e in own)
            train = self.covered.get(reco)
            if train is None:
                continue
            heard += sum(min(train.within(s, e), e - s) for s, e in own)
            num_heard += sum(train.within(s, e) >= MIN_UTT_OVERLAP - _EPS for s, e, _ in ivs)
        warnings = self._wav_differences(Path(data_dir), wav, intervals) if wav is not None else []
        return OverlapResult(
            hours=total / 3600,
            overlap_hours=heard / 3600,
            overlap_fraction=min(1.0, heard / total) if total > 0 else 0.0,
            num_utts=num_utts,
            num_overlapping_utts=num_heard,
            warnings=tuple(warnings),
        )

    def _wav_differences(self, d: Path, wav: Mapping[str, str], intervals: Intervals) -> list[str]:
        """One warning per training wav.scp whose entries for shared recordings differ from ``wav``'s."""
        out = []
        for path, train_wav in self.wavs:
            differ = [r for r in intervals if r in train_wav and r in wav and train_wav[r] != wav[r]]
            if differ:
                r = differ[0]
                out.append(
                    f"{len(differ)} recording(s) have other wav.scp entries in {d / 'wav.scp'} than in "
                    f"{path} (counted as the same recording, by id), e.g. {r}: {wav[r]!r} vs {train_wav[r]!r}"
                )
        return out


def overlap_hours(
    train_dirs: Sequence[str | os.PathLike[str]], data_dir: str | os.PathLike[str]
) -> OverlapResult:
    """How much of ``data_dir``'s audio lies in the audio of ``train_dirs`` (:class:`OverlapResult`)."""
    return TrainingAudio(train_dirs).overlap(data_dir)


def format_overlap(set_name: str, result: OverlapResult, train_dirs: Sequence[str]) -> str:
    """The log line of a set: ``swbd_test: 0.00 h of 4.70 h (0.0%) heard in ASR training (data/fisher)``."""
    return (
        f"{set_name}: {result.overlap_hours:.2f} h of {result.hours:.2f} h "
        f"({100 * result.overlap_fraction:.1f}%) heard in ASR training ({', '.join(map(str, train_dirs))})"
    )


def update_overlap_json(
    path: str | os.PathLike[str],
    train: TrainingAudio,
    results: Mapping[str, OverlapResult],
    warn: Callable[[str], None] = lambda _m: None,
) -> dict:
    """Write ``results`` (set name → result) into the JSON file ``path`` atomically and return its content.

    An existing file of the same training sets (names and hours) keeps its other sets (a set measured again
    is replaced); one of other training sets is replaced whole, with a warning (``warn``).
    """
    names = [t.name for t in train.dirs]
    hours = round(train.hours, 6)
    doc: dict = {"asr_train_sets": names, "asr_train_hours": hours, "sets": {}}
    if Path(path).is_file():
        old = read_json(path)
        if not isinstance(old, dict) or not isinstance(old.get("sets"), dict):
            raise ValueError(f"{path}: not an overlap file (no 'sets' object)")
        before = (old.get("asr_train_sets"), old.get("asr_train_hours"))
        if before == (names, hours):
            doc["sets"] = dict(old["sets"])
        else:
            warn(
                f"{path} was computed against other ASR training sets ({before[0]}, {before[1]} h; now "
                f"{names}, {hours} h): its sets {sorted(old['sets'])} are dropped"
            )
    for name, result in results.items():
        doc["sets"][name] = result.to_json()
    doc["sets"] = dict(sorted(doc["sets"].items()))
    write_json(path, doc)
    return doc
