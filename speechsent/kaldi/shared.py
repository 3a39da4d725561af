"""What fix, copy, combine and subset share: writing tables only when they change, ``spk2utt``, backups.

Backups are never overwritten: each run that changes files gets a new directory, ``<dir>/.backup`` the
first time, then ``.backup.1``, ``.backup.2`` ... (stdlib only).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from speechsent.kaldi.data_dir import RECO_FILES, SPK_FILES, VERBATIM_FILES, utt2spk_to_spk2utt, utt_files
from speechsent.kaldi.table import c_sorted, write_table

__all__ = [
    "backup_dirs",
    "backup_files",
    "move_stale",
    "new_backup_dir",
    "same_dir",
    "table_bytes",
    "words",
    "write_spk2utt",
]


def table_bytes(table: Mapping[str, str]) -> bytes:
    return "".join(f"{k} {v}\n" if v else f"{k}\n" for k, v in table.items()).encode(
        "utf-8", "surrogateescape"
    )


def _write_if_changed(path: Path, table: Mapping[str, str]) -> bool:
    """Write a (sorted) table unless the file already holds exactly that; True if written."""
    ordered = {k: table[k] for k in c_sorted(table)}
    try:
        if path.read_bytes() == table_bytes(ordered):
            return False
    except FileNotFoundError:
        pass
    write_table(path, ordered)
    return True


def write_spk2utt(data: Path, utt2spk: Mapping[str, str]) -> None:
    spk2utt = utt2spk_to_spk2utt(utt2spk)
    _write_if_changed(data / "spk2utt", {s: " ".join(u) for s, u in spk2utt.items()})


def words(files: str | Iterable[str] | None) -> list[str]:
    if files is None:
        return []
    if isinstance(files, str):
        return files.split()
    out: list[str] = []
    for f in files:
        out.extend(f.split())
    return out


_BACKUP = ".backup"


def backup_dirs(data: Path) -> list[tuple[int, Path]]:
    """The backup directories of ``data``, oldest first: ``.backup`` (0), ``.backup.1``, ``.backup.2`` ..."""
    found = []
    with contextlib.suppress(FileNotFoundError):
        for p in data.iterdir():
            if p.name == _BACKUP:
                found.append((0, p))
            elif p.name.startswith(_BACKUP + ".") and p.name[len(_BACKUP) + 1 :].isdigit():
                found.append((int(p.name[len(_BACKUP) + 1 :]), p))
    return sorted(f for f in found if f[1].is_dir())


def new_backup_dir(data: Path) -> Path:
    """A new, empty backup directory: ``.backup`` for the first, then ``.backup.1``, ``.backup.2`` ..."""
    dirs = backup_dirs(data)
    n = dirs[-1][0] + 1 if dirs else 0
    while True:
        path = data / (_BACKUP if n == 0 else f"{_BACKUP}.{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            n += 1


def backup_files(data: Path, names: Iterable[str]) -> tuple[Path, bool]:
    """Keep copies of the files ``names`` of ``data``; ``(the backup directory, whether it is new)``.

    Backups are never overwritten: each run that changes files gets a new numbered directory, unless the
    newest backup already holds exactly these files' bytes (e.g. originals put back and fixed again).
    """
    present = [n for n in names if (data / n).is_file()]
    dirs = backup_dirs(data)
    if dirs:
        latest = dirs[-1][1]
        if all(
            (latest / n).is_file() and (latest / n).read_bytes() == (data / n).read_bytes() for n in present
        ):
            return latest, False
    backup = new_backup_dir(data)
    for name in present:
        shutil.copy2(data / name, backup / name)
    return backup, True


def move_stale(dst: Path, keep: set[str], src: Path, messages: list[str]) -> None:
    """Move the known data files of ``dst`` that were not written (absent from the source) to a backup
    directory: the newest one (``.backup``, ``.backup.1`` ...) when it has none of them, else a new one."""
    stale = [
        name
        for name in (*utt_files(dst), *SPK_FILES, *RECO_FILES, *VERBATIM_FILES)
        if name not in keep and (dst / name).is_file()
    ]
    if not stale:
        return
    dirs = backup_dirs(dst)
    if dirs and not any((dirs[-1][1] / name).exists() for name in stale):
        backup = dirs[-1][1]
    else:
        backup = new_backup_dir(dst)
    for name in stale:
        os.replace(dst / name, backup / name)
        messages.append(f"file {name} exists in dest {dst} but not in src {src}; moved it to {backup / name}")


def same_dir(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b))
    except OSError:
        return False
