"""The job layout, rerun check, merge and job array that both feature dumps share (stages 5 and 9).

The encoder dump (:mod:`speechsent.asr.encoder_dump`) and the fbank dump (:mod:`speechsent.features.fbank`)
write the same files, so that both look alike to the classifiers and to the recipe. Job ``J`` of ``N``::

    <out_dir>/feats.J.ark  feats.J.scp      the matrices of every utterance of the job
    <out_dir>/utt2num_frames.J  skipped.J  frames per dumped utterance; utterances not dumped and why
    <out_dir>/done.J                        JSON: what was done (counts, storage, options' fingerprint)

Every file appears atomically: the ark is written under a temporary name and renamed when complete, then
the job's scp, then ``done.J``; so no scp line ever points into a partial ark, and a rerun skips a job whose
``done.J`` matches its fingerprint (:func:`reuse_complete_job`). :func:`merge_jobs` checks that every
utterance of the data dir was dumped or skipped, then writes ``utt2num_frames``, ``skipped_utts``,
``info.json`` and, last, ``feats.scp`` (``LC_ALL=C`` sorted); it stops with a :class:`DumpError` naming
``skipped_utts`` under the failure rule of :mod:`speechsent.asr.failures`.

The utterances of job ``J`` are those of the data dir split into ``N`` contiguous, duration-balanced groups of
whole recordings (:func:`split_utterances`: each recording is read by one job), or all of it when it is a
pre-split ``.../splitN/J`` dir. :func:`run_dump` runs a whole dump as one call, the way every parallel stage
does (:mod:`speechsent.jobs`): the configs in a JSON spec, ``${cmd} JOB=1:N <log_dir>/dump.JOB.log python -m
<worker module> --worker SPEC --job JOB``, then the merge of every set.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsent.asr.failures import DEFAULT_MAX_FAILED_FRACTION, failure_message
from speechsent.jobs import python_module, run_jobs
from speechsent.kaldi.ark import StorageStats
from speechsent.kaldi.data_dir import DataDir
from speechsent.kaldi.table import c_sorted, read_table, write_table
from speechsent.utils.fileio import read_json, read_json_or_none, write_json

__all__ = [
    "DumpError",
    "JobFiles",
    "JobResult",
    "MergeResult",
    "config_dict",
    "default_log_dir",
    "job_complete",
    "job_files",
    "job_utterances",
    "merge_jobs",
    "publish_job_outputs",
    "reuse_complete_job",
    "run_dump",
    "run_worker",
    "split_utterances",
]

log = logging.getLogger(__name__)


class DumpError(RuntimeError):
    """A dump or merge that cannot be completed (the message says what to do)."""


# ----------------------------------------------------------------------------------------------------------
# Splitting


def _durations(data: DataDir, utts: Sequence[str]) -> dict[str, float]:
    utt2dur = data.utt2dur
    segments = data.segments
    out = {}
    for utt in utts:
        if utt2dur is not None and utt in utt2dur:
            out[utt] = utt2dur[utt]
        elif segments is not None and utt in segments:
            out[utt] = segments[utt].duration
        else:
            out[utt] = 1.0
    return out


def split_utterances(data: DataDir, nj: int) -> list[list[str]]:
    """The utterances of ``data`` in ``nj`` contiguous groups of whole recordings, balanced by duration.

    Recordings are taken in ``LC_ALL=C`` order (utterances without ``segments``: each its own recording); a
    recording goes to the job its duration midpoint falls into. Jobs may be empty when there are fewer
    recordings than jobs. Each group is ``LC_ALL=C`` sorted.
    """
    utts = data.utt_ids
    segments = data.segments
    by_reco: dict[str, list[str]] = {}
    for utt in utts:
        reco = segments[utt].reco if segments is not None and utt in segments else utt
        by_reco.setdefault(reco, []).append(utt)
    durations = _durations(data, utts)
    recos = c_sorted(by_reco)
    weights = [sum(durations[u] for u in by_reco[r]) for r in recos]
    total = sum(weights) or 1.0
    jobs: list[list[str]] = [[] for _ in range(nj)]
    done = 0.0
    for reco, weight in zip(recos, weights, strict=True):
        mid = (done + weight / 2) / total
        jobs[min(nj - 1, int(mid * nj))].extend(by_reco[reco])
        done += weight
    return [c_sorted(j) for j in jobs]


def _is_presplit(data_dir: Path, nj: int, job: int) -> bool:
    return data_dir.name == str(job) and data_dir.parent.name in (f"split{nj}", f"split{nj}utt")


def job_utterances(data_dir: Path, nj: int, job: int) -> list[str]:
    """The utterances job ``job`` (1-based) of ``nj`` dumps (see :func:`split_utterances`)."""
    if not 1 <= job <= nj:
        raise DumpError(f"job {job} is not in 1..{nj}")
    data = DataDir(data_dir)
    if _is_presplit(data_dir, nj, job):
        return data.utt_ids
    return split_utterances(data, nj)[job - 1]


# ----------------------------------------------------------------------------------------------------------
# Job files


@dataclass(frozen=True)
class JobFiles:
    ark: Path
    scp: Path
    num_frames: Path
    skipped: Path
    done: Path
    tmp_ark: Path

    def outputs(self) -> tuple[Path, ...]:
        return (self.done, self.scp, self.num_frames, self.skipped, self.ark, self.tmp_ark)


def job_files(out_dir: Path, job: int) -> JobFiles:
    out_dir = Path(out_dir).absolute()
    return JobFiles(
        ark=out_dir / f"feats.{job}.ark",
        scp=out_dir / f"feats.{job}.scp",
        num_frames=out_dir / f"utt2num_frames.{job}",
        skipped=out_dir / f"skipped.{job}",
        done=out_dir / f"done.{job}",
        tmp_ark=out_dir / f".feats.{job}.ark.tmp",
    )


def _read_done(files: JobFiles) -> dict[str, Any] | None:
    return read_json_or_none(files.done)


def _unreadable(skipped: dict[str, str]) -> dict[str, str]:
    return {u: r for u, r in skipped.items() if r.startswith("unreadable")}


def job_complete(files: JobFiles, fingerprint: dict[str, Any]) -> dict[str, Any] | None:
    """The job's done record if its output is complete and was made with the same fingerprint.

    A job that could not read some utterances is not complete: it is to be done again, retrying them.
    """
    done = _read_done(files)
    if done is None or done.get("fingerprint") != fingerprint:
        return None
    if _unreadable(dict(done.get("skipped") or {})):
        return None
    try:
        if files.ark.stat().st_size != done["ark_bytes"]:
            return None
        scp_lines = len(read_table(files.scp))
    except (OSError, KeyError, ValueError):
        return None
    return done if scp_lines == done["num_dumped"] else None


@dataclass
class JobResult:
    job: int
    num_utts: int
    num_dumped: int
    skipped: dict[str, str]
    num_frames: int
    seconds: float
    skipped_job: bool = False  # already complete: nothing done
    storage: StorageStats = field(default_factory=StorageStats)
    record: dict[str, Any] = field(default_factory=dict)


def reuse_complete_job(
    files: JobFiles,
    fingerprint: dict[str, Any],
    job: int,
    nj: int,
    *,
    force: bool = False,
    message: str = "job %d/%d: already complete (%d utterances dumped), nothing to do",
) -> JobResult | None:
    """The result of job ``job`` of ``nj`` when its output is complete with the same ``fingerprint`` (and not
    ``force``): ``message`` is logged (job, nj, utterances dumped). Otherwise None, with the outputs of a
    stale or partial earlier attempt removed, ready for the job to run."""
    done = None if force else job_complete(files, fingerprint)
    if done is None and not force:
        old = _read_done(files)
        failed = _unreadable(dict((old or {}).get("skipped") or {}))
        if failed and old is not None and old.get("fingerprint") == fingerprint:
            log.info(
                "job %d/%d: %d utterance(s) could not be read last time (e.g. %s): doing the job again",
                job,
                nj,
                len(failed),
                next(iter(failed)),
                stacklevel=2,
            )
    if done is not None:
        log.info(message, job, nj, done["num_dumped"], stacklevel=2)  # as from the dump's module
        return JobResult(
            job,
            done["num_utts"],
            done["num_dumped"],
            dict(done.get("skipped", {})),
            done["num_frames"],
            0.0,
            skipped_job=True,
            storage=StorageStats.from_json(done["storage"]),
            record=done,
        )
    for path in files.outputs():  # a stale or partial earlier attempt
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return None


def publish_job_outputs(
    files: JobFiles,
    job: int,
    nj: int,
    fingerprint: dict[str, Any],
    utts: Sequence[str],
    scp: dict[str, str],
    num_frames: dict[str, int],
    skipped: dict[str, str],
    stats: StorageStats,
) -> dict[str, Any]:
    """Move a finished job's ark into place and write its tables (feats scp last); returns the fields of its
    done record that every dump has (the caller adds its own, then writes ``files.done``)."""
    os.replace(files.tmp_ark, files.ark)
    write_table(files.num_frames, num_frames)
    write_table(files.skipped, skipped)
    write_table(files.scp, scp)
    return {
        "job": job,
        "nj": nj,
        "fingerprint": fingerprint,
        "num_utts": len(utts),
        "num_dumped": len(scp),
        "num_frames": sum(num_frames.values()),
        "skipped": skipped,
        "ark_bytes": files.ark.stat().st_size,
        "storage": stats.to_json(),
    }


# ----------------------------------------------------------------------------------------------------------
# Merging


@dataclass
class MergeResult:
    num_utts: int
    num_dumped: int
    skipped: dict[str, str]
    info: dict[str, Any]


def merge_jobs(
    data_dir: Path,
    out_dir: Path,
    nj: int,
    *,
    max_failed_fraction: float | None = DEFAULT_MAX_FAILED_FRACTION,
) -> MergeResult:
    """Check and merge the ``nj`` jobs under ``out_dir`` into ``feats.scp`` (written last) and friends.

    A :class:`DumpError` (naming ``skipped_utts``; no ``feats.scp`` is left) when no utterance was dumped or
    more than ``max_failed_fraction`` of them could not be read (None: no limit).
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    utts = DataDir(data_dir).utt_ids
    records = _finished_jobs(out_dir, nj)
    scp, num_frames, skipped, storage = _merged_tables(records)
    _check_coverage(data_dir, out_dir, utts, scp, skipped)
    too_short = sorted(u for u, r in skipped.items() if r.startswith("too_short"))
    message = failure_message(
        f"{out_dir} (of {data_dir})",
        total=len(utts),
        failed=_unreadable(skipped),
        usable=len(scp),
        failed_list=out_dir / "skipped_utts",
        max_failed_fraction=max_failed_fraction,
        empty_detail=f"{len(too_short)} too short" if too_short else "",
    )
    if message is not None:
        write_table(out_dir / "skipped_utts", skipped)
        (out_dir / "feats.scp").unlink(missing_ok=True)  # no later step may take the set as dumped
        raise DumpError(message)
    info = _merged_info(data_dir, nj, utts, records, scp, num_frames, skipped, too_short, storage)
    write_table(out_dir / "utt2num_frames", num_frames)
    write_table(out_dir / "skipped_utts", skipped)
    write_json(out_dir / "info.json", info)
    write_table(out_dir / "feats.scp", scp)
    if skipped:
        log.warning(
            "%s: %d of %d utterances not dumped (%d too short, %d unreadable), listed in %s",
            out_dir,
            len(skipped),
            len(utts),
            len(too_short),
            len(_unreadable(skipped)),
            out_dir / "skipped_utts",
        )
    log.info("%s: feats.scp of %d utterances (%d frames)", out_dir, len(scp), info["num_frames"])
    return MergeResult(len(utts), len(scp), skipped, info)


