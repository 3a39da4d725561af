"""Stage 4's work of one decoding job (``speechsent-asr-decode --worker SPEC --job J``): piece ``J`` of every
set of the spec that :func:`speechsent.asr.decode.decode_sets` wrote, read chunk by chunk, decoded, and its
results appended to the resume files (see :mod:`speechsent.asr.decode` for the layout and the rules).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from speechsent.asr.decode import UNREADABLE, DecodeOptions, is_unreadable
from speechsent.asr.decoder import Decoder
from speechsent.jobs import pending_job_pieces
from speechsent.kaldi.table import read_table, split_line, write_table
from speechsent.utils.fileio import atomic_write_text, read_json

__all__ = ["decode_job"]

logger = logging.getLogger("speechsent.asr.decode")

_Decoder = Decoder  # what decode_job builds (tests replace it)


def _chunks(reader, utts: list[str], fs: int, chunk_seconds: float, failed: dict[str, str]):
    """Lists of ``(utt, samples)`` of about ``chunk_seconds`` of audio, read grouped by recording."""
    from speechsent.audio.io import AudioError

    segments = reader.segments or {}
    order = sorted(
        utts, key=lambda u: (segments[u].reco, segments[u].start, u) if u in segments else (u, 0.0, u)
    )
    chunk: list[tuple[str, Any]] = []
    total = 0
    for utt in order:
        try:
            samples, _ = reader.load(utt)
        except AudioError as error:
            message = str(error)
            failed[utt] = UNREADABLE + message  # names the recording (the key of failed: the utterance)
            continue
        chunk.append((utt, samples))
        total += len(samples)
        if total >= chunk_seconds * fs:
            yield chunk
            chunk, total = [], 0
    if chunk:
        yield chunk


def _batches(chunk: list[tuple[str, Any]], batch_samples: float) -> Iterator[list[tuple[str, Any]]]:
    """Length-sorted batches whose padded size (count × longest) stays within ``batch_samples``."""
    items = sorted(chunk, key=lambda item: len(item[1]), reverse=True)
    batch: list[tuple[str, Any]] = []
    for item in items:
        longest = len(batch[0][1]) if batch else len(item[1])
        if batch and (len(batch) + 1) * longest > batch_samples:
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def _lines(table: dict[str, str]) -> str:
    return "".join(
        f"{key} {value}".rstrip(" ") + "\n" if value else f"{key}\n" for key, value in table.items()
    )


def _append_lines(path: Path, table: dict[str, str]) -> None:
    if not table:
        return
    with path.open("a", encoding="utf-8", errors="surrogateescape") as f:
        f.write(_lines(table))
        f.flush()
        os.fsync(f.fileno())


def _read_partial(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    if text and not text.endswith("\n"):  # a line cut short by a crash
        text = text[: text.rfind("\n") + 1]
    # lines end at "\n" only, as Kaldi reads a table (str.splitlines() would also cut a hypothesis at
    # U+2028, U+0085, \x1c...)
    for line in text.split("\n"):
        kv = split_line(line)
        if kv is not None:
            out[kv[0]] = kv[1]
    return out


def _has_unreadable(out: Path) -> bool:
    """A finished piece (``out``: its ``output.JOB``) with utterances whose audio could not be read."""
    failed = out / "failed"
    return failed.is_file() and any(map(is_unreadable, read_table(failed).values()))


def _reopen(out: Path, partial_text: Path, partial_failed: Path) -> None:
    """Turn a finished piece's results back into the partial files a restarted job resumes from, without
    its unreadable utterances (retried), and remove its ``text`` (no longer finished). A crash in between
    leaves either the finished piece or the partial files: both resume the same."""
    text = read_table(out / "text")
    failed = {u: r for u, r in read_table(out / "failed").items() if not is_unreadable(r)}
    atomic_write_text(partial_text, _lines(text))
    atomic_write_text(partial_failed, _lines(failed))
    (out / "text").unlink()
    (out / "failed").unlink(missing_ok=True)


def decode_job(spec_file: str | Path, job: int) -> None:
    """One job: decode piece ``job`` of every set of the spec (see the module doc)."""
    spec = read_json(spec_file)
    decoder = _LazyDecoder(spec)  # loaded for the first audio read (never when all is unreadable)
    for s, out, utts in pending_job_pieces(spec["sets"], job, "text", unfinished=_has_unreadable):
        _decode_piece(spec, decoder, s, out, utts, job)


class _LazyDecoder:
    """The job's :class:`Decoder`, built on first use."""

    def __init__(self, spec: dict[str, Any]):
        self.spec = spec
        self.decoder: Decoder | None = None

    def get(self) -> Decoder:
        if self.decoder is None:
            start = time.perf_counter()
            self.decoder = _Decoder(self.spec)
            logger.info(
                "model loaded in %.1f s (%s mode)", time.perf_counter() - start, self.spec["options"]["mode"]
            )
        return self.decoder


