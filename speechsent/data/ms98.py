"""Switchboard-1 (LDC97S62) audio and Mississippi State (MS98) transcripts → segments (stdlib only).

Facts followed (Kaldi ``egs/swbd/s5c/local/swbd1_data_prep.sh`` and ``swbd1_map_words.pl``):

* audio: every ``*.sph`` below the release root (any depth, symlinks followed, name matched
  case-insensitively); the recording is the file's base name (``sw02001``), side A is channel 1 and side B
  channel 2; the release has 2,435 or 2,438 files;
* transcripts: ``NN/NNNN/swNNNNS-ms98-a-trans.text`` with lines ``sw2001A-ms98-a-0002 0.977625 11.561375
  words ...``; the utterance id is ``sw02001-A_000098-001156``: the conversation number padded to five
  digits, the side, start and end in centiseconds rounded to nearest (``int(100 * t + 0.5)``) and the
  segment's times are those centiseconds / 100 (so ids and ``segments`` agree);
* ``[silence]`` words and the ``<b_aside>`` / ``<e_aside>`` markers are removed; a segment left with no words
  is dropped;
* the words are mapped as ``swbd1_map_words.pl`` maps them (:func:`map_word`): ``[laughter-story]`` →
  ``story``, ``[it'n/isn't]`` → ``it'n``, ``-[an]y`` / ``[an]y`` → ``-y``, ``ab[solute]-`` → ``ab-``,
  ``{yuppiedom}`` → ``yuppiedom``, ``them_1`` → ``them``, ...;
* here (the data-dir contract) the text is then lower-cased and the remaining non-speech tags (``[noise]``,
  ``[laughter]``, ``[vocalized-noise]``, any other ``[...]`` word) are removed; a segment left with no words
  is dropped (counted, as ``empty_text``).

Not done (Kaldi does it with the pronunciation dictionary, which a data dir does not need): the acronym
mapping of ``map_acronyms_transcripts.py`` (``ibm`` → ``i._b._m.``).

Beyond Kaldi, every segment gets a *status* (``ok`` or the reason it is skipped: ``silence_only``,
``empty_text``, ``bad_times`` (end <= start once in centiseconds), ``overlap`` (starts before the end of an
earlier segment of the same side), ``duplicate_id``), so that nothing is dropped silently and a sentiment
row matched to a skipped segment is reported with the reason.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from speechsent.kaldi.table import KaldiDataError, read_lines

__all__ = [
    "EXPECTED_SPH_COUNTS",
    "SKIP_REASONS",
    "Ms98Segment",
    "centiseconds",
    "find_files",
    "find_ms98_files",
    "find_sph_files",
    "is_nonspeech_tag",
    "kaldi_keeps_line",
    "map_word",
    "mark_overlaps",
    "normalize_words",
    "read_ms98_file",
    "read_ms98_tree",
    "swbd_utt_id",
]

#: Number of ``.sph`` files in the Switchboard-1 Release 2 distributions (Kaldi checks for these).
EXPECTED_SPH_COUNTS = (2435, 2438)

#: Why a segment is left out of the data dirs.
SKIP_REASONS = ("silence_only", "empty_text", "bad_times", "overlap", "duplicate_id")

_SPH_NAME_RE = re.compile(r"^sw0?(\d{4,5})\.sph$", re.IGNORECASE)
_MS98_NAME_RE = re.compile(r"^sw(\d{4,5})([AB])-ms98-a-trans\.text$", re.IGNORECASE)
_MS98_ID_RE = re.compile(r"^sw(\d{4,5})([AB])-ms98-a-(\d+)$", re.IGNORECASE)
_TIME_RE = re.compile(r"^\d+(?:\.\d*)?$|^\.\d+$")


def centiseconds(t: float) -> int:
    """Kaldi's Switchboard rounding of a time to centiseconds: ``int(100 * t + 0.5)``."""
    return int(100.0 * t + 0.5)


def conversation_id(number: str) -> str:
    """``"2001"`` → ``"sw02001"`` (five digits, as Kaldi names Switchboard recordings)."""
    return f"sw{int(number):05d}"


def swbd_utt_id(conv: str, side: str, start_cs: int, end_cs: int) -> str:
    """``sw02001-A_000098-001156`` (Kaldi's Switchboard utterance id)."""
    return f"{conv}-{side}_{start_cs:06d}-{end_cs:06d}"