def _finished_jobs(out_dir: Path, nj: int) -> list[tuple[JobFiles, dict[str, Any]]]:
    """``(files, done record)`` of each of the ``nj`` jobs; a :class:`DumpError` naming unfinished ones."""
    records = []
    missing = []
    for job in range(1, nj + 1):
        files = job_files(out_dir, job)
        done = _read_done(files)
        if done is None or done.get("nj") != nj or not files.scp.is_file() or not files.ark.is_file():
            missing.append(job)
            continue
        records.append((files, done))
    if missing:
        raise DumpError(
            f"{out_dir}: job(s) {' '.join(map(str, missing))} of {nj} are not complete (see their logs); "
            "rerun the dump (finished jobs are skipped)"
        )
    return records


def _merged_tables(
    records: list[tuple[JobFiles, dict[str, Any]]],
) -> tuple[dict[str, str], dict[str, int], dict[str, str], StorageStats]:
    """The jobs' scp, frame counts and skipped utterances in one table each, and their storage stats."""
    scp: dict[str, str] = {}
    num_frames: dict[str, int] = {}
    skipped: dict[str, str] = {}
    storage = StorageStats()
    for files, done in records:
        job_scp = read_table(files.scp)
        if len(job_scp) != done["num_dumped"]:
            raise DumpError(f"{files.scp}: {len(job_scp)} lines, but {files.done} says {done['num_dumped']}")
        for name, table, source in (
            (files.scp, scp, job_scp),
            (files.skipped, skipped, read_table(files.skipped)),
        ):
            dup = set(table) & set(source)
            if dup:
                raise DumpError(f"{name}: utterances also in another job: {sorted(dup)[:5]}")
            table.update(source)
        num_frames.update({k: int(v) for k, v in read_table(files.num_frames).items()})
        storage.merge(StorageStats.from_json(done["storage"]))
    return scp, num_frames, skipped, storage


