"""Stage 5: frozen ASR-encoder features of a Kaldi data dir, ``nj`` resumable jobs, merged into ``feats.scp``.

For a data dir ``data/<set>`` and an ESPnet2 ASR model, :func:`dump_job` writes job ``J`` of ``N``::

    <out_dir>/feats.J.ark  feats.J.scp      the encoder output of every utterance of the job (T' x D matrices)
    <out_dir>/utt2num_frames.J  skipped.J  frames per dumped utterance; utterances not dumped and why
    <out_dir>/done.J                        JSON: what was done (counts, storage error, options' fingerprint)

and :func:`merge_jobs` checks that every utterance of the data dir was dumped or skipped, then writes
``utt2num_frames``, ``skipped_utts`` (``<utt> <reason>``), ``info.json`` and, last, ``feats.scp``
(``LC_ALL=C`` sorted). Every file appears atomically: the ark is written under a temporary name and renamed
when complete, then the job's scp, then ``done.J``; so no scp line ever points into a partial ark, and a
rerun skips a job whose ``done.J`` matches its options (a changed model, storage or utterance list redoes
it). Batch size and device are not part of the fingerprint: the features do not depend on them
(:mod:`speechsent.asr.batch_encode`).

The utterances of job ``J`` are those of ``--data_dir`` split into ``N`` contiguous, duration-balanced groups
of whole recordings (each recording is read once, by one job), or all of ``--data_dir`` when it is a
pre-split ``.../splitN/J`` (or ``splitNutt/J``) dir.

Each utterance is encoded as ``model.encode(speech[None], lengths)`` would encode it alone: on CPU one at a
time (the fastest there), on GPU in length-sorted batches made exact by :class:`BatchEncoder`. Utterances too
short for the frontend or the encoder's subsampling are listed in ``skipped.J`` (``too_short``), unreadable
audio fails the job (or is listed with ``skip_unreadable``). A job that listed unreadable utterances is never
complete: its rerun (after the audio or ``wav.scp`` was fixed) does it again, retrying them. The merge stops
with an error naming ``skipped_utts`` when no utterance was dumped, or when more than ``max_failed_fraction``
of the set is unreadable (:mod:`speechsent.asr.failures`); ``feats.scp`` is then not written.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsent.asr.failures import DEFAULT_MAX_FAILED_FRACTION, failure_message
from speechsent.asr.feat_storage import StorageSpec, StorageStats
from speechsent.data.kaldi_dir import (
    DataDir,
    atomic_write_text,
    c_sorted,
    read_table,
    write_table,
)

__all__ = [
    "FORMAT_VERSION",
    "DumpConfig",
    "DumpError",
    "JobResult",
    "MergeResult",
    "check_compression_option",
    "check_job_options",
    "dump_job",
    "job_complete",
    "job_files",
    "job_utterances",
    "merge_jobs",
    "publish_job_outputs",
    "resolve_model",
    "reuse_complete_job",
    "run_reporting_errors",
    "split_utterances",
]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


class DumpError(RuntimeError):
    """A dump or merge that cannot be completed (the message says what to do)."""


# ----------------------------------------------------------------------------------------------------------
# Configuration


@dataclass
class DumpConfig:
    """Options of one dump (see ``speechsent-dump-encoder --help`` for each)."""

    data_dir: Path
    out_dir: Path
    nj: int = 1
    asr_model_dir: Path | None = None
    asr_config: Path | None = None
    asr_model_file: Path | None = None
    storage: StorageSpec = field(default_factory=StorageSpec)
    device: str = "cpu"
    amp: str | None = None
    batch_size: int = 0  # 0: 1 on CPU, up to 256 on GPU
    batch_frames: int = 0  # 0: no limit on CPU, 60000 padded feature frames per batch on GPU
    sort_buffer: int = 0  # 0: 1 on CPU, 2000 utterances on GPU
    num_threads: int = 0  # 0: 1 on CPU (parallelism from nj), torch's default on GPU
    check_invariance: bool = True
    invariance_tol: float = 0.0  # 0: 1e-4 (float32), 5e-2 (amp)
    skip_unreadable: bool = False
    channel: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        self.out_dir = Path(self.out_dir)
        if self.nj < 1:
            raise ValueError("nj must be at least 1")

    @property
    def on_gpu(self) -> bool:
        return self.device.startswith("cuda")

    def effective_batch_size(self) -> int:
        return self.batch_size or (256 if self.on_gpu else 1)

    def effective_batch_frames(self) -> int:
        return self.batch_frames or (60000 if self.on_gpu else 1 << 62)

    def effective_sort_buffer(self) -> int:
        if self.sort_buffer:
            return self.sort_buffer
        return 2000 if self.effective_batch_size() > 1 else 1

    def effective_tol(self) -> float:
        return self.invariance_tol or (5e-2 if self.amp else 1e-4)


@dataclass(frozen=True)
class ModelPaths:
    config_file: Path  # what the model is built from (paths in it absolute when resolved)
    model_file: Path
    source_config: Path  # the config as given / found


def resolve_model(cfg: DumpConfig) -> ModelPaths:
    """The config and model files: ``asr_model_dir`` (a model dir, its ``config.yaml``, ``*.pth`` or the
    ``exp/asr_model`` pointer) or ``asr_config``; the model file ``asr_model_file`` if given, else the one
    ESPnet's packs would choose.

    Both go through :func:`speechsent.asr.model_dir.resolve_model_dir`, whose config (relative paths such as
    ``normalize_conf.stats_file`` made absolute) is written to ``<out_dir>/asr_config.yaml`` and used from
    there, so that the dump works from any directory.
    """
    if cfg.asr_config is not None and cfg.asr_model_dir is not None:
        raise DumpError("give --asr_model_dir or --asr_config, not both")
    source = cfg.asr_config if cfg.asr_config is not None else cfg.asr_model_dir
    if source is None:
        raise DumpError("no model: give --asr_model_dir, or --asr_config (and --asr_model_file)")
    source, model_file = Path(source), cfg.asr_model_file
    from speechsent.asr.model_dir import ModelDirError, resolve_model_dir, write_resolved_config

    try:
        files = resolve_model_dir(source, model_file)
    except ModelDirError as error:
        raise DumpError(str(error)) from None
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    config = write_resolved_config(files, cfg.out_dir / "asr_config.yaml")
    return ModelPaths(config, Path(files.model_file), Path(files.config_file))


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


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _fingerprint(cfg: DumpConfig, model: ModelPaths, utts: Sequence[str]) -> dict[str, Any]:
    """What the job's output depends on (not batch size or device: the features do not)."""
    stat = model.model_file.stat()
    return {
        "format_version": FORMAT_VERSION,
        "config_sha256": hashlib.sha256(model.config_file.read_bytes()).hexdigest(),
        "model_file": str(model.model_file.resolve()),
        "model_size": stat.st_size,
        "model_mtime_ns": stat.st_mtime_ns,
        "storage": cfg.storage.describe(),
        "amp": cfg.amp,
        "channel": cfg.channel,
        "utts_sha256": _sha("\n".join(utts)),
        "num_utts": len(utts),
    }


