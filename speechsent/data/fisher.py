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

from speechsent.data.ms98 import FoundFiles, centiseconds, find_files, is_nonspeech_tag, mark_overlaps

__all__ = [
    "EXPECTED_CALLS",
    "UNINTELLIGIBLE_MODES",
    "FisherEntries",
    "FisherFormatError",
    "FisherSegment",
    "find_fisher_audio",
    "find_fisher_transcripts",
    "fisher_utt_id",
    "normalize_fisher_words",
    "read_fisher_entries",
    "read_fisher_transcript",
]

#: Calls in the full release (transcripts and audio files; Kaldi checks for it).
EXPECTED_CALLS = 11699
UNINTELLIGIBLE_MODES = ("drop", "keep", "strip")

_SPH_RE = re.compile(r"^(fe_03_\d{5})\.sph$", re.IGNORECASE)
_TXT_RE = re.compile(r"^(fe_03_\d{5})\.txt$", re.IGNORECASE)
_HEADER_RE = re.compile(r"^#\s*(\S+?)\.sph\b", re.IGNORECASE)
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
    if "[" not in text and "((" not in text:
        return text.split()  # no tag, no unintelligible mark: the common case
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


@dataclasses.dataclass(slots=True)
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
    # derived (computed once: there are 2 M of these in Fisher)
    start_cs: int = dataclasses.field(init=False)
    end_cs: int = dataclasses.field(init=False)
    reco: str = dataclasses.field(init=False)
    utt: str = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.start_cs = centiseconds(self.start)
        self.end_cs = centiseconds(self.end)
        self.reco = f"{self.call}-{self.side}"
        self.utt = f"{self.reco}_{self.start_cs:06d}-{self.end_cs:06d}"

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclasses.dataclass
class FisherTranscript:
    call: str
    segments: list[FisherSegment]
    #: ``file:line: text`` of lines that are neither segments, comments nor blank.
    other_lines: list[str]


_SEGMENT_LINE_RE = re.compile(
    r"^[ \t]*(\d+(?:\.\d*)?|\.\d+)[ \t]+(\d+(?:\.\d*)?|\.\d+)[ \t]+([AB]):[ \t]*(.*?)[ \t\r]*$", re.MULTILINE
)
_CONTENT_LINE_RE = re.compile(r"^[ \t\r]*[^\s#]", re.MULTILINE)


def _read_body(path: str) -> tuple[str, str, int]:
    """The file's text, its call (from the name) and where the body starts (after the ``# call.sph`` line)."""
    data = Path(path).read_bytes().decode("utf-8", "surrogateescape")
    m = _TXT_RE.match(os.path.basename(path))
    call = m.group(1).lower() if m else os.path.splitext(os.path.basename(path))[0]
    first_m = re.search(r"\S[^\n]*", data)
    first = data.count("\n", 0, first_m.start()) + 1 if first_m else 1
    hm = _HEADER_RE.match(first_m.group(0).strip()) if first_m else None
    if first_m is None or hm is None:
        raise FisherFormatError(f"{path}:{first}: expected a first line '# {call}.sph'")
    if hm.group(1).lower() != call:
        raise FisherFormatError(f"{path}:{first}: first line names {hm.group(1)!r}, not {call!r}")
    return data, call, first_m.end()


def _other_lines(path: str, data: str, body: int, n_segments: int) -> list[str]:
    """``file:line: text`` of the lines that are neither segments, comments nor blank."""
    if len(_CONTENT_LINE_RE.findall(data, body)) == n_segments:
        return []
    other = []
    offset = data.count("\n", 0, body)
    for i, line in enumerate(data[body:].split("\n")):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not _SEGMENT_LINE_RE.match(line):
            other.append(f"{path}:{offset + i + 1}: {stripped}")
    return other


