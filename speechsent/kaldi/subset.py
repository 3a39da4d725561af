"""``subset``: subset a data directory, as Kaldi's ``utils/subset_data_dir.sh`` does, and more (stdlib only).

The implementation behind ``utils/subset_data_dir.sh`` (through ``speechsent.bin.data_dir``). Beyond
Kaldi's methods it selects by hours (``--hours H --seed S``: nested across H for a seed), randomly
(``--random N --seed S``) and by shortest from ``utt2dur``/``segments`` (Kaldi reads feats); every
utterance-indexed table is filtered (``utt2sentiment``, ``utt2pseudo`` and ``utt2pseudo_prob`` included).
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from speechsent.kaldi.data_dir import RECO_FILES, SPK_FILES, DataDir, utt_files
from speechsent.kaldi.formats import examples
from speechsent.kaldi.shared import move_stale, same_dir, write_spk2utt
from speechsent.kaldi.table import (
    KaldiDataError,
    c_sort_key,
    read_lines,
    split_fields,
    write_lines,
    write_table,
)
from speechsent.utils.seeded import seeded_order

__all__ = [
    "SUBSET_METHODS",
    "SubsetReport",
    "select_evenly",
    "select_first",
    "select_hours",
    "select_last",
    "select_per_speaker",
    "select_random",
    "select_shortest",
    "select_speakers",
    "subset",
    "subset_by_utts",
]


def select_evenly(utts: Sequence[str], n: int) -> list[str]:
    """``n`` items spread evenly over ``utts`` (Kaldi's ``subset_scp.pl`` default: recursive halving)."""
    _check_n(n, len(utts))
    chosen: list[str] = []
    stack = [(0, len(utts), n)]
    while stack:  # depth-first, left half first: keeps the input order
        start, end, needed = stack.pop()
        if needed == 0:
            continue
        if end - start == 1:
            chosen.append(utts[start])
            continue
        half = (end - start) // 2
        stack.append((start + half, end, needed - needed // 2))
        stack.append((start, start + half, needed // 2))
    return chosen


def select_first(utts: Sequence[str], n: int) -> list[str]:
    _check_n(n, len(utts))
    return list(utts[:n])


def select_last(utts: Sequence[str], n: int) -> list[str]:
    _check_n(n, len(utts))
    return list(utts[len(utts) - n :])


def select_shortest(durations: Mapping[str, float], n: int) -> list[str]:
    """The ``n`` shortest utterances (ties broken by id)."""
    _check_n(n, len(durations))
    return sorted(durations, key=lambda u: (durations[u], c_sort_key(u)))[:n]


def select_random(utts: Iterable[str], n: int, seed: int | str = 0) -> list[str]:
    """``n`` utterances at random (a prefix of :func:`seeded_order`: nested for increasing ``n``)."""
    order = seeded_order(utts, seed)
    _check_n(n, len(order))
    return order[:n]


def select_hours(durations: Mapping[str, float], hours: float, seed: int | str = 0) -> list[str]:
    """A random subset of at most ``hours`` hours: the longest prefix of :func:`seeded_order` that fits.

    Deterministic for a seed, and nested: for the same seed (and source) the subset for fewer hours is a
    subset of the one for more hours (2.5 h ⊂ 5 h ⊂ 7.5 h ...). The shortfall is below one utterance.
    """
    if not hours > 0 or not math.isfinite(hours):
        raise ValueError(f"--hours must be a positive number, got {hours}")
    budget = hours * 3600.0
    chosen = []
    total = 0.0
    for u in seeded_order(durations, seed):
        if total + durations[u] > budget + 1e-9:
            break
        total += durations[u]
        chosen.append(u)
    return chosen


def select_per_speaker(spk2utt: Mapping[str, Sequence[str]], n: int) -> list[str]:
    """Up to ``n`` utterances per speaker, evenly spaced in each speaker's list (Kaldi's ``--per-spk``)."""
    if n <= 0:
        raise ValueError(f"the number of utterances must be > 0, got {n}")
    chosen = []
    for utts in spk2utt.values():
        skip = 1
        while n * (skip + 1) <= len(utts):
            skip += 1
        chosen.extend(utts[i] for i in range(0, min(len(utts), n * skip), skip))
    return chosen


def select_speakers(spk2utt: Mapping[str, Sequence[str]], n: int, seed: int | str = 0) -> list[str]:
    """Random whole speakers until at least ``n`` utterances are reached (Kaldi's ``--speakers``)."""
    if n <= 0:
        raise ValueError(f"the number of utterances must be > 0, got {n}")
    chosen: list[str] = []
    for spk in seeded_order(spk2utt, seed):
        if len(chosen) >= n:
            break
        chosen.extend(spk2utt[spk])
    return chosen


def _check_n(n: int, available: int) -> None:
    if n <= 0:
        raise ValueError(f"the number of utterances must be > 0, got {n}")
    if n > available:
        raise ValueError(f"cannot subset to more utterances than you originally had ({n} > {available})")


@dataclasses.dataclass
class SubsetReport:
    """What :func:`subset` did."""

    num_utts_before: int
    num_utts_after: int
    #: Total duration of the subset in seconds (``None`` when the source has no utt2dur/segments).
    seconds: float | None
    messages: list[str]


def _durations(d: DataDir) -> dict[str, float] | None:
    try:
        return d.durations()
    except KaldiDataError:
        frames = d.utt2num_frames
        return None if frames is None else {u: float(f) for u, f in frames.items()}


def subset_by_utts(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    utts: Iterable[str],
    *,
    messages: list[str] | None = None,
) -> SubsetReport:
    """Write the data directory ``src`` restricted to the utterances ``utts`` into ``dst``.

    Every utterance-indexed table is filtered (``utt2sentiment``, ``utt2pseudo`` ... included), speaker
    tables by the remaining speakers, ``wav.scp``/``reco2file_and_channel``/``reco2dur``/``stm`` by the
    remaining recordings (by utterance without segments); ``glm`` is copied. Known data files of ``dst`` that
    are not written are moved to ``dst/.backup``. Ids of ``utts`` not in ``src`` are ignored.
    """
    src_p, dst_p = Path(src), Path(dst)
    if not (src_p / "utt2spk").is_file():
        raise KaldiDataError("no such file", src_p / "utt2spk")
    if same_dir(src_p, dst_p):
        raise KaldiDataError(f"<srcdir> and <destdir> must be different ({src_p})")
    log = messages if messages is not None else []
    d = DataDir(src_p)
    utt2spk = d.require("utt2spk")
    keep = set(utts) & set(utt2spk)
    speakers = {utt2spk[u] for u in keep}
    has_segments = d.has("segments")
    out: dict[str, dict[str, str]] = {}
    for name in utt_files(src_p):
        if d.has(name):
            out[name] = {k: v for k, v in d.require(name).items() if k in keep}
    for name in SPK_FILES[1:]:
        if d.has(name):
            out[name] = {k: v for k, v in d.require(name).items() if k in speakers}
    recos = {split_fields(v)[0] for v in out["segments"].values()} if has_segments else keep
    for name in RECO_FILES:
        if d.has(name):
            out[name] = {k: v for k, v in d.require(name).items() if k in recos}

    dst_p.mkdir(parents=True, exist_ok=True)
    for name, table in out.items():
        write_table(dst_p / name, table)
    write_spk2utt(dst_p, out["utt2spk"])
    written = {*out, "spk2utt"}
    if (src_p / "stm").is_file():
        files: set[tuple[str, ...]] = set()
        r2fc = out.get("reco2file_and_channel")
        if r2fc is not None:
            files = {tuple(split_fields(v)) for v in r2fc.values()}
        lines = []
        for line in read_lines(src_p / "stm").lines:
            f = split_fields(line)
            if (
                not f
                or f[0].startswith(";;")
                or (tuple(f[:2]) in files if r2fc is not None else f[0] in recos)
            ):
                lines.append(line)
        write_lines(dst_p / "stm", lines)
        written.add("stm")
    if (src_p / "glm").is_file():
        shutil.copyfile(src_p / "glm", dst_p / "glm")
        written.add("glm")
    move_stale(dst_p, written, src_p, log)

    durs = _durations(d)
    seconds = None if durs is None else sum(durs.get(u, 0.0) for u in keep)
    log.append(f"reducing #utt from {len(utt2spk)} to {len(keep)}")
    return SubsetReport(len(utt2spk), len(keep), seconds, log)


#: The selection methods of :func:`subset` (``utt_list``/``spk_list`` take a file, ``hours`` a float,
#: the others a number of utterances).
SUBSET_METHODS = (
    "even",
    "first",
    "last",
    "shortest",
    "random",
    "per_spk",
    "speakers",
    "hours",
    "utt_list",
    "spk_list",
)


def _read_id_list(path: str | os.PathLike[str]) -> list[str]:
    ids = []
    for line in read_lines(path).lines:
        f = split_fields(line)
        if f:
            ids.append(f[0])
    return ids


def subset(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    method: str = "even",
    *,
    num: int | None = None,
    hours: float | None = None,
    id_list: str | os.PathLike[str] | None = None,
    seed: int | str = 0,
) -> SubsetReport:
    """Subset a data directory, as Kaldi's ``utils/subset_data_dir.sh`` does, and more.

    ``method`` (one of :data:`SUBSET_METHODS`):

    * ``even`` (Kaldi's default): ``num`` utterances evenly spread over the sorted list;
    * ``first``/``last``: the first/last ``num``; ``shortest``: the ``num`` shortest (``utt2dur``, else
      ``segments``, else ``utt2num_frames``);
    * ``random``: ``num`` utterances at random (``seed``; nested for increasing ``num``);
    * ``per_spk``: up to ``num`` per speaker; ``speakers``: random whole speakers until ``num`` utterances;
    * ``hours``: a random subset of at most ``hours`` hours (``seed``; nested for increasing ``hours``, see
      :func:`select_hours`);
    * ``utt_list``/``spk_list``: the utterances/speakers listed (first field of each line) in ``id_list``.
    """
    src_p = Path(src)
    if not (src_p / "utt2spk").is_file():
        raise KaldiDataError("no such file", src_p / "utt2spk")
    d = DataDir(src_p)
    messages: list[str] = []
    if method in ("utt_list", "spk_list"):
        if id_list is None:
            raise ValueError(f"subset method {method} needs a list file")
        chosen = _choose_listed(d, method, id_list, messages)
    elif method == "hours":
        if hours is None:
            raise ValueError("subset method hours needs --hours")
        chosen = _choose_hours(d, hours, seed, messages)
    else:
        if num is None:
            raise ValueError(f"subset method {method} needs a number of utterances")
        chosen = _choose_num(d, method, num, seed)
    return subset_by_utts(src_p, dst, chosen, messages=messages)


def _choose_listed(
    d: DataDir, method: str, id_list: str | os.PathLike[str], messages: list[str]
) -> list[str]:
    """The utterances (``utt_list``) or the speakers' utterances (``spk_list``) listed in ``id_list``."""
    utts = d.utt_ids
    ids = _read_id_list(id_list)
    if method == "utt_list":
        chosen = ids
        unknown = set(ids) - set(utts)
    else:
        spk2utt = d.spk2utt
        chosen = [u for s in ids if s in spk2utt for u in spk2utt[s]]
        unknown = set(ids) - set(spk2utt)
    if unknown:
        messages.append(
            f"WARNING: {len(unknown)} id(s) of {id_list} not in {d.path} (e.g. {examples(unknown)})"
        )
    return chosen


def _choose_hours(d: DataDir, hours: float, seed: int | str, messages: list[str]) -> list[str]:
    """At most ``hours`` hours at random (:func:`select_hours`)."""
    src_p = d.path
    utts = d.utt_ids
    all_durs = d.durations()  # utt2dur, else segments; KaldiDataError if neither
    missing = [u for u in utts if u not in all_durs]
    if missing:
        raise KaldiDataError(
            f"{len(missing)} utterance(s) without a duration (e.g. {examples(missing)})", src_p
        )
    durs = {u: all_durs[u] for u in utts}
    chosen = select_hours(durs, hours, seed)
    total = sum(durs.values())
    if total <= hours * 3600.0:
        messages.append(f"WARNING: {src_p} has only {total / 3600:.3f} hours (< {hours}): taking all of it")
    got = sum(durs[u] for u in chosen)
    messages.append(
        f"selected {len(chosen)} utterances, {got / 3600:.4f} hours (at most {hours} h, seed {seed})"
    )
    return chosen


def _choose_num(d: DataDir, method: str, num: int, seed: int | str) -> list[str]:
    """``num`` utterances by ``method`` (even, first, last, random, shortest, per_spk, speakers)."""
    utts = d.utt_ids
    if method == "even":
        return select_evenly(utts, num)
    if method == "first":
        return select_first(utts, num)
    if method == "last":
        return select_last(utts, num)
    if method == "random":
        return select_random(utts, num, seed)
    if method == "shortest":
        durs = _durations(d)
        if durs is None:
            raise KaldiDataError(f"--shortest needs utt2dur, segments or utt2num_frames in {d.path}")
        return select_shortest({u: durs[u] for u in utts if u in durs}, num)
    if method == "per_spk":
        return select_per_speaker(d.spk2utt, num)
    if method == "speakers":
        return select_speakers(d.spk2utt, num, seed)
    raise ValueError(f"unknown subset method {method!r}; expected one of {', '.join(SUBSET_METHODS)}")