def _read_done(files: JobFiles) -> dict[str, Any] | None:
    try:
        return json.loads(files.done.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


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


# ----------------------------------------------------------------------------------------------------------
# The job


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


@dataclass
class _Utt:
    utt: str
    wav: Any  # float32 samples, or None
    error: str = ""


def _read_audio(
    cfg: DumpConfig,
    utts: Sequence[str],
    target_rate: int,
    out: queue.Queue[_Utt | None],
    stop: threading.Event,
) -> None:
    """Reader thread: the utterances in recording order (each recording decoded once) → ``out``; ends with
    None, or as soon as ``stop`` is set."""
    from speechsent.audio.io import AudioError, UtteranceReader

    def put(item: _Utt | None) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        reader = UtteranceReader(cfg.data_dir, channel=cfg.channel, target_rate=target_rate)
        segments = reader.segments

        def key(utt: str) -> tuple[str, float, str]:
            seg = segments.get(utt) if segments is not None else None
            return (seg.reco, seg.start, utt) if seg is not None else (utt, 0.0, utt)

        for utt in sorted(utts, key=key):
            try:
                wav, _ = reader.load(utt)
                item = _Utt(utt, wav)
            except AudioError as error:
                item = _Utt(utt, None, str(error))
            if not put(item):
                return
    except BaseException as error:  # surfaced by the consumer
        put(_Utt("", None, f"reader failed: {type(error).__name__}: {error}"))
    put(None)


def _batches(
    items: list[_Utt], max_size: int, max_frames: int, frames: Callable[[int], int]
) -> Iterator[list[_Utt]]:
    """Length-sorted (longest first) batches of at most ``max_size`` utterances and ``max_frames`` padded
    frames."""
    items = sorted(items, key=lambda u: -len(u.wav))
    batch: list[_Utt] = []
    for item in items:
        longest = len(batch[0].wav) if batch else len(item.wav)
        if batch and (len(batch) >= max_size or frames(longest) * (len(batch) + 1) > max_frames):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def _load_model(cfg: DumpConfig, paths: ModelPaths) -> tuple[Any, Any]:
    import torch
    from espnet2.tasks.asr import ASRTask

    if cfg.on_gpu and not torch.cuda.is_available():
        raise DumpError("--ngpu 1 but CUDA is not available")
    model, args = ASRTask.build_model_from_file(paths.config_file, paths.model_file, cfg.device)
    model.eval()
    return model, args


def _model_fs(args: Any) -> int:
    from speechsent.asr.model_dir import parse_fs

    return parse_fs((getattr(args, "frontend_conf", None) or {}).get("fs"), 16000)


def model_info(model: Any, args: Any, paths: ModelPaths, encoder: Any) -> dict[str, Any]:
    """What ``info.json`` says about the model: files, classes, dims, subsampling."""
    enc = model.encoder
    embed = getattr(enc, "embed", None)
    fe = model.frontend
    frontend: dict[str, Any] = {"class": type(fe).__name__ if fe is not None else None}
    stft = getattr(fe, "stft", None)
    if stft is not None:
        frontend.update(
            n_fft=stft.n_fft, win_length=stft.win_length, hop_length=stft.hop_length, center=stft.center
        )
    frontend["fs"] = _model_fs(args)
    factor = None
    t = 1000
    if encoder.num_encoder_frames(t) > 0:
        factor = round(t / encoder.num_encoder_frames(t))
    return {
        "config": str(paths.source_config.resolve()),
        "resolved_config": str(paths.config_file.resolve()),
        "model_file": str(paths.model_file.resolve()),
        "frontend": frontend,
        "normalize": type(model.normalize).__name__ if model.normalize is not None else None,
        "encoder": type(enc).__name__,
        "input_layer": type(embed).__name__ if embed is not None else None,
        "output_dim": int(enc.output_size()),
        "subsampling": factor,
        "embed_convs_time": [list(p) for p in encoder.embed_convs],  # (kernel, stride, padding, dilation)
        "min_feature_frames": encoder.min_frames(),
        "min_samples": encoder.min_samples(),
    }


def dump_job(cfg: DumpConfig, job: int, *, force: bool = False) -> JobResult:
    """Dump job ``job`` (1-based) of ``cfg.nj``; a job complete with the same fingerprint is skipped."""
    start = time.perf_counter()
    utts = job_utterances(cfg.data_dir, cfg.nj, job)
    paths = resolve_model(cfg)
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    files = job_files(cfg.out_dir, job)
    fingerprint = _fingerprint(cfg, paths, utts)
    done = reuse_complete_job(files, fingerprint, job, cfg.nj, force=force)
    if done is not None:
        return done
    return _run_job(cfg, job, utts, paths, files, fingerprint, start)


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


class _Writer:
    """Writer thread: compresses/serialises the encoded matrices and appends them to the job's temp ark,
    overlapping with the encoding of the next batch (the compression kernel releases the GIL)."""

    def __init__(self, path: Path, ark_name: str, spec: StorageSpec, bar: Any):
        from speechsent.asr.feat_storage import ArkWriter

        self.ark = ArkWriter(path, spec)
        self.ark_name = ark_name
        self.bar = bar
        self.scp: dict[str, str] = {}
        self.num_frames: dict[str, int] = {}
        self.error: BaseException | None = None
        self._queue: queue.Queue[tuple[list[str], list[Any]] | None] = queue.Queue(maxsize=8)
        self._thread = threading.Thread(target=self._loop, name="ark-writer", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self.error is not None:
                continue  # drain
            try:
                for utt, mat in zip(*item, strict=True):
                    if mat is None:
                        continue
                    offset = self.ark.write(utt, mat)
                    self.scp[utt] = f"{self.ark_name}:{offset}"
                    self.num_frames[utt] = int(mat.shape[0])
                if self.bar is not None:
                    self.bar.update(len(item[0]))
            except BaseException as error:
                self.error = error

    def put(self, utts: list[str], mats: list[Any]) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put((utts, mats))

    def close(self, ok: bool) -> None:
        """Wait for the queued matrices (``ok``) or drop them, then close the ark (fsync'ed when ``ok``)."""
        if not ok:
            with contextlib.suppress(queue.Empty):
                while True:
                    self._queue.get_nowait()
        self._queue.put(None)
        self._thread.join()
        self.ark.close(sync=ok and self.error is None)
        if ok and self.error is not None:
            raise self.error


def _run_job(
    cfg: DumpConfig,
    job: int,
    utts: list[str],
    paths: ModelPaths,
    files: JobFiles,
    fingerprint: dict[str, Any],
    start: float,
) -> JobResult:
    import torch

    from speechsent.asr.batch_encode import BatchEncoder, TooShortError

    if cfg.num_threads > 0:
        torch.set_num_threads(cfg.num_threads)
    elif not cfg.on_gpu:
        # One thread per job, as ESPnet's path.sh sets OMP_NUM_THREADS=1: parallelism comes from nj. Small
        # per-utterance ops lose more to thread barriers than they gain, badly so on a busy machine.
        torch.set_num_threads(1)
    if cfg.on_gpu and cfg.amp is None:
        # TF32 convolutions/matmuls round to 10-bit mantissas, differently for different batch shapes.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    model, args = _load_model(cfg, paths)
    encoder = BatchEncoder(model, cfg.device, cfg.amp)
    info = model_info(model, args, paths, encoder)
    fs = info["frontend"]["fs"]
    min_samples = encoder.min_samples()
    batch_size = cfg.effective_batch_size()
    if batch_size > 1 and not encoder.batch_invariant_batching:
        log.warning("job %d: batching off, one utterance at a time: %s", job, encoder.reason)
        batch_size = 1
    log.info(
        "job %d/%d: %d utterances of %s -> %s (%s, %s, batch size %d, storage %s)",
        job,
        cfg.nj,
        len(utts),
        cfg.data_dir,
        files.ark,
        info["encoder"],
        cfg.device + (f", amp {cfg.amp}" if cfg.amp else ""),
        batch_size,
        cfg.storage.kind,
    )

    skipped: dict[str, str] = {}
    invariance: dict[str, Any] = {"checked": False}
    frames_of = encoder.num_feature_frames
    max_frames = cfg.effective_batch_frames()
    sort_buffer = max(cfg.effective_sort_buffer(), 1) if batch_size > 1 else 1

    bar = None
    if cfg.progress:
        from tqdm import tqdm

        bar = tqdm(
            total=len(utts),
            desc=f"dump job {job}",
            unit="utt",
            file=sys.stderr,
            mininterval=1.0 if sys.stderr.isatty() else 30.0,
        )

    def skip(item: _Utt, reason: str) -> None:
        skipped[item.utt] = " ".join(reason.split())  # one line
        writer.put([item.utt], [None])  # in order, and counted by the progress bar

    def check_invariance(wavs: list[Any]) -> None:
        """Up to 8 utterances spread over the first batch (longest and shortest included), as one batch."""
        nonlocal batch_size
        tol = cfg.effective_tol()
        step = max(1, (len(wavs) - 1) // 7)
        sample = [*wavs[:-1:step][:7], wavs[-1]]
        report = encoder.self_check(sample, tol)
        invariance.update(dataclasses.asdict(report), checked=True, tol=tol)
        if report.ok:
            log.info(
                "job %d: batch invariance checked on %d utterances: max abs diff %.3g",
                job,
                report.num_utts,
                report.max_abs_diff,
            )
            return
        log.error(
            "job %d: batched encoding differs from single-utterance encode() (%d length mismatches, max abs "
            "diff %.3g > %.3g): batching turned off for this job",
            job,
            report.length_mismatches,
            report.max_abs_diff,
            tol,
        )
        batch_size = 1

    def encode(batch: list[_Utt]) -> None:
        wavs = [b.wav for b in batch]
        if len(batch) > 1 and cfg.check_invariance and not invariance["checked"]:
            check_invariance(wavs)
        if batch_size > 1 and len(batch) > 1:
            outs = encoder.encode_batch(wavs)
        else:
            outs = []
            for b in batch:
                try:
                    outs.append(encoder.encode_single(b.wav))
                except TooShortError as error:  # the frontend's or encoder's own verdict
                    skipped[b.utt] = f"too_short ({len(b.wav)} samples): {' '.join(str(error).split())}"
                    outs.append(None)
        writer.put([b.utt for b in batch], outs)

    def flush(buffer: list[_Utt]) -> None:
        if batch_size == 1:
            for item in buffer:
                encode([item])
            return
        # padded feature frames of a batch (frontends without STFT arithmetic: 10 ms frames assumed)
        for batch in _batches(buffer, batch_size, max_frames, lambda n: frames_of(n) or n * 100 // fs):
            encode(batch)

    audio: queue.Queue[_Utt | None] = queue.Queue(maxsize=max(64, 2 * sort_buffer))
    stop = threading.Event()
    reader = threading.Thread(target=_read_audio, args=(cfg, utts, fs, audio, stop), daemon=True)
    loop_start, loop_cpu = time.perf_counter(), time.process_time()
    writer = _Writer(files.tmp_ark, str(files.ark), cfg.storage, bar)
    reader.start()
    ok = False
    try:
        buffer: list[_Utt] = []
        with torch.inference_mode():
            while (item := audio.get()) is not None:
                if item.wav is None:
                    if not item.utt:
                        raise DumpError(item.error)
                    if not cfg.skip_unreadable:
                        raise DumpError(
                            f"job {job}: {item.error} (--skip_unreadable true lists such utterances)"
                        )
                    log.warning("job %d: skipping unreadable %s: %s", job, item.utt, item.error)
                    skip(item, f"unreadable: {item.error}")
                elif min_samples is not None and len(item.wav) < min_samples:
                    skip(
                        item,
                        f"too_short ({len(item.wav)} samples < {min_samples}, the fewest the frontend and "
                        f"{info['input_layer']} accept)",
                    )
                else:
                    buffer.append(item)
                    if len(buffer) >= sort_buffer:
                        flush(buffer)
                        buffer = []
            flush(buffer)
        ok = True
    finally:
        stop.set()
        reader.join()
        try:
            writer.close(ok)
        finally:
            if bar is not None:
                bar.close()
            if not ok or writer.error is not None:
                with contextlib.suppress(FileNotFoundError):
                    files.tmp_ark.unlink()
    loop_seconds, loop_cpu = time.perf_counter() - loop_start, time.process_time() - loop_cpu
    scp, num_frames = writer.scp, writer.num_frames

    missing = set(utts) - set(scp) - set(skipped)
    if missing:
        raise DumpError(
            f"job {job}: {len(missing)} utterances neither dumped nor skipped: {sorted(missing)[:5]}"
        )
    too_short = sum(1 for r in skipped.values() if r.startswith("too_short"))
    if skipped:
        log.warning(
            "job %d: %d of %d utterances not dumped (%d too short, %d unreadable), listed in %s",
            job,
            len(skipped),
            len(utts),
            too_short,
            len(skipped) - too_short,
            files.skipped,
        )
    stats = writer.ark.stats
    base = publish_job_outputs(files, job, cfg.nj, fingerprint, utts, scp, num_frames, skipped, stats)
    seconds = time.perf_counter() - start
    record = {
        **base,
        "model": info,
        "device": cfg.device,
        "amp": cfg.amp,
        "batch_size": batch_size,
        "invariance_check": invariance,
        "seconds": seconds,
        "loop_seconds": loop_seconds,
        "loop_cpu_seconds": loop_cpu,
    }
    atomic_write_text(files.done, json.dumps(record, indent=1) + "\n")
    if stats.fallbacks:
        log.warning(
            "job %d: %d matrices failed the compression error check and were stored as float32: %s",
            job,
            len(stats.fallbacks),
            " ".join(stats.fallbacks[:10]),
        )
    log.info(
        "job %d: dumped %d utterances (%d frames, %s) in %.1f s (%.1f utt/s; %.1f s with the model loading)",
        job,
        len(scp),
        record["num_frames"],
        _storage_summary(stats, cfg.storage),
        loop_seconds,
        len(utts) / loop_seconds if loop_seconds else 0.0,
        seconds,
    )
    return JobResult(job, len(utts), len(scp), skipped, record["num_frames"], seconds, False, stats, record)


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


def _storage_summary(stats: StorageStats, spec: StorageSpec) -> str:
    if spec.kind == "float":
        return "float32"
    return (
        f"compressed to {stats.bytes_ratio:.3f} of float32, max abs error {stats.max_abs_error:.4g}, "
        f"mean {stats.mean_abs_error:.3g}"
    )


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
    expected = set(utts)
    covered = set(scp) | set(skipped)
    if covered != expected:
        lost = sorted(expected - covered)
        extra = sorted(covered - expected)
        raise DumpError(
            f"{out_dir}: the jobs do not cover {data_dir}: {len(lost)} utterances missing {lost[:5]}, "
            f"{len(extra)} not in the data dir {extra[:5]} (was the data dir changed? rerun the dump)"
        )
    first = records[0][1]
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
    info = {
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
    write_table(out_dir / "utt2num_frames", num_frames)
    write_table(out_dir / "skipped_utts", skipped)
    atomic_write_text(out_dir / "info.json", json.dumps(info, indent=1) + "\n")
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


def _storage_json(stats: StorageStats) -> dict[str, Any]:
    out = stats.to_json()
    out["num_fallbacks"] = len(out.pop("fallbacks"))
    return out


# ----------------------------------------------------------------------------------------------------------
# What the dump entry points (speechsent-dump-encoder, speechsent-dump-fbank) share


def check_job_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors of ``--nj``, ``--job`` and ``--merge`` (exit via ``parser.error``)."""
    if args.nj < 1:
        parser.error("--nj must be at least 1")
    if args.job is not None and not 1 <= args.job <= args.nj:
        parser.error(f"--job must be in 1..--nj ({args.nj})")
    if args.merge and args.job is not None:
        parser.error("--merge and --job exclude each other")


def check_compression_option(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A usage error for an unknown ``--compression_method``."""
    from speechsent.asr.feat_storage import CompressionError, parse_compression_method

    try:
        parse_compression_method(args.compression_method)
    except CompressionError as error:
        parser.error(f"--compression_method: {error}")


def run_reporting_errors(work: Callable[[], object], logger: logging.Logger) -> int:
    """Run ``work()``: 0, or 1 with the error logged (no traceback) for bad input, storage or data errors."""
    from speechsent import cli
    from speechsent.asr.feat_storage import CompressionError
    from speechsent.audio.io import AudioError
    from speechsent.data.kaldi_dir import KaldiDataError

    errors = (DumpError, CompressionError, AudioError, KaldiDataError, OSError, ValueError)
    return cli.run_reporting_errors(work, logger, errors)
