"""Stage 1 of the recipes: the LDC releases → the Kaldi data dirs of the contract (stdlib only).

:func:`prepare_data` writes, below ``out_dir`` (the names are options of
:class:`~speechsent.data.prepare_common.PrepareConfig`; these are the defaults):

* ``swbd_train``, ``swbd_test`` (validation), ``swbd_holdout`` (evaluation): the sentiment-labeled Switchboard
  segments with ``utt2sentiment`` (majority vote), split by conversation (:mod:`speechsent.data.splits`);
* ``asr_train``: every usable MS98 segment of the training conversations, labeled or not: the conversations
  with audio and transcripts that hold no validation or evaluation segment (and, with split lists, that the
  validation and evaluation lists do not name);
* ``fisher``: every usable Fisher segment (unless no Fisher root is given).

Each dir has ``wav.scp`` (conversation sides as ``<sph2pipe> -f wav -p -c 1|2 /abs/file.sph |`` pipes),
``segments``, ``utt2spk`` (speaker = conversation side), ``spk2utt``, ``text``, ``utt2dur`` (from the
segments), ``reco2file_and_channel``, and for the labeled sets ``utt2sentiment``; all ``LC_ALL=C`` sorted and
written atomically, so that a rerun on the same input writes the same bytes.

Nothing is dropped silently: every segment and every sentiment row ends in one outcome, counted in
:class:`~speechsent.data.prepare_common.PrepareReport` and logged (the last log line holds all the counts);
every skipped item is listed, ``outcome<TAB>where: what``, in ``<out_dir>/local/prepare_data.skipped``.
Malformed input lines (sentiment rows, MS98 lines, Fisher transcripts without a header) are errors naming
``file:line``, or with ``skip_bad_rows`` counted skips.

Existing data dirs can be reused (``swbd_data_dir``): a Kaldi/ESPnet Switchboard dir (``wav.scp`` with
sph2pipe pipes, ``segments``, ``text``, Kaldi ids ``sw02001-A_000098-001156``) replaces the audio search and
the MS98 transcripts; only the sentiment labels and the splits are added. The Switchboard segments come from
:mod:`speechsent.data.swbd_pool`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from pathlib import Path

from speechsent.data import fisher as fisher_mod
from speechsent.data import splits as splits_mod
from speechsent.data.prepare_common import (
    SPLIT_METHODS,
    PrepareConfig,
    PrepareError,
    PrepareReport,
    Skips,
    cs_text,
    logger,
    sph2pipe_command,
)
from speechsent.data.sentiment import SegmentIndex, SentimentRow, read_sentiment_tsv
from speechsent.data.splits import (
    SPLITS,
    espnet_assign,
    hash_split,
    read_split_lists,
)
from speechsent.data.swbd_pool import (
    PoolSegment,
    espnet_text_line,
    mark_overlaps,
    pool_from_data_dir,
    pool_from_ms98,
)
from speechsent.kaldi.data_dir import WavEntry, utt_files
from speechsent.kaldi.table import c_sort_key, format_number
from speechsent.utils.fileio import atomic_write_text

__all__ = [
    "STAGE1_FILES",
    "prepare_data",
    "sentiment_tsv_path",
    "write_data_dir",
]

#: The files stage 1 writes in a data dir (others found there are left alone or, if the utterances
#: changed, moved to ``.backup/``).
STAGE1_FILES = (
    "wav.scp",
    "segments",
    "utt2spk",
    "spk2utt",
    "text",
    "utt2dur",
    "reco2file_and_channel",
    "utt2sentiment",
)


def sentiment_tsv_path(swbd_sentiment: str | os.PathLike[str]) -> Path:
    """``SWBD_SENTIMENT`` (the LDC2020T14 root, or the TSV itself) → the TSV path."""
    p = Path(swbd_sentiment)
    if p.is_file():
        return p
    for candidate in (p / "data" / "sentiment_labels.tsv", p / "sentiment_labels.tsv"):
        if candidate.is_file():
            return candidate
    raise PrepareError(f"{p}: no data/sentiment_labels.tsv (SWBD_SENTIMENT must be the LDC2020T14 root)")


# ----------------------------------------------------------------------------------------------------------
# Labels and splits


def _label_conversation_or_lists(
    cfg: PrepareConfig,
    rows: Sequence[SentimentRow],
    pool_by_utt: Mapping[str, PoolSegment],
    skip: Skips,
) -> dict[str, tuple[str, SentimentRow]]:
    """Majority vote and time matching: usable utterance → (label, row)."""
    index = SegmentIndex()
    for utt, seg in pool_by_utt.items():
        index.add(seg.conv, seg.start, seg.end, utt)
    best: dict[str, tuple[float, int, str, SentimentRow]] = {}
    for row in rows:
        label = row.label
        where = f"{row.lineno}: {row.row_id} {row.start} {row.end}"
        if label is None:
            skip("rows_no_majority", None)
            continue
        if row.conv not in index:
            skip("rows_unmatched", f"line {where}: no segment of conversation {row.conv}")
            continue
        m = index.match(row.conv, row.start, row.end, cfg.match_tolerance)
        if m is None:
            skip("rows_unmatched", f"line {where}: no segment within {cfg.match_tolerance} s")
            continue
        seg = pool_by_utt[m.key]
        if seg.status != "ok":
            skip(f"rows_matched_{seg.status}", f"line {where}: matched {seg.utt} ({seg.where}), {seg.status}")
            continue
        previous = best.get(m.key)
        cand = (m.distance, row.lineno, label, row)
        if previous is not None:
            kept, dropped = (cand, previous) if cand[:2] < previous[:2] else (previous, cand)
            skip(
                "rows_duplicate_match",
                f"line {dropped[3].lineno}: {dropped[3].row_id} matched {m.key} as line {kept[3].lineno} did "
                "(the closer one is kept)",
            )
            cand = kept
        best[m.key] = cand
    return {utt: (c[2], c[3]) for utt, c in best.items()}


def _split_labeled(
    cfg: PrepareConfig,
    labeled: Mapping[str, tuple[str, SentimentRow]],
    pool_by_utt: Mapping[str, PoolSegment],
    skip: Skips,
) -> tuple[dict[str, dict[str, str]], set[str]]:
    """Per split ``utt → label``, and the conversations that must stay out of asr_train."""
    out: dict[str, dict[str, str]] = {s: {} for s in SPLITS}
    held_out: set[str] = set()
    if cfg.split == "conversation":
        conv_seconds: dict[str, float] = {}
        for utt in labeled:
            seg = pool_by_utt[utt]
            conv_seconds[seg.conv] = conv_seconds.get(seg.conv, 0.0) + seg.duration
        conv_split = hash_split(conv_seconds, cfg.split_hours, cfg.split_seed)
        for utt, (label, _row) in labeled.items():
            out[conv_split[pool_by_utt[utt].conv]][utt] = label
        held_out = {c for c, s in conv_split.items() if s != "train"}
    elif cfg.split == "lists":
        if not cfg.split_lists:
            raise PrepareError("--split lists needs --split_lists DIR")
        try:
            lists = read_split_lists(cfg.split_lists)
        except ValueError as e:
            raise PrepareError(str(e)) from None
        logger.info("split lists: %s", ", ".join(f"{k}={v}" for k, v in lists.files.items()))
        conv_splits: dict[str, set[str]] = {}
        for utt, (label, row) in labeled.items():
            seg = pool_by_utt[utt]
            found = lists.split_of(utt=utt, row_id=row.row_id, conv=seg.conv)
            if found is None:
                skip("rows_not_in_split_lists", f"line {row.lineno}: {row.row_id} ({utt}) is in no list")
                continue
            out[found[0]][utt] = label
            conv_splits.setdefault(seg.conv, set()).add(found[0])
        mixed = sorted(c for c, s in conv_splits.items() if len(s) > 1)
        if mixed:
            logger.warning(
                "%d conversation(s) have segments in more than one split list (e.g. %s)",
                len(mixed),
                ", ".join(mixed[:5]),
            )
        report_counts = skip.report.counts
        report_counts["split_mixed_conversations"] = len(mixed)
        held_out = {c for c, s in conv_splits.items() if s - {"train"}}
        for kind, ids in lists.by_kind.items():
            for key, split in ids.items():
                if split != "train":
                    held_out.add(key if kind == "conv" else key.split("_")[0].split("-")[0])
    else:
        raise AssertionError(cfg.split)
    return out, held_out


def _label_espnet(
    rows: Sequence[SentimentRow],
    pool: Sequence[PoolSegment],
    pool_by_utt: Mapping[str, PoolSegment],
    skip: Skips,
) -> tuple[dict[str, dict[str, str]], set[str]]:
    seen: set[str] = set()
    text_lines = []
    for seg in pool:
        if seg.kaldi_kept and seg.utt not in seen:
            seen.add(seg.utt)
            text_lines.append(espnet_text_line(seg))
    a = espnet_assign(rows, text_lines, splits_mod.ESPNET_LINE_RANGES)
    for _row in a.no_majority:
        skip("rows_no_majority", None)
    lost = {r.lineno for r in a.lost_to_cursor}
    for row in a.unmatched:
        where = f"line {row.lineno}: {row.row_id} {row.start} {row.end}"
        if row.lineno in lost:
            skip("rows_unmatched_espnet_cursor", f"{where}: ESPnet's forward-only scan passed its segment")
        else:
            skip("rows_unmatched", f"{where}: no segment in ESPnet's time window")
    for row in a.duplicates:
        skip("rows_duplicate_match", f"line {row.lineno}: {row.row_id} matched a segment already matched")
    for row in a.out_of_range:
        skip("rows_outside_espnet_ranges", f"line {row.lineno}: past ESPnet's last line range")
    out: dict[str, dict[str, str]] = {s: {} for s in SPLITS}
    held_out: set[str] = set()
    for split, members in a.splits.items():
        for utt, (label, row) in members.items():
            seg = pool_by_utt.get(utt)
            if seg is None or seg.status != "ok":
                status = "unknown" if seg is None else seg.status
                skip(f"rows_matched_{status}", f"line {row.lineno}: ESPnet member {utt} is {status} here")
                continue
            out[split][utt] = label
            if split != "train":
                held_out.add(seg.conv)
    return out, held_out


# ----------------------------------------------------------------------------------------------------------
# Writing


Entry = tuple[str, str, str, str, str, str]  # utt, reco, start, end, duration, text


def write_data_dir(
    path: str | os.PathLike[str],
    entries: Iterable[Entry],
    wav: Mapping[str, WavEntry],
    labels: Mapping[str, str] | None = None,
) -> int:
    """Write one data dir (the :data:`STAGE1_FILES`) from ``(utt, reco, start, end, duration, text)``
    entries; returns the number of utterances.

    Every file is ``LC_ALL=C`` sorted and written atomically. Files of later stages found there
    (``utt2pseudo``, ``feats.scp``, ...) are kept when the utterances are unchanged, else moved to
    ``.backup/`` (they would no longer match).
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    ordered = list(entries)
    if all(e[0].isascii() for e in ordered):
        ordered.sort(key=itemgetter(0))  # ASCII: str order is LC_ALL=C byte order
    else:
        ordered.sort(key=lambda e: c_sort_key(e[0]))
    files: dict[str, list[str]] = {n: [] for n in ("segments", "utt2spk", "text", "utt2dur")}
    sentiment: list[str] = []
    spk2utt: dict[str, list[str]] = {}
    previous = None
    for utt, reco, start, end, dur, text in ordered:
        if utt == previous:
            raise ValueError(f"{path}: duplicate utterance {utt}")
        previous = utt
        files["segments"].append(f"{utt} {reco} {start} {end}\n")
        files["utt2spk"].append(f"{utt} {reco}\n")
        files["text"].append(f"{utt} {text}\n")
        files["utt2dur"].append(f"{utt} {dur}\n")
        if labels is not None:
            sentiment.append(f"{utt} {labels[utt]}\n")
        spk2utt.setdefault(reco, []).append(utt)
    recos = sorted(spk2utt, key=c_sort_key)
    contents = {name: "".join(lines) for name, lines in files.items()}
    contents["spk2utt"] = "".join(f"{r} {' '.join(spk2utt[r])}\n" for r in recos)
    contents["wav.scp"] = "".join(f"{r} {wav[r].to_value()}\n" for r in recos)
    contents["reco2file_and_channel"] = "".join("{} {} {}\n".format(r, *r.rsplit("-", 1)) for r in recos)
    if labels is not None:
        contents["utt2sentiment"] = "".join(sentiment)

    utt2spk_file = path / "utt2spk"
    if utt2spk_file.is_file() and utt2spk_file.read_bytes() != contents["utt2spk"].encode(
        "utf-8", "surrogateescape"
    ):
        later = [
            n
            for n in sorted({*utt_files(path), "cmvn.scp", "spk2gender", "reco2dur", "feats.scp"})
            if n not in STAGE1_FILES and (path / n).exists()
        ]
        if later:
            backup = path / ".backup"
            backup.mkdir(exist_ok=True)
            for n in later:
                shutil.move(str(path / n), str(backup / n))
            logger.warning("%s: utterances changed; moved %s to %s", path, " ".join(later), backup)
    for name, text in contents.items():
        atomic_write_text(path / name, text)
    for name in STAGE1_FILES:
        if name not in contents:
            with contextlib.suppress(FileNotFoundError):
                (path / name).unlink()
    return len(ordered)


