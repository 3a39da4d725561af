"""The reader and writer threads of the encoder dump's jobs (:mod:`speechsent.asr.encoder_dump`): audio is
read and decoded ahead (:func:`read_audio`), matrices are compressed and appended to the ark behind
(:class:`ArkWriterThread`), while the job's thread encodes, in length-sorted batches (:func:`length_batches`).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speechsent.kaldi.ark import StorageSpec

__all__ = ["ArkWriterThread", "Utt", "length_batches", "read_audio"]


@dataclass
class Utt:
    """An utterance read: its samples, or None and why."""

    utt: str
    wav: Any  # float32 samples, or None
    error: str = ""


def read_audio(
    data_dir: Path,
    channel: int | None,
    utts: Sequence[str],
    target_rate: int,
    out: queue.Queue[Utt | None],
    stop: threading.Event,
) -> None:
    """Reader thread: the utterances in recording order (each recording decoded once) → ``out``; ends with
    None, or as soon as ``stop`` is set."""
    from speechsent.audio.io import AudioError, UtteranceReader

    def put(item: Utt | None) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        reader = UtteranceReader(data_dir, channel=channel, target_rate=target_rate)
        segments = reader.segments

        def key(utt: str) -> tuple[str, float, str]:
            seg = segments.get(utt) if segments is not None else None
            return (seg.reco, seg.start, utt) if seg is not None else (utt, 0.0, utt)

        for utt in sorted(utts, key=key):
            try:
                wav, _ = reader.load(utt)
                item = Utt(utt, wav)
            except AudioError as error:
                item = Utt(utt, None, str(error))
            if not put(item):
                return
    except BaseException as error:  # surfaced by the consumer
        put(Utt("", None, f"reader failed: {type(error).__name__}: {error}"))
    put(None)


def length_batches(
    items: list[Utt], max_size: int, max_frames: int, frames: Callable[[int], int]
) -> Iterator[list[Utt]]:
    """Length-sorted (longest first) batches of at most ``max_size`` utterances and ``max_frames`` padded
    frames."""
    items = sorted(items, key=lambda u: -len(u.wav))
    batch: list[Utt] = []
    for item in items:
        longest = len(batch[0].wav) if batch else len(item.wav)
        if batch and (len(batch) >= max_size or frames(longest) * (len(batch) + 1) > max_frames):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


class ArkWriterThread:
    """Writer thread: compresses/serialises the encoded matrices and appends them to the job's temp ark,
    overlapping with the encoding of the next batch (the compression kernel releases the GIL)."""

    def __init__(self, path: Path, ark_name: str, spec: StorageSpec, bar: Any):
        from speechsent.kaldi.ark import ArkWriter

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
