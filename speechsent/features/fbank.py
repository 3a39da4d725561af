"""80-dim log-mel filterbank features of a Kaldi data dir (the "FBank" input of Table 2's CNN baseline).

Kaldi's ``compute-fbank-feats`` as torchaudio implements it (``torchaudio.compliance.kaldi.fbank``: povey
window, 25 ms frames every 10 ms, pre-emphasis 0.97, no dither by default so reruns are identical), on the
audio of ``wav.scp`` + ``segments`` read through :class:`speechsent.audio.io.UtteranceReader` (``sph2pipe``
pipes included, each recording decoded once)::

    dump_fbank_job(FbankDumpConfig(Path("data/swbd_test"), Path("dump/fbank/swbd_test"), nj=4), job=1)
    ...                                           # jobs 2..4, e.g. under run.pl JOB=1:4
    merge_jobs(Path("data/swbd_test"), Path("dump/fbank/swbd_test"), 4)   # -> feats.scp, utt2num_frames

The job files, their atomic order (temporary ark renamed, then the job's scp, then ``done.J``), the rerun
check, the merge (``merge_jobs``) and the job array are those of the encoder dump
(:mod:`speechsent.asr.dump_jobs`), so that both dumps look alike to the classifiers and to the recipe.
Utterances shorter than one frame are listed in ``skipped_utts`` (``too_short``); unreadable audio fails the
job, or is listed with ``skip_unreadable``.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from speechsent.asr.dump_jobs import (  # the encoder dump's job layout, rerun check and merge
    JobFiles,
    JobResult,
    job_files,
    job_utterances,
    publish_job_outputs,
    reuse_complete_job,
)
from speechsent.kaldi.ark import ArkWriter, StorageSpec
from speechsent.utils.digest import text_digest
from speechsent.utils.fileio import write_json

__all__ = [
    "FORMAT_VERSION",
    "FbankConfig",
    "FbankDumpConfig",
    "TooShortError",
    "compute_fbank",
    "dump_fbank_job",
]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


class TooShortError(ValueError):
    """Audio shorter than one analysis frame."""


@dataclass(frozen=True)
class FbankConfig:
    """Kaldi filterbank options (names as ``compute-fbank-feats``'s, in underscores)."""

    num_mel_bins: int = 80
    frame_length: float = 25.0  # ms
    frame_shift: float = 10.0  # ms
    dither: float = 0.0  # Kaldi's default is 1.0; 0 makes the features reproducible
    low_freq: float = 20.0
    high_freq: float = 0.0  # <= 0: offset from the Nyquist frequency
    preemphasis_coefficient: float = 0.97
    sample_rate: int | None = None  # resample to this rate first; None: the audio's own (8 kHz for SWBD)

    def frame_samples(self, rate: int) -> int:
        return int(rate * self.frame_length / 1000)


def compute_fbank(samples: np.ndarray, rate: int, config: FbankConfig = FbankConfig()) -> np.ndarray:
    """``(frames, num_mel_bins)`` float32 log-mel energies of float samples in [-1, 1) at ``rate`` Hz.

    The samples are scaled to 16-bit integer amplitudes first, as Kaldi reads wav files.
    """
    import torch
    from torchaudio.compliance.kaldi import fbank

    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"expected mono samples, got shape {samples.shape}")
    if len(samples) < config.frame_samples(rate):
        raise TooShortError(
            f"{len(samples)} samples < one {config.frame_length:g} ms frame ({config.frame_samples(rate)})"
        )
    wave = torch.from_numpy(samples * 32768.0)[None]
    with torch.inference_mode():
        feats = fbank(
            wave,
            sample_frequency=float(rate),
            num_mel_bins=config.num_mel_bins,
            frame_length=config.frame_length,
            frame_shift=config.frame_shift,
            dither=config.dither,
            low_freq=config.low_freq,
            high_freq=config.high_freq,
            preemphasis_coefficient=config.preemphasis_coefficient,
            energy_floor=0.0,
        )
    return feats.numpy().astype(np.float32, copy=False)


@dataclass
class FbankDumpConfig:
    """One fbank dump of ``data_dir`` into ``out_dir`` in ``nj`` jobs."""

    data_dir: Path
    out_dir: Path
    nj: int = 1
    fbank: FbankConfig = field(default_factory=FbankConfig)
    storage: StorageSpec = field(default_factory=StorageSpec)
    skip_unreadable: bool = False
    channel: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        self.data_dir, self.out_dir = Path(self.data_dir), Path(self.out_dir)
        if self.nj < 1:
            raise ValueError("nj must be at least 1")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FbankDumpConfig:
        """The config :func:`speechsent.asr.dump_jobs.config_dict` wrote (a job's spec)."""
        return cls(**{**d, "fbank": FbankConfig(**d["fbank"]), "storage": StorageSpec(**d["storage"])})