# ----------------------------------------------------------------------------------------------------------
# Fisher


def _prepare_fisher(
    cfg: PrepareConfig, report: PrepareReport, skip: Skips
) -> tuple[list[Entry], dict[str, WavEntry]]:
    roots = [r for r in cfg.fisher if r]
    for root in roots:
        if not Path(root).is_dir():
            raise PrepareError(f"FISHER root {root}: no such directory")
    logger.info("Fisher: searching fe_03_*.sph and fe_03_*.txt below %s", " ".join(roots))
    audio = fisher_mod.find_fisher_audio(roots)
    trans = fisher_mod.find_fisher_transcripts(roots)
    report.counts["fisher_sph_files"] = len(audio.files)
    report.counts["fisher_transcript_files"] = len(trans.files)
    logger.info("found %d Fisher audio files and %d transcripts", len(audio.files), len(trans.files))
    for n, what in ((len(audio.files), "audio files"), (len(trans.files), "transcripts")):
        if n != fisher_mod.EXPECTED_CALLS:
            logger.warning(
                "expected %d Fisher %s (LDC2004/2005), found %d", fisher_mod.EXPECTED_CALLS, what, n
            )
    for p in audio.duplicates:
        skip("fisher_duplicate_sph", f"{p}: another file of this call was found first")
    for p in trans.duplicates:
        skip("fisher_duplicate_transcript", f"{p}: another transcript of this call was found first")
    entries: list[Entry] = []
    cs = cs_text
    for call in sorted(trans.files):
        path = trans.files[call]
        try:
            t = fisher_mod.read_fisher_entries(path, cfg.fisher_unintelligible)
        except fisher_mod.FisherFormatError as e:
            if not cfg.skip_bad_rows:
                raise PrepareError(str(e)) from None
            skip("fisher_bad_transcript", str(e))
            continue
        for line in t.other_lines:
            skip("fisher_other_lines", line)
        for status, utt, lineno in t.skipped:
            skip(
                f"fisher_segments_{status}", None if status == "unintelligible" else f"{path}:{lineno}: {utt}"
            )
        if call not in audio.files:
            skip("fisher_transcript_no_audio", f"{path}: no audio file for {call}")
            skip("fisher_segments_no_audio", None, n=len(t.entries))
            continue
        entries.extend((utt, reco, cs(a), cs(b), cs(b - a), text) for utt, reco, a, b, text in t.entries)
    for call in sorted(set(audio.files) - set(trans.files)):
        skip("fisher_audio_no_transcript", f"{audio.files[call]}: no transcript for {call}")
    wav: dict[str, WavEntry] = {}
    for call, path in audio.files.items():
        if call in trans.files:
            for side, channel in (("A", 1), ("B", 2)):
                reco = f"{call}-{side}"
                wav[reco] = WavEntry.from_command(reco, sph2pipe_command(cfg.sph2pipe, path, channel))
    return entries, wav


