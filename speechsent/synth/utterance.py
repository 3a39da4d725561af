"""Sentences spoken by eSpeak NG into wav files: new test inputs for a model (``speechsent-synth-utterance``).

:func:`synth_utterances` writes ``<out_dir>/<utt-id>.wav`` (16-bit PCM at ``fs``, resampled from eSpeak's
22,050 Hz) and ``<out_dir>/wav.scp``; :class:`Rendering` says how they are spoken, optionally as the demo
corpus speaks (the telephone channel of :mod:`speechsent.synth.voice`, the full prosody shift of
:func:`speechsent.synth.sentences.prosody_for` per sentiment, with no random draw: the demo corpus gives a
turn that shift only partly, ``prosody_consistency``), by one talker or by several: a voice, rate, pitch or
pitch range given as a list cycles over the sentences (sentence ``i`` gets element ``i mod n``);
:func:`read_sentences` reads a Kaldi text file of sentences (a bad line is an error naming file and line).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from speechsent.kaldi.table import write_table
from speechsent.utils.fileio import atomic_write_bytes

__all__ = ["CYCLED_FIELDS", "ESPEAK_RATE", "SAFE_ID", "Rendering", "read_sentences", "synth_utterances"]

ESPEAK_RATE = 22050
#: an utterance id that is a safe file name
SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]+$")

logger = logging.getLogger("speechsent-synth-utterance")


def read_sentences(path: Path) -> list[tuple[str, str]]:
    """``(utt_id, text)`` pairs of a Kaldi text file, in file order; bad lines are errors (file:line)."""
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.split(maxsplit=1)
            if len(parts) < 2:
                raise ValueError(f"{path}:{number}: expected '<utt-id> <words ...>', got {line.strip()!r}")
            utt, text = parts[0], parts[1].strip()
            if not SAFE_ID.match(utt):
                raise ValueError(f"{path}:{number}: utterance id {utt!r} is not a safe file name")
            if utt in seen:
                raise ValueError(f"{path}:{number}: duplicate utterance id {utt!r}")
            seen.add(utt)
            pairs.append((utt, text))
    if not pairs:
        raise ValueError(f"{path}: no sentences")
    return pairs


#: The :class:`Rendering` fields that may be lists, cycled over the sentences.
CYCLED_FIELDS: tuple[str, ...] = ("voice", "rate", "pitch", "pitch_range")


@dataclass
class Rendering:
    """How the sentences are spoken (see the module docstring).

    ``voice``, ``rate``, ``pitch`` and ``pitch_range`` are one value for every sentence or a non-empty list
    (tuple) cycled over them: :meth:`at` is the rendering of one sentence.
    """

    voice: str | Sequence[str] = "en-us"
    fs: int = 8000
    rate: int | Sequence[int] = 170  # words per minute (the corpus's talkers: voice.RATE, 150-200)
    pitch: int | Sequence[int] = 50  # 0..100
    pitch_range: int | Sequence[int] = 50  # 0..100
    telephone: bool = False
    gain_db: float = -6.0  # the corpus's talkers: -10 .. -3 dBFS
    noise_db: float = -58.0
    prosody_strength: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in CYCLED_FIELDS:
            value = getattr(self, name)
            if isinstance(value, (list, tuple)) and not value:
                raise ValueError(f"Rendering.{name}: an empty list")
        for name in ("pitch", "pitch_range"):
            bad = [v for v in _values(getattr(self, name)) if not 0 <= v <= 100]
            if bad:
                raise ValueError(f"Rendering.{name}: {bad[0]} is not in 0..100")
        bad = [v for v in _values(self.rate) if v <= 0]
        if bad:
            raise ValueError(f"Rendering.rate: {bad[0]} words per minute")

    def at(self, index: int) -> Rendering:
        """The rendering of sentence ``index`` (0-based): element ``index mod n`` of each list."""
        chosen: dict[str, Any] = {}
        for name in CYCLED_FIELDS:
            values = _values(getattr(self, name))
            chosen[name] = values[index % len(values)]
        return replace(self, **chosen)


def _values(value: Any) -> list[Any]:
    """A :class:`Rendering` field's values: the list, or the one value."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _render(text: str, sentiment: str | None, r: Rendering, nprng: Any) -> Any:
    """Float samples in [-1, 1] at ``r.fs`` of ``text`` (silence-padded); ``r``: one sentence's rendering."""
    import numpy as np

    from speechsent.audio.io import resample
    from speechsent.synth.espeak import get_espeak
    from speechsent.synth.sentences import prosody_for

    shift = prosody_for(sentiment or "Neutral", r.prosody_strength)
    samples = get_espeak().synthesize(
        text,
        voice=r.voice,
        rate=round(r.rate * shift.rate_factor),
        pitch=round(min(100, max(0, r.pitch + shift.pitch_delta))),
        pitch_range=round(min(100, max(0, r.pitch_range + shift.range_delta))),
        seed=r.seed,
    )
    if samples.size == 0:
        raise ValueError(f"eSpeak produced no audio for {text!r} (voice {r.voice})")
    audio = resample(samples.astype(np.float32) / 32768.0, ESPEAK_RATE, r.fs).astype(np.float64)
    pad = np.zeros(int(0.2 * r.fs))  # a little silence around the words
    audio = np.concatenate([pad, audio, pad])
    if r.telephone:  # the corpus synthesizer's channel (speechsent.synth.voice), at this rate
        from speechsent.synth.voice import telephone_band

        audio = audio * 10.0 ** (r.gain_db / 20.0) + nprng.normal(
            0.0, 10.0 ** (r.noise_db / 20.0), audio.size
        )
        if r.fs > 6800:
            audio = telephone_band(audio, r.fs)
    return np.clip(audio, -1.0, 1.0)


def synth_utterances(
    sentences: Sequence[tuple[str, str]],
    out_dir: str | Path,
    rendering: Rendering | None = None,
    sentiments: dict[str, str] | None = None,
) -> Path:
    """Write ``<out_dir>/<utt>.wav`` per sentence and ``<out_dir>/wav.scp``; returns the wav.scp path.

    ``sentiments`` (utt -> label) gives a sentence the corpus's full prosody shift for that label (Neutral:
    none), as if every turn's prosody agreed with its sentiment (``prosody_consistency`` 1).
    Sentence ``i`` is spoken with ``rendering.at(i)`` (the lists of several voices, rates, ... cycle).
    """
    import io

    import numpy as np
    import soundfile

    r = rendering or Rendering()
    sentiments = sentiments or {}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    nprng = np.random.default_rng(r.seed)
    scp: dict[str, str] = {}
    for index, (utt, text) in enumerate(sentences):
        one = r.at(index)
        try:
            audio = _render(text, sentiments.get(utt), one, nprng)
        except ValueError as error:
            raise ValueError(f"{utt}: {error}") from None
        fs = r.fs
        path = out / f"{utt}.wav"
        buffer = io.BytesIO()
        soundfile.write(buffer, audio, fs, subtype="PCM_16", format="WAV")
        atomic_write_bytes(path, buffer.getvalue())
        scp[utt] = str(path)
        logger.info(
            "%s: %.2f s, %s rate %d pitch %d range %d, %s, %r",
            path,
            len(audio) / fs,
            one.voice,
            one.rate,
            one.pitch,
            one.pitch_range,
            sentiments.get(utt, "no prosody shift"),
            text,
        )
    write_table(out / "wav.scp", scp)
    return out / "wav.scp"