def _check_coverage(
    data_dir: Path, out_dir: Path, utts: list[str], scp: dict[str, str], skipped: dict[str, str]
) -> None:
    expected = set(utts)
    covered = set(scp) | set(skipped)
    if covered != expected:
        lost = sorted(expected - covered)
        extra = sorted(covered - expected)
        raise DumpError(
            f"{out_dir}: the jobs do not cover {data_dir}: {len(lost)} utterances missing {lost[:5]}, "
            f"{len(extra)} not in the data dir {extra[:5]} (was the data dir changed? rerun the dump)"
        )


def _merged_info(
    data_dir: Path,
    nj: int,
    utts: list[str],
    records: list[tuple[JobFiles, dict[str, Any]]],
    scp: dict[str, str],
    num_frames: dict[str, int],
    skipped: dict[str, str],
    too_short: list[str],
    storage: StorageStats,
) -> dict[str, Any]:
    """What ``info.json`` says: counts, the model (or feature extractor), storage, the jobs."""
    first = records[0][1]
    return {
        "data_dir": str(data_dir),
        "nj": nj,
        "num_utts": len(utts),
        "num_dumped": len(scp),
        "num_skipped": len(skipped),
        "num_too_short": len(too_short),
        "num_frames": sum(num_frames.values()),
        "model": first["model"],
        "dim": first["model"]["output_dim"],
        "subsampling": first["model"]["subsampling"],
        "storage": {**first["fingerprint"]["storage"], "measured": _storage_json(storage)},
        "amp": first["amp"],
        "jobs": [
            {
                "job": d["job"],
                "device": d["device"],
                "batch_size": d["batch_size"],
                "invariance_check": d["invariance_check"],
                "seconds": round(d["seconds"], 3),
            }
            for _, d in records
        ],
    }


