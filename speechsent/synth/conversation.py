"""One conversation's timeline: turns, backchannels, laughs and noises placed in time, and its two channels.

:func:`plan_conversation` draws the turns of two talkers on one topic and places each rendered utterance
(:class:`Utt`) on the timeline, with overlaps and listener responses; :func:`finish_channels` mixes them into
the two channels (crosstalk, background noise, telephone band) as int16 samples.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from speechsent.synth.layout import SAMPLE_RATE
from speechsent.synth.manifest import CorpusConfig, Speaker
from speechsent.synth.markup import Marked, Piece
from speechsent.synth.sentences import Sentence, SentenceGenerator
from speechsent.synth.voice import Voice, telephone_band

__all__ = ["Utt", "finish_channels", "plan_conversation", "sentiment_of", "speak_conversation"]


@dataclass
class Utt:
    side: str
    kind: str
    sentence: Sentence
    marked: Marked
    start: int  # samples
    audio: Any
    layout: list[tuple[int, int, list[int]]] = field(default_factory=list)


def finish_channels(utts: list[Utt], total: int, config: CorpusConfig, nprng: Any) -> Any:
    import numpy as np

    channels = np.zeros((2, total))
    for utt in utts:
        ch = 0 if utt.side == "A" else 1
        n = min(utt.audio.size, total - utt.start)
        channels[ch, utt.start : utt.start + n] += utt.audio[:n]
    cross = 10.0 ** (config.crosstalk_db / 20.0)
    mixed = channels + cross * channels[::-1]
    sigma = 32768.0 * 10.0 ** (config.noise_db / 20.0)
    mixed += nprng.normal(0.0, sigma, mixed.shape) * nprng.uniform(0.6, 1.6, (2, 1))
    if config.telephone_band:
        mixed = telephone_band(mixed, SAMPLE_RATE, axis=1)
    return np.clip(np.round(mixed.T), -32768, 32767).astype(np.int16)


def plan_conversation(
    rng: random.Random,
    nprng: Any,
    gen: SentenceGenerator,
    voices: dict[str, Voice],
    config: CorpusConfig,
    turns: int,
    topic: str,
    markup: Callable[[Sentence, random.Random], Marked],
) -> tuple[list[Utt], int]:
    """Turns, backchannels, laughs and noises of a conversation placed on a timeline (samples)."""
    utts: list[Utt] = []
    busy = {"A": 0, "B": 0}
    margin = int(0.35 * SAMPLE_RATE)
    t = int(rng.uniform(0.3, 1.2) * SAMPLE_RATE)
    side = "A" if rng.random() < 0.5 else "B"

    def place(side: str, kind: str, sentence: Sentence, start: int, force: bool) -> Utt | None:
        if kind == "laughter":
            marked = Marked(["[laughter]"], [], [Piece("laugh", "ha ha ha")], [(0, -1, -1)])
        elif kind == "noise" and rng.random() < 0.4:
            marked = Marked(["[vocalized-noise]"], [], [Piece("vocal", "hmm")], [(0, -1, -1)])
        elif kind == "noise":
            marked = Marked(["[noise]"], [], [Piece("noise", seconds=0.3)], [(0, -1, -1)])
        else:
            marked = markup(sentence, rng)
        audio, layout = voices[side].render(marked.pieces, sentence.sentiment, rng, nprng)
        if audio.size == 0:
            return None
        if start < busy[side] + margin:
            if not force:
                return None
            start = busy[side] + margin
        utt = Utt(side, kind, sentence, marked, start, audio, layout)
        busy[side] = start + audio.size
        utts.append(utt)
        return utt

    for turn in range(turns):
        if turn and rng.random() < 0.85:
            side = "B" if side == "A" else "A"
        sentiment = gen.sentiment(config.sentiment_weights)
        sentence = gen.turn(sentiment, topic if rng.random() < 0.85 else None)
        utt = place(side, "speech", sentence, t, force=True)
        if utt is None:
            continue
        start, end = utt.start, utt.start + utt.audio.size
        other = "B" if side == "A" else "A"
        length = end - start
        if length > 1.6 * SAMPLE_RATE and rng.random() < config.backchannel_rate:
            bc_sentiment = "Neutral"
            if sentiment != "Neutral" and rng.random() < 0.4:
                bc_sentiment = sentiment
            at = start + int(rng.uniform(0.4, 0.8) * length)
            place(other, "backchannel", gen.backchannel(bc_sentiment), at, force=False)
        roll = rng.random()
        if roll < config.markup_rate * 0.35:
            at = start + int(rng.uniform(0.2, 0.7) * length)
            kind = "laughter" if sentiment == "Positive" and rng.random() < 0.6 else "noise"
            laugh_sentiment = "Positive" if kind == "laughter" else "Neutral"
            place(other, kind, Sentence((), laugh_sentiment, "", kind), at, force=False)
        gap = rng.uniform(-0.25, 0.9) if rng.random() < 0.85 else rng.uniform(0.9, 2.0)
        t = max(int(end + gap * SAMPLE_RATE), start + int(0.3 * SAMPLE_RATE))
    total = max(busy.values()) + int(rng.uniform(0.6, 1.5) * SAMPLE_RATE)
    utts.sort(key=lambda u: (u.start, u.side))
    return utts, total


def sentiment_of(utt: Utt) -> str | None:
    return None if utt.kind == "noise" else utt.sentence.sentiment


def speak_conversation(
    config: CorpusConfig,
    speakers: dict[str, Speaker],
    rng: random.Random,
    nprng: Any,
    turns: int,
    topic: str,
    markup: Callable[[Sentence, random.Random], Marked],
) -> tuple[list[Utt], int, Any]:
    """A conversation of ``speakers`` on ``topic`` planned (:func:`plan_conversation`) and mixed
    (:func:`finish_channels`): its utterances, its length in samples and its (samples, 2) int16 audio."""
    gen = SentenceGenerator(rng, config.disfluency_rate)
    voices = {side: Voice(spk, config) for side, spk in speakers.items()}
    utts, total = plan_conversation(rng, nprng, gen, voices, config, turns, topic, markup)
    return utts, total, finish_channels(utts, total, config, nprng)
