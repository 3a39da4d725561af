"""The inputs of an exported model as mono float32 samples at the model's rate, read as the dumps read them.

Files go through :func:`speechsent.audio.io.load_utterance` (the reader of ``wav.scp`` entries: SPHERE of any
coding the project reads, shorten, µ-law and a-law included, or anything libsndfile reads, wav and flac
among them; the format sniffed from the content), a Kaldi ``wav.scp`` (+ ``segments``) through
:class:`speechsent.audio.io.UtteranceReader` (pipes included, each recording decoded once): the code path of
stages 5 and 9, so the features are those the classifier was trained and scored on. Samples are int16
scaled to [-1, 1), then resampled (scipy's polyphase filter) to the model's rate.

**Sample scale.** Every input becomes 16-bit samples first, files and arrays alike, so that a model gives
the same result on a file, on its copy in another coding and on the array of its samples:

- files as :mod:`speechsent.audio.io` reads them: integer codings of up to 16 bits exactly, float (and 24-
  or 32-bit) codings at full scale ±1.0, ×32768 and rounded;
- float arrays (numpy or torch, float16/32/64, as ``soundfile.read``, ``librosa.load`` and
  ``torchaudio.load`` return audio) at full scale ±1.0, converted as a float file is
  (:func:`speechsent.audio.io.float_to_int16`);
- integer arrays as 16-bit PCM values (``soundfile.read(dtype="int16")``, ``scipy.io.wavfile.read`` of a
  16-bit file); any integer dtype whose values all fit in 16 bits.

A float sample beyond ±1.0 is clipped to full scale with a logged warning that counts them. NaN or
infinite samples, float samples beyond ±256 (integer-scale values in a float array), integer values that do
not fit in 16 bits (32-bit PCM: divide by 2**31 for floats), 8-bit integer arrays (their scale is
ambiguous) and non-numeric arrays are an :class:`InputError` naming the input: never silence or NaN.

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
    from speechsent.kaldi.data_dir import WavEntry

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
    ``target_rate``, on the scale of files (see the module doc: floats at full scale ±1.0, integers as 16-bit
    PCM); :class:`InputError` naming ``what`` when the samples are not audio on either scale."""
    from speechsent.audio.io import AudioError, float_to_int16, resample, to_mono

    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu()
        if str(x.dtype) == "torch.bfloat16":  # numpy has no bfloat16
            x = x.float()
        x = x.numpy()
    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.size == 0:
        raise InputError(f"{what}: no samples (an empty array)")
    if arr.ndim != 2:
        raise InputError(
            f"{what}: expected samples shaped (samples,) or (samples, channels), got {arr.shape}"
        )
    if arr.shape[1] > arr.shape[0]:
        raise InputError(f"{what}: shaped {arr.shape}: expected (samples, channels), not (channels, samples)")
    try:
        mono = to_mono(arr, channel, what)
    except AudioError as error:
        raise InputError(str(error)) from None
    rate = target_rate if fs is None else int(fs)
    if np.issubdtype(mono.dtype, np.floating):
        try:
            pcm = float_to_int16(mono, what, rate)
        except AudioError as error:
            raise InputError(str(error)) from None
    elif np.issubdtype(mono.dtype, np.integer):
        if mono.dtype.itemsize == 1:
            raise InputError(
                f"{what}: {mono.dtype} samples: 8-bit values are not 16-bit PCM; convert them to int16 "
                "(e.g. (x.astype(np.int16) - 128) * 256 for unsigned 8-bit PCM) or to float in [-1, 1]"
            )
        low, high = int(mono.min()), int(mono.max())
        if low < -32768 or high > 32767:
            raise InputError(
                f"{what}: {mono.dtype} samples from {low} to {high} do not fit in 16 bits: integer samples "
                "are read as 16-bit PCM; pass 32-bit PCM as float (x / 2**31) or as int16 (x >> 16)"
            )
        pcm = mono.astype(np.int16)
    else:
        raise InputError(f"{what}: {mono.dtype} values are not audio samples (expected integers or floats)")
    samples = pcm.astype(np.float32) / 32768.0
    return resample(samples, rate, target_rate) if rate != target_rate else samples


def iter_wav_scp(
    wav_scp: str | os.PathLike[str],
    segments: str | os.PathLike[str] | None,
    target_rate: int,
    channel: int | None = None,
) -> Iterator[AudioItem]:
    """The utterances of a Kaldi ``wav.scp`` (+ ``segments``) in sorted order; an unreadable one is an
    item with its error (the others continue). Malformed tables raise
    :class:`speechsent.kaldi.table.KaldiDataError`."""
    from speechsent.audio.io import AudioError, UtteranceReader
    from speechsent.kaldi.data_dir import DataDir
    from speechsent.kaldi.table import read_table

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