# ----------------------------------------------------------------------------------------------------------
# File discovery


def find_files(root: str | os.PathLike[str], name_re: re.Pattern[str]) -> Iterator[Path]:
    """Files below ``root`` whose name matches ``name_re``, as ``find -L`` finds them.

    Symbolic links are followed (directory cycles are visited once); directories are walked in sorted
    order, so the result order is deterministic. A missing root raises ``FileNotFoundError``.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such directory")
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            st = directory.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                continue
            if is_dir:
                subdirs.append(Path(entry.path))
            elif name_re.match(entry.name):
                try:
                    if entry.is_file(follow_symlinks=True):
                        yield Path(entry.path)
                except OSError:
                    continue
        stack.extend(reversed(subdirs))


@dataclasses.dataclass
class FoundFiles:
    """Files found per key (first in path order), with the duplicates and the ignored names."""

    files: dict[str, Path]
    duplicates: list[Path]


def find_sph_files(root: str | os.PathLike[str]) -> FoundFiles:
    """Switchboard audio below ``root``: conversation id (``sw02001``) → path (absolute, not resolved)."""
    files: dict[str, Path] = {}
    duplicates: list[Path] = []
    for path in sorted(find_files(root, _SPH_NAME_RE), key=lambda p: str(p)):
        m = _SPH_NAME_RE.match(path.name)
        assert m is not None
        conv = conversation_id(m.group(1))
        if conv in files:
            duplicates.append(path)
            continue
        files[conv] = Path(os.path.abspath(path))
    return FoundFiles(files, duplicates)


def find_ms98_files(root: str | os.PathLike[str]) -> FoundFiles:
    """MS98 word transcripts below ``root``: conversation side (``sw02001-A``) → path."""
    files: dict[str, Path] = {}
    duplicates: list[Path] = []
    for path in sorted(find_files(root, _MS98_NAME_RE), key=lambda p: str(p)):
        m = _MS98_NAME_RE.match(path.name)
        assert m is not None
        side = f"{conversation_id(m.group(1))}-{m.group(2).upper()}"
        if side in files:
            duplicates.append(path)
            continue
        files[side] = path
    return FoundFiles(files, duplicates)


# ----------------------------------------------------------------------------------------------------------
# Word mapping (swbd1_map_words.pl), applied in its order; each rule replaces its first match only.

_MAP_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # [laughter-story] -> story, keeping a trailing "-" ([laughter-sto]- -> sto-).
    (re.compile(r"^\[laughter-(.+)\](-?)$", re.IGNORECASE), r"\1\2"),
    # [it'n/isn't] -> it'n: the pronounced form (which may hold partial-word brackets, mapped below).
    (re.compile(r"^\[(.+)/.+\](-?)$"), r"\1\2"),
    # -[an]y or [an]y -> -y: the unpronounced start of a partial word.
    (re.compile(r"^-?\[[^\[\]]+\](.+)$"), r"-\1"),
    # ab[solute]- or ab[solute] -> ab-: the unpronounced end of a partial word.
    (re.compile(r"^(.+)\[[^\[\]]+\]-?$"), r"\1-"),
    # ex[specially]-/especially] (a transcription error) -> ex.
    (re.compile(r"([^\[\]]+)\[.+\]$"), r"\1"),
    # {yuppiedom} -> yuppiedom.
    (re.compile(r"^\{(.+)\}$"), r"\1"),
)
# ammu[n]it- : a bracketed middle. The Perl rule's replacement is "$1-$3" where $1 holds the last character
# inside the brackets and $3 is undefined (empty), so its output is "ammn-t-". Kept as Kaldi's text has it.
_MIDDLE_RE = re.compile(r"[A-Z]\[([^\[\]])+\][A-Z]", re.IGNORECASE)
_NUMBERED_RE = re.compile(r"_\d")  # them_1 -> them, them_1's -> them's


def map_word(word: str) -> str:
    """One word mapped as Kaldi's ``swbd1_map_words.pl`` maps it (case is kept)."""
    if "[" not in word and "{" not in word and "_" not in word:
        return word  # no rule applies (the common case: keep it fast)
    for pattern, replacement in _MAP_RULES:
        word = pattern.sub(replacement, word, count=1)
    word = _MIDDLE_RE.sub(lambda m: m.group(1) + "-", word, count=1)
    return _NUMBERED_RE.sub("", word, count=1)