def read_fisher_transcript(path: str | os.PathLike[str], unintelligible: str = "drop") -> FisherTranscript:
    """Segments of one Fisher transcript (statuses set, except ``overlap``: :func:`mark_fisher_overlaps`)."""
    path = str(path)
    data, call, body = _read_body(path)
    segments: list[FisherSegment] = []
    count = data.count
    lineno, pos = 1, 0
    for lm in _SEGMENT_LINE_RE.finditer(data, body):
        at = lm.start()
        lineno += count("\n", pos, at)
        pos = at
        start_s, end_s, side, text = lm.groups()
        words = normalize_fisher_words(text, unintelligible)
        seg = FisherSegment(call, side, float(start_s), float(end_s), words or [], "ok", path, lineno)
        if words is None:
            seg.status = "unintelligible"
        elif not words:
            seg.status = "empty_text"
        elif seg.end_cs <= seg.start_cs:
            seg.status = "bad_times"
        segments.append(seg)
    return FisherTranscript(call, segments, _other_lines(path, data, body, len(segments)))


@dataclasses.dataclass
class FisherEntries:
    """A transcript's usable segments as plain tuples, and its skips (the fast path of the data prep).

    ``entries``: ``(utt, reco, start_cs, end_cs, text)`` in ``LC_ALL=C`` order of ``utt``; ``skipped``:
    ``(status, utt, lineno)``. The same outcomes as :func:`read_fisher_transcript` followed by
    :func:`mark_fisher_overlaps`.
    """

    call: str
    entries: list[tuple[str, str, int, int, str]]
    skipped: list[tuple[str, str, int]]
    other_lines: list[str]


def read_fisher_entries(path: str | os.PathLike[str], unintelligible: str = "drop") -> FisherEntries:
    """Read one transcript straight into :class:`FisherEntries` (no object per segment: Fisher has 2 M)."""
    if unintelligible not in UNINTELLIGIBLE_MODES:
        raise ValueError(f"unintelligible must be one of {', '.join(UNINTELLIGIBLE_MODES)}")
    path = str(path)
    data, call, body = _read_body(path)
    reco_of = {"A": f"{call}-A", "B": f"{call}-B"}
    ok: list[tuple[str, int, int, int, str]] = []  # reco, start, end, lineno, text
    skipped: list[tuple[str, str, int]] = []
    count = data.count
    lineno, pos, n = 1, 0, 0
    for lm in _SEGMENT_LINE_RE.finditer(data, body):
        n += 1
        at = lm.start()
        lineno += count("\n", pos, at)
        pos = at
        start_s, end_s, side, text = lm.groups()
        a = int(100.0 * float(start_s) + 0.5)
        b = int(100.0 * float(end_s) + 0.5)
        low = text.lower()
        if "[" in low or "((" in low:
            words = normalize_fisher_words(low, unintelligible)
            status = "unintelligible" if words is None else "empty_text" if not words else None
            low = " ".join(words) if words else ""
        else:
            low = " ".join(low.split())
            status = None if low else "empty_text"
        if status is None and b <= a:
            status = "bad_times"
        if status is not None:
            skipped.append((status, f"{reco_of[side]}_{a:06d}-{b:06d}", lineno))
            continue
        ok.append((reco_of[side], a, b, lineno, low))
    ok.sort()
    entries: list[tuple[str, str, int, int, str]] = []
    last_reco, last_end, last_utt = None, -1, None
    for reco, a, b, line, text in ok:
        utt = f"{reco}_{a:06d}-{b:06d}"
        if reco != last_reco:
            last_reco, last_end, last_utt = reco, -1, None
        if utt == last_utt:
            skipped.append(("duplicate_id", utt, line))
        elif a < last_end:
            skipped.append(("overlap", utt, line))
        else:
            last_end, last_utt = b, utt
            entries.append((utt, reco, a, b, text))
    return FisherEntries(call, entries, skipped, _other_lines(path, data, body, n))


def mark_fisher_overlaps(segments: list[FisherSegment]) -> None:
    """Per side, in time order: a segment starting before the end of an earlier kept one is ``overlap``;
    one with the id of an earlier one ``duplicate_id`` (the same rule as MS98's :func:`mark_overlaps`)."""
    mark_overlaps(segments)  # type: ignore[arg-type]  # same fields: status, reco, utt, start/end_cs, lineno
