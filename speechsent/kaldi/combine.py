"""``combine``: combine data directories, as Kaldi's ``utils/combine_data.sh`` does (stdlib only).

The implementation behind ``utils/combine_data.sh`` (through ``speechsent.bin.data_dir``); every table that
all sources have is combined (``utt2sentiment``, ``utt2pseudo`` and ``utt2pseudo_prob`` included), then the
result is fixed (:func:`speechsent.kaldi.fix.fix`).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from speechsent.kaldi.data_dir import RECO_FILES, SPK_FILES, DataDir, utt_files
from speechsent.kaldi.fix import FixReport, fix
from speechsent.kaldi.formats import examples
from speechsent.kaldi.shared import same_dir, words, write_spk2utt
from speechsent.kaldi.table import KaldiDataError, read_table, write_table

__all__ = [
    "CombineReport",
    "combine",
]


@dataclasses.dataclass
class CombineReport:
    """What :func:`combine` did."""

    messages: list[str]
    #: Files not combined because some source lacks them.
    skipped: list[str]
    fix: FixReport | None


def _merge(
    name: str, srcs: Sequence[Path], tables: Sequence[Mapping[str, str]], sources: dict[str, Path]
) -> dict[str, str]:
    """Union of tables; a key in several sources must have the same value everywhere."""
    merged: dict[str, str] = {}
    for src, table in zip(srcs, tables, strict=True):
        for key, value in table.items():
            if key in merged:
                if merged[key] != value:
                    raise KaldiDataError(
                        f"key {key!r} has different values in {sources[key] / name} ({merged[key]!r}) "
                        f"and {src / name} ({value!r})"
                    )
                continue
            merged[key] = value
            sources[key] = src
    return merged


def _whole_recording_segments(src: Path) -> dict[str, str]:
    """Segments ``utt utt 0 dur`` for a directory without segments (wav.scp indexed by utterance)."""
    d = DataDir(src)
    durs = d.utt2dur or d.reco2dur
    if durs is None:
        raise KaldiDataError(
            f"{src} has no segments file and no utt2dur/reco2dur to make one from (the other sources have "
            "segments)"
        )
    utts = d.require("utt2spk")
    missing = [u for u in utts if u not in durs]
    if missing:
        raise KaldiDataError(
            f"{len(missing)} utterance(s) without a duration (e.g. {examples(missing)})", src
        )
    return {u: f"{u} 0 {durs[u]!r}" for u in utts}


def combine(
    dst: str | os.PathLike[str],
    srcs: Sequence[str | os.PathLike[str]],
    *,
    extra_files: str | Iterable[str] | None = None,
    skip_fix: bool = False,
) -> CombineReport:
    """Combine data directories into ``dst``, as Kaldi's ``utils/combine_data.sh`` does.

    ``dst`` is emptied first (it must be a data directory, i.e. hold ``utt2spk``, or be empty). A table is
    combined when every source has it (``utt2sentiment``, ``utt2pseudo`` ... included), otherwise skipped with
    a message; ``utt2uniq`` and ``segments`` are made where missing (identity; whole-recording segments from
    ``utt2dur``). A key found in several sources must have the same value in each (else
    :class:`KaldiDataError`). Then :func:`fix` runs unless ``skip_fix``.
    """
    dst_p = Path(dst)
    src_ps = [Path(s) for s in srcs]
    if not src_ps:
        raise KaldiDataError("no source directories")
    for s in src_ps:
        if not (s / "utt2spk").is_file():
            raise KaldiDataError("no such file", s / "utt2spk")
        if same_dir(s, dst_p):
            raise KaldiDataError(f"destination {dst_p} is also a source")
    if dst_p.exists():
        if not dst_p.is_dir():
            raise KaldiDataError("exists and is not a directory", dst_p)
        if any(dst_p.iterdir()) and not (dst_p / "utt2spk").is_file():
            raise KaldiDataError(
                "refusing to empty a directory that is not a data directory (no utt2spk)", dst_p
            )
        shutil.rmtree(dst_p)
    dst_p.mkdir(parents=True)

    messages: list[str] = []
    skipped: list[str] = []
    extra = [f for f in words(extra_files) if f != "utt2uniq"]
    out: dict[str, dict[str, str]] = {}

    if any((s / "utt2uniq").is_file() for s in src_ps):
        tables = [
            read_table(s / "utt2uniq")
            if (s / "utt2uniq").is_file()
            else {u: u for u in read_table(s / "utt2spk")}
            for s in src_ps
        ]
        out["utt2uniq"] = _merge("utt2uniq", src_ps, tables, {})
        messages.append("combined utt2uniq")
    if any((s / "segments").is_file() for s in src_ps):
        tables = []
        for s in src_ps:
            if (s / "segments").is_file():
                tables.append(read_table(s / "segments"))
            else:
                messages.append(f"[info]: will generate missing segments for {s}")
                tables.append(_whole_recording_segments(s))
        out["segments"] = _merge("segments", src_ps, tables, {})
        messages.append("combined segments")

    utts = (u for s in src_ps for u in utt_files(s))  # per-labeler utt2pseudo_* files too
    names = [n for n in (*utts, *RECO_FILES, *SPK_FILES[1:], *extra) if n not in ("utt2uniq", "segments")]
    for name in dict.fromkeys(names):
        present = [(s / name).is_file() for s in src_ps]
        if all(present):
            out[name] = _merge(name, src_ps, [read_table(s / name) for s in src_ps], {})
            messages.append(f"combined {name}")
        elif any(present):
            skipped.append(name)
            messages.append(f"[info]: **not combining {name} as it does not exist everywhere**")

    for name, table in out.items():
        write_table(dst_p / name, table)
    write_spk2utt(dst_p, out["utt2spk"])

    report = None
    if not skip_fix:
        report = fix(dst_p)
        messages.extend(report.messages)
    return CombineReport(messages, skipped, report)