_ASIDE_RE = re.compile(r"<[be]_aside>", re.IGNORECASE)


def is_nonspeech_tag(word: str) -> bool:
    """A bracketed non-speech word (``[noise]``, ``[laughter]``, ``[vocalized-noise]``, ...)."""
    return len(word) >= 2 and word[0] == "[" and word[-1] == "]"


def normalize_words(words: Iterable[str]) -> tuple[list[str], bool]:
    """MS98 words → data-dir words, and whether any word was left after the ``[silence]``/aside removal.

    Removes ``[silence]`` and the aside markers, maps each word (:func:`map_word`), lower-cases, and removes
    the non-speech tags. The flag tells a silence-only segment (False) from one that only held noise or
    laughter tags (True with an empty list).
    """
    out: list[str] = []
    spoken = False
    for word in words:
        if word[0] == "[" and word.lower() == "[silence]":
            continue
        if "<" in word:
            word = _ASIDE_RE.sub("", word)
            if not word:
                continue
        spoken = True
        if "[" in word or "{" in word or "_" in word:
            word = map_word(word)
        word = word.lower()
        if word and not (word[0] == "[" and word[-1] == "]" and len(word) >= 2):
            out.append(word)
    return out, spoken


_KALDI_SILENCE_RE = re.compile(r"\s\[SILENCE\](\s|$)", re.IGNORECASE)


def kaldi_keeps_line(words: str) -> bool:
    """Whether Kaldi's ``swbd1_data_prep.sh`` keeps the line (NF > 1 after its silence/aside substitutions).

    Its ``s:\\s\\[SILENCE\\](\\s|$):$1:gi`` consumes the blank after a match, so of two adjacent ``[silence]``
    words only the first is removed: such a line stays in Kaldi's (and ESPnet's) ``text``. This matters for
    reproducing ESPnet's split (:mod:`speechsent.data.splits`), not for our own text.
    """
    line = _KALDI_SILENCE_RE.sub(r"\1", " " + words)
    line = _ASIDE_RE.sub("", line)
    return bool(line.split())


# ----------------------------------------------------------------------------------------------------------
# Segments


@dataclasses.dataclass(slots=True)
class Ms98Segment:
    """One transcript segment of one conversation side."""

    conv: str  # sw02001
    side: str  # A | B
    start: float  # seconds, as transcribed
    end: float
    words: list[str]  # normalised words (empty when the segment is skipped for silence or empty text)
    #: "ok" or one of :data:`SKIP_REASONS`.
    status: str
    path: str
    lineno: int
    #: Whether Kaldi's own data prep keeps this line in its text (see :func:`kaldi_keeps_line`).
    kaldi_kept: bool = True
    # derived, computed once
    start_cs: int = dataclasses.field(init=False)
    end_cs: int = dataclasses.field(init=False)
    reco: str = dataclasses.field(init=False)
    utt: str = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.start_cs = centiseconds(self.start)
        self.end_cs = centiseconds(self.end)
        self.reco = f"{self.conv}-{self.side}"
        self.utt = swbd_utt_id(self.conv, self.side, self.start_cs, self.end_cs)

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.lineno}"


class Ms98FormatError(KaldiDataError):
    """A malformed transcript line (``file:line: reason``)."""


def _parse_time(field: str) -> float | None:
    """A non-negative decimal number (``0.977625``, ``12``, ``.5``); None for anything else."""
    if not (field[0].isdigit() or field[0] == ".") or not _TIME_RE.match(field):
        return None
    return float(field)


