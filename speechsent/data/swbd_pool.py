"""The Switchboard segments of stage 1 (:mod:`speechsent.data.prepare`), each with its outcome: from the
LDC97S62 audio and the MS98 transcripts (:func:`pool_from_ms98`), or from an existing Kaldi/ESPnet data dir
(:func:`pool_from_data_dir`); overlapping segments marked (:func:`mark_overlaps`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

from speechsent.data import ms98
from speechsent.data.prepare_common import (
    PrepareConfig,
    PrepareError,
    PrepareReport,
    Skips,
    cs_text,
    logger,
    sph2pipe_command,
)
from speechsent.data.splits import EspnetTextLine
from speechsent.kaldi.data_dir import DataDir, WavEntry
from speechsent.kaldi.table import c_sort_key, format_number

__all__ = [
    "PoolSegment",
    "espnet_text_line",
    "mark_overlaps",
    "pool_from_data_dir",
    "pool_from_ms98",
]

_SWBD_RECO_RE = re.compile(r"^(sw\d{5})-([AB])$")
_SWBD_UTT_TIMES_RE = re.compile(r"_(\d{6})-(\d{6})$")


@dataclasses.dataclass(slots=True)
class PoolSegment:
    """A Switchboard segment, from MS98 or from a reused data dir, with its outcome."""

    utt: str
    reco: str
    conv: str
    start: float  # times matched against the sentiment rows
    end: float
    seg_start: float  # times written to segments
    seg_end: float
    text: str
    status: str  # "ok" or why it is left out
    kaldi_kept: bool  # in Kaldi's (hence ESPnet's) text
    where: str
    #: The segment times in centiseconds (MS98: the id's), None for a reused dir's segments.
    cs: tuple[int, int] | None = None

    @property
    def duration(self) -> float:
        return round(self.seg_end - self.seg_start, 6)

    def entry(self) -> tuple[str, str, str, str, str, str]:
        """``(utt, reco, start, end, duration, text)`` as written to the data dir."""
        if self.cs is not None:
            a, b = self.cs
            return (self.utt, self.reco, cs_text(a), cs_text(b), cs_text(b - a), self.text)
        return (
            self.utt,
            self.reco,
            format_number(self.seg_start),
            format_number(self.seg_end),
            format_number(self.duration),
            self.text,
        )


def mark_overlaps(pool: Sequence[PoolSegment]) -> None:
    by_reco: dict[str, list[PoolSegment]] = {}
    for seg in pool:
        if seg.status == "ok":
            by_reco.setdefault(seg.reco, []).append(seg)
    for segs in by_reco.values():
        segs.sort(key=lambda s: (s.seg_start, s.seg_end, c_sort_key(s.utt)))
        last_end = -1.0
        last_utt = None
        for seg in segs:
            if seg.utt == last_utt:
                seg.status = "duplicate_id"
            elif seg.seg_start < last_end - 1e-9:
                seg.status = "overlap"
            else:
                last_end = seg.seg_end
                last_utt = seg.utt


def pool_from_ms98(
    cfg: PrepareConfig, report: PrepareReport, skip: Skips
) -> tuple[list[PoolSegment], dict[str, WavEntry]]:
    if not cfg.swbd or not cfg.swbd_ms98:
        raise PrepareError("SWBD and SWBD_MS98 are needed (or an existing data dir with --swbd_data_dir)")
    for name, root in (("SWBD", cfg.swbd), ("SWBD_MS98", cfg.swbd_ms98)):
        if not Path(root).is_dir():
            raise PrepareError(f"{name}={root}: no such directory")
    logger.info("Switchboard audio: searching *.sph below %s", cfg.swbd)
    sph = ms98.find_sph_files(cfg.swbd)
    n = len(sph.files)
    report.counts["swbd_sph_files"] = n
    logger.info("found %d Switchboard conversations with audio", n)
    if n not in ms98.EXPECTED_SPH_COUNTS:
        logger.warning(
            "expected %s .sph files in LDC97S62, found %d", " or ".join(map(str, ms98.EXPECTED_SPH_COUNTS)), n
        )
    for p in sph.duplicates:
        skip("swbd_duplicate_sph", f"{p}: another file of this conversation was found first")

    logger.info("MS98 transcripts: reading %s", cfg.swbd_ms98)
    tree = ms98.read_ms98_tree(cfg.swbd_ms98, skip_bad_lines=cfg.skip_bad_rows)
    report.counts["swbd_transcript_files"] = len(tree.files)
    for p in tree.duplicate_files:
        skip("swbd_duplicate_transcript", f"{p}: another transcript of this side was found first")
    for line in tree.bad_lines:
        skip("swbd_bad_line", line)
    logger.info("read %d MS98 segments from %d transcript files", len(tree.segments), len(tree.files))

    pool: list[PoolSegment] = []
    for seg in tree.segments:
        status = seg.status
        if status == "ok" and seg.conv not in sph.files:
            status = "no_audio"
        start_cs, end_cs = seg.start_cs, seg.end_cs
        pool.append(
            PoolSegment(
                utt=seg.utt,
                reco=seg.reco,
                conv=seg.conv,
                start=seg.start,
                end=seg.end,
                seg_start=start_cs / 100,
                seg_end=end_cs / 100,
                text=seg.text,
                status=status,
                kaldi_kept=seg.kaldi_kept and seg.conv in sph.files,
                where=seg.where,
                cs=(start_cs, end_cs),
            )
        )
    transcribed_sides = set(tree.files)
    for side in sorted(transcribed_sides):
        conv = side.split("-")[0]
        if conv not in sph.files:
            skip("swbd_side_no_audio", f"{tree.files[side]}: no audio file for conversation {conv}")
    wav: dict[str, WavEntry] = {}
    for conv, path in sph.files.items():
        for side, channel in (("A", 1), ("B", 2)):
            reco = f"{conv}-{side}"
            if reco not in transcribed_sides:
                skip("swbd_side_no_transcript", f"{path}: side {side} has no MS98 transcript")
                continue
            wav[reco] = WavEntry.from_command(reco, sph2pipe_command(cfg.sph2pipe, path, channel))
    return pool, wav


def pool_from_data_dir(
    cfg: PrepareConfig, report: PrepareReport, skip: Skips
) -> tuple[list[PoolSegment], dict[str, WavEntry]]:
    assert cfg.swbd_data_dir is not None
    d = DataDir(cfg.swbd_data_dir)
    logger.info("reusing the Switchboard data dir %s (segments, text, wav.scp)", d.path)
    segments = d.segments
    text = d.text
    wav = d.wav_scp
    if segments is None or text is None or wav is None:
        raise PrepareError(f"{d.path}: a reused Switchboard data dir needs segments, text and wav.scp")
    pool: list[PoolSegment] = []
    for utt, seg in segments.items():
        m = _SWBD_RECO_RE.match(seg.reco)
        if m is None:
            raise PrepareError(
                f"{d.file('segments')}: recording {seg.reco!r} of {utt} is not a Switchboard side (sw02001-A)"
            )
        words = [w.lower() for w in text.get(utt, "").split() if not ms98.is_nonspeech_tag(w)]
        status = "ok"
        if utt not in text:
            status = "no_text"
        elif not words:
            status = "empty_text"
        elif seg.reco not in wav:
            status = "no_audio"
        pool.append(
            PoolSegment(
                utt=utt,
                reco=seg.reco,
                conv=m.group(1),
                start=seg.start,
                end=seg.end,
                seg_start=seg.start,
                seg_end=seg.end,
                text=" ".join(words),
                status=status,
                kaldi_kept=utt in text and seg.reco in wav,
                where=f"{d.file('segments')}: {utt}",
            )
        )
    report.counts["swbd_reused_segments"] = len(pool)
    used = {seg.reco for seg in pool}
    for reco in sorted(set(wav) - used):
        skip("swbd_side_no_transcript", f"{d.file('wav.scp')}: {reco} has no segment")
    return pool, {reco: e for reco, e in wav.items() if reco in used}


def espnet_text_line(seg: PoolSegment) -> EspnetTextLine:
    m = _SWBD_UTT_TIMES_RE.search(seg.utt)
    if m:
        s, e = int(m.group(1)), int(m.group(2))
    else:
        s, e = ms98.centiseconds(seg.seg_start), ms98.centiseconds(seg.seg_end)
    return EspnetTextLine(seg.utt, seg.conv, s, e)
