"""Conversational English sentences whose sentiment is carried by their words.

Telephone-conversation topics in the style of Switchboard and Fisher (family, weather, jobs, hobbies,
cars, sports, ...); for each, lexicons of activities, things, events, neutral facts and questions.
Sentences come from templates: Positive ones through words such as *love*, *great*, *wonderful*,
*enjoyed*, *happy*; Negative ones through *hate*, *awful*, *terrible*, *angry*, *worried*; Neutral ones
are factual statements and questions ("we moved to texas last year", "what do you do for a living").
The templates, slots, intensifiers and disfluencies combine to well over ten thousand distinct
sentences per sentiment, so that a text classifier has to learn the sentiment words, not memorise
sentences.  Sentiment words appear only in the sentiment lexicons; the topic lexicons are neutral.
The word lists are data modules: :mod:`speechsent.synth.topics` (topics) and :mod:`speechsent.synth.lexicon`
(sentiment lexicons, templates, backchannels, disfluencies); this module is the generator.

Everything is drawn from a caller's :class:`random.Random`, so the output is a pure function of its
state.  Words are lower case, with apostrophes (``don't``, ``i'm``) and hyphenated backchannels
(``uh-huh``, ``um-hum``) as Switchboard's MS-State transcripts write them; disfluencies (``uh``,
``um``, ``you know``, ``i mean``, repetitions) are words of the sentence.

:func:`prosody_for` gives an optional sentiment-dependent prosody shift (Positive: faster, higher,
wider pitch range; Negative: slower, lower, narrower) for speech synthesis; :func:`draw_prosody` draws a
turn's shift when prosody follows the sentiment only partly (``consistency``) and with a varying intensity.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from speechsent.synth import lexicon as lx
from speechsent.synth.topics import TOPIC_LEXICONS, TOPICS

__all__ = [
    "PROSODY_INTENSITY",
    "SENTIMENTS",
    "ProsodyShift",
    "Sentence",
    "SentenceGenerator",
    "count_templates",
    "draw_prosody",
    "prosody_for",
    "sentiment_words",
    "spoken_form",
]

SENTIMENTS: tuple[str, ...] = ("Negative", "Neutral", "Positive")


#: How the transcribed forms of some words are passed to eSpeak (hyphenated backchannels, fillers).
_SPOKEN: dict[str, str] = {
    "uh-huh": "uh huh",
    "um-hum": "mm hmm",
    "huh-uh": "huh uh",
    "uh": "uh",
    "um": "umm",
    "huh": "huh",
    "mhm": "mm hmm",
}


def spoken_form(word: str) -> str:
    """The text eSpeak is given for one transcript word."""
    return _SPOKEN.get(word, word)


def sentiment_words() -> frozenset[str]:
    """Every word of the sentiment lexicons (positive and negative words, exclamations, backchannels)."""
    return lx.SENTIMENT_WORDS


def _gerund(verb: str) -> str:
    double = {
        "swim",
        "shop",
        "run",
        "get",
        "sit",
        "jog",
        "plan",
        "stop",
        "put",
        "dig",
        "set",
        "win",
        "cut",
        "chat",
    }
    if verb in double:
        return verb + verb[-1] + "ing"
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")) and verb != "be":
        return verb[:-1] + "ing"
    return verb + "ing"


@dataclass(frozen=True)
class Sentence:
    """A sentence (or a short turn) with its sentiment, as lower-case transcript words."""

    words: tuple[str, ...]
    sentiment: str
    topic: str
    kind: str = "statement"  # statement | question | backchannel

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def spoken(self) -> str:
        """The text to synthesize (hyphenated backchannels and fillers respelled for eSpeak)."""
        return " ".join(spoken_form(w) for w in self.words)


@dataclass(frozen=True)
class ProsodyShift:
    """Multiplicative rate and additive pitch / pitch-range change (eSpeak's 0..100 scale)."""

    rate_factor: float = 1.0
    pitch_delta: float = 0.0
    range_delta: float = 0.0


_PROSODY: dict[str, ProsodyShift] = {
    "Positive": ProsodyShift(1.10, 8.0, 18.0),
    "Neutral": ProsodyShift(1.0, 0.0, 0.0),
    "Negative": ProsodyShift(0.88, -7.0, -15.0),
}


def prosody_for(sentiment: str, strength: float = 1.0) -> ProsodyShift:
    """The prosody shift for ``sentiment``, scaled by ``strength`` (0 = none)."""
    base = _PROSODY[sentiment]
    return ProsodyShift(
        1.0 + (base.rate_factor - 1.0) * strength, base.pitch_delta * strength, base.range_delta * strength
    )


#: The range of a turn's prosody intensity (a factor on the shift) when prosody is drawn per turn.
PROSODY_INTENSITY: tuple[float, float] = (0.3, 1.0)


def draw_prosody(sentiment: str, strength: float, consistency: float, rng: random.Random) -> ProsodyShift:
    """The prosody shift of one turn of ``sentiment``, drawn from ``rng``.

    With probability ``consistency`` the turn is spoken with its own sentiment's shift, otherwise with the
    shift of a sentiment drawn uniformly from :data:`SENTIMENTS` (a Neutral turn may sound positive, a
    Positive one flat); either shift is scaled by ``strength`` times an intensity drawn uniformly from
    :data:`PROSODY_INTENSITY`.  ``consistency`` 1 (or ``strength`` 0) is the fixed shift of
    :func:`prosody_for` and draws nothing from ``rng``: corpora synthesized before this option existed are
    reproduced bit for bit.
    """
    if not 0.0 <= consistency <= 1.0:
        raise ValueError(f"consistency must be in [0, 1], got {consistency}")
    if consistency == 1.0 or strength == 0.0:
        return prosody_for(sentiment, strength)
    source = sentiment if rng.random() < consistency else rng.choice(SENTIMENTS)
    return prosody_for(source, strength * rng.uniform(*PROSODY_INTENSITY))


def count_templates() -> dict[str, int]:
    """Number of templates per sentiment (for documentation and tests)."""
    return {
        "Negative": len(lx.NEGATIVE_TEMPLATES),
        "Neutral": len(lx.NEUTRAL_TEMPLATES),
        "Positive": len(lx.POSITIVE_TEMPLATES),
    }


class SentenceGenerator:
    """Draws sentences from ``rng``; ``disfluency_rate`` is the probability of disfluencies in one."""

    def __init__(self, rng: random.Random, disfluency_rate: float = 0.3) -> None:
        if not 0.0 <= disfluency_rate <= 1.0:
            raise ValueError("disfluency_rate must be in [0, 1]")
        self.rng = rng
        self.disfluency_rate = disfluency_rate

    # ----------------------------------------------------------------------------------
    def topic(self) -> str:
        return self.rng.choice(TOPICS)

    def sentiment(self, weights: tuple[float, float, float] = (0.25, 0.45, 0.30)) -> str:
        """A sentiment drawn with ``weights`` for (Negative, Neutral, Positive)."""
        return self.rng.choices(SENTIMENTS, weights=weights)[0]

    def _fill(self, template: str, topic: str) -> str:
        rng = self.rng
        lex = TOPIC_LEXICONS[topic]
        slots = {
            "activity": lambda: rng.choice(lex["activities"]),
            "thing": lambda: rng.choice(lex["things"]),
            "event": lambda: rng.choice(lex["events"]),
            "fact": lambda: rng.choice(lex["facts"]),
            "question": lambda: rng.choice(lex["questions"]),
            "noun": lambda: rng.choice(lex["nouns"]),
            "intens": lambda: rng.choice(lx.INTENS),
            "vintens": lambda: rng.choice(lx.VINTENS),
            "pos_verb": lambda: rng.choice(lx.POS_VERB),
            "neg_verb": lambda: rng.choice(lx.NEG_VERB),
            "pos_adj": lambda: rng.choice(lx.POS_ADJ),
            "neg_adj": lambda: rng.choice(lx.NEG_ADJ),
            "pos_np": lambda: rng.choice(lx.POS_NP),
            "neg_np": lambda: rng.choice(lx.NEG_NP),
            "pos_attr": lambda: rng.choice(lx.POS_ATTR),
            "neg_attr": lambda: rng.choice(lx.NEG_ATTR),
            "pos_feel": lambda: rng.choice(lx.POS_FEEL),
            "neg_feel": lambda: rng.choice(lx.NEG_FEEL),
            "pos_excl": lambda: rng.choice(lx.POS_EXCL),
            "neg_excl": lambda: rng.choice(lx.NEG_EXCL),
            "i": lambda: rng.choice(lx.WE),
            "freq": lambda: rng.choice(lx.FREQ),
            "when": lambda: rng.choice(lx.WHEN),
            "time_ago": lambda: rng.choice(lx.TIME_AGO),
            "place": lambda: rng.choice(lx.PLACES),
            "relative": lambda: rng.choice(lx.RELATIVES),
        }
        out: list[str] = []
        rest = template
        while "{" in rest:
            head, _, tail = rest.partition("{")
            name, _, rest = tail.partition("}")
            out.append(head)
            out.append(slots[name]())
        out.append(rest)
        return "".join(out)

    def _conjugate(self, words: list[str]) -> list[str]:
        # Templates say "{pos_verb} to {activity}"; verbs that take a gerund ("enjoy", "dread",
        # "can't stand", "despise", "dislike", "adore") get one instead of "to" + base form.
        out: list[str] = []
        i = 0
        gerund_verbs = {"enjoy", "adore", "despise", "dislike", "stand", "dread", "detest"}
        while i < len(words):
            w = words[i]
            if w == "to" and out and out[-1] in gerund_verbs and i + 1 < len(words):
                out.append(_gerund(words[i + 1]))
                i += 2
                continue
            out.append(w)
            i += 1
        return out

    @staticmethod
    def _articles(words: list[str]) -> list[str]:
        # "a awful time" -> "an awful time"
        return [
            "an" if w == "a" and i + 1 < len(words) and words[i + 1][0] in "aeio" else w
            for i, w in enumerate(words)
        ]

    def _disfluent(self, words: list[str]) -> list[str]:
        rng = self.rng
        if rng.random() >= self.disfluency_rate or not words:
            return words
        words = list(words)
        kind = rng.random()
        if kind < 0.35:
            pos = rng.randrange(0, len(words))
            words[pos:pos] = rng.choice(lx.FILLERS).split()
        elif kind < 0.6:
            words[0:0] = rng.choice(lx.PREFIXES).split()
        elif kind < 0.75:
            words.extend(rng.choice(lx.SUFFIXES).split())
        elif kind < 0.9:
            pos = rng.randrange(0, min(3, len(words)))
            words.insert(pos, words[pos])  # repetition: "i i really", "the the"
        else:
            pos = rng.randrange(0, len(words))
            words[pos:pos] = rng.choice(lx.FILLERS).split()
            words[0:0] = rng.choice(lx.PREFIXES).split()
        return words

    def sentence(self, sentiment: str, topic: str | None = None) -> Sentence:
        """One sentence of ``sentiment`` about ``topic`` (random when None)."""
        rng = self.rng
        topic = topic if topic is not None else self.topic()
        if sentiment == "Positive":
            template = rng.choice(lx.POSITIVE_TEMPLATES)
        elif sentiment == "Negative":
            template = rng.choice(lx.NEGATIVE_TEMPLATES)
        elif sentiment == "Neutral":
            template = rng.choice(lx.NEUTRAL_TEMPLATES)
        else:
            raise ValueError(f"unknown sentiment {sentiment!r}")
        words = self._articles(self._conjugate(self._fill(template, topic).split()))
        question = template in (
            "{question}",
            "do you {activity} very often",
            "how often do you {activity}",
        ) or (
            words[0] in ("what", "where", "how", "do", "have", "did", "does", "are", "is")
            and sentiment == "Neutral"
        )
        if template == "so what about you" or template == "where are you calling from":
            question = True
        words = self._disfluent(words)
        return Sentence(tuple(words), sentiment, topic, "question" if question else "statement")

    def backchannel(self, sentiment: str = "Neutral") -> Sentence:
        """A short listener response (``uh-huh``, ``oh that's great``, ``oh no``)."""
        words = self.rng.choice(lx.BACKCHANNELS[sentiment]).split()
        return Sentence(tuple(words), sentiment, "", "backchannel")

    def turn(self, sentiment: str, topic: str | None = None) -> Sentence:
        """A speaker turn: one sentence, sometimes two of the same sentiment (or a neutral lead-in)."""
        rng = self.rng
        first = self.sentence(sentiment, topic)
        if rng.random() < 0.25:
            second_sentiment = sentiment if rng.random() < 0.6 else "Neutral"
            second = self.sentence(second_sentiment, first.topic)
            if second_sentiment == "Neutral" and second.kind == "question":
                second = self.sentence(sentiment, first.topic)
            words = first.words + second.words if rng.random() < 0.5 else second.words + first.words
            return Sentence(words, sentiment, first.topic, "statement")
        return first