def read_ms98_file(path: str | os.PathLike[str], *, bad_lines: list[str] | None = None) -> list[Ms98Segment]:
    """Segments of one ``swNNNNS-ms98-a-trans.text`` file, in file order.

    A line that cannot be parsed (fewer than three fields, an id that is not ``swNNNNS-ms98-a-N`` of this
    file's side, a time that is not a number) raises :class:`Ms98FormatError`, or when ``bad_lines`` is a
    list, is appended to it (``file:line: reason``) and skipped. Blank lines are ignored.
    Statuses set here: ``silence_only``, ``empty_text``, ``bad_times``; see :func:`mark_overlaps`.
    """
    path = str(path)
    m = _MS98_NAME_RE.match(os.path.basename(path))
    file_side = f"{conversation_id(m.group(1))}-{m.group(2).upper()}" if m else None
    # the id prefix every line of this file has ("sw2001A-ms98-a-"): checked without a regex
    prefix = f"sw{m.group(1)}{m.group(2)}-ms98-a-" if m else None
    segments: list[Ms98Segment] = []
    for lineno, line in enumerate(read_lines(path).lines, start=1):
        fields = line.split(None, 3)
        if not fields:
            continue
        problem = None
        conv = side = ""
        uid = fields[0]
        if len(fields) < 3:
            problem = f"expected '<id> <start> <end> words...', got {line.strip()!r}"
        elif prefix is not None and uid.startswith(prefix) and uid[len(prefix) :].isdigit():
            conv, side = file_side.split("-")  # type: ignore[union-attr]
        else:
            idm = _MS98_ID_RE.match(uid)
            if idm is None:
                problem = f"bad segment id {uid!r} (expected swNNNNS-ms98-a-N)"
            else:
                conv, side = conversation_id(idm.group(1)), idm.group(2).upper()
                if file_side is not None and f"{conv}-{side}" != file_side:
                    problem = f"segment id {uid!r} is not of this file's conversation side {file_side}"
        start = end = None
        if problem is None:
            start, end = _parse_time(fields[1]), _parse_time(fields[2])
            if start is None or end is None:
                problem = f"bad time in {line.strip()!r}: not a non-negative number"
        if problem is not None:
            if bad_lines is None:
                raise Ms98FormatError(problem, path, lineno)
            bad_lines.append(f"{path}:{lineno}: {problem}")
            continue
        assert start is not None and end is not None
        rest = fields[3] if len(fields) > 3 else ""
        words, spoken = normalize_words(rest.split())
        kept = bool(words) if "[" not in rest and "<" not in rest else kaldi_keeps_line(rest)
        seg = Ms98Segment(conv, side, start, end, words, "ok", path, lineno, kept)
        if not spoken:
            seg.status = "silence_only"
        elif not words:
            seg.status = "empty_text"
        elif seg.end_cs <= seg.start_cs:
            seg.status = "bad_times"
        segments.append(seg)
    return segments


def mark_overlaps(segments: list[Ms98Segment]) -> None:
    """Mark, per conversation side, the segments that overlap an earlier kept one (``overlap``) or repeat
    its utterance id (``duplicate_id``).

    Only segments with words and valid times take part (silence segments may overlap anything). Segments
    are taken in time order; one whose start (in centiseconds) is before the end of a segment kept before it
    is skipped. Touching segments (end of one = start of the next) are fine.
    """
    by_side: dict[str, list[Ms98Segment]] = {}
    for seg in segments:
        if seg.status == "ok":
            by_side.setdefault(seg.reco, []).append(seg)
    for side_segments in by_side.values():
        side_segments.sort(key=lambda s: (s.start_cs, s.end_cs, s.lineno))
        last_end = -1
        last_utt = None
        for seg in side_segments:
            if seg.utt == last_utt:
                seg.status = "duplicate_id"
            elif seg.start_cs < last_end:
                seg.status = "overlap"
            else:
                last_end = seg.end_cs
                last_utt = seg.utt


@dataclasses.dataclass
class Ms98Tree:
    """All transcripts below a root: segments by conversation side, and what was skipped on the way."""

    segments: list[Ms98Segment]
    files: dict[str, Path]
    duplicate_files: list[Path]
    bad_lines: list[str]


def read_ms98_tree(root: str | os.PathLike[str], *, skip_bad_lines: bool = False) -> Ms98Tree:
    """Read every MS98 transcript below ``root`` (see :func:`read_ms98_file`), overlaps marked."""
    found = find_ms98_files(root)
    bad: list[str] = []
    segments: list[Ms98Segment] = []
    for side in sorted(found.files):
        segments.extend(read_ms98_file(found.files[side], bad_lines=bad if skip_bad_lines else None))
    mark_overlaps(segments)
    return Ms98Tree(segments, found.files, found.duplicates, bad)
