"""``validate``: check a data directory as Kaldi's ``utils/validate_data_dir.sh`` does (stdlib only).

The implementation behind ``utils/validate_data_dir.sh`` (through ``speechsent.bin.data_dir``). Unlike
Kaldi's script, :func:`validate` reports *every* problem it finds (not only the first) and each failed check
is an error (Kaldi's script exits 0 on some of them: see :func:`validate`); it also checks our files
``utt2sentiment``, ``utt2pseudo`` and ``utt2pseudo_prob``. Each check is a named function over the
:class:`_Validator` (the problems and warnings found so far); the tables are loaded by
:func:`speechsent.kaldi.checked.load_checked`.

The common case (clean files) is checked with whole-file and whole-column operations that run in C; where
one finds something, the line-by-line or mapping-based check runs to report it. Key sets are compared as
lists first (the same ids in the same order), as sets only where those differ.
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from speechsent.kaldi.checked import CheckedTable, LineIssues, load_checked
from speechsent.kaldi.data_dir import Segment, table_kind, utt_files
from speechsent.kaldi.formats import DUR_TOLERANCE, PARTIAL_UTT_FILES, examples, non_decreasing
from speechsent.kaldi.lengths import past_end, past_end_message, recording_lengths
from speechsent.kaldi.table import c_sort_key, c_sorted, split_fields, split_line
from speechsent.utils.fileio import ENCODING

__all__ = [
    "ILLEGAL_TEXT_SYMBOLS",
    "ValidateOptions",
    "validate",
]

#: Words that must not occur in ``text`` (Kaldi: sentence boundaries and the LM disambiguation symbol).
ILLEGAL_TEXT_SYMBOLS = ("<s>", "</s>", "#0")


@dataclasses.dataclass(frozen=True)
class ValidateOptions:
    """The options of ``validate_data_dir.sh``."""

    no_feats: bool = False
    no_text: bool = False
    no_wav: bool = False
    no_spk_sort: bool = False
    non_print: bool = False
    no_audio_headers: bool = False

    @classmethod
    def from_args(cls, args: Iterable[str]) -> ValidateOptions:
        """Parse ``validate_data_dir.sh`` flags (``--no-feats`` or ``--no_feats`` ...)."""
        fields = {f.name for f in dataclasses.fields(cls)}
        kw = {}
        for a in args:
            name = a.lstrip("-").replace("-", "_")
            if not a.startswith("--") or name not in fields:
                raise ValueError(f"unknown validate_data_dir.sh option {a!r}")
            kw[name] = True
        return cls(**kw)

    def to_args(self) -> list[str]:
        return ["--" + f.name.replace("_", "-") for f in dataclasses.fields(self) if getattr(self, f.name)]


#: The ASCII characters that are not printable, other than the whitespace text may hold (tab, CR, newline).
_ASCII_NON_PRINTABLE = bytes(c for c in range(32) if c not in (9, 10, 13)) + b"\x7f"


def _text_is_clean(data: bytes, text: str) -> bool:
    """Whether :meth:`_Validator.check_text` finds nothing in this file, by whole-file checks in C.

    UTF-8 (ASCII, or a strict decode), printable once tab/CR/newline are blanks, and none of the
    :data:`ILLEGAL_TEXT_SYMBOLS` anywhere; ``False`` sends the file through the line-by-line checks.
    """
    if text.isascii():
        if len(data.translate(None, _ASCII_NON_PRINTABLE)) != len(data):
            return False
    else:
        try:
            data.decode(ENCODING)
        except UnicodeDecodeError:
            return False
        blanked = text.replace("\n", " ")
        if "\t" in blanked:
            blanked = blanked.replace("\t", " ")
        if "\r" in blanked:
            blanked = blanked.replace("\r", " ")
        if not blanked.isprintable():
            return False
    return not (("<" in text or "#" in text) and any(sym in text for sym in ILLEGAL_TEXT_SYMBOLS))


def _spk2utt_matches(utt2spk_t: CheckedTable, spk2utt_t: CheckedTable) -> bool:
    """Fast check (C-level list operations) that spk2utt holds exactly utt2spk's mapping.

    True when spk2utt, line after line, lists utt2spk's utterances in utt2spk's order, each with its speaker
    (as spk2utt made from an utt2spk sorted by speaker); ``False`` means "not known": compare as mappings.
    """
    bulk = spk2utt_t.bulk
    if utt2spk_t.bulk is None or bulk is None or bulk.tokens is None:
        return False
    # the utterances: the tokens but the first of each line (a mask of False, then count times True)
    repeat = itertools.repeat
    line_masks = map(itertools.chain, repeat((False,)), map(repeat, repeat(True), bulk.counts))
    if list(itertools.compress(bulk.tokens, itertools.chain.from_iterable(line_masks))) != utt2spk_t.keys:
        return False
    speakers = list(itertools.chain.from_iterable(map(itertools.repeat, spk2utt_t.keys, bulk.counts)))
    return speakers == utt2spk_t.speakers()


class _Validator:
    def __init__(self, data: Path, opts: ValidateOptions):
        self.data = data
        self.opts = opts
        self.problems: list[str] = []
        self.warnings: list[str] = []

    # -- reporting ------------------------------------------------------------------------------------

    def err(self, name: str, msg: str) -> None:
        self.problems.append(f"{self.data / name}: {msg}")

    def _flush(self, path: Path, issues: dict[str, list]) -> None:
        for kind, (lineno, msg, count) in issues.items():
            more = f" (and {count - 1} more line{'s' if count > 2 else ''} like this)" if count > 1 else ""
            self.problems.append(f"{path}:{lineno}: {msg}{more}" if kind else f"{path}: {msg}")

    # -- loading with the per-file checks -------------------------------------------------------------

    def load(
        self, name: str, ref: CheckedTable | None = None, keep_text: bool = False
    ) -> CheckedTable | None:
        """Read a table (:func:`load_checked`), recording its format problems."""
        loaded = load_checked(self.data / name, name, ref, keep_text)
        if loaded is None:
            return None
        table, issues = loaded
        self._flush(table.path, issues)
        return table

    # -- cross-file checks ----------------------------------------------------------------------------

    def same_keys(
        self, table: CheckedTable, ref_keys: list[str] | set[str], ref_name: str, what: str
    ) -> bool:
        """``table``'s keys must be exactly ``ref_keys`` (the ``what``-ids of ``ref_name``, unique)."""
        if isinstance(ref_keys, list):
            if table.keys == ref_keys:  # the common case: the same ids in the same order, compared in C
                return True
            ref_keys = set(ref_keys)
        keys = set(table.keys)
        if keys == ref_keys:
            return True
        ref = ref_keys
        good = True
        missing = ref - keys
        extra = keys - ref
        if missing:
            self.problems.append(
                f"{table.path}: {len(missing)} {what}-id(s) of {ref_name} missing from {table.name} "
                f"(e.g. {examples(missing)}); {table.name} has {len(keys)} entries, {ref_name} {len(ref)}"
            )
            good = False
        if extra:
            self.problems.append(
                f"{table.path}: {len(extra)} {what}-id(s) in {table.name} not in {ref_name} "
                f"(e.g. {examples(extra)}); {table.name} has {len(keys)} entries, {ref_name} {len(ref)}"
            )
            good = False
        return good

    def check_text(self, table: CheckedTable) -> None:
        """The checks of ``text`` beyond a table's: UTF-8, whitespace, printable, illegal symbols."""
        data = table.data
        assert data is not None and table.text is not None
        if _text_is_clean(data, table.text):
            return
        raw_lines = data.split(b"\n")
        if raw_lines and raw_lines[-1] == b"":
            raw_lines.pop()
        issue = LineIssues()
        issues = issue.first

        for lineno, raw in enumerate(raw_lines, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                issue(
                    "utf8",
                    lineno,
                    f"line is not valid UTF-8 (byte {raw[e.start]:#04x} at offset {e.start}); if the file "
                    "is in another encoding, convert it (e.g. iconv -f latin1 -t utf-8); "
                    "utils/fix_data_dir.sh drops these utterances",
                )
                continue
            kv = split_line(line)
            if kv is None:
                continue
            utt, words = kv
            if line.isprintable() or line.replace("\t", " ").replace("\r", " ").isprintable():
                pass  # the common case, checked in C
            else:
                self._check_chars(line, lineno, utt, issue)
            if any(sym in words for sym in ILLEGAL_TEXT_SYMBOLS):
                fields = split_fields(words)
                for sym in ILLEGAL_TEXT_SYMBOLS:
                    if sym in fields:
                        issue("sym" + sym, lineno, f"text of utterance {utt} contains illegal symbol {sym}")
        self._flush(table.path, issues)

    def _check_chars(self, line: str, lineno: int, utt: str, issue: Callable[[str, int, str], None]) -> None:
        for ch in line:
            if ch in " \t\r":
                continue
            if ch.isspace():
                issue(
                    "space",
                    lineno,
                    f"line for utterance {utt} contains disallowed Unicode whitespace U+{ord(ch):04X}",
                )
                break
            if not self.opts.non_print and not ch.isprintable():
                issue(
                    "print",
                    lineno,
                    f"line for utterance {utt} contains non-printable character U+{ord(ch):04X} "
                    "(--non-print to allow)",
                )
                break


def validate(
    data_dir: str | os.PathLike[str],
    *,
    no_feats: bool = False,
    no_text: bool = False,
    no_wav: bool = False,
    no_spk_sort: bool = False,
    non_print: bool = False,
    warnings: list[str] | None = None,
    no_audio_headers: bool = False,
) -> list[str]:
    """Check a data directory as Kaldi's ``utils/validate_data_dir.sh`` does; return the problems found.

    An empty list means the directory is valid. Each problem names the file (``path:line:`` for a line).
    Warnings (one speaker only; channel ``1`` in reco2file_and_channel; audio headers not read) are appended
    to ``warnings`` when given. The options are the script's: ``no_feats``/``no_text``/``no_wav`` make
    ``feats.scp``/``text``/``wav.scp`` optional (checked when present), ``no_spk_sort`` drops the
    requirement that ``utt2spk`` is also sorted by speaker, ``non_print`` allows non-printable characters in
    ``text``; ``no_audio_headers`` reads no audio header (segments checked against ``reco2dur`` only).

    Checks (Kaldi's, plus ours marked *):

    * every table: ends in a newline, no empty line, no UTF-8 byte-order mark (BOM)* and no carriage return
      (CRLF line ends)*, each named as such with the fix; unique keys in ``LC_ALL=C`` order, the right number
      of fields*;
    * ``utt2spk`` and ``spk2utt`` present, non-empty, the same mapping; ``utt2spk`` sorted by speaker too;
    * ``text`` present (unless no_text), UTF-8*, only tab/space whitespace, printable (unless non_print),
      no ``<s> </s> #0`` word, the utterances of ``utt2spk``;
    * ``segments`` needs ``wav.scp``; ``wav.scp`` present (unless no_wav), with a path*, no ``~`` path;
    * ``segments``: ``utt reco start end``, numbers*, ``0 <= start``* ``< end``, the utterances of
      ``utt2spk``*, every segment's recording in ``wav.scp`` and every ``wav.scp`` recording with a segment;
      a segment starts before its recording's end and ends less than ``MAX_OVERSHOOT`` s after it* (the
      limits of Kaldi's ``extract-segments`` and :func:`speechsent.audio.io.cut_segment`;
      :mod:`speechsent.kaldi.lengths`), where the length
      is known: from ``reco2dur`` when it has the recording, else (unless ``no_audio_headers``) from the
      audio header of a ``wav.scp`` entry that names a file without running anything, a plain path or a
      ``sph2pipe`` pipe's input file (:mod:`speechsent.kaldi.audio_headers`; needs numpy or soundfile: in a
      bare ``python3`` a warning says the headers were not read); recordings whose header cannot be read
      are a warning, never a pipe run;
    * ``reco2file_and_channel`` (channel A or B) and ``reco2dur`` (> 0): the recordings of ``segments``, or
      without segments the utterances (as ``wav.scp``);
    * ``feats.scp`` present (unless no_feats); ``feats.scp vad.scp utt2lang utt2uniq utt2dur utt2num_frames
      utt2warp`` and ours* ``utt2sentiment``: exactly the utterances of utt2spk; ``utt2pseudo``*: a
      subset of them (utterances without a transcript have no pseudo label), ``utt2pseudo_prob``* exactly
      the utterances of ``utt2pseudo``;
    * ``cmvn.scp spk2gender spk2warp``: exactly the speakers of ``spk2utt``;
    * values: ``utt2dur`` > 0 and not longer than its segment*, equal to ``reco2dur`` without segments*;
      ``utt2num_frames`` integer > 0; ``spk2gender`` m/f; warps in (0.5, 1.5); ``utt2sentiment``
      Negative/Neutral/Positive*; ``utt2pseudo`` Negative/Positive*; ``utt2pseudo_prob`` in [0, 1] and only
      with ``utt2pseudo``*.

    Where Kaldi's script lets a failure through with exit status 0 and this one does not: a malformed
    ``utt2spk`` (it runs a bare ``exit`` after ``echo``, i.e. status 0); ``segments`` whose utterances differ
    from ``utt2spk`` when there is no ``text`` (that comparison sits under ``if [ -f text ]``); a present
    ``text`` under ``--no-text`` (not checked at all); ``text`` that is not UTF-8 (``validate_text.pl`` then
    assumes a one-byte encoding and the C.UTF-8 ``grep`` does not match invalid bytes); non-numeric values in
    ``segments``/``utt2dur``/``reco2dur`` (awk compares them as strings); ``wav.scp`` lines without a path.
    """
    opts = ValidateOptions(no_feats, no_text, no_wav, no_spk_sort, non_print, no_audio_headers)
    data = Path(data_dir)
    v = _Validator(data, opts)
    if not data.is_dir():
        return [f"{data}: no such directory"]
    # the checks, in the order of the problems reported
    spk = _check_speakers(v)
    _check_text(v, spk)
    recos = _check_recordings(v, spk)
    if not (data / "feats.scp").is_file() and not opts.no_feats:
        v.err("feats.scp", "no such file (if this is by design, pass --no-feats)")
    loaded = _check_utt_tables(v, spk)
    utt2dur_t = loaded.get("utt2dur")
    if utt2dur_t is not None and recos.segments is not None:
        _check_utt2dur_segments(v, utt2dur_t, recos)
    if utt2dur_t is not None and recos.segments is None and recos.reco2dur is not None:
        _check_utt2dur_reco2dur(v, utt2dur_t, recos.reco2dur)
    _check_spk_tables(v, spk)
    if warnings is not None:
        warnings.extend(v.warnings)
    return v.problems


@dataclasses.dataclass
class _Speakers:
    """``utt2spk`` and ``spk2utt`` as loaded (``None``: absent), with what the other checks compare to."""

    utt2spk: CheckedTable | None
    spk2utt: CheckedTable | None
    utt_ids: list[str]  # utt2spk's keys: unique, file order
    speakers: set[str]  # utt2spk's speakers (of its well-formed lines)


@dataclasses.dataclass
class _Recordings:
    """The recording tables as loaded (``None``: absent) and what the utt2dur checks need."""

    segments: CheckedTable | None
    reco2dur: CheckedTable | None
    #: segments' ``(keys, (recos, starts, ends))``, file order (when there is a segments file)
    seg_cols: tuple[list[str], tuple[list, ...]] | None = None
    #: the recordings of segments (when there is a segments file)
    recordings: set[str] | None = None


def _check_speakers(v: _Validator) -> _Speakers:
    """``utt2spk`` and ``spk2utt`` present, the same mapping, utt2spk sorted by speaker too."""
    for name in ("utt2spk", "spk2utt"):
        if not (v.data / name).is_file():
            hint = " (make it from utt2spk with utils/fix_data_dir.sh)" if name == "spk2utt" else ""
            v.err(name, f"no such file{hint}")
    utt2spk_t = v.load("utt2spk")
    spk2utt_t = v.load("spk2utt")
    utt_ids: list[str] = utt2spk_t.keys if utt2spk_t else []  # unique, file order
    spk_column = utt2spk_t.speakers() if utt2spk_t else []  # of the well-formed lines, file order
    speakers = set(spk_column)
    if utt2spk_t is not None and len(speakers) == 1:
        v.warnings.append(
            f"{utt2spk_t.path}: only one speaker; this is probably a bad idea "
            "(see 'bold' in http://kaldi-asr.org/doc/data_prep.html)"
        )
    if utt2spk_t is not None and not v.opts.no_spk_sort and not non_decreasing(spk_column, utt2spk_t.ascii):
        _check_sorted_by_speaker(v, utt2spk_t)
    if utt2spk_t is not None and spk2utt_t is not None and not _spk2utt_matches(utt2spk_t, spk2utt_t):
        _check_spk2utt(v, utt2spk_t, spk2utt_t)
    if spk2utt_t is not None and spk2utt_t.bulk is not None:
        spk2utt_t.bulk.tokens = None  # needed by _spk2utt_matches only
    return _Speakers(utt2spk_t, spk2utt_t, utt_ids, speakers)


def _check_sorted_by_speaker(v: _Validator, utt2spk_t: CheckedTable) -> None:
    """Name the first utterance of utt2spk whose speaker is out of ``LC_ALL=C`` order."""
    utt2spk = utt2spk_t.ok
    prev: bytes | None = None
    prev_spk = ""
    for utt in utt2spk_t.keys:  # file order
        spk = utt2spk.get(utt)
        if spk is None:
            continue
        sb = c_sort_key(spk)
        if prev is not None and sb < prev:
            v.err(
                "utt2spk",
                f"not sorted by speaker-id as well as by utterance-id (utterance {utt}: speaker {spk} "
                f"after {prev_spk}); make speaker-ids prefixes of utterance-ids, or pass --no-spk-sort",
            )
            break
        prev, prev_spk = sb, spk


def _check_spk2utt(v: _Validator, utt2spk_t: CheckedTable, spk2utt_t: CheckedTable) -> None:
    """spk2utt must hold exactly utt2spk's mapping (compared as mappings: the fast check failed)."""
    utts = set(utt2spk_t.keys)
    utt2spk = utt2spk_t.ok
    from_spk2utt: dict[str, str] = {}
    twice: set[str] = set()
    for spk, value in spk2utt_t.values.items():
        for utt in split_fields(value):
            if utt in from_spk2utt:
                twice.add(utt)
            from_spk2utt[utt] = spk
    if twice:
        v.err("spk2utt", f"{len(twice)} utterance(s) listed more than once (e.g. {examples(twice)})")
    missing = utts - set(from_spk2utt)
    extra = set(from_spk2utt) - utts
    differ = {u for u in utts & set(from_spk2utt) if utt2spk.get(u, from_spk2utt[u]) != from_spk2utt[u]}
    if missing or extra or differ:
        parts = []
        if missing:
            parts.append(f"{len(missing)} utterance(s) of utt2spk not in spk2utt (e.g. {examples(missing)})")
        if extra:
            parts.append(f"{len(extra)} utterance(s) in spk2utt not in utt2spk (e.g. {examples(extra)})")
        if differ:
            parts.append(f"{len(differ)} utterance(s) with another speaker (e.g. {examples(differ)})")
        v.err("spk2utt", "spk2utt and utt2spk do not match: " + "; ".join(parts))


def _check_text(v: _Validator, spk: _Speakers) -> None:
    """``text`` present (unless no_text), its lines (:meth:`_Validator.check_text`), utt2spk's utterances."""
    if not (v.data / "text").is_file():
        if not v.opts.no_text:
            v.err("text", "no such file (if this is by design, pass --no-text)")
        return
    text_t = v.load("text", ref=spk.utt2spk, keep_text=True)
    assert text_t is not None
    v.check_text(text_t)
    text_t.data = text_t.text = None
    if spk.utt2spk is not None:
        v.same_keys(text_t, spk.utt_ids, "utt2spk", "utterance")


def _check_recordings(v: _Validator, spk: _Speakers) -> _Recordings:
    """``wav.scp``, ``segments``, ``reco2file_and_channel`` and ``reco2dur``, and how they agree."""
    data = v.data
    has_wav = (data / "wav.scp").is_file()
    has_segments = (data / "segments").is_file()
    if has_segments and not has_wav:
        v.err("segments", "segments file exists but no wav.scp")
    if not has_wav and not v.opts.no_wav:
        v.err("wav.scp", "no such file (if this is by design, pass --no-wav)")
    wav_t = v.load("wav.scp")
    seg_t = v.load("segments", ref=spk.utt2spk)
    reco2dur_t = v.load("reco2dur")
    recos = _Recordings(seg_t, reco2dur_t)
    if seg_t is not None:
        _check_segments(v, spk, recos, seg_t, wav_t)
    elif wav_t is not None and spk.utt2spk is not None:
        v.same_keys(wav_t, spk.utt_ids, "utt2spk", "utterance")
    r2fc_t = v.load("reco2file_and_channel")
    if r2fc_t is not None:
        if r2fc_t.bulk is not None and r2fc_t.bulk.fields is not None:
            num_ones = r2fc_t.bulk.fields[1].count("1")
        else:
            num_ones = sum(split_fields(val)[1] == "1" for val in r2fc_t.ok.values())
        if num_ones:
            v.warnings.append(
                f"{r2fc_t.path}: the channel should be marked as A or B, not 1 ({num_ones} line(s))"
            )
        _same_recordings(v, spk, recos, r2fc_t)
    if reco2dur_t is not None:
        _same_recordings(v, spk, recos, reco2dur_t)
    return recos


def _same_recordings(v: _Validator, spk: _Speakers, recos: _Recordings, table: CheckedTable) -> None:
    """A recording-indexed table has the recordings of segments (without segments: the utterances)."""
    if recos.recordings is not None:
        v.same_keys(table, recos.recordings, "segments", "recording")
    elif spk.utt2spk is not None:
        v.same_keys(table, spk.utt_ids, "utt2spk", "utterance (recording)")


def _check_segments(
    v: _Validator, spk: _Speakers, recos: _Recordings, seg_t: CheckedTable, wav_t: CheckedTable | None
) -> None:
    """segments: utt2spk's utterances, wav.scp's recordings both ways, within their recordings' lengths."""
    if spk.utt2spk is not None:
        v.same_keys(seg_t, spk.utt_ids, "utt2spk", "utterance")
    recos.seg_cols = seg_t.columns()
    seg_keys, (seg_recos, seg_starts, seg_ends) = recos.seg_cols
    recordings = recos.recordings = set(seg_recos)
    if wav_t is not None:
        wav_recos = set(wav_t.keys)
        if not recordings <= wav_recos:
            segs: dict[str, Segment] = seg_t.parsed  # type: ignore[assignment]
            unknown = {u for u, s in segs.items() if s.reco not in wav_recos}
            v.err(
                "segments",
                f"{len(unknown)} segment(s) refer to a recording not in wav.scp "
                f"(e.g. {', '.join(f'{u} -> {segs[u].reco}' for u in c_sorted(unknown)[:3])})",
            )
        unused = wav_recos - recordings
        if unused:
            v.err(
                "wav.scp",
                f"{len(unused)} recording(s) have no segment (e.g. {examples(unused)}); "
                "utils/fix_data_dir.sh drops them",
            )
    lengths, notes = recording_lengths(
        v.data / "wav.scp",
        recordings,
        wav_t.ok if wav_t is not None else {},
        recos.reco2dur.ok if recos.reco2dur is not None else {},
        read_headers=not v.opts.no_audio_headers,
    )
    v.warnings.extend(notes)
    if lengths:
        starts_after, ends_after = past_end(seg_keys, seg_recos, seg_starts, seg_ends, lengths)
        for kind, found in (("start", starts_after), ("end", ends_after)):
            if found:
                v.err("segments", past_end_message(kind, found, lengths))


def _check_utt_tables(v: _Validator, spk: _Speakers) -> dict[str, CheckedTable]:
    """The other utterance-indexed tables: utt2spk's utterances (the pseudo labels: a subset of them)."""
    loaded: dict[str, CheckedTable] = {}
    for name in (n for n in utt_files(v.data) if n not in ("utt2spk", "text", "segments")):
        t = v.load(name, ref=spk.utt2spk)
        if t is None:
            continue
        loaded[name] = t
        kind = table_kind(name)
        if kind not in PARTIAL_UTT_FILES:
            if spk.utt2spk is not None:
                v.same_keys(t, spk.utt_ids, "utt2spk", "utterance")
            continue
        # Pseudo labels exist only for utterances with a transcript to label (the labeler's skips are
        # counted and listed where they were made): a subset of utt2spk, and the prob beside its label.
        if kind == "utt2pseudo_prob":
            labels = _labels_of_prob(name)
            if labels not in loaded:
                v.err(name, f"{name} without {labels}")
            else:
                v.same_keys(t, loaded[labels].keys, labels, "utterance")
        elif spk.utt2spk is not None:
            extra = set(t.keys) - set(spk.utt_ids)
            if extra:
                v.problems.append(
                    f"{t.path}: {len(extra)} utterance-id(s) not in utt2spk (e.g. {examples(extra)})"
                )
    return loaded


def _labels_of_prob(prob_name: str) -> str:
    """``utt2pseudo_prob`` → ``utt2pseudo``; ``utt2pseudo_prob_<tag>`` → ``utt2pseudo_<tag>``."""
    return "utt2pseudo" + prob_name[len("utt2pseudo_prob") :]


def _check_utt2dur_segments(v: _Validator, utt2dur_t: CheckedTable, recos: _Recordings) -> None:
    """No utterance longer than its segment (by more than DUR_TOLERANCE)."""
    seg_t = recos.segments
    assert recos.seg_cols is not None and seg_t is not None
    dur_keys, (durs,) = utt2dur_t.columns()
    seg_keys, (_, seg_starts, seg_ends) = recos.seg_cols
    if dur_keys == seg_keys and not any(
        map(
            operator.gt,
            durs,
            map(operator.add, map(operator.sub, seg_ends, seg_starts), itertools.repeat(DUR_TOLERANCE)),
        )
    ):
        return
    longer = []
    for u, d in utt2dur_t.parsed.items():
        s = seg_t.parsed.get(u)
        if s is not None and d > s.duration + DUR_TOLERANCE:  # type: ignore[attr-defined,operator]
            longer.append((u, d, s.duration))  # type: ignore[attr-defined]
    if longer:
        u, d, sd = longer[0]
        v.err(
            "utt2dur",
            f"{len(longer)} utterance(s) longer than their segment (e.g. {u}: {d} s, segment {sd:.3f} s)",
        )


def _check_utt2dur_reco2dur(v: _Validator, utt2dur_t: CheckedTable, reco2dur_t: CheckedTable) -> None:
    """Without segments (recording = utterance): utt2dur equals reco2dur (within DUR_TOLERANCE)."""
    dur_keys, (durs,) = utt2dur_t.columns()
    reco_keys, (reco_durs,) = reco2dur_t.columns()
    if dur_keys == reco_keys and not any(
        map(operator.gt, map(abs, map(operator.sub, durs, reco_durs)), itertools.repeat(DUR_TOLERANCE))
    ):
        return
    differ = [
        u
        for u, d in utt2dur_t.ok.items()
        if u in reco2dur_t.ok and abs(float(d) - float(reco2dur_t.ok[u])) > DUR_TOLERANCE
    ]
    if differ:
        v.err(
            "utt2dur",
            f"{len(differ)} utterance(s) differ from reco2dur (without segments, recording = "
            f"utterance; e.g. {examples(differ)})",
        )


def _check_spk_tables(v: _Validator, spk: _Speakers) -> None:
    """``cmvn.scp spk2gender spk2warp``: exactly the speakers of spk2utt."""
    spk_ref = spk.spk2utt.keys if spk.spk2utt is not None else spk.speakers
    for name in ("cmvn.scp", "spk2gender", "spk2warp"):
        t = v.load(name)
        if t is not None and (spk.spk2utt is not None or spk.utt2spk is not None):
            v.same_keys(t, spk_ref, "spk2utt", "speaker")
