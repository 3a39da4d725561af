"""``copy``: copy a data directory, renaming ids, as Kaldi's ``utils/copy_data_dir.sh`` does (stdlib only).

The implementation behind ``utils/copy_data_dir.sh`` (through ``speechsent.bin.data_dir``); every table is
carried along (``utt2sentiment``, ``utt2pseudo`` and ``utt2pseudo_prob`` included).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from speechsent.kaldi.data_dir import RECO_FILES, SPK_FILES, VERBATIM_FILES, DataDir, utt_files
from speechsent.kaldi.formats import examples
from speechsent.kaldi.shared import move_stale, same_dir, words, write_spk2utt
from speechsent.kaldi.table import KaldiDataError, write_table
from speechsent.kaldi.validate import ValidateOptions, validate

__all__ = [
    "copy",
]


def copy(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    utt_prefix: str = "",
    utt_suffix: str = "",
    spk_prefix: str = "",
    spk_suffix: str = "",
    validate_opts: ValidateOptions | Iterable[str] | None = None,
    messages: list[str] | None = None,
) -> list[str]:
    """Copy a data directory, optionally adding prefixes/suffixes to utterance and speaker ids.

    As Kaldi's ``utils/copy_data_dir.sh``: recording ids stay the same; with a new utterance id an
    ``utt2uniq`` (new id → original id) is written (or the source's carried along); files of the destination
    that the source lacks are moved to ``<dst>/.backup/``; the result is validated (with ``validate_opts``,
    plus ``--no-feats``/``--no-text``/``--no-wav`` when the source lacks that file) and the problems returned.
    Every utterance-indexed table is carried (``utt2sentiment``, ``utt2pseudo``, ``utt2pseudo_prob``,
    ``utt2dur`` ...), speaker-indexed tables renamed, ``wav.scp``/``reco2file_and_channel``/``reco2dur`` kept
    (renamed when there are no segments: they are then utterance-indexed), ``stm glm ctm`` copied.
    """
    src_p, dst_p = Path(src), Path(dst)
    if not (src_p / "utt2spk").is_file():
        raise KaldiDataError("no such file", src_p / "utt2spk")
    if same_dir(src_p, dst_p):
        raise KaldiDataError(f"<srcdir> and <destdir> must be different ({src_p})")
    if validate_opts is None:
        vopts = ValidateOptions()
    elif isinstance(validate_opts, ValidateOptions):
        vopts = validate_opts
    else:
        vopts = ValidateOptions.from_args(words(validate_opts))
    log = messages if messages is not None else []

    d = DataDir(src_p)
    utt2spk = d.require("utt2spk")
    utt_map = {u: f"{utt_prefix}{u}{utt_suffix}" for u in utt2spk}
    speakers = set(utt2spk.values())
    spk2utt_src = d.table("spk2utt")
    if spk2utt_src is not None:
        speakers |= set(spk2utt_src)
    spk_map = {s: f"{spk_prefix}{s}{spk_suffix}" for s in speakers}
    out = _renamed_tables(d, src_p, utt_map, spk_map, bool(utt_prefix or utt_suffix))

    dst_p.mkdir(parents=True, exist_ok=True)
    for name, table in out.items():
        write_table(dst_p / name, table)
    write_spk2utt(dst_p, out["utt2spk"])
    written = {*out, "spk2utt"}
    for name in VERBATIM_FILES:
        if (src_p / name).is_file():
            shutil.copyfile(src_p / name, dst_p / name)
            written.add(name)
    log.append(f"copied data from {src_p} to {dst_p}")
    move_stale(dst_p, written, src_p, log)

    vopts = dataclasses.replace(
        vopts,
        no_feats=vopts.no_feats or not d.has("feats.scp"),
        no_text=vopts.no_text or not d.has("text"),
        no_wav=vopts.no_wav or not d.has("wav.scp"),
    )
    return validate(dst_p, **dataclasses.asdict(vopts))


def _renamed_tables(
    d: DataDir, src: Path, utt_map: Mapping[str, str], spk_map: Mapping[str, str], new_utt_ids: bool
) -> dict[str, dict[str, str]]:
    """The tables of ``d`` with utterance and speaker ids renamed (recording ids kept where there are
    segments); ``utt2uniq`` made (new id → original id) when ``new_utt_ids`` and ``d`` has none."""
    utt2spk = d.require("utt2spk")
    out: dict[str, dict[str, str]] = {"utt2spk": {utt_map[u]: spk_map[s] for u, s in utt2spk.items()}}
    utt_names = [n for n in utt_files(src) if n not in ("utt2spk", "utt2uniq")]
    reco_names = list(RECO_FILES)
    if not d.has("segments"):
        utt_names += reco_names
        reco_names = []
    for name in utt_names:
        if d.has(name):
            out[name] = _remap(d, src, name, utt_map)
    if d.has("utt2uniq"):
        out["utt2uniq"] = _remap(d, src, "utt2uniq", utt_map)
    elif new_utt_ids:
        out["utt2uniq"] = {utt_map[u]: u for u in utt2spk}
    for name in SPK_FILES[1:]:
        if d.has(name):
            out[name] = _remap(d, src, name, spk_map)
    for name in reco_names:
        if d.has(name):
            out[name] = dict(d.require(name))
    return out


def _remap(d: DataDir, src: Path, name: str, mapping: Mapping[str, str]) -> dict[str, str]:
    """The table ``name`` of ``d`` with its keys renamed by ``mapping`` (every key must be in it)."""
    table = d.require(name)
    unknown = [k for k in table if k not in mapping]
    if unknown:
        raise KaldiDataError(
            f"{len(unknown)} key(s) not in utt2spk/spk2utt (e.g. {examples(unknown)}); "
            "run utils/fix_data_dir.sh first",
            src / name,
        )
    return {mapping[k]: v for k, v in table.items()}
