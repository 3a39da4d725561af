"""Kaldi data directories: the files, their typed values, and :class:`DataDir` (stdlib only).

This module must import in a bare ``python3`` (no numpy, no audio libraries): the ``utils/*.sh`` data-dir
tools run it before any environment exists. The table format (encoding, ``LC_ALL=C`` order, reading,
atomic writing, :class:`~speechsent.kaldi.table.KaldiDataError`) is :mod:`speechsent.kaldi.table`.

The data-directory files (``docs/contracts.md``; what is refused: the README's "Inputs")::

    wav.scp           <reco> <path> | <reco> <command> |     (<utt> ... when there is no segments file)
    segments          <utt> <reco> <start> <end>             (seconds)
    utt2spk           <utt> <spk>
    spk2utt           <spk> <utt1> <utt2> ...                (derived from utt2spk)
    text              <utt> <words ...>
    utt2dur           <utt> <seconds>
    reco2dur          <reco> <seconds>
    utt2num_frames    <utt> <int>
    utt2sentiment     <utt> Negative|Neutral|Positive
    utt2pseudo        <utt> Negative|Positive
    utt2pseudo_prob   <utt> <float in [0, 1]>
    utt2pseudo_<tag>, utt2pseudo_prob_<tag>   (one labeler's; as utt2pseudo, utt2pseudo_prob)
    feats.scp cmvn.scp vad.scp spk2gender utt2lang utt2uniq utt2warp spk2warp reco2file_and_channel
    stm glm ctm       (not tables; copied verbatim, stm filtered by recording)
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

from speechsent.data.labels import check_probability, check_pseudo_label, check_sentiment_label
from speechsent.kaldi.table import (
    KaldiDataError,
    c_sorted,
    format_number,
    read_table,
    read_typed_table,
    split_fields,
    write_table,
)

__all__ = [
    "PSEUDO_PROB_PREFIX",
    "PSEUDO_TAG_PREFIX",
    "RECO_FILES",
    "SPK_FILES",
    "UTT_FILES",
    "VERBATIM_FILES",
    "DataDir",
    "Segment",
    "WavEntry",
    "parse_duration",
    "parse_num_frames",
    "parse_probability",
    "parse_pseudo_label",
    "parse_segment",
    "parse_sentiment_label",
    "parse_spk2utt_value",
    "parse_wav_entry",
    "pseudo_prob_name",
    "table_kind",
    "utt2spk_to_spk2utt",
    "utt_files",
]

#: Tables indexed by utterance id (``segments`` included; ``wav.scp`` too when there is no segments file).
UTT_FILES: tuple[str, ...] = (
    "utt2spk",
    "text",
    "segments",
    "feats.scp",
    "vad.scp",
    "utt2lang",
    "utt2uniq",
    "utt2dur",
    "utt2num_frames",
    "utt2warp",
    "utt2sentiment",
    "utt2pseudo",
    "utt2pseudo_prob",
)
#: A labeler's pseudo labels (stage 7's ``--labels_name``): ``utt2pseudo_<tag>``, ``utt2pseudo_prob_<tag>``;
#: utterance tables with the rules of utt2pseudo, utt2pseudo_prob (:func:`table_kind`, :func:`utt_files`).
PSEUDO_TAG_PREFIX = "utt2pseudo_"
PSEUDO_PROB_PREFIX = "utt2pseudo_prob_"
#: Tables indexed by speaker id (``spk2utt`` is derived from ``utt2spk``).
SPK_FILES: tuple[str, ...] = ("spk2utt", "cmvn.scp", "spk2gender", "spk2warp")
#: Tables indexed by recording id when a segments file exists (by utterance id otherwise).
RECO_FILES: tuple[str, ...] = ("wav.scp", "reco2file_and_channel", "reco2dur")
#: Files that are not key/value tables: copied byte for byte (``stm`` filtered by recording in subsets).
VERBATIM_FILES: tuple[str, ...] = ("stm", "glm", "ctm")

T = TypeVar("T")

_BLANKS = " \t"  # the blanks that separate fields (as speechsent.kaldi.table splits them)


# ----------------------------------------------------------------------------------------------------------
# Typed records and value parsers


def _finite(value: str, what: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise ValueError(f"bad {what} {value!r}: not a number") from None
    if not math.isfinite(x):
        raise ValueError(f"bad {what} {value!r}: not finite")
    return x


@dataclasses.dataclass(frozen=True)
class Segment:
    """One line of ``segments``: utterance ``utt`` is ``reco`` from ``start`` to ``end`` seconds."""

    utt: str
    reco: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_value(self) -> str:
        """The table value (everything after the key)."""
        return f"{self.reco} {format_number(self.start)} {format_number(self.end)}"

    def to_line(self) -> str:
        return f"{self.utt} {self.to_value()}"


@dataclasses.dataclass(frozen=True)
class WavEntry:
    """One line of ``wav.scp``: a file path, or a command whose stdout is the audio (``cmd |``)."""

    reco: str
    path_or_command: str
    is_pipe: bool

    @property
    def command(self) -> str:
        """The command of a pipe entry without its trailing ``|`` (the path for a file entry)."""
        return self.path_or_command[:-1].rstrip(_BLANKS) if self.is_pipe else self.path_or_command

    @classmethod
    def from_path(cls, reco: str, path: str) -> WavEntry:
        return cls(reco, path, False)

    @classmethod
    def from_command(cls, reco: str, command: str) -> WavEntry:
        command = command.rstrip(_BLANKS)
        if not command.endswith("|"):
            command += " |"
        return cls(reco, command, True)

    def to_value(self) -> str:
        return self.path_or_command

    def to_line(self) -> str:
        return f"{self.reco} {self.path_or_command}"


def parse_segment(utt: str, value: str) -> Segment:
    """``segments`` value ``reco start end`` → :class:`Segment` (``0 <= start < end``)."""
    f = split_fields(value)
    if len(f) != 3:
        raise ValueError(f"expected 4 fields (utt reco start end), got {1 + len(f)}")
    start = _finite(f[1], "segment start")
    end = _finite(f[2], "segment end")
    if start < 0:
        raise ValueError(f"segment start {f[1]} < 0")
    if end <= start:
        raise ValueError(f"segment end {f[2]} <= start {f[1]}")
    return Segment(utt, f[0], start, end)


def parse_wav_entry(reco: str, value: str) -> WavEntry:
    """``wav.scp`` value → :class:`WavEntry` (a pipe when it ends in ``|``)."""
    if not value:
        raise ValueError("no path or command")
    return WavEntry(reco, value, value.endswith("|"))


def parse_duration(_key: str, value: str) -> float:
    """A duration in seconds: a finite number > 0 (``utt2dur``, ``reco2dur``)."""
    f = split_fields(value)
    if len(f) != 1:
        raise ValueError(f"expected 2 fields, got {1 + len(f)}")
    x = _finite(f[0], "duration")
    if x <= 0:
        raise ValueError(f"bad duration {f[0]!r}: not > 0")
    return x


def parse_num_frames(_key: str, value: str) -> int:
    """A frame count: an integer > 0 (``utt2num_frames``)."""
    f = split_fields(value)
    if len(f) != 1:
        raise ValueError(f"expected 2 fields, got {1 + len(f)}")
    try:
        n = int(f[0])
    except ValueError:
        raise ValueError(f"bad number of frames {f[0]!r}: not an integer") from None
    if n <= 0:
        raise ValueError(f"bad number of frames {f[0]!r}: not > 0")
    return n


def _single(value: str) -> str:
    f = split_fields(value)
    if len(f) != 1:
        raise ValueError(f"expected 2 fields, got {1 + len(f)}")
    return f[0]


def parse_sentiment_label(_key: str, value: str) -> str:
    """An ``utt2sentiment`` value: one of :data:`SENTIMENT_LABELS`."""
    return check_sentiment_label(_single(value))


def parse_pseudo_label(_key: str, value: str) -> str:
    """An ``utt2pseudo`` value: one of :data:`PSEUDO_LABELS`."""
    return check_pseudo_label(_single(value))


def parse_probability(_key: str, value: str) -> float:
    """An ``utt2pseudo_prob`` value: a number in [0, 1]."""
    return check_probability(_single(value))


def parse_spk2utt_value(_key: str, value: str) -> list[str]:
    """A ``spk2utt`` value: one or more utterance ids."""
    utts = split_fields(value)
    if not utts:
        raise ValueError("speaker with no utterances")
    return utts


def _parse_str(_key: str, value: str) -> str:
    return value


def _parse_single(_key: str, value: str) -> str:
    return _single(value)


def _parse_r2fc(_key: str, value: str) -> tuple[str, str]:
    f = split_fields(value)
    if len(f) != 2:
        raise ValueError(f"expected 3 fields (reco file channel), got {1 + len(f)}")
    return f[0], f[1]


def utt2spk_to_spk2utt(utt2spk: Mapping[str, str]) -> dict[str, list[str]]:
    """Invert ``utt2spk``: speakers and each speaker's utterances, both ``LC_ALL=C`` sorted."""
    spk2utt: dict[str, list[str]] = {}
    for utt in c_sorted(utt2spk):
        spk2utt.setdefault(utt2spk[utt], []).append(utt)
    return {spk: spk2utt[spk] for spk in c_sorted(spk2utt)}


