"""The synthetic talkers: the speaker pool and how a speaker's pieces of speech are rendered at 8 kHz.

A :class:`~speechsent.synth.manifest.Speaker` is an eSpeak NG voice with its own pitch, range, rate and
level; :class:`Voice` synthesizes its words at 22,050 Hz (sentiment-dependent prosody optional: one shift per
utterance, :func:`~speechsent.synth.sentences.draw_prosody`), resamples them to 8 kHz and reports each word's
onset, for the word-level transcripts.
"""

from __future__ import annotations

import logging
import math
import random
from typing import Any

from speechsent.synth.layout import SAMPLE_RATE
from speechsent.synth.manifest import CorpusConfig, Speaker
from speechsent.synth.markup import Piece
from speechsent.synth.sentences import ProsodyShift, draw_prosody, prosody_for

__all__ = [
    "FEMALE_PITCH",
    "GAIN_DB",
    "MALE_PITCH",
    "PITCH_RANGE",
    "RATE",
    "Voice",
    "assign_speakers",
    "speaker_pool",
    "telephone_band",
]

_DEFAULT_SPEAKERS = 120
# The talkers' eSpeak settings, each drawn uniformly from these inclusive ranges per speaker (before the
# per-sentence prosody and jitter of Voice.speech): pitch (0..100) by gender, pitch range, rate (words per
# minute), level (dBFS).
FEMALE_PITCH: tuple[int, int] = (40, 70)
MALE_PITCH: tuple[int, int] = (25, 60)
PITCH_RANGE: tuple[int, int] = (35, 70)
RATE: tuple[int, int] = (150, 200)
GAIN_DB: tuple[float, float] = (-10.0, -3.0)
_LANGUAGE_WEIGHTS = {"en-us": 5.0, "en-us-nyc": 2.0}


def speaker_pool(config: CorpusConfig) -> list[Speaker]:
    """The corpus's talkers (``num_speakers``, 120 by default), drawn from ``config.seed`` alone."""
    from speechsent.synth.espeak import is_reproducible, list_english_voices, voice_gender

    voices = list(config.voices) if config.voices else list_english_voices()
    if not voices:
        raise ValueError("no eSpeak voices to use")
    breathy = [v for v in voices if not is_reproducible(v)]
    if breathy:
        logging.getLogger(__name__).warning(
            "voices with breath noise are not bit-reproducible (the corpus may differ between runs): %s",
            " ".join(breathy),
        )
    count = config.num_speakers or _DEFAULT_SPEAKERS
    rng = random.Random(f"{config.seed}:speakers")
    # Switchboard and Fisher talkers are mostly American: the US voices weigh more in the default pool;
    # half of the talkers are women (when the voices allow).
    weights = [_LANGUAGE_WEIGHTS.get(v.partition("+")[0], 1.0) if not config.voices else 1.0 for v in voices]
    genders = [voice_gender(v) for v in voices]
    pool: list[Speaker] = []
    for i in range(count):
        wanted = "f" if rng.random() < 0.5 else "m"
        if wanted not in genders:
            wanted = genders[0]
        candidates = [j for j, g in enumerate(genders) if g == wanted]
        voice = voices[rng.choices(candidates, weights=[weights[j] for j in candidates])[0]]
        female = wanted == "f"
        pool.append(
            Speaker(
                speaker_id=f"spk{i + 1:04d}",
                voice=voice,
                gender="f" if female else "m",
                pitch=rng.randint(*FEMALE_PITCH) if female else rng.randint(*MALE_PITCH),
                pitch_range=rng.randint(*PITCH_RANGE),
                rate=rng.randint(*RATE),
                gain_db=round(rng.uniform(*GAIN_DB), 2),
            )
        )
    return pool


def assign_speakers(pool: list[Speaker], seed: int, conversation: str) -> dict[str, Speaker]:
    """The two talkers of ``conversation``: side ``A`` and side ``B``."""
    a, b = random.Random(f"{seed}:speakers:{conversation}").sample(pool, 2)
    return {"A": a, "B": b}


_FIR_CACHE: dict[tuple[int, int], Any] = {}


def _resampling_filter(up: int, down: int) -> Any:
    """The low-pass filter resample_poly designs by default (Kaiser, beta 5), designed once."""
    key = (up, down)
    if key not in _FIR_CACHE:
        from scipy.signal import firwin

        max_rate = max(up, down)
        _FIR_CACHE[key] = firwin(2 * 10 * max_rate + 1, 1.0 / max_rate, window=("kaiser", 5.0))
    return _FIR_CACHE[key]


def telephone_band(x: Any, fs: int, axis: int = -1) -> Any:
    """``x`` through the 300-3400 Hz telephone band (4th-order Butterworth band-pass) along ``axis``."""
    from scipy.signal import butter, sosfilt

    return sosfilt(butter(4, [300.0, 3400.0], btype="bandpass", fs=fs, output="sos"), x, axis=axis)


