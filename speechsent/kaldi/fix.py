"""``fix``: repair a data directory in place, as Kaldi's ``utils/fix_data_dir.sh`` does (stdlib only).

The implementation behind ``utils/fix_data_dir.sh`` (through ``speechsent.bin.data_dir``). Unlike Kaldi,
:func:`fix` makes every present utterance-indexed table constrain the utterance list (Kaldi only intersects
a few and merely filters the others, which can leave a directory that does not validate), and drops
malformed lines (e.g. a segment with end <= start) so that its output validates. Everything is written
atomically and ``LC_ALL=C`` sorted (:mod:`speechsent.kaldi.table`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from speechsent.kaldi.data_dir import (
    RECO_FILES,
    SPK_FILES,
    Segment,
    parse_segment,
    utt2spk_to_spk2utt,
    utt_files,
)
from speechsent.kaldi.formats import DUR_TOLERANCE, check_line, fast_load
from speechsent.kaldi.lengths import past_end, past_end_message, recording_lengths
from speechsent.kaldi.shared import backup_files, table_bytes, words
from speechsent.kaldi.table import (
    BOM,
    KaldiDataError,
    RawLines,
    c_sort_key,
    c_sorted,
    read_lines,
    split_line,
    utf16_text,
    write_table,
)
from speechsent.kaldi.validate import validate
from speechsent.utils.fileio import ENCODING

__all__ = [
    "LOCK_NAME",
    "FixReport",
    "fix",
]

#: The lock file of :func:`fix` in the data directory (present only while a fix runs).
LOCK_NAME = ".fix_data_dir.lock"


@dataclasses.dataclass
class _Lenient:
    table: dict[str, str]  # C-sorted, unique, well-formed
    duplicates: int
    malformed: int
    was_sorted: bool
    first_malformed: str = ""
    bom: bool = False  # the file started with a UTF-8 byte-order mark (removed)
    crs: int = 0  # lines that held a carriage return (removed: CRLF line ends; replaced by a blank inside)
    bad_utf8: int = 0  # lines dropped because they are not UTF-8 (text only)
    first_bad_utf8: str = ""
    utf16: bool = False  # the file was UTF-16 (converted)
    num_lines: int = 0  # the file's lines


def _not_utf8(line: str) -> int | None:
    """The first byte of ``line`` (decoded with surrogateescape) that is not UTF-8, else ``None``."""
    if line.isascii():
        return None
    try:
        line.encode(ENCODING)
    except UnicodeEncodeError as e:
        return ord(line[e.start]) - 0xDC00
    return None


def _load_lenient(path: Path, name: str) -> _Lenient:
    """Read a table keeping the first of duplicate keys and dropping malformed lines; sort it.

    A UTF-8 BOM at the start and carriage returns are removed (counted); in ``text``, lines that are not
    UTF-8 are dropped (counted: validate rejects them).
    """
    raw = read_lines(path)
    utf16 = (
        utf16_text(path.read_bytes()) if raw.raw and raw.raw[0][:2] in (b"\xff\xfe", b"\xfe\xff") else None
    )
    if utf16 is not None:
        lines = utf16.split("\n")
        if lines[-1] == "":
            lines.pop()
        raw = RawLines(raw.path, lines, raw.final_newline, raw.raw, utf16)
    lines = raw.lines
    bom = bool(lines) and lines[0].startswith(BOM)
    check_utf8 = name == "text" and _not_utf8(raw.text) is not None
    if utf16 is None and not bom and "\r" not in raw.text and not check_utf8:
        fast = fast_load(raw, name)
        if fast is not None:
            return _Lenient(fast[0], 0, 0, True, num_lines=len(raw.lines))
    if bom:
        lines = [lines[0][1:], *lines[1:]]
    table: dict[str, str] = {}
    dups = bad = crs = bad_utf8 = 0
    first_bad = first_bad_utf8 = ""
    prev: bytes | None = None
    was_sorted = True
    for lineno, line in enumerate(lines, start=1):
        if "\r" in line:
            crs += 1
            line = line.removesuffix("\r").replace("\r", " ")
        if check_utf8:
            byte = _not_utf8(line)
            if byte is not None:
                bad_utf8 += 1
                if not first_bad_utf8:
                    first_bad_utf8 = f"{path}:{lineno}: byte {byte:#04x}"
                continue
        kv = split_line(line)
        if kv is None:
            continue
        key, value = kv
        kb = c_sort_key(key)
        if prev is not None and kb <= prev:
            was_sorted = False
        prev = kb
        if key in table:
            dups += 1
            continue
        problem, _ = check_line(name, key, value)
        if problem is not None:
            bad += 1
            if not first_bad:
                first_bad = f"{path}:{lineno}: {problem}"
            continue
        table[key] = value
    ordered = {k: table[k] for k in c_sorted(table)}
    return _Lenient(
        ordered,
        dups,
        bad,
        was_sorted,
        first_bad,
        bom,
        crs,
        bad_utf8,
        first_bad_utf8,
        utf16 is not None,
        len(lines),
    )


@contextlib.contextmanager
def _dir_lock(data: Path, log: Callable[[str], None]) -> Iterator[None]:
    """Hold an exclusive lock on the data directory ``data`` (``fcntl.flock`` on :data:`LOCK_NAME`).

    Another holder makes this wait (said once through ``log``); the lock goes with the process, so a killed
    run never leaves a stale lock. The lock file is removed on release; a waiter that then holds a removed
    file's lock takes the new one instead. Where the file system cannot lock (``ENOLCK`` ...), ``log`` says
    so and the work runs unlocked.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX
        log(f"WARNING: cannot lock {data} on this system: make sure no other fix runs on it")
        yield
        return
    path = data / LOCK_NAME
    waited = False
    fd = -1
    try:
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not waited:
                    log(f"waiting for another fix_data_dir.sh on {data} to finish (lock file {path})")
                    waited = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the previous holder removed it: lock the file now at the path
            fd = -1
    except OSError as e:
        if fd >= 0:
            os.close(fd)
            fd = -1
        if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL, errno.EACCES, errno.EROFS):
            raise
        log(f"WARNING: cannot lock {data} ({e.strerror}): make sure no other fix runs on it")
    try:
        yield
    finally:
        if fd >= 0:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            os.close(fd)