# ----------------------------------------------------------------------------------------------------------
# Driver


def prepare_data(cfg: PrepareConfig) -> PrepareReport:
    """Write the stage-1 data dirs below ``cfg.out_dir`` (see the module doc); the report of outcomes.

    The cyclic garbage collector is paused meanwhile: the millions of small objects of Fisher (none of them
    in reference cycles) would otherwise make each of its full collections walk them all, again and again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _prepare_data(cfg)
    finally:
        if enabled:
            gc.enable()


def _prepare_data(cfg: PrepareConfig) -> PrepareReport:
    cfg = _checked(cfg)
    report = PrepareReport()
    skip = Skips(report)
    out_dir = Path(cfg.out_dir)
    pool, pool_by_utt, swbd_wav = _swbd_segments(cfg, report, skip)
    rows = _sentiment_rows(cfg, report, skip)
    split_labels, held_out = _labels_by_split(cfg, rows, pool, pool_by_utt, report, skip)
    _write_swbd_dirs(cfg, out_dir, split_labels, held_out, pool_by_utt, swbd_wav, report)
    _write_fisher_dir(cfg, out_dir, report, skip)
    skip.close(out_dir / "local" / "prepare_data.skipped")
    logger.info(report.summary())
    return report


def _checked(cfg: PrepareConfig) -> PrepareConfig:
    """``cfg`` with its values checked (PrepareError), ``--split_lists`` implying ``--split lists``."""
    if cfg.split not in SPLIT_METHODS:
        raise PrepareError(f"--split must be one of {', '.join(SPLIT_METHODS)}, got {cfg.split!r}")
    if cfg.split_lists and cfg.split == "conversation":
        cfg = dataclasses.replace(cfg, split="lists")
    if cfg.match_tolerance < 0:
        raise PrepareError("--match_tolerance must be >= 0")
    if cfg.fisher_unintelligible not in fisher_mod.UNINTELLIGIBLE_MODES:
        raise PrepareError(
            f"--fisher_unintelligible must be one of {', '.join(fisher_mod.UNINTELLIGIBLE_MODES)}"
        )
    if not cfg.swbd_sentiment:
        raise PrepareError("SWBD_SENTIMENT (the LDC2020T14 root) is needed")
    return cfg


def _swbd_segments(
    cfg: PrepareConfig, report: PrepareReport, skip: Skips
) -> tuple[list[PoolSegment], dict[str, PoolSegment], dict[str, WavEntry]]:
    """The Switchboard segments (each outcome counted), by utterance, and the recordings' wav.scp entries."""
    if cfg.swbd_data_dir:
        pool, swbd_wav = pool_from_data_dir(cfg, report, skip)
    else:
        pool, swbd_wav = pool_from_ms98(cfg, report, skip)
    pool_by_utt: dict[str, PoolSegment] = {}
    if cfg.swbd_data_dir:
        mark_overlaps(pool)  # (MS98 segments are marked while read)
    for seg in pool:
        if seg.utt in pool_by_utt and pool_by_utt[seg.utt].status == "ok":
            continue
        pool_by_utt[seg.utt] = seg
    for seg in pool:
        if seg.status == "ok":
            report.counts["swbd_segments_ok"] += 1
        else:
            skip(
                f"swbd_segments_{seg.status}",
                None if seg.status == "silence_only" else f"{seg.where}: {seg.utt}",
            )
    return pool, pool_by_utt, swbd_wav