class Voice:
    """Renders pieces for one speaker at 8 kHz (float64, int16 scale)."""

    def __init__(self, speaker: Speaker, config: CorpusConfig) -> None:
        import numpy as np
        from scipy.signal import resample_poly

        from speechsent.synth.espeak import get_espeak

        self.np = np
        self.resample_poly = resample_poly
        self.engine = get_espeak()
        self.speaker = speaker
        self.config = config
        self.gain = 10.0 ** (speaker.gain_db / 20.0)
        if self.engine.sample_rate % 50 != 0:  # pragma: no cover - eSpeak NG is always 22050 Hz
            raise RuntimeError(f"unexpected eSpeak sample rate {self.engine.sample_rate}")
        g = math.gcd(SAMPLE_RATE, self.engine.sample_rate)
        self.up, self.down = SAMPLE_RATE // g, self.engine.sample_rate // g
        self.fir = _resampling_filter(self.up, self.down)

    @property
    def strength(self) -> float:
        """The scale of the sentiment prosody shift (0 without ``prosody``)."""
        return self.config.prosody_strength if self.config.prosody else 0.0

    def speech(
        self, text: str, shift: ProsodyShift, rng: random.Random, pitch_shift: float = 0.0
    ) -> tuple[Any, list[int]]:
        """Audio of ``text`` spoken with ``shift``, and the onset (sample) of each space-separated word."""
        np = self.np
        spk = self.speaker
        rate = round(spk.rate * shift.rate_factor * rng.uniform(0.95, 1.05))
        pitch = round(min(100, max(0, spk.pitch + shift.pitch_delta + pitch_shift + rng.gauss(0, 3))))
        prange = round(min(100, max(0, spk.pitch_range + shift.range_delta + rng.gauss(0, 4))))
        events: list[tuple[int, int]] = []
        raw = self.engine.synthesize(
            text,
            spk.voice,
            rate=rate,
            pitch=pitch,
            pitch_range=prange,
            seed=rng.randrange(1 << 31),
            words=events,
        )
        x = self.resample_poly(raw.astype(np.float64), self.up, self.down, window=self.fir)
        lo, hi = self._trim(x)
        audio = x[lo:hi] * self.gain
        return audio, self._onsets(text, events, lo, audio.size)

    def _onsets(self, text: str, events: list[tuple[int, int]], offset: int, length: int) -> list[int]:
        """Word onsets from eSpeak's word events (interpolated for a word without one)."""
        starts: list[int] = []
        position = 0
        for word in text.split(" "):
            starts.append(position)
            position += len(word) + 1
        found: list[float | None] = []
        for k, char in enumerate(starts):
            stop = starts[k + 1] if k + 1 < len(starts) else len(text) + 1
            hits = [sample for pos, sample in events if char <= pos < stop]
            found.append(min(hits) * self.up / self.down - offset if hits else None)
        known = [(k, v) for k, v in enumerate(found) if v is not None]
        onsets: list[int] = []
        for k, value in enumerate(found):
            if value is None:  # between the neighbouring known onsets, by character position
                before = max(((j, v) for j, v in known if j < k), default=(0, 0.0))
                after = min(((j, v) for j, v in known if j > k), default=(len(starts), float(length)))
                c0 = starts[before[0]] if before[0] < len(starts) else len(text)
                c1 = starts[after[0]] if after[0] < len(starts) else len(text)
                frac = (starts[k] - c0) / (c1 - c0) if c1 > c0 else 0.0
                value = before[1] + frac * (after[1] - before[1])
            onsets.append(min(max(0, round(value)), length))
        for k in range(1, len(onsets)):
            onsets[k] = max(onsets[k], onsets[k - 1])
        return onsets

    def _trim(self, x: Any) -> tuple[int, int]:
        np = self.np
        loud = np.flatnonzero(np.abs(x) > 300.0)
        if loud.size == 0:
            return 0, 0
        margin = SAMPLE_RATE // 100
        return max(0, int(loud[0]) - margin), min(x.size, int(loud[-1]) + margin)

    def noise(self, seconds: float, nprng: Any) -> Any:
        np = self.np
        n = int(seconds * SAMPLE_RATE)
        envelope = np.hanning(n) if n > 2 else np.ones(n)
        return nprng.normal(0.0, 2500.0, n) * envelope * self.gain

    def render(
        self, pieces: list[Piece], sentiment: str, rng: random.Random, nprng: Any
    ) -> tuple[Any, list[tuple[int, int, list[int]]]]:
        """The utterance audio and, per piece, (offset, length, word onsets within the piece).

        Its speech pieces share one prosody shift, drawn for ``sentiment`` (``prosody_consistency``) when
        the first is spoken; laughs sound positive, vocalized noises neutral.
        """
        np = self.np
        shift: ProsodyShift | None = None
        parts = []
        layout: list[tuple[int, int, list[int]]] = []
        offset = 0
        for i, piece in enumerate(pieces):
            if i:
                gap = int(rng.uniform(0.05, 0.2) * SAMPLE_RATE)
                parts.append(np.zeros(gap))
                offset += gap
            onsets: list[int] = []
            if piece.kind == "speech":
                if shift is None:
                    shift = draw_prosody(sentiment, self.strength, self.config.prosody_consistency, rng)
                audio, onsets = self.speech(piece.text, shift, rng)
            elif piece.kind == "laugh":
                audio, onsets = self.speech(
                    piece.text, prosody_for("Positive", self.strength), rng, pitch_shift=12.0
                )
            elif piece.kind == "vocal":
                audio, onsets = self.speech(piece.text, prosody_for("Neutral", self.strength), rng)
            else:
                audio = self.noise(piece.seconds * rng.uniform(0.8, 1.4), nprng)
            parts.append(audio)
            layout.append((offset, audio.size, onsets))
            offset += audio.size
        return (np.concatenate(parts) if parts else np.zeros(0)), layout
