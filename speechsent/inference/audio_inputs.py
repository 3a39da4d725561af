"""The inputs of an exported model as mono float32 samples at the model's rate, read as the dumps read them.

Files go through :func:`speechsent.audio.io.load_utterance` (the reader of ``wav.scp`` entries: SPHERE of any
coding the project reads, shorten, µ-law and a-law included, or anything libsndfile reads, wav and flac
among them; the format sniffed from the content), a Kaldi ``wav.scp`` (+ ``segments``) through
:class:`speechsent.audio.io.UtteranceReader` (pipes included, each recording decoded once): the code path of
stages 5 and 9, so the features are those the classifier was trained and scored on. Samples are int16
scaled to [-1, 1), then resampled (scipy's polyphase filter) to the model's rate.

**Channels** (``channel``, 0-based): a multi-channel input needs one, as in the recipe's data dirs (a
Switchboard side is one channel): without it a 2-channel file is an error that says so; channels are not
mixed (the models were trained on single sides of telephone calls).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["AudioItem", "InputError", "array_to_mono", "iter_wav_scp", "load_file"]


class InputError(ValueError):
    """An input that cannot be turned into audio (unreadable, too short, wrong shape); names the input."""


@dataclass
class AudioItem:
    """One input: its name (the file or the utterance id), the samples (None when unreadable) or the error."""

    name: str
    samples: np.ndarray | None
    error: str | None = None


def load_file(path: str | os.PathLike[str], target_rate: int, channel: int | None = None) -> np.ndarray:
    """Mono float32 samples of an audio file at ``target_rate`` Hz; :class:`InputError` when unreadable."""
    from speechsent.audio.io import AudioError, load_utterance
    from speechsent.data.kaldi_dir import WavEntry

    name = str(path)
    if not Path(name).is_file():
        raise InputError(f"{name}: no such file")
    try:
        samples, _ = load_utterance(WavEntry.from_path(name, name), channel=channel, target_rate=target_rate)
    except (AudioError, OSError, ValueError) as error:
        message = str(error)
        raise InputError(message if name in message else f"{name}: {message}") from None
    if samples.size == 0:
        raise InputError(f"{name}: no samples")
    return samples


def array_to_mono(
    x: Any, fs: int | None, target_rate: int, channel: int | None = None, what: str = "array"
) -> np.ndarray:
    """A 1-D or ``(samples, channels)`` numpy array / torch tensor at ``fs`` Hz → mono float32 at
    ``target_rate``. Integer samples are 16-bit PCM (scaled by 1/32768, as files are); floats are taken as
    they are ([-1, 1))."""
    from speechsent.audio.io import AudioError, resample, to_mono

    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.size == 0:
        raise InputError(
            f"{what}: expected samples shaped (samples,) or (samples, channels), got {arr.shape}"
        )
    if arr.shape[1] > arr.shape[0]:
        raise InputError(f"{what}: shaped {arr.shape}: expected (samples, channels), not (channels, samples)")
    try:
        mono = to_mono(arr, channel, what)
    except AudioError as error:
        raise InputError(str(error)) from None
    if np.issubdtype(mono.dtype, np.integer):
        mono = mono.astype(np.float32) / 32768.0
    mono = np.asarray(mono, dtype=np.float32)
    rate = target_rate if fs is None else int(fs)
    return resample(mono, rate, target_rate) if rate != target_rate else mono


def iter_wav_scp(
    wav_scp: str | os.PathLike[str],
    segments: str | os.PathLike[str] | None,
    target_rate: int,
    channel: int | None = None,
) -> Iterator[AudioItem]:
    """The utterances of a Kaldi ``wav.scp`` (+ ``segments``) in sorted order; an unreadable one is an
    item with its error (the others continue). Malformed tables raise
    :class:`speechsent.data.kaldi_dir.KaldiDataError`."""
    from speechsent.audio.io import AudioError, UtteranceReader
    from speechsent.data.kaldi_dir import DataDir, read_table

    wav_scp = Path(wav_scp)
    data = DataDir(wav_scp.parent)
    data.set_table("wav.scp", read_table(wav_scp))
    if segments is not None:
        data.set_table("segments", read_table(segments))
    else:
        data.remove("segments")
    reader = UtteranceReader(data, channel=channel, target_rate=target_rate)
    for utt in reader.utt_ids():  # sorted: a recording's segments together (the reader caches it)
        try:
            samples, _ = reader.load(utt)
        except AudioError as error:
            message = str(error)
            yield AudioItem(utt, None, message if utt in message else f"{utt}: {message}")
            continue
        if samples.size == 0:
            yield AudioItem(utt, None, f"{utt}: no samples")
        else:
            yield AudioItem(utt, samples)
