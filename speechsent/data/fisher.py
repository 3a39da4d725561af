"""Fisher English (LDC2004S13, LDC2005S13 audio; LDC2004T19, LDC2005T19 transcripts) → segments (stdlib only).

Facts followed (Kaldi ``egs/fisher_english/s5/local/fisher_data_prep.sh``, the same in ``fisher_swbd``):

* audio ``fe_03_p1_sph{1..7}/audio/NNN/fe_03_NNNNN.sph`` (part 2: ``fe_03_p2_sph{1..7}`` or, in newer
  releases, ``fisher_eng_tr_sp_d{1..7}``), 2 channels: side A channel 1, side B channel 2;
* transcripts ``fe_03_p{1,2}_tran/data/trans/NNN/fe_03_NNNNN.txt``: a first line ``# fe_03_NNNNN.sph`` naming
  the call, then lines ``12.34 15.67 A: words`` (other lines, comments and blank lines, are not segments);
* 11,699 calls with transcripts and 11,699 audio files in the full release;
* an utterance that contains an unintelligible mark ``((`` is dropped (Kaldi: ``grep -v '(('``); tags are
  mapped: ``[laugh]`` → ``[laughter]``; ``[sigh] [cough] [mn] [breath] [lipsmack]`` → ``[noise]``.

Here, as for Switchboard, the text is lower-cased and the non-speech tags are then removed (so the mapping
above only decides what counts as a tag), and the utterance id is ``fe_03_00001-A_000061-000217`` (the
contract's form: side and times joined as in Switchboard ids; Kaldi writes ``fe_03_00001-A-000061-000217``)
with times rounded to the nearest centisecond (Kaldi truncates: ``sprintf("%06d", t * 100)``, which turns
0.29 s into 28 cs); the segment times are those centiseconds / 100.

``unintelligible`` chooses what to do with ``((``: ``drop`` (Kaldi's choice, the default), ``keep`` (keep the
words between the double parentheses, drop the parentheses; an empty ``(( ))`` leaves nothing) or ``strip``
(remove the marked span with its words).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable
from pathlib import Path

from speechsent.data.kaldi_dir import read_lines
from speechsent.data.ms98 import FoundFiles, centiseconds, find_files, is_nonspeech_tag

__all__ = [
    "EXPECTED_CALLS",
    "UNINTELLIGIBLE_MODES",
    "FisherFormatError",
    "FisherSegment",
    "find_fisher_audio",
    "find_fisher_transcripts",
    "fisher_utt_id",
    "normalize_fisher_words",
    "read_fisher_transcript",
]

#: Calls in the full release (transcripts and audio files; Kaldi checks for it).
EXPECTED_CALLS = 11699
UNINTELLIGIBLE_MODES = ("drop", "keep", "strip")

_SPH_RE = re.compile(r"^(fe_03_\d{5})\.sph$", re.IGNORECASE)
_TXT_RE = re.compile(r"^(fe_03_\d{5})\.txt$", re.IGNORECASE)
_HEADER_RE = re.compile(r"^#\s*(\S+?)\.sph\b", re.IGNORECASE)
_LINE_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s+(\d+(?:\.\d*)?|\.\d+)\s+([AB]):\s*(.*?)\s*$")
_TAG_MAP = {
    "[laugh]": "[laughter]",
    "[sigh]": "[noise]",
    "[cough]": "[noise]",
    "[mn]": "[noise]",
    "[breath]": "[noise]",
    "[lipsmack]": "[noise]",
}


class FisherFormatError(ValueError):
    """A transcript that cannot be read (no ``# fe_03_NNNNN.sph`` first line, or another call's)."""


def fisher_utt_id(call: str, side: str, start_cs: int, end_cs: int) -> str:
    """``fe_03_00001-A_000061-000217``."""
    return f"{call}-{side}_{start_cs:06d}-{end_cs:06d}"


def _find(roots: Iterable[str | os.PathLike[str]], name_re: re.Pattern[str]) -> FoundFiles:
    files: dict[str, Path] = {}
    duplicates: list[Path] = []
    for root in roots:
        for path in sorted(find_files(root, name_re), key=str):
            m = name_re.match(path.name)
            assert m is not None
            call = m.group(1).lower()
            if call in files:
                duplicates.append(path)
                continue
            files[call] = Path(os.path.abspath(path))
    return FoundFiles(files, duplicates)


def find_fisher_audio(roots: Iterable[str | os.PathLike[str]]) -> FoundFiles:
    """``fe_03_NNNNN.sph`` files below the roots (any depth, links followed): call → path (first found)."""
    return _find(roots, _SPH_RE)


def find_fisher_transcripts(roots: Iterable[str | os.PathLike[str]]) -> FoundFiles:
    """``fe_03_NNNNN.txt`` transcripts below the roots: call → path (first found)."""
    return _find(roots, _TXT_RE)


_UNINTELLIGIBLE_RE = re.compile(r"\(\((.*?)\)\)")


def normalize_fisher_words(words: str, unintelligible: str = "drop") -> list[str] | None:
    """Transcript words → data-dir words; None when the utterance is dropped for ``((`` (mode ``drop``).

    Lower-cases, applies the unintelligible mode, maps the tags as Kaldi does, removes non-speech tags.
    """
    if unintelligible not in UNINTELLIGIBLE_MODES:
        raise ValueError(f"unintelligible must be one of {', '.join(UNINTELLIGIBLE_MODES)}")
    text = words.lower()
    if "((" in text:
        if unintelligible == "drop":
            return None
        if unintelligible == "keep":
            text = _UNINTELLIGIBLE_RE.sub(lambda m: f" {m.group(1)} ", text)
        else:
            text = _UNINTELLIGIBLE_RE.sub(" ", text)
        text = text.replace("((", " ").replace("))", " ")  # unbalanced marks
    out = []
    for word in text.split():
        word = _TAG_MAP.get(word, word)
        if not is_nonspeech_tag(word):
            out.append(word)
    return out


@dataclasses.dataclass
class FisherSegment:
    call: str
    side: str
    start: float
    end: float
    words: list[str]
    #: "ok", or why it is skipped: unintelligible, empty_text, bad_times, overlap, duplicate_id
    status: str
    path: str
    lineno: int

    @property
    def reco(self) -> str:
        return f"{self.call}-{self.side}"

    @property
    def start_cs(self) -> int:
        return centiseconds(self.start)

    @property
    def end_cs(self) -> int:
        return centiseconds(self.end)

    @property
    def utt(self) -> str:
        return fisher_utt_id(self.call, self.side, self.start_cs, self.end_cs)

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclasses.dataclass
class FisherTranscript:
    call: str
    segments: list[FisherSegment]
    #: ``file:line: text`` of lines that are neither segments, comments nor blank.
    other_lines: list[str]


def read_fisher_transcript(path: str | os.PathLike[str], unintelligible: str = "drop") -> FisherTranscript:
    """Segments of one Fisher transcript (statuses set, except ``overlap``: :func:`mark_fisher_overlaps`)."""
    path = str(path)
    lines = read_lines(path).lines
    m = _TXT_RE.match(os.path.basename(path))
    call = m.group(1).lower() if m else os.path.splitext(os.path.basename(path))[0]
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    hm = _HEADER_RE.match(lines[first].strip()) if first is not None else None
    if hm is None:
        raise FisherFormatError(f"{path}:{(first or 0) + 1}: expected a first line '# {call}.sph'")
    if hm.group(1).lower() != call:
        raise FisherFormatError(f"{path}:{first + 1}: first line names {hm.group(1)!r}, not {call!r}")
    segments: list[FisherSegment] = []
    other: list[str] = []
    for lineno, line in enumerate(lines[first + 1 :], start=first + 2):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        lm = _LINE_RE.match(line)
        if lm is None:
            other.append(f"{path}:{lineno}: {stripped}")
            continue
        start, end = float(lm.group(1)), float(lm.group(2))
        words = normalize_fisher_words(lm.group(4), unintelligible)
        seg = FisherSegment(call, lm.group(3), start, end, words or [], "ok", path, lineno)
        if words is None:
            seg.status = "unintelligible"
        elif not words:
            seg.status = "empty_text"
        elif seg.end_cs <= seg.start_cs:
            seg.status = "bad_times"
        segments.append(seg)
    return FisherTranscript(call, segments, other)


def mark_fisher_overlaps(segments: list[FisherSegment]) -> None:
    """Per side, in time order: a segment starting before the end of an earlier kept one is ``overlap``;
    one with the id of an earlier one ``duplicate_id``."""
    by_side: dict[str, list[FisherSegment]] = {}
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