def _decode_piece(
    spec: dict[str, Any], decoder: _LazyDecoder, s: dict[str, Any], out: Path, utts: list[str], job: int
) -> None:
    """Decode one set's piece into ``out`` (``output.JOB``), resuming from its partial files."""
    partial_text, partial_failed = out / "text.partial", out / "failed.partial"
    if (out / "text").is_file():  # finished, but some audio could not be read: retry that
        _reopen(out, partial_text, partial_failed)
    done = _read_partial(partial_text)
    failed = _read_partial(partial_failed)
    retried = [u for u in utts if is_unreadable(failed.get(u, ""))]
    failed = {u: r for u, r in failed.items() if not is_unreadable(r)}  # read again
    todo = [u for u in utts if u not in done and u not in failed]
    logger.info("%s: job %d: %d utterances, %d done before", s["name"], job, len(utts), len(utts) - len(todo))
    if retried:
        logger.info(
            "%s: job %d: %d utterance(s) whose audio could not be read before: reading them again (e.g. %s)",
            s["name"],
            job,
            len(retried),
            retried[0],
        )
    _decode_utterances(spec, decoder, s, todo, job, done, failed, partial_text, partial_failed)
    write_table(out / "failed", {u: failed[u] for u in utts if u in failed})
    # last: marks the piece done (unless it lists unreadable utterances: see _has_unreadable)
    write_table(out / "text", {u: done[u] for u in utts if u in done})
    partial_text.unlink(missing_ok=True)
    partial_failed.unlink(missing_ok=True)
    unreadable = sum(1 for r in failed.values() if is_unreadable(r))
    logger.info(
        "%s: job %d: %d decoded, %d failed (%d unreadable%s)",
        s["name"],
        job,
        len(done),
        len(failed),
        unreadable,
        ": a rerun reads them again" if unreadable else "",
    )


def _decode_utterances(
    spec: dict[str, Any],
    decoder: _LazyDecoder,
    s: dict[str, Any],
    todo: list[str],
    job: int,
    done: dict[str, str],
    failed: dict[str, str],
    partial_text: Path,
    partial_failed: Path,
) -> None:
    """Decode ``todo`` chunk by chunk, appending each chunk's results to the partial files and to ``done``
    (texts) and ``failed`` (reasons)."""
    from tqdm import tqdm

    from speechsent.audio.io import UtteranceReader

    opts = DecodeOptions(**spec["options"])
    fs = int(spec["fs"])
    reader = UtteranceReader(s["data_dir"], target_rate=fs)
    read_failed: dict[str, str] = {}
    with tqdm(total=len(todo), desc=f"{s['name']}.{job}", unit="utt", mininterval=10, file=sys.stderr) as bar:
        for chunk in _chunks(reader, todo, fs, opts.chunk_seconds, read_failed):
            model = decoder.get()
            texts: dict[str, str] = {}
            errors: dict[str, str] = dict(read_failed)
            read_failed.clear()
            batches = (
                _batches(chunk, opts.batch_seconds * fs)
                if opts.mode == "ctc_greedy"
                else ([item] for item in chunk)
            )
            for batch in batches:
                for utt, text, error in model.decode(batch):
                    if error is None:
                        texts[utt] = text or ""
                    else:
                        errors[utt] = error
                bar.update(len(batch))
            _record(errors, texts, partial_text, partial_failed)
            done.update(texts)
            failed.update(errors)
        if read_failed:
            _record(read_failed, {}, partial_text, partial_failed)
            failed.update(read_failed)


def _record(errors: dict[str, str], texts: dict[str, str], partial_text: Path, partial_failed: Path) -> None:
    for utt in errors:
        logger.warning("%s: not decoded: %s", utt, errors[utt])
    _append_lines(partial_failed, {u: " ".join(e.split()) for u, e in errors.items()})
    _append_lines(partial_text, texts)