def _sentiment_rows(cfg: PrepareConfig, report: PrepareReport, skip: Skips) -> list[SentimentRow]:
    """The rows of the sentiment TSV (header, blank and bad lines counted)."""
    assert cfg.swbd_sentiment is not None
    tsv = sentiment_tsv_path(cfg.swbd_sentiment)
    logger.info("sentiment labels: reading %s", tsv)
    table = read_sentiment_tsv(tsv, skip_bad_rows=cfg.skip_bad_rows)
    if table.header is not None:
        logger.info("%s:1: header row recognised: %r", tsv, table.header)
        report.counts["rows_header"] = 1
    if table.blank_lines:
        skip("rows_blank_lines", f"{tsv}: {table.blank_lines} blank line(s)", n=table.blank_lines)
    for bad in table.bad_rows:
        skip("rows_bad", bad)
    if table.few_votes:
        logger.warning("%s: %d row(s) with fewer than 3 votes", tsv, table.few_votes)
    report.counts["rows_read"] = len(table.rows)
    logger.info("read %d sentiment rows", len(table.rows))
    return table.rows


def _labels_by_split(
    cfg: PrepareConfig,
    rows: Sequence[SentimentRow],
    pool: Sequence[PoolSegment],
    pool_by_utt: Mapping[str, PoolSegment],
    report: PrepareReport,
    skip: Skips,
) -> tuple[dict[str, dict[str, str]], set[str]]:
    """Per split ``utt → label`` (each split non-empty, or PrepareError), and the held-out conversations."""
    if cfg.split == "espnet":
        logger.info("split: ESPnet egs2/swbd_sentiment's (TSV line ranges, its matching reproduced)")
        split_labels, held_out = _label_espnet(rows, pool, pool_by_utt, skip)
    else:
        labeled = _label_conversation_or_lists(cfg, rows, pool_by_utt, skip)
        if cfg.split == "conversation":
            logger.info(
                "split: by conversation, %s h proportions, seed %s",
                "/".join(format_number(float(h)) for h in cfg.split_hours),
                cfg.split_seed,
            )
        split_labels, held_out = _split_labeled(cfg, labeled, pool_by_utt, skip)
    n_labeled = sum(len(v) for v in split_labels.values())
    if n_labeled == 0:
        raise PrepareError(f"no sentiment row matched a usable segment ({report.summary()})")
    empty = [cfg.set_name(s) for s in SPLITS if not split_labels[s]]
    if empty:
        hint = {
            "conversation": "fewer than 3 labeled conversations?",
            "lists": "do the lists name labeled segments?",
            "espnet": "ESPnet's line ranges need the full 52,293-row TSV",
        }[cfg.split]
        raise PrepareError(f"no labeled segment in {', '.join(empty)} ({hint}; {report.summary()})")
    return split_labels, held_out


