"""Many inputs → one JSON line each: the work of ``speechsent-infer`` (files, then a ``wav.scp``).

:func:`infer` loads the exported model once and classifies the inputs ``batch_size`` at a time (or each input
as ``chunk_seconds`` windows), writing one JSON object per input (or window) to a text stream; an input that
cannot be read or classified gets an ``"error"`` line and the others go on. :func:`infer_to_file` writes the
lines to a file atomically (all of them, or none when the model cannot be loaded).
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from speechsent.utils.fileio import atomic_write

__all__ = ["InferConfig", "infer", "infer_to_file"]

log = logging.getLogger("speechsent.infer")


@dataclass
class InferConfig:
    """What to classify, with which exported model, how (see ``speechsent-infer --help``)."""

    model_dir: str | os.PathLike[str]
    files: Sequence[str] = field(default_factory=list)
    wav_scp: str | None = None
    segments: str | None = None
    channel: int | None = None
    batch_size: int = 16
    max_duration: float | None = None  # None: DEFAULT_MAX_DURATION
    chunk_seconds: float | None = None
    device: str = "auto"
    amp: str | None = None
    revision: str | None = None  # a Hub id's revision


def _inputs(cfg: InferConfig, fs: int) -> Iterator[Any]:
    """The inputs as :class:`speechsent.inference.audio_inputs.AudioItem` (files first, then wav.scp)."""
    from speechsent.inference.audio_inputs import AudioItem, InputError, iter_wav_scp, load_file

    for name in cfg.files:
        try:
            yield AudioItem(name, load_file(name, fs, cfg.channel))
        except InputError as error:
            yield AudioItem(name, None, str(error))
    if cfg.wav_scp:
        yield from iter_wav_scp(cfg.wav_scp, cfg.segments, fs, cfg.channel)


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _JsonLines:
    """The output stream, counting the inputs classified and failed."""

    def __init__(self, out: IO[str]):
        self.out = out
        self.done = self.failed = 0

    def write(self, record: dict[str, Any]) -> None:
        try:  # (a last line of defence: the model refuses non-finite results itself)
            line = json.dumps(record, ensure_ascii=False, allow_nan=False)
        except ValueError:
            record = {"file": record["file"], "error": f"{record['file']}: a non-finite number in the result"}
            line = json.dumps(record, ensure_ascii=False)
        if "error" in record:
            log.warning("not classified: %s", record["error"])
            self.failed += 1
        else:
            self.done += 1
        self.out.write(line + "\n")

    def result(self, name: str, result: Any) -> None:
        """A prediction, or an :class:`~speechsent.inference.model.InferenceError` (a window's: its times)."""
        from speechsent.inference.model import InferenceError

        if isinstance(result, InferenceError):
            record: dict[str, Any] = {"file": name}
            if result.start is not None:
                record.update(start=result.start, end=result.end)
            self.write({**record, "error": str(result)})
        else:
            self.write({"file": name, **result.to_dict()})


def infer(cfg: InferConfig, out: IO[str]) -> tuple[int, int]:
    """Every input classified, one JSON line each to ``out``; (classified, failed)."""
    from tqdm import tqdm

    from speechsent.inference.model import DEFAULT_MAX_DURATION, SentimentModel

    max_duration = DEFAULT_MAX_DURATION if cfg.max_duration is None else cfg.max_duration
    model = SentimentModel.from_pretrained(
        cfg.model_dir, cfg.device, cfg.batch_size, cfg.amp, max_duration=max_duration, revision=cfg.revision
    )
    if cfg.chunk_seconds is not None:
        model.check_chunk_seconds(cfg.chunk_seconds)
    log.info(
        "model %s (%s, %s, %d Hz) on %s",
        cfg.model_dir,
        model.type,
        model.info.get("system"),
        model.fs,
        model.device,
    )
    lines = _JsonLines(out)
    unit = "input" if cfg.chunk_seconds is None else "window"
    with tqdm(desc="infer", unit=unit, file=sys.stderr, disable=None, mininterval=5) as bar:
        if cfg.chunk_seconds is not None:
            _infer_windows(cfg, model, lines, bar)
        else:
            _infer_inputs(cfg, model, lines, bar)
    log.info("%d input(s) classified, %d failed", lines.done, lines.failed)
    return lines.done, lines.failed


def _infer_windows(cfg: InferConfig, model: Any, lines: _JsonLines, bar: Any) -> None:
    """One input at a time, its ``chunk_seconds`` windows ``batch_size`` at a time."""
    assert cfg.chunk_seconds is not None
    for item in _inputs(cfg, model.fs):
        if item.samples is None:
            lines.write({"file": item.name, "error": item.error})
            continue
        results = model.predict_waveform_chunks(
            item.samples, cfg.chunk_seconds, errors="return", name=item.name
        )
        for result in results:
            lines.result(item.name, result)
        lines.out.flush()
        bar.update(len(results))


def _infer_inputs(cfg: InferConfig, model: Any, lines: _JsonLines, bar: Any) -> None:
    """``batch_size`` inputs at a time, each whole."""
    for chunk in _chunks(_inputs(cfg, model.fs), cfg.batch_size):
        readable = [item for item in chunk if item.samples is not None]
        results = model.predict_waveforms(
            [item.samples for item in readable],
            errors="return",
            names=[item.name for item in readable],
        )
        by_item = {id(item): result for item, result in zip(readable, results, strict=True)}
        for item in chunk:
            if item.samples is None:
                lines.write({"file": item.name, "error": item.error})
            else:
                lines.result(item.name, by_item[id(item)])
        lines.out.flush()
        bar.update(len(chunk))


def infer_to_file(cfg: InferConfig, path: str | os.PathLike[str]) -> tuple[int, int]:
    """:func:`infer` into ``path``, written atomically (nothing is left there when it fails)."""
    counts: list[tuple[int, int]] = []

    def write(f: IO[bytes]) -> None:
        text = io.TextIOWrapper(f, encoding="utf-8", newline="")
        try:
            counts.append(infer(cfg, text))
            text.flush()
        finally:
            text.detach()

    atomic_write(path, write)
    return counts[0]
