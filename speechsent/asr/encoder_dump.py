"""Stage 5: frozen ASR-encoder features of a Kaldi data dir, ``nj`` resumable jobs, merged into ``feats.scp``.

For a data dir ``data/<set>`` and an ESPnet2 ASR model, :func:`dump_job` writes job ``J`` of ``N``
(``feats.J.ark``/``.scp``, ``utt2num_frames.J``, ``skipped.J``, ``done.J``) and
:func:`speechsent.asr.dump_jobs.merge_jobs` merges them into ``feats.scp`` (written last),
``utt2num_frames``, ``skipped_utts`` (``<utt> <reason>``) and ``info.json``: the layout, the atomic order
of the files, the split into jobs and the rerun check that both feature dumps share
(:mod:`speechsent.asr.dump_jobs`). A rerun skips a job whose ``done.J`` matches its fingerprint (a changed
model, storage or utterance list redoes it). Batch size and device are not part of the fingerprint: the
features do not depend on them (:mod:`speechsent.asr.batch_encode`).

Each utterance is encoded as ``model.encode(speech[None], lengths)`` would encode it alone: on CPU one at a
time (the fastest there), on GPU in length-sorted batches made exact by :class:`BatchEncoder`. Utterances too
short for the frontend or the encoder's subsampling are listed in ``skipped.J`` (``too_short``), unreadable
audio fails the job (or is listed with ``skip_unreadable``). A job that listed unreadable utterances is never
complete: its rerun (after the audio or ``wav.scp`` was fixed) does it again, retrying them. The merge stops
with an error naming ``skipped_utts`` when no utterance was dumped, or when more than ``max_failed_fraction``
of the set is unreadable (:mod:`speechsent.asr.failures`); ``feats.scp`` is then not written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import queue
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsent.asr.dump_jobs import (
    DumpError,
    JobFiles,
    JobResult,
    job_files,
    job_utterances,
    publish_job_outputs,
    reuse_complete_job,
)
from speechsent.asr.dump_threads import ArkWriterThread, Utt, length_batches, read_audio
from speechsent.kaldi.ark import StorageSpec, StorageStats
from speechsent.utils.digest import file_digest, text_digest
from speechsent.utils.fileio import write_json

__all__ = [
    "FORMAT_VERSION",
    "DumpConfig",
    "dump_job",
    "model_info",
    "resolve_model",
]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


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
    encoder: str = "asr"  # the ESPnet ASR model's encoder, or hf:<hub id or local dir>
    hf_revision: str | None = None
    hf_layers: str = "all"
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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DumpConfig:
        """The config :func:`speechsent.asr.dump_jobs.config_dict` wrote (a job's spec)."""
        d = dict(d)
        for key in ("asr_model_dir", "asr_config", "asr_model_file"):
            d[key] = Path(d[key]) if d.get(key) is not None else None
        d["storage"] = StorageSpec(**d["storage"])
        return cls(**d)

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


def _fingerprint(cfg: DumpConfig, model: ModelPaths, utts: Sequence[str]) -> dict[str, Any]:
    """What the job's output depends on (not batch size or device: the features do not)."""
    stat = model.model_file.stat()
    return {
        "format_version": FORMAT_VERSION,
        "config_sha256": file_digest(model.config_file),
        "model_file": str(model.model_file.resolve()),
        "model_size": stat.st_size,
        "model_mtime_ns": stat.st_mtime_ns,
        "storage": cfg.storage.describe(),
        "amp": cfg.amp,
        "channel": cfg.channel,
        "utts_sha256": text_digest("\n".join(utts)),
        "num_utts": len(utts),
    }


# ----------------------------------------------------------------------------------------------------------
# The job


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
    if cfg.encoder == "asr":
        paths = resolve_model(cfg)
        fingerprint = _fingerprint(cfg, paths, utts)
        load = functools.partial(_asr_job_encoder, cfg, paths)
    else:
        fingerprint = _hf_fingerprint(cfg, utts, job)
        load = functools.partial(_hf_job_encoder, cfg)
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    files = job_files(cfg.out_dir, job)
    done = reuse_complete_job(files, fingerprint, job, cfg.nj, force=force)
    if done is not None:
        return done
    _set_torch_options(cfg)
    encoder, info, what = load()
    enc = _JobEncoder(cfg, job, encoder, info)
    log.info(
        "job %d/%d: %d utterances of %s -> %s (%s, %s, batch size %d, storage %s)",
        job,
        cfg.nj,
        len(utts),
        cfg.data_dir,
        files.ark,
        what,
        cfg.device + (f", amp {cfg.amp}" if cfg.amp else ""),
        enc.batch_size,
        cfg.storage.kind,
    )
    return _finish_job(cfg, job, utts, files, fingerprint, enc, start)


def _set_torch_options(cfg: DumpConfig) -> None:
    import torch

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


class _JobEncoder:
    """The encoding side of one job: what is skipped and why, batching and its invariance check; encoded
    matrices (None for a skipped utterance) go to ``writer`` in the order they are done."""

    def __init__(self, cfg: DumpConfig, job: int, encoder: Any, info: dict[str, Any]):
        self.cfg, self.job, self.encoder, self.info = cfg, job, encoder, info
        self.fs = info["frontend"]["fs"]
        self.min_samples = encoder.min_samples()
        self.batch_size = cfg.effective_batch_size()
        if self.batch_size > 1 and not encoder.batch_invariant_batching:
            log.warning("job %d: batching off, one utterance at a time: %s", job, encoder.reason)
            self.batch_size = 1
        self.max_frames = cfg.effective_batch_frames()
        self.sort_buffer = max(cfg.effective_sort_buffer(), 1) if self.batch_size > 1 else 1
        self.skipped: dict[str, str] = {}
        self.invariance: dict[str, Any] = {"checked": False}
        self.writer: ArkWriterThread | None = None

    def take(self, item: Utt, buffer: list[Utt]) -> None:
        """One utterance read: skipped (unreadable, too short) or buffered; a full buffer is encoded."""
        if item.wav is None:
            if not item.utt:
                raise DumpError(item.error)
            if not self.cfg.skip_unreadable:
                raise DumpError(
                    f"job {self.job}: {item.error} (--skip_unreadable true lists such utterances)"
                )
            log.warning("job %d: skipping unreadable %s: %s", self.job, item.utt, item.error)
            self.skip(item, f"unreadable: {item.error}")
        elif self.min_samples is not None and len(item.wav) < self.min_samples:
            self.skip(
                item,
                f"too_short ({len(item.wav)} samples < {self.min_samples}, the fewest the frontend and "
                f"{self.info['input_layer']} accept)",
            )
        else:
            buffer.append(item)
            if len(buffer) >= self.sort_buffer:
                self.flush(buffer)
                buffer.clear()

    def skip(self, item: Utt, reason: str) -> None:
        assert self.writer is not None
        self.skipped[item.utt] = " ".join(reason.split())  # one line
        self.writer.put([item.utt], [None])  # in order, and counted by the progress bar

    def check_invariance(self, wavs: list[Any]) -> None:
        """Up to 8 utterances spread over the first batch (longest and shortest included), as one batch."""
        tol = self.cfg.effective_tol()
        step = max(1, (len(wavs) - 1) // 7)
        sample = [*wavs[:-1:step][:7], wavs[-1]]
        report = self.encoder.self_check(sample, tol)
        self.invariance.update(dataclasses.asdict(report), checked=True, tol=tol)
        if report.ok:
            log.info(
                "job %d: batch invariance checked on %d utterances: max abs diff %.3g",
                self.job,
                report.num_utts,
                report.max_abs_diff,
            )
            return
        log.error(
            "job %d: batched encoding differs from single-utterance encode() (%d length mismatches, max abs "
            "diff %.3g > %.3g): batching turned off for this job",
            self.job,
            report.length_mismatches,
            report.max_abs_diff,
            tol,
        )
        self.batch_size = 1

    def encode(self, batch: list[Utt]) -> None:
        from speechsent.asr.batch_encode import TooShortError

        assert self.writer is not None
        wavs = [b.wav for b in batch]
        if len(batch) > 1 and self.cfg.check_invariance and not self.invariance["checked"]:
            self.check_invariance(wavs)
        if self.batch_size > 1 and len(batch) > 1:
            outs = self.encoder.encode_batch(wavs)
        else:
            outs = []
            for b in batch:
                try:
                    outs.append(self.encoder.encode_single(b.wav))
                except TooShortError as error:  # the frontend's or encoder's own verdict
                    self.skipped[b.utt] = f"too_short ({len(b.wav)} samples): {' '.join(str(error).split())}"
                    outs.append(None)
        self.writer.put([b.utt for b in batch], outs)

    def flush(self, buffer: list[Utt]) -> None:
        if self.batch_size == 1:
            for item in buffer:
                self.encode([item])
            return
        # padded feature frames of a batch (frontends without STFT arithmetic: 10 ms frames assumed)
        frames_of, fs = self.encoder.num_feature_frames, self.fs
        for batch in length_batches(
            buffer, self.batch_size, self.max_frames, lambda n: frames_of(n) or n * 100 // fs
        ):
            self.encode(batch)


def _progress_bar(cfg: DumpConfig, job: int, total: int) -> Any:
    if not cfg.progress:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=f"dump job {job}",
        unit="utt",
        file=sys.stderr,
        mininterval=1.0 if sys.stderr.isatty() else 30.0,
    )


def _encode_all(cfg: DumpConfig, utts: list[str], files: JobFiles, enc: _JobEncoder) -> ArkWriterThread:
    """Read (a thread), encode (here) and write (a thread) every utterance of the job into its temporary
    ark; the writer holds the scp and frame counts. The temporary ark is removed when this fails."""
    import torch

    bar = _progress_bar(cfg, enc.job, len(utts))
    audio: queue.Queue[Utt | None] = queue.Queue(maxsize=max(64, 2 * enc.sort_buffer))
    stop = threading.Event()
    reader = threading.Thread(
        target=read_audio, args=(cfg.data_dir, cfg.channel, utts, enc.fs, audio, stop), daemon=True
    )
    writer = enc.writer = ArkWriterThread(files.tmp_ark, str(files.ark), cfg.storage, bar)
    reader.start()
    ok = False
    try:
        buffer: list[Utt] = []
        with torch.inference_mode():
            while (item := audio.get()) is not None:
                enc.take(item, buffer)
            enc.flush(buffer)
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
    return writer


def _asr_job_encoder(cfg: DumpConfig, paths: ModelPaths) -> tuple[Any, dict[str, Any], str]:
    """The ESPnet ASR model's encoder of a job: (encoder, its ``info.json`` model entry, its name)."""
    from speechsent.asr.batch_encode import BatchEncoder

    model, args = _load_model(cfg, paths)
    encoder = BatchEncoder(model, cfg.device, cfg.amp)
    info = model_info(model, args, paths, encoder)
    return encoder, info, str(info["encoder"])


def _hf_fingerprint(cfg: DumpConfig, utts: Sequence[str], job: int) -> dict[str, Any]:
    """What an HF encoder job's output depends on: the model (a local dir's files by size and time, a hub id
    by its revision: a warning when none pins it), the layers, storage, channel and utterances."""
    from speechsent.asr.hf_encoder import hf_model_id

    local = Path(hf_model_id(cfg.encoder))
    files = (
        {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in sorted(local.iterdir()) if p.is_file()}
        if local.is_dir()
        else None
    )
    if files is None and cfg.hf_revision is None:
        log.warning(
            "job %d: %s without --hf_revision: the dump reads whatever the hub's 'main' is now, and a rerun "
            "cannot tell when it moves (pin a commit to make the dump reproducible)",
            job,
            cfg.encoder,
        )
    return {
        "format_version": FORMAT_VERSION,
        "encoder": cfg.encoder,
        "model_dir": str(local.resolve()) if files is not None else None,
        "model_files": files,
        "revision": cfg.hf_revision,
        "layers": cfg.hf_layers,
        "storage": cfg.storage.describe(),
        "amp": cfg.amp,
        "channel": cfg.channel,
        "utts_sha256": text_digest("\n".join(utts)),
        "num_utts": len(utts),
    }


def _hf_job_encoder(cfg: DumpConfig) -> tuple[Any, dict[str, Any], str]:
    """A Hugging Face encoder of a job (:mod:`speechsent.asr.hf_encoder`): (encoder, its ``info.json``
    model entry, its name with the layers stored)."""
    from speechsent.asr.hf_encoder import HFDumpEncoder, HFEncoder, HFEncoderError, hf_model_id, parse_layers

    try:
        hf = HFEncoder(hf_model_id(cfg.encoder), cfg.hf_revision, cfg.device, amp=cfg.amp)
        layers = parse_layers(cfg.hf_layers, hf.info.num_layers)
    except HFEncoderError as error:
        raise DumpError(str(error)) from None
    encoder = HFDumpEncoder(hf, layers)
    what = f"{cfg.encoder}, layers {' '.join(map(str, layers))}: {len(layers)} x {hf.info.hidden_size} dims"
    return encoder, encoder.model_info(), what


def _finish_job(
    cfg: DumpConfig,
    job: int,
    utts: list[str],
    files: JobFiles,
    fingerprint: dict[str, Any],
    enc: _JobEncoder,
    start: float,
) -> JobResult:
    """Encode the job's utterances (timed), check that every one was dumped or skipped, publish the job's
    files, write ``done.J`` last."""
    loop_start, loop_cpu = time.perf_counter(), time.process_time()
    writer = _encode_all(cfg, utts, files, enc)
    timing = {
        "loop_seconds": time.perf_counter() - loop_start,
        "loop_cpu_seconds": time.process_time() - loop_cpu,
    }
    scp, num_frames, skipped = writer.scp, writer.num_frames, enc.skipped
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
        "model": enc.info,
        "device": cfg.device,
        "amp": cfg.amp,
        "batch_size": enc.batch_size,
        "invariance_check": enc.invariance,
        "seconds": seconds,
        **timing,
    }
    write_json(files.done, record)
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
        timing["loop_seconds"],
        len(utts) / timing["loop_seconds"] if timing["loop_seconds"] else 0.0,
        seconds,
    )
    return JobResult(job, len(utts), len(scp), skipped, record["num_frames"], seconds, False, stats, record)


def _storage_summary(stats: StorageStats, spec: StorageSpec) -> str:
    if spec.kind == "float":
        return "float32"
    return (
        f"compressed to {stats.bytes_ratio:.3f} of float32, max abs error {stats.max_abs_error:.4g}, "
        f"mean {stats.mean_abs_error:.3g}"
    )