def _write_swbd_dirs(
    cfg: PrepareConfig,
    out_dir: Path,
    split_labels: Mapping[str, Mapping[str, str]],
    held_out: set[str],
    pool_by_utt: Mapping[str, PoolSegment],
    swbd_wav: Mapping[str, WavEntry],
    report: PrepareReport,
) -> None:
    """The labeled dirs (one per split) and the ASR training dir (the conversations not held out)."""
    for split in SPLITS:
        name = cfg.set_name(split)
        labels = split_labels[split]
        segs = [pool_by_utt[u] for u in labels]
        n = write_data_dir(out_dir / name, (seg.entry() for seg in segs), swbd_wav, labels)
        report.dirs[name] = n
        report.hours[name] = round(sum(s.duration for s in segs) / 3600, 3)
        report.counts[f"labeled_{split}"] = n
        by_label = Counter(labels.values())
        logger.info(
            "wrote %s: %d utterances (%.2f h), %d conversations, %s",
            out_dir / name,
            n,
            report.hours[name],
            len({s.conv for s in segs}),
            " ".join(f"{k}={by_label[k]}" for k in sorted(by_label)),
        )
    asr_segs = [s for u, s in pool_by_utt.items() if s.status == "ok" and s.conv not in held_out]
    n = write_data_dir(out_dir / cfg.asr_train_set, (seg.entry() for seg in asr_segs), swbd_wav)
    report.dirs[cfg.asr_train_set] = n
    report.hours[cfg.asr_train_set] = round(sum(s.duration for s in asr_segs) / 3600, 3)
    report.counts["asr_train_segments"] = n
    logger.info(
        "wrote %s: %d utterances (%.2f h) of %d conversations",
        out_dir / cfg.asr_train_set,
        n,
        report.hours[cfg.asr_train_set],
        len({s.conv for s in asr_segs}),
    )


def _write_fisher_dir(cfg: PrepareConfig, out_dir: Path, report: PrepareReport, skip: Skips) -> None:
    if not any(cfg.fisher):
        logger.warning("FISHER is empty: %s not prepared", out_dir / cfg.fisher_set)
        return
    fentries, fwav = _prepare_fisher(cfg, report, skip)
    report.counts["fisher_segments_ok"] = len(fentries)
    seconds = sum(float(e[4]) for e in fentries)
    n = write_data_dir(out_dir / cfg.fisher_set, fentries, fwav)
    report.dirs[cfg.fisher_set] = n
    report.hours[cfg.fisher_set] = round(seconds / 3600, 3)
    logger.info("wrote %s: %d utterances (%.2f h)", out_dir / cfg.fisher_set, n, report.hours[cfg.fisher_set])