def table_kind(name: str) -> str:
    """The known file whose format and rules the file ``name`` follows: ``utt2pseudo`` for a labeler's
    ``utt2pseudo_<tag>``, ``utt2pseudo_prob`` for ``utt2pseudo_prob_<tag>`` (a tag: not empty, no blank or
    ``/``, not starting with ``.``), else ``name`` itself."""
    kind = "utt2pseudo_prob" if name.startswith(PSEUDO_PROB_PREFIX) else "utt2pseudo"
    tag = name[len(kind) + 1 :]
    if name == "utt2pseudo_prob" or not name.startswith(PSEUDO_TAG_PREFIX) or not tag or tag[0] == ".":
        return name
    return name if any(c in tag for c in " \t\n/\\") else kind


def pseudo_prob_name(labels_name: str) -> str:
    """The probability file beside a pseudo-label file: ``utt2pseudo`` → ``utt2pseudo_prob``,
    ``utt2pseudo_<tag>`` → ``utt2pseudo_prob_<tag>``; any other name is a ValueError."""
    if labels_name != "utt2pseudo" and table_kind(labels_name) != "utt2pseudo":
        raise ValueError(
            f"bad pseudo-label file name {labels_name!r}: expected utt2pseudo or utt2pseudo_<tag>"
        )
    return "utt2pseudo_prob" + labels_name[len("utt2pseudo") :]


