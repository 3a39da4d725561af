"""Transcript markup of a sentence and the audio pieces it stands for (MS98 and Fisher conventions).

:func:`markup_ms98` and :func:`markup_fisher` turn a :class:`~speechsent.synth.sentences.Sentence` into the
transcript tokens as the release writes them (tags, partial words, asides, uncertain spans), the clean words,
and the :class:`Piece` s of audio to synthesize (speech, laughter, noise, a vocalized noise).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from speechsent.synth.sentences import Sentence, sentiment_words, spoken_form

__all__ = ["ASIDES", "FISHER_TAGS", "Marked", "Piece", "markup_fisher", "markup_ms98", "partial_cut"]

ASIDES = (
    "hang on a second honey",
    "hold on just a minute",
    "i'm on the phone",
    "turn that down please",
    "be right there",
)
FISHER_TAGS = ("[noise]", "[lipsmack]", "[breath]", "[cough]", "[sigh]", "[mn]")


@dataclass
class Piece:
    """A stretch of an utterance's audio: ``text`` spoken, or ``seconds`` of noise."""

    kind: str  # speech | laugh | noise | vocal
    text: str = ""
    seconds: float = 0.0


@dataclass
class Marked:
    """Transcript tokens, clean words and audio pieces of an utterance.

    ``anchors`` (MS98 only) tie each transcript token to the audio, for the word-level file:
    ``(piece, first, stop)`` = spoken words ``first..stop-1`` of speech piece ``piece``; ``first ==
    stop`` a point (before spoken word ``first``, or the piece's end); ``first == -1`` the whole piece.
    """

    transcript: list[str]
    words: list[str]
    pieces: list[Piece]
    anchors: list[tuple[int, int, int]] = field(default_factory=list)


def partial_cut(word: str, rng: random.Random) -> int | None:
    """Where to cut ``word`` into a partial word (a vowel on each side), or None when it cannot be."""
    if len(word) < 4 or not word.isalpha():
        return None
    vowels = set("aeiouy")
    cuts = [k for k in range(2, len(word) - 1) if vowels & set(word[:k]) and vowels & set(word[k:])]
    return rng.choice(cuts) if cuts else None


def markup_ms98(sentence: Sentence, rng: random.Random, rate: float) -> Marked:
    """MS98 transcript tokens (with their anchors in the audio), clean words and audio pieces."""
    protected = sentiment_words()
    pieces: list[Piece] = []
    tokens: list[str] = []
    anchors: list[tuple[int, int, int]] = []
    words: list[str] = []

    def whole(token: str, piece: Piece) -> None:
        pieces.append(piece)
        tokens.append(token)
        anchors.append((len(pieces) - 1, -1, -1))

    def aside() -> None:
        said = rng.choice(ASIDES).split()
        pieces.append(Piece("speech", " ".join(said)))
        index = len(pieces) - 1
        tokens.extend(["<b_aside>", *said, "<e_aside>"])
        anchors.extend(
            [(index, 0, 0), *((index, k, k + 1) for k in range(len(said))), (index, len(said), len(said))]
        )
        words.extend(said)

    if rng.random() < rate * 0.5:
        if rng.random() < 0.5:
            whole("[noise]", Piece("noise", seconds=0.3))
        else:
            whole("[vocalized-noise]", Piece("vocal", "hmm"))
    aside_at = None
    if rng.random() < rate * 0.15:
        aside_at = "before" if rng.random() < 0.5 else "after"
    if aside_at == "before":
        aside()
    main = len(pieces)
    pieces.append(Piece("speech"))
    spoken: list[str] = []
    laugh_word = rng.random() < rate * (0.8 if sentence.sentiment == "Positive" else 0.25)
    for i, word in enumerate(sentence.words):
        if word not in protected and rng.random() < rate * 0.25:
            cut = partial_cut(word, rng)
            if cut is not None:
                anchors.append((main, len(spoken), len(spoken) + 1))
                if rng.random() < 0.75:  # restart: "wo[rd]- word"
                    tokens.append(f"{word[:cut]}[{word[cut:]}]-")
                    spoken.append(word[:cut])
                else:  # beginning swallowed: "-[wo]rd"
                    tokens.append(f"-[{word[:cut]}]{word[cut:]}")
                    spoken.append(word[cut:])
                    continue
        said = spoken_form(word).split()
        anchors.append((main, len(spoken), len(spoken) + len(said)))
        spoken.extend(said)
        if laugh_word and i == len(sentence.words) - 1 and word.isalpha():
            tokens.append(f"[laughter-{word}]")
        else:
            tokens.append(word)
        words.append(word)
    pieces[main] = Piece("speech", " ".join(spoken))
    if aside_at == "after":
        aside()
    if rng.random() < rate * (0.6 if sentence.sentiment == "Positive" else 0.15):
        whole("[laughter]", Piece("laugh", "ha ha"))
    elif rng.random() < rate * 0.3:
        whole("[noise]", Piece("noise", seconds=0.25))
    return Marked(tokens, words, pieces, anchors)


def markup_fisher(sentence: Sentence, rng: random.Random, rate: float, bbn: bool) -> Marked:
    """Fisher transcript tokens, clean words and audio pieces for a sentence."""
    protected = sentiment_words()
    # (transcript token, clean word or None) pairs
    tokens: list[tuple[str, str | None]] = []
    spoken: list[str] = []
    for word in sentence.words:
        word = "mhm" if word == "um-hum" else word
        if word not in protected and rng.random() < rate * 0.2:
            cut = partial_cut(word, rng)
            if cut is not None:
                tokens.append((f"{word[:cut]}-", None))
                spoken.append(word[:cut])
        tokens.append((word, word))
        spoken.append(spoken_form(word))
    if bbn and rng.random() < rate * 0.3:  # a rejected BBN segment: all of it in double parentheses
        tokens = [("((", None), *tokens, ("))", None)]
    elif rng.random() < rate * 0.5 and len(tokens) >= 2:
        start = rng.randrange(0, len(tokens) - 1)
        stop = min(len(tokens), start + rng.randint(1, 3))
        span = tokens[start:stop]
        if rng.random() < 0.3 and not {t for t, _ in span} & protected:  # nothing made out: "(( ))"
            tokens[start:stop] = [("((", None), ("))", None)]
        else:
            tokens[start:stop] = [("((", None), *span, ("))", None)]
    pieces = [Piece("speech", " ".join(spoken))]
    if rng.random() < rate * 0.4:
        tokens.insert(0, (rng.choice(FISHER_TAGS), None))
        pieces.insert(0, Piece("noise", seconds=0.2))
    if rng.random() < rate * (0.6 if sentence.sentiment == "Positive" else 0.15):
        tokens.append(("[laughter]", None))
        pieces.append(Piece("laugh", "ha ha"))
    return Marked([t for t, _ in tokens], [w for _, w in tokens if w is not None], pieces)