@dataclasses.dataclass
class FixReport:
    """What :func:`fix` did."""

    num_utts_before: int
    num_utts_after: int
    #: File name → number of lines removed from it (duplicates, malformed lines, filtered entries).
    removed_lines: dict[str, int]
    #: Human-readable log lines (Kaldi's wording where there is one).
    messages: list[str]
    #: Where the files were before this run (``.backup``, ``.backup.1`` ...); None when nothing changed.
    backup_dir: Path | None
    #: What :func:`validate` still finds in the fixed directory (empty: it validates), checked with every
    #: ``--no-*`` option and ``--non-print``: what fix does not repair (e.g. ``<s>`` in ``text``).
    problems: list[str] = dataclasses.field(default_factory=list)


def fix(
    data_dir: str | os.PathLike[str],
    *,
    utt_extra_files: str | Iterable[str] | None = None,
    spk_extra_files: str | Iterable[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> FixReport:
    """Repair a data directory in place, as Kaldi's ``utils/fix_data_dir.sh`` does.

    Every table is sorted, duplicate keys dropped (the first entry kept) and malformed lines dropped; a
    UTF-8 byte-order mark and carriage returns (CRLF line ends) are removed, and ``text`` lines that are not
    UTF-8 dropped (each counted in the messages); segments whose recording is not in ``wav.scp``
    (``reco2file_and_channel``, ``reco2dur``) are dropped, and recordings left without segments; segments
    that start after their recording's end or end ``MAX_OVERSHOOT`` s or more after it
    (:mod:`speechsent.kaldi.lengths`; the length from ``reco2dur``, else its audio header, as :func:`validate`
    finds it) are dropped; only the utterances
    present in *every* utterance-indexed table (``utt2spk text segments feats.scp vad.scp utt2lang utt2uniq
    utt2dur utt2num_frames utt2warp utt2sentiment utt2pseudo utt2pseudo_prob`` and every labeler's
    ``utt2pseudo_<tag> utt2pseudo_prob_<tag>``, ``wav.scp`` when there are
    no segments, and ``utt_extra_files``) and whose speaker is in every present speaker-indexed table
    (``cmvn.scp spk2gender spk2warp`` and ``spk_extra_files``) are kept; ``spk2utt`` is regenerated from
    ``utt2spk``. Files whose content does not change are not rewritten.

    Before anything is rewritten, the files are copied to a new backup directory, never over an older one:
    ``<dir>/.backup`` the first time, then ``.backup.1``, ``.backup.2`` ... (a run that changes nothing makes
    none). Runs on the same directory wait for each other (a lock, :data:`LOCK_NAME`; ``log``, by default
    stderr, says when this one waits). The result is validated; what remains is in :attr:`FixReport.problems`.

    Raises :class:`KaldiDataError` if ``utt2spk`` is missing, ``segments`` exists without ``wav.scp``, or no
    utterance would remain (nothing is written then).
    """
    data = Path(data_dir)
    if not data.is_dir():
        raise KaldiDataError("no such directory", data)
    if not (data / "utt2spk").is_file():
        raise KaldiDataError("no such file", data / "utt2spk")
    say = log if log is not None else (lambda msg: print(msg, file=sys.stderr, flush=True))
    with _dir_lock(data, say):
        return _fix_locked(data, words(utt_extra_files), words(spk_extra_files))


def _fix_locked(data: Path, utt_extra_files: list[str], spk_extra_files: list[str]) -> FixReport:
    if not (data / "utt2spk").is_file():  # removed while this run waited
        raise KaldiDataError("no such file", data / "utt2spk")
    has_segments = (data / "segments").is_file()
    if has_segments and not (data / "wav.scp").is_file():
        raise KaldiDataError(f"{data / 'segments'} exists but not {data / 'wav.scp'}")
    utt_names, spk_names, reco_names = _file_names(data, utt_extra_files, spk_extra_files, has_segments)

    messages: list[str] = []
    tables: dict[str, dict[str, str]] = {}
    original_lines: dict[str, int] = {}
    for name in (*utt_names, *spk_names, *reco_names):
        lt = _load_lenient(data / name, name)
        tables[name] = lt.table
        original_lines[name] = lt.num_lines
        messages.extend(_load_messages(data / name, lt))

    utt2spk = tables["utt2spk"]
    num_before = original_lines["utt2spk"]
    segments = tables.get("segments")
    segs = {u: parse_segment(u, v) for u, v in (segments or {}).items()}
    recos: set[str] | None = None
    if segments is not None:
        segs, recos = _keep_segments(data, segs, reco_names, tables, messages)
    kept = _kept_ids(utt2spk, segs if segments is not None else None, tables, utt_names, spk_names)
    utts, speakers = kept[0], kept[1]
    if segments is not None:
        recos = kept[2]
    if not utts:
        raise KaldiDataError("no utterances remained: not proceeding further (no file was changed)", data)

    # What each file becomes; then the backup (if anything changes), then the writes.
    outputs: dict[str, dict[str, str]] = {}
    for names, keys in ((utt_names, utts), (spk_names, speakers), (reco_names, recos)):
        for name in names:
            assert keys is not None
            outputs[name] = {k: v for k, v in tables[name].items() if k in keys}
    kept_utt2spk = {u: utt2spk[u] for u in utts}
    outputs["spk2utt"] = {s: " ".join(u) for s, u in utt2spk_to_spk2utt(kept_utt2spk).items()}
    backup = _write_changed(data, outputs)
    removed: dict[str, int] = {}
    for name in (*utt_names, *spk_names, *reco_names):
        n0, n1 = original_lines[name], len(outputs[name])
        if n0 != n1:
            messages.append(f"filtered {data / name} from {n0} to {n1} lines")
            removed[name] = n0 - n1
    messages.extend(_summary(kept_utt2spk, num_before, backup))
    problems = validate(
        data,
        no_feats=True,
        no_text=True,
        no_wav=True,
        no_spk_sort=True,
        non_print=True,
        no_audio_headers=True,  # read above
    )
    return FixReport(num_before, len(utts), removed, messages, backup, problems)


def _file_names(
    data: Path, utt_extra_files: list[str], spk_extra_files: list[str], has_segments: bool
) -> tuple[list[str], list[str], list[str]]:
    """The present utterance-, speaker- and recording-indexed files (without segments: wav.scp ... are
    indexed by utterance)."""
    known = utt_files(data)
    utt_extra = [f for f in utt_extra_files if f not in known]
    spk_extra = [f for f in spk_extra_files if f not in SPK_FILES]
    utt_names = [n for n in (*known, *utt_extra) if (data / n).is_file()]
    spk_names = [n for n in (*SPK_FILES[1:], *spk_extra) if (data / n).is_file()]
    reco_names = [n for n in RECO_FILES if (data / n).is_file()]
    if not has_segments:  # wav.scp etc. are indexed by utterance
        utt_names += reco_names
        reco_names = []
    return utt_names, spk_names, reco_names


def _load_messages(path: Path, lt: _Lenient) -> list[str]:
    """What loading the file ``path`` leniently repaired or dropped."""
    messages = []
    if lt.utf16:
        messages.append(f"converted {path} from UTF-16 to UTF-8")
    if lt.bom:
        messages.append(
            f"removed the UTF-8 byte-order mark (BOM) at the start of {path} (its first line is kept)"
        )
    if lt.crs:
        messages.append(
            f"removed the carriage returns (Windows CRLF line ends) of {lt.crs} line(s) of {path}"
        )
    if lt.bad_utf8:
        messages.append(
            f"WARNING: dropped {lt.bad_utf8} utterance(s) whose text is not valid UTF-8 (e.g. "
            f"{lt.first_bad_utf8}); if {path} is in another encoding, convert the original (kept "
            "in the backup) and fix again, e.g. iconv -f latin1 -t utf-8"
        )
    if not lt.was_sorted or lt.duplicates:
        messages.append(f"file {path} is not in sorted order or not unique, sorting it")
    if lt.duplicates:
        messages.append(f"removed {lt.duplicates} duplicate key(s) from {path} (first entry kept)")
    if lt.malformed:
        messages.append(f"removed {lt.malformed} malformed line(s) from {path}, e.g. {lt.first_malformed}")
    return messages


def _keep_segments(
    data: Path,
    segs: dict[str, Segment],
    reco_names: list[str],
    tables: Mapping[str, Mapping[str, str]],
    messages: list[str],
) -> tuple[dict[str, Segment], set[str]]:
    """The segments kept and the recordings: present in segments and in every recording-indexed file;
    segments past their recording's end dropped (said in ``messages``)."""
    recos = {s.reco for s in segs.values()}
    for name in reco_names:
        recos &= set(tables[name])
    lengths, notes = recording_lengths(
        data / "wav.scp", recos, tables.get("wav.scp", {}), tables.get("reco2dur", {})
    )
    messages.extend(f"WARNING: {n}" for n in notes)
    if lengths:
        keys = list(segs)
        starts_after, ends_after = past_end(
            keys,
            [segs[u].reco for u in keys],
            [segs[u].start for u in keys],
            [segs[u].end for u in keys],
            lengths,
        )
        for kind, found in (("start", starts_after), ("end", ends_after)):
            if found:
                messages.append("dropping " + past_end_message(kind, found, lengths))
        over = {u for u, *_ in (*starts_after, *ends_after)}
        segs = {u: s for u, s in segs.items() if u not in over}
    return {u: s for u, s in segs.items() if s.reco in recos}, recos


def _kept_ids(
    utt2spk: Mapping[str, str],
    segs: Mapping[str, Segment] | None,
    tables: Mapping[str, Mapping[str, str]],
    utt_names: list[str],
    spk_names: list[str],
) -> tuple[set[str], set[str], set[str]]:
    """``(utterances, speakers, recordings)`` kept: until nothing changes, the utterances in every
    utterance-indexed table (``segs``: the segments kept; ``None`` without a segments file) and not longer
    than their segment, whose speaker is in every speaker-indexed table."""
    utt2dur = tables.get("utt2dur")
    utts = set(utt2spk)
    speakers: set[str] = set()
    recos: set[str] = set()
    while True:
        before = len(utts)
        for name in utt_names:
            utts &= set(segs) if name == "segments" and segs is not None else set(tables[name])
        if utt2dur is not None and segs is not None:
            utts = {u for u in utts if float(utt2dur[u]) <= segs[u].duration + DUR_TOLERANCE}
        speakers = {utt2spk[u] for u in utts}
        for name in spk_names:
            speakers &= set(tables[name])
        utts = {u for u in utts if utt2spk[u] in speakers}
        if segs is not None:
            recos = {segs[u].reco for u in utts}
        if len(utts) == before:
            break
    return utts, speakers, recos


def _write_changed(data: Path, outputs: Mapping[str, Mapping[str, str]]) -> Path | None:
    """Write the tables whose bytes change, after backing up the files (the backup dir; None: none)."""
    changed = []
    for name, table in outputs.items():
        try:
            same = (data / name).read_bytes() == table_bytes({k: table[k] for k in c_sorted(table)})
        except FileNotFoundError:
            same = False
        if not same:
            changed.append(name)
    backup: Path | None = None
    if changed:
        backup, _ = backup_files(data, outputs)
    for name in changed:
        write_table(data / name, outputs[name])
    return backup


def _summary(kept_utt2spk: Mapping[str, str], num_before: int, backup: Path | None) -> list[str]:
    """The last messages of a fix: speaker order, utterances kept, where the old files are."""
    messages = []
    spks = [c_sort_key(kept_utt2spk[u]) for u in c_sorted(kept_utt2spk)]
    if any(a > b for a, b in itertools.pairwise(spks)):
        messages.append(
            "WARNING: utt2spk is not sorted by speaker-id as well as by utterance-id "
            "(make speaker-ids prefixes of utterance-ids, or validate with --no-spk-sort)"
        )
    if len(kept_utt2spk) != num_before:
        messages.append(f"kept {len(kept_utt2spk)} utterances out of {num_before}")
    else:
        messages.append(f"kept all {num_before} utterances.")
    if backup is not None:
        messages.append(f"old files are kept in {backup}")
    else:
        messages.append("nothing to change: no file rewritten, no backup made")
    return messages