def _fingerprint(cfg: FbankDumpConfig, utts: list[str]) -> dict[str, Any]:
    """What a job's output depends on; a finished job with the same fingerprint is not redone."""
    return {
        "format_version": FORMAT_VERSION,
        "features": "fbank",
        "fbank": asdict(cfg.fbank),
        "storage": cfg.storage.describe(),
        "channel": cfg.channel,
        "utts_sha256": text_digest("\n".join(utts)),
        "num_utts": len(utts),
    }


def dump_fbank_job(cfg: FbankDumpConfig, job: int, *, force: bool = False) -> JobResult:
    """Dump job ``job`` (1-based) of ``cfg.nj``; a job complete with the same options is skipped."""
    start = time.perf_counter()
    utts = job_utterances(cfg.data_dir, cfg.nj, job)
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    files = job_files(cfg.out_dir, job)
    fingerprint = _fingerprint(cfg, utts)
    done = reuse_complete_job(
        files,
        fingerprint,
        job,
        cfg.nj,
        force=force,
        message="fbank job %d/%d: already complete (%d utterances), nothing to do",
    )
    if done is not None:
        return done
    return _run_job(cfg, job, utts, files, fingerprint, start)


def _run_job(
    cfg: FbankDumpConfig,
    job: int,
    utts: list[str],
    files: JobFiles,
    fingerprint: dict[str, Any],
    start: float,
) -> JobResult:
    import torch

    torch.set_num_threads(1)  # parallelism comes from nj, as in the encoder dump
    writer = ArkWriter(files.tmp_ark, cfg.storage)
    ok = False
    try:
        scp, num_frames, skipped, rates = _compute_all(cfg, job, utts, files, writer)
        ok = True
    finally:
        writer.close(sync=ok)
        if not ok:
            with contextlib.suppress(FileNotFoundError):
                files.tmp_ark.unlink()
    if skipped:
        log.warning(
            "fbank job %d: %d of %d utterances not dumped, listed in %s",
            job,
            len(skipped),
            len(utts),
            files.skipped,
        )
    stats = writer.stats
    base = publish_job_outputs(files, job, cfg.nj, fingerprint, utts, scp, num_frames, skipped, stats)
    seconds = time.perf_counter() - start
    record = {
        **base,
        # what merge_jobs reads into info.json ("model": the feature extractor here)
        "model": {
            "frontend": "torchaudio.compliance.kaldi.fbank",
            "fbank": asdict(cfg.fbank),
            "sample_rates": sorted(rates),
            "output_dim": cfg.fbank.num_mel_bins,
            "subsampling": 1,
        },
        "device": "cpu",
        "amp": None,
        "batch_size": 1,
        "invariance_check": {"checked": False},
        "seconds": seconds,
    }
    write_json(files.done, record)
    log.info("fbank job %d: %d utterances, %d frames in %.1f s", job, len(scp), record["num_frames"], seconds)
    return JobResult(job, len(utts), len(scp), skipped, record["num_frames"], seconds, False, stats, record)


def _compute_all(
    cfg: FbankDumpConfig, job: int, utts: list[str], files: JobFiles, writer: ArkWriter
) -> tuple[dict[str, str], dict[str, int], dict[str, str], set[int]]:
    """The features of every utterance of the job into ``writer``: the scp, frame counts, skipped
    utterances (why) and the sample rates seen."""
    from tqdm import tqdm

    from speechsent.audio.io import AudioError, UtteranceReader

    reader = UtteranceReader(cfg.data_dir, channel=cfg.channel, target_rate=cfg.fbank.sample_rate)
    scp: dict[str, str] = {}
    num_frames: dict[str, int] = {}
    skipped: dict[str, str] = {}
    rates: set[int] = set()
    with tqdm(
        total=len(utts),
        desc=f"fbank job {job}",
        unit="utt",
        file=sys.stderr,
        disable=not cfg.progress,
        mininterval=1.0 if sys.stderr.isatty() else 30.0,
    ) as bar:
        for utt in _recording_order(reader, utts):  # each recording decoded once (the reader caches it)
            bar.update(1)
            try:
                samples, rate = reader.load(utt)
            except AudioError as error:
                if not cfg.skip_unreadable:
                    raise AudioError(
                        f"{utt}: {error} (--skip_unreadable true lists such utterances)"
                    ) from None
                log.warning("fbank job %d: skipping unreadable %s: %s", job, utt, error)
                skipped[utt] = " ".join(f"unreadable: {error}".split())
                continue
            rates.add(rate)
            try:
                mat = compute_fbank(samples, rate, cfg.fbank)
            except TooShortError as error:
                skipped[utt] = f"too_short ({error})"
            else:
                scp[utt] = f"{files.ark}:{writer.write(utt, mat)}"
                num_frames[utt] = int(mat.shape[0])
    return scp, num_frames, skipped, rates


def _recording_order(reader: Any, utts: list[str]) -> list[str]:
    """``utts`` grouped by recording, in time order within each."""
    segments = reader.segments
    if segments is None:
        return sorted(utts)

    def key(utt: str) -> tuple[str, float, str]:
        seg = segments.get(utt)
        return (seg.reco, seg.start, utt) if seg is not None else (utt, 0.0, utt)

    return sorted(utts, key=key)
