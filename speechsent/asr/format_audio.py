"""Audio for espnet2's data loaders: one file per utterance, as ESPnet's ``format_wav_scp.sh`` writes it.

Kaldi ``wav.scp`` entries may be pipes (``speechsent-sph2pipe -f wav -p -c 1 FILE |``) and utterances are cut
out of whole recordings by ``segments``; espnet2's ``sound`` loader wants one audio file per utterance. So,
for a data dir ``data/<set>``, :func:`format_data_dir` writes ``<out_dir>`` (``dump/raw/<set>``)::

    wav.scp            <utt> <out_dir>/data/<spk>/<utt>.flac     (16-bit PCM, --fs Hz, mono)
    utt2num_samples    <utt> <samples>
    text utt2spk spk2utt utt2dur utt2sentiment ...   (the source's utterance tables, same utterances)
    feats_type         raw
    format.json        what it was made from (source, fs, format): a rerun with other values starts afresh
    logdir/            keys.JOB, format.JOB.log, wav.JOB.scp, utt2num_samples.JOB, failed.JOB

Audio is read with :class:`speechsent.audio.io.UtteranceReader` (the project's SPHERE and shorten reader, each
recording decoded once) and resampled to ``fs`` (polyphase). The utterances are split into ``nj`` jobs by
speaker (conversation side) and run through ``cmd`` (``run.pl``, ``slurm.pl``...): ``<cmd> JOB=1:nj
<out_dir>/logdir/format.JOB.log python -m speechsent.bin.format_wav --worker <spec> --job JOB``.

Resumable: each file is written to a temporary name and renamed, so an existing file is complete and is not
written again; a job that read every utterance leaves ``format.JOB.done`` and is skipped. An utterance that
cannot be read is listed (with the reason) in ``logdir/failed.JOB`` and in ``<out_dir>/failed`` and left out
of the formatted dir; the count is logged. A job with such failures is never done: a rerun (after the audio
or ``wav.scp`` was fixed) reads them again, keeping the files already written, and ``failed`` then lists
only what still fails (it is removed when nothing does).

A set that is empty, or of which more than ``max_failed_fraction`` (default 0.1) of the utterances cannot be
read, is an error (:class:`FormatError`, naming the ``failed`` list and the first reasons; ``wav.scp`` is
then not written), so that no later step trains or computes statistics on it.

``min_duration``/``max_duration``/``drop_empty_text`` remove utterances from the formatted tables as ESPnet's
``asr.sh`` stage 4 does for its training and validation sets (``min < duration < max``, ``NF != 1``).
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from speechsent.asr.failures import DEFAULT_MAX_FAILED_FRACTION, failure_message
from speechsent.jobs import python_module, run_jobs, split_utts
from speechsent.kaldi.data_dir import utt2spk_to_spk2utt, utt_files
from speechsent.kaldi.table import c_sorted, read_table, write_table
from speechsent.utils.digest import new_hash, text_digest
from speechsent.utils.fileio import atomic_write, atomic_write_text, read_json, read_json_or_none, write_json

__all__ = ["AUDIO_FORMATS", "FormatError", "FormatReport", "format_data_dir", "format_job", "merge_jobs"]

logger = logging.getLogger(__name__)

AUDIO_FORMATS = {"flac": ("FLAC", "PCM_16"), "wav": ("WAV", "PCM_16")}
_NOT_CARRIED = {"segments", "feats.scp", "vad.scp", "utt2num_frames"}  # describe the source audio, not ours


class FormatError(RuntimeError):
    """A set that cannot be formatted for the next step: empty, or too many utterances unreadable."""


@dataclass
class FormatReport:
    out_dir: Path
    num_utts: int = 0  # in the formatted dir
    num_written: int = 0  # files written by this run (the others were there)
    num_failed: int = 0
    num_source: int = 0  # utterances of the source data dir
    removed: dict[str, int] = field(default_factory=dict)  # reason -> count (duration, empty text)
    seconds: float = 0.0


def _digest_files(paths: list[Path]) -> str:
    h = new_hash()
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes() if p.is_file() else b"<absent>")
    return h.hexdigest()


def _stamp(data_dir: Path, fs: int, audio_format: str) -> dict[str, object]:
    return {
        "data_dir": str(data_dir.resolve()),
        "fs": fs,
        "audio_format": audio_format,
        "source_sha256": _digest_files([data_dir / n for n in ("wav.scp", "segments", "utt2spk")]),
    }


def _to_int16(samples):
    import numpy as np

    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


def format_job(spec_file: str | Path, job: int) -> None:
    """One job: write the audio of ``keys.<job>`` (see the module doc); skips files that exist."""
    import soundfile
    from tqdm import tqdm

    from speechsent.audio.io import AudioError, UtteranceReader

    spec = read_json(spec_file)
    logdir = Path(spec["logdir"])
    done = logdir / f"format.{job}.done"
    keys_file = logdir / f"keys.{job}"
    keys = keys_file.read_text(encoding="utf-8", errors="surrogateescape").split()
    keys_digest = text_digest("\n".join(keys))
    failed_file = logdir / f"failed.{job}"
    # done: every utterance was read (a job of an older version may have left done beside failures: not done)
    if done.is_file() and done.read_text().strip() == keys_digest and not read_table(failed_file):
        logger.info("job %d already done (%s)", job, done)
        return
    done.unlink(missing_ok=True)
    fs = int(spec["fs"])
    sf_format, subtype = AUDIO_FORMATS[spec["audio_format"]]
    out_data = Path(spec["out_dir"]) / "data"
    utt2spk = read_table(Path(spec["data_dir"]) / "utt2spk")

    def target(utt: str) -> Path:
        return out_data / utt2spk[utt] / f"{utt}.{spec['audio_format']}"

    num_samples: dict[str, int] = {}
    todo = []
    for utt in keys:
        path = target(utt)
        if path.is_file():
            num_samples[utt] = soundfile.info(str(path)).frames
        else:
            todo.append(utt)
    logger.info("job %d: %d utterances, %d already written", job, len(keys), len(keys) - len(todo))
    failed: dict[str, str] = {}
    reader = UtteranceReader(spec["data_dir"], target_rate=fs)
    written = 0
    segments = reader.segments or {}
    todo.sort(key=lambda u: (segments[u].reco, segments[u].start, u) if u in segments else (u, 0.0, u))
    for utt in tqdm(todo, desc=f"format.{job}", unit="utt", mininterval=10, file=sys.stderr):
        try:  # grouped by recording: the reader's cache decodes each recording once
            samples, rate = reader.load(utt)
        except AudioError as error:
            message = str(error)
            failed[utt] = message if utt in message else f"{utt}: {message}"
            continue
        assert rate == fs
        path = target(utt)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _to_int16(samples)
        atomic_write(
            path,
            lambda f, d=data: soundfile.write(f, d, fs, format=sf_format, subtype=subtype),
            durable=False,
        )
        num_samples[utt] = len(samples)
        written += 1
    for utt in failed:
        logger.warning("job %d: not formatted: %s", job, failed[utt])
    write_table(logdir / f"wav.{job}.scp", {u: str(target(u)) for u in num_samples})
    write_table(logdir / f"utt2num_samples.{job}", {u: str(n) for u, n in num_samples.items()})
    write_table(failed_file, failed)
    if not failed:  # a job with failures stays to do: its rerun retries them
        atomic_write_text(done, keys_digest + "\n")
    logger.info("job %d: wrote %d files, %d failed", job, written, len(failed))


def merge_jobs(
    data_dir: str | Path,
    out_dir: str | Path,
    nj: int,
    *,
    fs: int,
    min_duration: float | None = None,
    max_duration: float | None = None,
    drop_empty_text: bool = False,
    max_failed_fraction: float | None = DEFAULT_MAX_FAILED_FRACTION,
) -> FormatReport:
    """Concatenate the jobs' tables into ``<out_dir>`` and carry the source's utterance tables.

    Raises :class:`FormatError` (and leaves no ``wav.scp``) when no utterance is left or more than
    ``max_failed_fraction`` of the source's could not be read (None: no limit).
    """
    src, out = Path(data_dir), Path(out_dir)
    logdir = out / "logdir"
    report = FormatReport(out)
    wav: dict[str, str] = {}
    nsamples: dict[str, str] = {}
    failed: dict[str, str] = {}
    for job in range(1, nj + 1):
        wav.update(read_table(logdir / f"wav.{job}.scp"))
        nsamples.update(read_table(logdir / f"utt2num_samples.{job}"))
        failed.update(read_table(logdir / f"failed.{job}"))
    source_utts = read_table(src / "utt2spk")
    report.num_source = len(source_utts)
    report.num_failed = len(failed)
    if failed:
        write_table(out / "failed", failed)
        logger.warning(
            "%d of %d utterance(s) of %s could not be read and are left out: see %s",
            len(failed),
            len(source_utts),
            src,
            out / "failed",
        )
    else:
        (out / "failed").unlink(missing_ok=True)  # of an earlier run: retried and read now
    keep, removed = _filtered(src, out, wav, nsamples, fs, min_duration, max_duration, drop_empty_text)
    report.removed = removed
    message = failure_message(
        f"formatting {src} -> {out}",
        total=len(source_utts),
        failed=failed,
        usable=len(keep),
        failed_list=out / "failed",
        max_failed_fraction=max_failed_fraction,
        empty_detail=", ".join(f"{n} {why}" for why, n in removed.items()),
    )
    if message is not None:
        for name in ("wav.scp", "utt2num_samples"):  # no later step may take the set as formatted
            (out / name).unlink(missing_ok=True)
        raise FormatError(message)
    _write_formatted(src, out, keep, wav, nsamples, source_utts)
    report.num_utts = len(keep)
    return report


def _filtered(
    src: Path,
    out: Path,
    wav: dict[str, str],
    nsamples: dict[str, str],
    fs: int,
    min_duration: float | None,
    max_duration: float | None,
    drop_empty_text: bool,
) -> tuple[set[str], dict[str, int]]:
    """The formatted utterances the duration and empty-text filters keep, and how many each removed."""
    keep = set(wav)
    text = read_table(src / "text") if (src / "text").is_file() else None
    removed: dict[str, int] = {}
    for utt in c_sorted(keep):
        seconds = int(nsamples[utt]) / fs
        reason = None
        if min_duration is not None and not seconds > min_duration:
            reason = f"shorter than {min_duration} s"
        elif max_duration is not None and not seconds < max_duration:
            reason = f"longer than {max_duration} s"
        elif drop_empty_text and text is not None and not text.get(utt, ""):
            reason = "empty text"
        if reason:
            keep.discard(utt)
            removed[reason] = removed.get(reason, 0) + 1
    for reason, count in removed.items():
        logger.info("%s: %d utterance(s) %s removed", out, count, reason)
    return keep, removed


def _write_formatted(
    src: Path,
    out: Path,
    keep: set[str],
    wav: dict[str, str],
    nsamples: dict[str, str],
    source_utts: dict[str, str],
) -> None:
    """``wav.scp``, ``utt2num_samples`` and the source's utterance tables, of the kept utterances."""
    write_table(out / "wav.scp", {u: wav[u] for u in keep})
    write_table(out / "utt2num_samples", {u: nsamples[u] for u in keep})
    for name in utt_files(src):
        if name in _NOT_CARRIED or name == "utt2spk" or not (src / name).is_file():
            continue
        table = read_table(src / name)
        write_table(out / name, {u: v for u, v in table.items() if u in keep})
    utt2spk = {u: s for u, s in source_utts.items() if u in keep}
    write_table(out / "utt2spk", utt2spk)
    write_table(out / "spk2utt", {s: " ".join(us) for s, us in utt2spk_to_spk2utt(utt2spk).items()})
    atomic_write_text(out / "feats_type", "raw\n")