def utt_files(path: str | os.PathLike[str] | None = None) -> tuple[str, ...]:
    """The utterance-indexed table names of a data dir: :data:`UTT_FILES`, then the per-labeler
    ``utt2pseudo_<tag>`` files present in ``path``, then the ``utt2pseudo_prob_<tag>`` (``LC_ALL=C``)."""
    if path is None or not os.path.isdir(path):
        return UTT_FILES
    extra = c_sorted(e.name for e in os.scandir(path) if e.is_file() and table_kind(e.name) != e.name)
    labels = [n for n in extra if table_kind(n) == "utt2pseudo"]  # each before its probabilities
    return (*UTT_FILES, *labels, *(n for n in extra if n not in labels))


# ----------------------------------------------------------------------------------------------------------
# DataDir


_TYPED_PARSERS: dict[str, Callable[[str, str], object]] = {
    "utt2spk": _parse_single,
    "spk2utt": parse_spk2utt_value,
    "wav.scp": parse_wav_entry,
    "segments": parse_segment,
    "utt2dur": parse_duration,
    "reco2dur": parse_duration,
    "utt2num_frames": parse_num_frames,
    "utt2sentiment": parse_sentiment_label,
    "utt2pseudo": parse_pseudo_label,
    "utt2pseudo_prob": parse_probability,
    "reco2file_and_channel": _parse_r2fc,
    "spk2gender": _parse_single,
    "utt2lang": _parse_single,
    "utt2uniq": _parse_single,
}