def _storage_json(stats: StorageStats) -> dict[str, Any]:
    out = stats.to_json()
    out["num_fallbacks"] = len(out.pop("fallbacks"))
    return out


# ----------------------------------------------------------------------------------------------------------
# A whole dump in one call: its jobs through ${cmd} (speechsent.jobs), then the merge of every set


def config_dict(cfg: Any) -> dict[str, Any]:
    """A dump config (a dataclass of paths, numbers and nested dataclasses) as JSON values (paths as str)."""
    return json_plain(dataclasses.asdict(cfg))


def json_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: json_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_plain(v) for v in value]
    return str(value) if isinstance(value, os.PathLike) else value


def default_log_dir(out_dirs: Sequence[str | Path]) -> Path:
    """Where a dump's job logs go: ``<out_dir>/log`` for one set, ``<their common parent>/log`` for several
    (stage 5: ``dump/encoder/log``)."""
    if len(out_dirs) == 1:
        return Path(out_dirs[0]) / "log"
    try:
        return Path(os.path.commonpath([str(d) for d in out_dirs])) / "log"
    except ValueError:  # relative and absolute ones
        return Path(os.path.commonpath([str(Path(d).absolute()) for d in out_dirs])) / "log"


def run_dump(
    configs: Sequence[Any],
    dump_job: Callable[..., JobResult],
    *,
    worker_module: str,
    cmd: str | None = None,
    log_dir: str | Path | None = None,
    gpu: int | None = None,
    force: bool = False,
    max_failed_fraction: float | None = DEFAULT_MAX_FAILED_FRACTION,
) -> list[MergeResult]:
    """Dump every set of ``configs`` (same ``nj``), then merge each; the merge results, in order.

    ``cmd`` (``run.pl``, ``slurm.pl --mem 4G`` ...): ``${cmd} [--gpu G] JOB=1:nj <log_dir>/dump.JOB.log python
    -m <worker_module> --worker <log_dir>/spec.json --job JOB``, job ``J`` doing its share of every set
    (:func:`run_worker`; the model is loaded once per job); None: every job here, one after the other.
    """
    if not configs:
        return []
    nj = configs[0].nj
    if any(cfg.nj != nj for cfg in configs):
        raise ValueError("the sets of one dump have one --nj")
    if cmd is None:
        results = []
        for cfg in configs:
            for job in range(1, nj + 1):
                dump_job(cfg, job, force=force)
            results.append(merge_jobs(cfg.data_dir, cfg.out_dir, nj, max_failed_fraction=max_failed_fraction))
        return results
    logs = Path(log_dir) if log_dir is not None else default_log_dir([cfg.out_dir for cfg in configs])
    spec_file = logs / "spec.json"
    logs.mkdir(parents=True, exist_ok=True)
    write_json(spec_file, {"force": force, "configs": [config_dict(cfg) for cfg in configs]})
    worker = [*python_module(worker_module), "--worker", str(spec_file), "--job", "JOB"]
    run_jobs(cmd, nj, logs / "dump.JOB.log", worker, gpu=gpu)
    return [
        merge_jobs(cfg.data_dir, cfg.out_dir, nj, max_failed_fraction=max_failed_fraction) for cfg in configs
    ]


def run_worker(
    spec_file: str | Path,
    job: int,
    from_dict: Callable[[dict[str, Any]], Any],
    dump_job: Callable[..., JobResult],
) -> list[JobResult]:
    """Job ``job`` of a :func:`run_dump` spec: its share of every set (``from_dict`` makes each config)."""
    spec = read_json(spec_file)
    return [dump_job(from_dict(d), job, force=bool(spec["force"])) for d in spec["configs"]]