def format_data_dir(
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    fs: int = 8000,
    audio_format: str = "flac",
    nj: int = 1,
    cmd: str = "run.pl",
    min_duration: float | None = None,
    max_duration: float | None = None,
    drop_empty_text: bool = False,
    max_failed_fraction: float | None = DEFAULT_MAX_FAILED_FRACTION,
) -> FormatReport:
    """Write ``out_dir`` from the Kaldi data dir ``data_dir`` (see the module doc), ``nj`` jobs of ``cmd``.

    Raises :class:`FormatError` when no utterance is left or more than ``max_failed_fraction`` of them
    could not be read (None: no limit).
    """
    start = time.perf_counter()
    if audio_format not in AUDIO_FORMATS:
        raise ValueError(f"audio_format must be one of {', '.join(AUDIO_FORMATS)}, got {audio_format!r}")
    src, out = Path(data_dir), Path(out_dir)
    for name in ("utt2spk", "wav.scp"):
        if not (src / name).is_file():
            raise FileNotFoundError(f"{src / name}: no such file")
    logdir = out / "logdir"
    stamp = _stamp(src, fs, audio_format)
    stamp_file = out / "format.json"
    if stamp_file.is_file():
        if read_json_or_none(stamp_file) != stamp:
            logger.info("%s was formatted from other audio or with other options: starting afresh", out)
            shutil.rmtree(out / "data", ignore_errors=True)
            shutil.rmtree(logdir, ignore_errors=True)
    elif (out / "data").exists():
        shutil.rmtree(out / "data")  # no record of what these files are
    out.mkdir(parents=True, exist_ok=True)
    write_json(stamp_file, stamp)
    pieces = split_utts(src, nj, logdir, "keys")
    spec_file = logdir / "spec.json"
    spec = {
        "data_dir": str(src),
        "out_dir": str(out),
        "logdir": str(logdir),
        "fs": fs,
        "audio_format": audio_format,
    }
    write_json(spec_file, spec)
    logger.info("formatting %s -> %s (%s, %d Hz) with %d job(s)", src, out, audio_format, fs, len(pieces))
    before = sum(1 for _ in (out / "data").rglob(f"*.{audio_format}")) if (out / "data").is_dir() else 0
    run_jobs(
        cmd,
        len(pieces),
        logdir / "format.JOB.log",
        [*python_module("speechsent.bin.format_wav"), "--worker", str(spec_file), "--job", "JOB"],
    )
    report = merge_jobs(
        src,
        out,
        len(pieces),
        fs=fs,
        min_duration=min_duration,
        max_duration=max_duration,
        drop_empty_text=drop_empty_text,
        max_failed_fraction=max_failed_fraction,
    )
    after = sum(1 for _ in (out / "data").rglob(f"*.{audio_format}")) if (out / "data").is_dir() else 0
    report.num_written = after - before
    report.seconds = time.perf_counter() - start
    return report