class DataDir:
    """A Kaldi data directory with lazy, typed, cached access to its files.

    Reading is lazy: a file is read on first access (duplicate keys and malformed values raise
    :class:`KaldiDataError` naming ``file:line``; input order is not required to be sorted, use
    :func:`speechsent.kaldi.validate.validate` to check a directory). Accessors of absent optional files
    return ``None``; ``utt2spk`` is required.

    Changes are made with :meth:`set_table` (or the typed ``set_*`` helpers) and :meth:`remove`, and
    written by :meth:`write`, which writes every table atomically and ``LC_ALL=C`` sorted and regenerates
    ``spk2utt`` from ``utt2spk``.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._tables: dict[str, dict[str, str]] = {}
        self._typed: dict[str, dict[str, object]] = {}
        self._dirty: set[str] = set()
        self._removed: set[str] = set()

    def __repr__(self) -> str:
        return f"DataDir({str(self.path)!r})"

    # -- generic access -------------------------------------------------------------------------------

    def file(self, name: str) -> Path:
        return self.path / name

    def has(self, name: str) -> bool:
        """Whether the file exists (or was set in memory and not removed)."""
        if name in self._removed:
            return False
        return name in self._tables or self.file(name).is_file()

    def table(self, name: str) -> dict[str, str] | None:
        """The raw table ``key → value`` (file order), or ``None`` if absent."""
        if name in self._removed:
            return None
        if name not in self._tables:
            f = self.file(name)
            if not f.is_file():
                return None
            self._tables[name] = read_table(f)
        return self._tables[name]

    def require(self, name: str) -> dict[str, str]:
        """Like :meth:`table` but an absent file is a :class:`KaldiDataError`."""
        t = self.table(name)
        if t is None:
            raise KaldiDataError("no such file", self.file(name))
        return t

    def typed(self, name: str, parse: Callable[[str, str], T] | None = None) -> dict[str, T] | None:
        """The table with each value converted by ``parse`` (a known file's parser by default)."""
        if parse is None:
            if name in self._typed:
                return self._typed[name]  # type: ignore[return-value]
            parse = _TYPED_PARSERS.get(table_kind(name), _parse_str)  # type: ignore[assignment]
            cache = True
        else:
            cache = False
        assert parse is not None
        if name in self._removed:
            return None
        if name in self._tables and (name in self._dirty or not self.file(name).is_file()):
            out: dict[str, T] = {}
            for key, value in self._tables[name].items():
                try:
                    out[key] = parse(key, value)
                except ValueError as e:
                    raise KaldiDataError(f"{key}: {e}", self.file(name)) from None
        else:
            f = self.file(name)
            if not f.is_file():
                return None
            out = read_typed_table(f, parse)
        if cache:
            self._typed[name] = out  # type: ignore[assignment]
        return out

    def set_table(self, name: str, mapping: Mapping[str, object] | Iterable[tuple[str, object]]) -> None:
        """Replace a table in memory (written by :meth:`write`)."""
        items = mapping.items() if isinstance(mapping, Mapping) else mapping
        table: dict[str, str] = {}
        for key, value in items:
            if key in table:
                raise ValueError(f"{self.file(name)}: duplicate key {key!r}")
            table[key] = format_number(value) if isinstance(value, float) else str(value)
        self._tables[name] = table
        self._typed.pop(name, None)
        self._dirty.add(name)
        self._removed.discard(name)
        if name == "utt2spk":
            self._typed.pop("spk2utt", None)
            self._tables.pop("spk2utt", None)

    def remove(self, name: str) -> None:
        """Mark a file for deletion by :meth:`write`."""
        self._tables.pop(name, None)
        self._typed.pop(name, None)
        self._dirty.discard(name)
        self._removed.add(name)

    def present_files(self) -> list[str]:
        """Names of the known tables and verbatim files present (on disk or in memory)."""
        names = {*utt_files(self.path), *SPK_FILES, *RECO_FILES, *VERBATIM_FILES, *self._tables}
        return sorted(n for n in names if self.has(n))

    # -- typed accessors ------------------------------------------------------------------------------

    @property
    def utt2spk(self) -> dict[str, str]:
        t = self.typed("utt2spk")
        if t is None:
            raise KaldiDataError("no such file", self.file("utt2spk"))
        return t  # type: ignore[return-value]

    @property
    def spk2utt(self) -> dict[str, list[str]]:
        """From ``spk2utt`` if present and not stale, else derived from ``utt2spk``."""
        if "utt2spk" not in self._dirty:
            t = self.typed("spk2utt")
            if t is not None:
                return t  # type: ignore[return-value]
        return utt2spk_to_spk2utt(self.utt2spk)

    @property
    def utt_ids(self) -> list[str]:
        """Utterance ids (keys of ``utt2spk``), ``LC_ALL=C`` sorted."""
        return c_sorted(self.utt2spk)

    @property
    def spk_ids(self) -> list[str]:
        """Speaker ids (values of ``utt2spk``), unique, ``LC_ALL=C`` sorted."""
        return c_sorted(set(self.utt2spk.values()))

    @property
    def wav_scp(self) -> dict[str, WavEntry] | None:
        return self.typed("wav.scp")  # type: ignore[return-value]

    @property
    def segments(self) -> dict[str, Segment] | None:
        return self.typed("segments")  # type: ignore[return-value]

    @property
    def text(self) -> dict[str, str] | None:
        return self.typed("text")  # type: ignore[return-value]

    @property
    def utt2dur(self) -> dict[str, float] | None:
        return self.typed("utt2dur")  # type: ignore[return-value]

    @property
    def reco2dur(self) -> dict[str, float] | None:
        return self.typed("reco2dur")  # type: ignore[return-value]

    @property
    def utt2num_frames(self) -> dict[str, int] | None:
        return self.typed("utt2num_frames")  # type: ignore[return-value]

    @property
    def utt2sentiment(self) -> dict[str, str] | None:
        return self.typed("utt2sentiment")  # type: ignore[return-value]

    @property
    def utt2pseudo(self) -> dict[str, str] | None:
        return self.typed("utt2pseudo")  # type: ignore[return-value]

    @property
    def utt2pseudo_prob(self) -> dict[str, float] | None:
        return self.typed("utt2pseudo_prob")  # type: ignore[return-value]

    @property
    def feats_scp(self) -> dict[str, str] | None:
        return self.typed("feats.scp")  # type: ignore[return-value]

    @property
    def cmvn_scp(self) -> dict[str, str] | None:
        return self.typed("cmvn.scp")  # type: ignore[return-value]

    @property
    def spk2gender(self) -> dict[str, str] | None:
        return self.typed("spk2gender")  # type: ignore[return-value]

    @property
    def utt2lang(self) -> dict[str, str] | None:
        return self.typed("utt2lang")  # type: ignore[return-value]

    @property
    def utt2uniq(self) -> dict[str, str] | None:
        return self.typed("utt2uniq")  # type: ignore[return-value]

    @property
    def reco2file_and_channel(self) -> dict[str, tuple[str, str]] | None:
        return self.typed("reco2file_and_channel")  # type: ignore[return-value]

    @property
    def reco_ids(self) -> list[str]:
        """Recording ids: from ``segments`` if present, else the utterance ids (Kaldi's convention)."""
        seg = self.segments
        if seg is not None:
            return c_sorted({s.reco for s in seg.values()})
        return self.utt_ids

    def durations(self) -> dict[str, float]:
        """Utterance durations in seconds: ``utt2dur`` if present, else ``segments`` end − start."""
        d = self.utt2dur
        if d is not None:
            return dict(d)
        seg = self.segments
        if seg is not None:
            return {u: s.duration for u, s in seg.items()}
        raise KaldiDataError(f"no utt2dur or segments file in {self.path}: durations unknown")

    # -- typed setters --------------------------------------------------------------------------------

    def set_utt2spk(self, mapping: Mapping[str, str]) -> None:
        self.set_table("utt2spk", mapping)

    def set_text(self, mapping: Mapping[str, str]) -> None:
        self.set_table("text", mapping)

    def set_segments(self, segments: Iterable[Segment] | Mapping[str, Segment]) -> None:
        segs = segments.values() if isinstance(segments, Mapping) else segments
        self.set_table("segments", ((s.utt, s.to_value()) for s in segs))

    def set_wav_scp(self, entries: Iterable[WavEntry] | Mapping[str, WavEntry]) -> None:
        ents = entries.values() if isinstance(entries, Mapping) else entries
        self.set_table("wav.scp", ((e.reco, e.to_value()) for e in ents))

    def set_utt2dur(self, mapping: Mapping[str, float]) -> None:
        self.set_table("utt2dur", {k: float(v) for k, v in mapping.items()})

    def set_reco2dur(self, mapping: Mapping[str, float]) -> None:
        self.set_table("reco2dur", {k: float(v) for k, v in mapping.items()})

    def set_utt2sentiment(self, mapping: Mapping[str, str]) -> None:
        self.set_table("utt2sentiment", {k: check_sentiment_label(str(v)) for k, v in mapping.items()})

    def set_utt2pseudo(self, mapping: Mapping[str, str], probs: Mapping[str, float] | None = None) -> None:
        """Set ``utt2pseudo`` (and ``utt2pseudo_prob`` when ``probs`` is given; removed otherwise)."""
        self.set_table("utt2pseudo", {k: check_pseudo_label(str(v)) for k, v in mapping.items()})
        if probs is None:
            self.remove("utt2pseudo_prob")
        else:
            self.set_table("utt2pseudo_prob", {k: check_probability(v) for k, v in probs.items()})

    # -- writing --------------------------------------------------------------------------------------

    def write(self, path: str | os.PathLike[str] | None = None) -> None:
        """Write the directory (to ``path``, default in place), every file atomically.

        In place: the tables set or changed in memory are written, removed files deleted, ``spk2utt``
        regenerated from ``utt2spk``. To another directory: every present table and verbatim file is
        written (tables re-sorted), ``spk2utt`` regenerated.
        """
        target = Path(path) if path is not None else self.path
        in_place = target.resolve() == self.path.resolve() if target.exists() else False
        target.mkdir(parents=True, exist_ok=True)
        if in_place:
            names = sorted(self._dirty)
        else:
            names = [n for n in self.present_files() if n not in VERBATIM_FILES or n in self._tables]
        for name in names:
            if name == "spk2utt":
                continue
            table = self.table(name)
            assert table is not None
            write_table(target / name, table)
        if not in_place:
            for name in VERBATIM_FILES:
                if self.has(name) and name not in self._tables:
                    shutil.copyfile(self.file(name), target / name)
        else:
            for name in self._removed:
                with contextlib.suppress(FileNotFoundError):
                    (target / name).unlink()
        if self.has("utt2spk"):
            spk2utt = utt2spk_to_spk2utt(self.utt2spk)
            write_table(target / "spk2utt", {s: " ".join(u) for s, u in spk2utt.items()})
            self._tables.pop("spk2utt", None)
            self._typed.pop("spk2utt", None)
        if in_place:
            self._dirty.clear()
            self._removed.clear()
