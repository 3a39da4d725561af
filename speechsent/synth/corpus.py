"""A deterministic synthetic conversational corpus in the exact layouts of the LDC releases.

:func:`synthesize_corpus` writes, under ``out_dir``::

    swbd/swb1_d1/data/sw02001.sph                        Switchboard-1 Release 2 (LDC97S62): 2-ch, 8 kHz,
                                                          mu-law SPHERE, a fraction shorten-compressed
    swb_ms98_transcriptions/20/2001/sw2001A-ms98-a-trans.text   MS-State transcripts, both sides
    swb_ms98_transcriptions/20/2001/sw2001A-ms98-a-word.text    ... and their word alignments
    swbd_sentiment/data/sentiment_labels.tsv             Speech Sentiment Annotations (LDC2020T14)
    fisher/LDC2004S13/fe_03_p1_sph1/audio/000/fe_03_00001.sph   Fisher Part 1 speech (shortened mu-law)
    fisher/LDC2004T19/fe_03_p1_tran/data/trans/000/fe_03_00001.txt   Fisher Part 1 transcripts
    fisher/LDC2005S13/fe_03_p2_sph1/audio/058/fe_03_05851.sph   (Part 2, when asked for)
    fisher/LDC2005T19/fe_03_p2_tran/data/trans/058/fe_03_05851.txt
    manifest.json                                        the ground truth (see :class:`CorpusManifest`)

so that a recipe's data preparation parses it with the code that parses the real releases
(``db.sh``: ``SWBD``, ``SWBD_MS98``, ``SWBD_SENTIMENT``, ``FISHER`` = :attr:`CorpusManifest.db`).

Conversations are two synthetic talkers (eSpeak NG voices and variants, each with its own pitch,
range, rate and level) taking turns on one topic; each turn is a sentence whose sentiment is carried
by its words (:mod:`speechsent.synth.sentences`), optionally with sentiment-dependent prosody.
Listeners backchannel (``uh-huh``, ``oh that's great``) over the talker, laugh, make noises; turns
sometimes overlap.  Each turn is synthesized at 22,050 Hz, resampled to 8 kHz and put in its
speaker's channel at its time; the channels get a little crosstalk and background noise and a
telephone band-pass (300-3400 Hz) before mu-law coding.

Transcripts follow the real formats:

* MS98: ``sw2001A-ms98-a-0001 0.000000 0.977625 [silence]`` lines, 6-decimal times on the 8 kHz sample
  grid, segment ids numbered per side, each side tiled from 0 to the end of the file by speech and
  ``[silence]`` segments; lower-case words with MS98 markup: ``[noise]``, ``[vocalized-noise]``,
  ``[laughter]``, ``[laughter-word]``, partial words ``wo[rd]-`` / ``-[wo]rd``, ``<b_aside>`` ...
  ``<e_aside>``, hesitations ``uh`` ``um`` ``uh-huh`` ``um-hum``; noise- and laughter-only segments.
  The ``-word.text`` companions have one ``sw2001A-ms98-a-0002 0.977625 1.185875 hi`` line per token
  (``[silence]`` for a silence segment), timed by eSpeak's word events.
* LDC2020T14: ``sw02005_57<TAB>400.271875<TAB>404.732375<TAB>Negative-{Scared}#Neutral-{Mixed
  emotions}#Negative-{Scared}`` rows, no header; the number after ``_`` indexes the conversation's
  transcribed (non-silence) segments of both sides in time order, so unlabeled segments leave gaps;
  times are the MS98 segment's, off by up to ``time_jitter`` seconds, written as Python floats
  (``0.0``); 3 votes, sometimes 4, ``Label-{reason}`` joined by ``#``; annotators are noisy,
  some rows have no majority (3 different labels, or 2-2), a few rows match no segment.
* Fisher (LDC2004T19): ``# fe_03_00001.sph`` and ``# Transcribed at the LDC`` (or ``# Transcribed by
  BBN/WordWave``), a blank line, then ``3.76 5.54 A: words `` lines (2-decimal times, a trailing
  space) each followed by a blank line, in order of start time; ``(( ... ))`` around uncertain words
  (empty ``(( ))`` where nothing could be made out), ``[laughter]``, ``[noise]``, ``[lipsmack]``,
  ``[breath]``, ``[cough]``, ``[sigh]``, ``[mn]`` tags and partial words ``wo-``.

Everything is a pure function of :class:`CorpusConfig` (same bytes on every run, on any number of
worker processes: every conversation draws from its own random streams, and the synthesizer is reset
before each utterance).  Files are written atomically (a hidden temporary in the same directory,
then a rename): an interrupted run leaves complete files or none.  ``out_dir`` must be new, empty or
an earlier synthetic corpus (it holds a ``.speechsent-synth-corpus`` marker); in the last case the files
of the earlier corpus that this one does not have are removed, so the directory holds exactly one corpus.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsent.synth.sentences import (
    SENTIMENTS,
    TOPICS,
    Sentence,
    SentenceGenerator,
    prosody_for,
    sentiment_words,
    spoken_form,
)

__all__ = [
    "CorpusConfig",
    "CorpusManifest",
    "FisherConversation",
    "FisherSegment",
    "Ms98Segment",
    "SentimentRow",
    "Speaker",
    "SwbdConversation",
    "fisher_paths",
    "load_manifest",
    "ms98_path",
    "ms98_word_path",
    "swbd_sph_path",
    "synthesize_corpus",
    "telephone_band",
]

SAMPLE_RATE = 8000
MANIFEST_NAME = "manifest.json"
FISHER_PART2_FIRST = 5851  # Fisher Part 2 (LDC2005S13 / LDC2005T19) starts at fe_03_05851
_FISHER_CALLS_PER_DISC = 850
_SWBD_CALLS_PER_DISC = 1200
_MAX_SWBD = 4999 - 2001 + 1
_DEFAULT_SPEAKERS = 120
_LANGUAGE_WEIGHTS = {"en-us": 5.0, "en-us-nyc": 2.0}

REASONS: dict[str, tuple[str, ...]] = {
    "Positive": ("Happy", "Excited", "Laughter", "Amused", "Grateful", "Hopeful", "Satisfied"),
    "Negative": ("Sad", "Angry", "Scared", "Frustrated", "Worried", "Disgusted", "Annoyed"),
    "Neutral": ("No emotion", "Questioning", "Mixed emotions", "Calm", "Uncertain"),
}
# Annotator confusions: where a vote goes when it is not the true sentiment.
_CONFUSION: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "Positive": (("Neutral", "Negative"), (0.8, 0.2)),
    "Negative": (("Neutral", "Positive"), (0.8, 0.2)),
    "Neutral": (("Positive", "Negative"), (0.55, 0.45)),
}
_ASIDES = (
    "hang on a second honey",
    "hold on just a minute",
    "i'm on the phone",
    "turn that down please",
    "be right there",
)
_FISHER_TAGS = ("[noise]", "[lipsmack]", "[breath]", "[cough]", "[sigh]", "[mn]")


# --------------------------------------------------------------------------------------
# Configuration and manifest
# --------------------------------------------------------------------------------------


@dataclass
class CorpusConfig:
    """What to synthesize.  Every field has a default; sizes are numbers of conversations.

    ``seed``: everything is a function of it and the other fields.  ``num_swbd_convs`` Switchboard
    conversations (``sw02001``.. with gaps, all transcribed, ``labeled_fraction`` of their transcribed
    segments labeled), ``num_fisher_convs`` Fisher Part 1 and ``num_fisher_p2_convs`` Part 2 ones
    (unlabeled; their sentences carry sentiment too), of ``turns_per_conv`` / ``fisher_turns_per_conv``
    turns (listener backchannels, laughs and noises come on top; ~3 s a turn).
    ``swbd_shorten_fraction`` of the Switchboard files are shorten-compressed (at least one and at most
    all but one when there are two or more); all Fisher files are.  ``prosody`` (scaled by
    ``prosody_strength``) makes Positive turns faster, higher and wider in pitch, Negative ones slower,
    lower and flatter.  Annotation: ``annotator_accuracy`` is the chance that a vote is the true
    sentiment, ``four_vote_fraction`` of the rows have 4 votes, ``tie_fraction`` of them are made ties
    (more arise from the noise), ``unmatched_rows`` rows match no segment, times are off by up to
    ``time_jitter`` s.  ``sentiment_weights``: (Negative, Neutral, Positive) turn frequencies.
    ``disfluency_rate``, ``markup_rate``, ``backchannel_rate``: how often sentences get disfluencies,
    transcripts markup, long turns a backchannel.  ``num_speakers``: the talker pool (0: 120),
    ``voices``: eSpeak voices to draw them from (empty: English languages x the reproducible variants of
    :data:`speechsent.synth.espeak.DEFAULT_VARIANTS`).  ``noise_db`` background noise (dBFS),
    ``crosstalk_db`` each side's level in the other channel, ``telephone_band`` a 300-3400 Hz band-pass.
    """

    seed: int = 1
    num_swbd_convs: int = 40
    num_fisher_convs: int = 20
    num_fisher_p2_convs: int = 0
    turns_per_conv: int = 24
    fisher_turns_per_conv: int = 24
    swbd_shorten_fraction: float = 0.5
    prosody: bool = True
    prosody_strength: float = 1.0
    labeled_fraction: float = 0.9
    four_vote_fraction: float = 0.15
    annotator_accuracy: float = 0.8
    tie_fraction: float = 0.03
    unmatched_rows: int = 2
    time_jitter: float = 0.03
    sentiment_weights: tuple[float, float, float] = (0.25, 0.45, 0.30)
    disfluency_rate: float = 0.3
    markup_rate: float = 0.15
    backchannel_rate: float = 0.35
    num_speakers: int = 0
    voices: tuple[str, ...] = ()
    noise_db: float = -58.0
    crosstalk_db: float = -34.0
    telephone_band: bool = True

    def validate(self) -> None:
        """Raise ValueError for an out-of-range field."""
        if not 0 <= self.num_swbd_convs <= _MAX_SWBD:
            raise ValueError(f"num_swbd_convs must be in 0..{_MAX_SWBD}")
        if not 0 <= self.num_fisher_convs < FISHER_PART2_FIRST:
            raise ValueError(f"num_fisher_convs must be in 0..{FISHER_PART2_FIRST - 1}")
        if not 0 <= self.num_fisher_p2_convs <= 99999 - FISHER_PART2_FIRST:
            raise ValueError("num_fisher_p2_convs out of range")
        if self.turns_per_conv < 1 or self.fisher_turns_per_conv < 1:
            raise ValueError("turns_per_conv and fisher_turns_per_conv must be positive")
        for name in (
            "swbd_shorten_fraction",
            "labeled_fraction",
            "four_vote_fraction",
            "annotator_accuracy",
            "tie_fraction",
            "disfluency_rate",
            "markup_rate",
            "backchannel_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        if self.unmatched_rows < 0:
            raise ValueError("unmatched_rows must be >= 0")
        if not 0.0 <= self.time_jitter <= 0.05:
            raise ValueError("time_jitter must be in [0, 0.05] seconds")
        weights = self.sentiment_weights
        if len(weights) != 3 or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError("sentiment_weights must be 3 non-negative numbers (Negative, Neutral, Positive)")
        if self.prosody_strength < 0:
            raise ValueError("prosody_strength must be >= 0")
        if self.num_speakers < 0:
            raise ValueError("num_speakers must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["sentiment_weights"] = list(self.sentiment_weights)
        out["voices"] = list(self.voices)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CorpusConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown corpus config field(s): {', '.join(unknown)}")
        values = dict(data)
        if "sentiment_weights" in values:
            values["sentiment_weights"] = tuple(float(x) for x in values["sentiment_weights"])
        if "voices" in values:
            values["voices"] = tuple(values["voices"])
        return cls(**values)


@dataclass
class Speaker:
    """A synthetic talker: an eSpeak voice and its baseline prosody and level."""

    speaker_id: str
    voice: str
    gender: str
    pitch: int
    pitch_range: int
    rate: int
    gain_db: float


@dataclass
class Ms98Segment:
    """One line of an MS98 ``-trans.text`` file, with its ground truth.

    ``kind``: ``silence``, ``speech`` (a turn), ``backchannel``, ``laughter`` (laughter only) or
    ``noise`` (``[noise]`` / ``[vocalized-noise]`` only).  ``transcript`` is the text as written (with
    markup); ``words`` the clean words (markup tags and partial words removed, ``[laughter-w]`` ->
    ``w``, asides' markers removed); ``index`` numbers the conversation's non-silence segments (both
    sides, time order; the number in LDC2020T14 ids); ``sentence`` the words spoken, disfluencies and
    all, without markup; ``sentiment`` the true sentiment (None for silence and noise).
    """

    segment_id: str
    conversation: str
    side: str
    start: float
    end: float
    kind: str
    transcript: str
    words: str
    sentence: str = ""
    sentiment: str | None = None
    topic: str = ""
    question: bool = False
    index: int | None = None
    labeled: bool = False


@dataclass
class SentimentRow:
    """One row of ``sentiment_labels.tsv`` and what it should come to.

    ``outcome``: the majority label, ``tie`` (no majority) or ``unmatched`` (times that match no
    segment).  ``segment_id`` / ``side`` name the segment it was made from (for unmatched rows: the
    segment whose times were shifted away).
    """

    row_id: str
    conversation: str
    start: float
    end: float
    votes: list[str]
    outcome: str
    true_sentiment: str
    segment_id: str
    side: str

    @property
    def line(self) -> str:
        return f"{self.row_id}\t{_pyfloat(self.start)}\t{_pyfloat(self.end)}\t{'#'.join(self.votes)}"


@dataclass
class SwbdConversation:
    conversation: str  # sw02001
    number: int
    path: str  # relative to out_dir
    shorten: bool
    duration: float
    topic: str
    speakers: dict[str, Speaker]
    segments: list[Ms98Segment]
    ms98_paths: dict[str, str]
    ms98_word_paths: dict[str, str] = field(default_factory=dict)


@dataclass
class FisherSegment:
    """One utterance line of a Fisher transcript with its ground truth (see :class:`Ms98Segment`)."""

    conversation: str
    side: str
    start: float
    end: float
    kind: str
    transcript: str
    words: str
    sentence: str
    sentiment: str | None
    topic: str = ""


@dataclass
class FisherConversation:
    conversation: str  # fe_03_00001
    number: int
    part: int
    audio_path: str
    transcript_path: str
    transcriber: str
    duration: float
    topic: str
    speakers: dict[str, Speaker]
    segments: list[FisherSegment]


@dataclass
class CorpusManifest:
    """Ground truth of a synthesized corpus (``manifest.json``).

    ``db`` holds the ``db.sh`` values (absolute paths; ``FISHER`` space-separated), ``swbd`` every
    Switchboard conversation and MS98 segment, ``sentiment_rows`` every TSV row in file order,
    ``fisher`` every Fisher conversation and utterance.  ``audio_seconds`` counts conversation audio
    (both sides' duration once); ``synthesis_seconds`` is wall-clock time (not in the JSON file,
    which is deterministic).
    """

    out_dir: str
    config: CorpusConfig
    db: dict[str, str]
    swbd: list[SwbdConversation] = field(default_factory=list)
    sentiment_rows: list[SentimentRow] = field(default_factory=list)
    fisher: list[FisherConversation] = field(default_factory=list)
    audio_seconds: float = 0.0
    synthesis_seconds: float = 0.0

    def db_lines(self) -> list[str]:
        """``db.sh`` lines: ``SWBD=...`` etc."""
        return [f"{key}={_shell_quote(value)}" for key, value in self.db.items()]

    def to_dict(self) -> dict[str, Any]:
        root = Path(self.out_dir)
        relative = {
            key: " ".join(os.path.relpath(part, root) for part in value.split())
            for key, value in self.db.items()
        }
        return {
            "format": "speechsent-synth-corpus/1",
            "db": self.db,
            "db_relative": relative,
            "config": self.config.to_dict(),
            "audio_seconds": round(self.audio_seconds, 6),
            "swbd": [dataclasses.asdict(c) for c in self.swbd],
            "sentiment_rows": [dataclasses.asdict(r) for r in self.sentiment_rows],
            "fisher": [dataclasses.asdict(c) for c in self.fisher],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], out_dir: str = "") -> CorpusManifest:
        def speakers(raw: dict[str, Any]) -> dict[str, Speaker]:
            return {side: Speaker(**spk) for side, spk in raw.items()}

        swbd = [
            SwbdConversation(
                **{
                    **c,
                    "speakers": speakers(c["speakers"]),
                    "segments": [Ms98Segment(**s) for s in c["segments"]],
                }
            )
            for c in data["swbd"]
        ]
        fisher = [
            FisherConversation(
                **{
                    **c,
                    "speakers": speakers(c["speakers"]),
                    "segments": [FisherSegment(**s) for s in c["segments"]],
                }
            )
            for c in data["fisher"]
        ]
        return cls(
            out_dir=out_dir,
            config=CorpusConfig.from_dict(data["config"]),
            db=dict(data["db"]),
            swbd=swbd,
            sentiment_rows=[SentimentRow(**r) for r in data["sentiment_rows"]],
            fisher=fisher,
            audio_seconds=float(data.get("audio_seconds", 0.0)),
        )


def load_manifest(out_dir: str | os.PathLike[str]) -> CorpusManifest:
    """Read ``out_dir/manifest.json`` (``db`` paths are taken relative to ``out_dir``)."""
    root = Path(out_dir).resolve()
    data = json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8"))
    manifest = CorpusManifest.from_dict(data, str(root))
    if "db_relative" in data:  # the corpus may have been moved since it was written
        relative: dict[str, str] = data["db_relative"]
        manifest.db = {key: " ".join(str(root / p) for p in value.split()) for key, value in relative.items()}
    return manifest


# --------------------------------------------------------------------------------------
# Layout helpers
# --------------------------------------------------------------------------------------


def swbd_sph_path(number: int, index: int = 0) -> str:
    """``swbd/swb1_dN/data/sw0NNNN.sph`` (disc by position in the corpus, as LDC spread them)."""
    disc = min(4, 1 + index // _SWBD_CALLS_PER_DISC)
    return f"swbd/swb1_d{disc}/data/sw0{number:04d}.sph"


def ms98_path(number: int, side: str) -> str:
    """``swb_ms98_transcriptions/20/2001/sw2001A-ms98-a-trans.text``."""
    digits = f"{number:04d}"
    return f"swb_ms98_transcriptions/{digits[:2]}/{digits}/sw{digits}{side}-ms98-a-trans.text"


def ms98_word_path(number: int, side: str) -> str:
    """``swb_ms98_transcriptions/20/2001/sw2001A-ms98-a-word.text`` (the word-level companion)."""
    return ms98_path(number, side).replace("-trans.text", "-word.text")


def fisher_paths(number: int) -> tuple[str, str]:
    """(audio, transcript) paths of Fisher call ``number`` relative to out_dir (Part 1 or Part 2)."""
    name = f"fe_03_{number:05d}"
    subdir = name[6:9]
    if number < FISHER_PART2_FIRST:
        disc = min(7, 1 + (number - 1) // _FISHER_CALLS_PER_DISC)
        return (
            f"fisher/LDC2004S13/fe_03_p1_sph{disc}/audio/{subdir}/{name}.sph",
            f"fisher/LDC2004T19/fe_03_p1_tran/data/trans/{subdir}/{name}.txt",
        )
    disc = min(7, 1 + (number - FISHER_PART2_FIRST) // _FISHER_CALLS_PER_DISC)
    return (
        f"fisher/LDC2005S13/fe_03_p2_sph{disc}/audio/{subdir}/{name}.sph",
        f"fisher/LDC2005T19/fe_03_p2_tran/data/trans/{subdir}/{name}.txt",
    )


def _pyfloat(value: float) -> str:
    return repr(round(float(value), 6))


def _shell_quote(value: str) -> str:
    if value and all(c.isalnum() or c in "/._-+:=@" for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`") + '"'


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.partial-{os.getpid()}"
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _atomic_write_sphere(
    path: Path, samples: Any, *, shorten: bool, fields: Sequence[tuple[str, Any]]
) -> None:
    from speechsent.audio.sphere import write_sphere

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.partial-{os.getpid()}"
    try:
        write_sphere(tmp, samples, SAMPLE_RATE, coding="ulaw", shorten=shorten, fields=fields)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# --------------------------------------------------------------------------------------
# Speakers
# --------------------------------------------------------------------------------------


def _speaker_pool(config: CorpusConfig) -> list[Speaker]:
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
                pitch=rng.randint(40, 70) if female else rng.randint(25, 60),
                pitch_range=rng.randint(35, 70),
                rate=rng.randint(150, 200),
                gain_db=round(rng.uniform(-10.0, -3.0), 2),
            )
        )
    return pool


# --------------------------------------------------------------------------------------
# Markup
# --------------------------------------------------------------------------------------


@dataclass
class _Piece:
    kind: str  # speech | laugh | noise | vocal
    text: str = ""
    seconds: float = 0.0


@dataclass
class _Marked:
    """Transcript tokens, clean words and audio pieces of an utterance.

    ``anchors`` (MS98 only) tie each transcript token to the audio, for the word-level file:
    ``(piece, first, stop)`` = spoken words ``first..stop-1`` of speech piece ``piece``; ``first ==
    stop`` a point (before spoken word ``first``, or the piece's end); ``first == -1`` the whole piece.
    """

    transcript: list[str]
    words: list[str]
    pieces: list[_Piece]
    anchors: list[tuple[int, int, int]] = field(default_factory=list)


def _partial_cut(word: str, rng: random.Random) -> int | None:
    if len(word) < 4 or not word.isalpha():
        return None
    vowels = set("aeiouy")
    cuts = [k for k in range(2, len(word) - 1) if vowels & set(word[:k]) and vowels & set(word[k:])]
    return rng.choice(cuts) if cuts else None


def _markup_ms98(sentence: Sentence, rng: random.Random, rate: float) -> _Marked:
    """MS98 transcript tokens (with their anchors in the audio), clean words and audio pieces."""
    protected = sentiment_words()
    pieces: list[_Piece] = []
    tokens: list[str] = []
    anchors: list[tuple[int, int, int]] = []
    words: list[str] = []

    def whole(token: str, piece: _Piece) -> None:
        pieces.append(piece)
        tokens.append(token)
        anchors.append((len(pieces) - 1, -1, -1))

    def aside() -> None:
        said = rng.choice(_ASIDES).split()
        pieces.append(_Piece("speech", " ".join(said)))
        index = len(pieces) - 1
        tokens.extend(["<b_aside>", *said, "<e_aside>"])
        anchors.extend(
            [(index, 0, 0), *((index, k, k + 1) for k in range(len(said))), (index, len(said), len(said))]
        )
        words.extend(said)

    if rng.random() < rate * 0.5:
        if rng.random() < 0.5:
            whole("[noise]", _Piece("noise", seconds=0.3))
        else:
            whole("[vocalized-noise]", _Piece("vocal", "hmm"))
    aside_at = None
    if rng.random() < rate * 0.15:
        aside_at = "before" if rng.random() < 0.5 else "after"
    if aside_at == "before":
        aside()
    main = len(pieces)
    pieces.append(_Piece("speech"))
    spoken: list[str] = []
    laugh_word = rng.random() < rate * (0.8 if sentence.sentiment == "Positive" else 0.25)
    for i, word in enumerate(sentence.words):
        if word not in protected and rng.random() < rate * 0.25:
            cut = _partial_cut(word, rng)
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
    pieces[main] = _Piece("speech", " ".join(spoken))
    if aside_at == "after":
        aside()
    if rng.random() < rate * (0.6 if sentence.sentiment == "Positive" else 0.15):
        whole("[laughter]", _Piece("laugh", "ha ha"))
    elif rng.random() < rate * 0.3:
        whole("[noise]", _Piece("noise", seconds=0.25))
    return _Marked(tokens, words, pieces, anchors)


def _markup_fisher(sentence: Sentence, rng: random.Random, rate: float, bbn: bool) -> _Marked:
    """Fisher transcript tokens, clean words and audio pieces for a sentence."""
    protected = sentiment_words()
    # (transcript token, clean word or None) pairs
    tokens: list[tuple[str, str | None]] = []
    spoken: list[str] = []
    for word in sentence.words:
        word = "mhm" if word == "um-hum" else word
        if word not in protected and rng.random() < rate * 0.2:
            cut = _partial_cut(word, rng)
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
    pieces = [_Piece("speech", " ".join(spoken))]
    if rng.random() < rate * 0.4:
        tokens.insert(0, (rng.choice(_FISHER_TAGS), None))
        pieces.insert(0, _Piece("noise", seconds=0.2))
    if rng.random() < rate * (0.6 if sentence.sentiment == "Positive" else 0.15):
        tokens.append(("[laughter]", None))
        pieces.append(_Piece("laugh", "ha ha"))
    return _Marked([t for t, _ in tokens], [w for _, w in tokens if w is not None], pieces)


# --------------------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------------------


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


class _Voice:
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

    def speech(
        self, text: str, sentiment: str, rng: random.Random, pitch_shift: float = 0.0
    ) -> tuple[Any, list[int]]:
        """Audio of ``text`` and the onset (sample) of each of its space-separated words."""
        np = self.np
        spk = self.speaker
        shift = prosody_for(sentiment, self.config.prosody_strength if self.config.prosody else 0.0)
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
        self, pieces: list[_Piece], sentiment: str, rng: random.Random, nprng: Any
    ) -> tuple[Any, list[tuple[int, int, list[int]]]]:
        """The utterance audio and, per piece, (offset, length, word onsets within the piece)."""
        np = self.np
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
                audio, onsets = self.speech(piece.text, sentiment, rng)
            elif piece.kind == "laugh":
                audio, onsets = self.speech(piece.text, "Positive", rng, pitch_shift=12.0)
            elif piece.kind == "vocal":
                audio, onsets = self.speech(piece.text, "Neutral", rng)
            else:
                audio = self.noise(piece.seconds * rng.uniform(0.8, 1.4), nprng)
            parts.append(audio)
            layout.append((offset, audio.size, onsets))
            offset += audio.size
        return (np.concatenate(parts) if parts else np.zeros(0)), layout


@dataclass
class _Utt:
    side: str
    kind: str
    sentence: Sentence
    marked: _Marked
    start: int  # samples
    audio: Any
    layout: list[tuple[int, int, list[int]]] = field(default_factory=list)


def _finish_channels(utts: list[_Utt], total: int, config: CorpusConfig, nprng: Any) -> Any:
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


def _plan_conversation(
    rng: random.Random,
    nprng: Any,
    gen: SentenceGenerator,
    voices: dict[str, _Voice],
    config: CorpusConfig,
    turns: int,
    topic: str,
    markup: Callable[[Sentence, random.Random], _Marked],
) -> tuple[list[_Utt], int]:
    """Turns, backchannels, laughs and noises of a conversation placed on a timeline (samples)."""
    utts: list[_Utt] = []
    busy = {"A": 0, "B": 0}
    margin = int(0.35 * SAMPLE_RATE)
    t = int(rng.uniform(0.3, 1.2) * SAMPLE_RATE)
    side = "A" if rng.random() < 0.5 else "B"

    def place(side: str, kind: str, sentence: Sentence, start: int, force: bool) -> _Utt | None:
        if kind == "laughter":
            marked = _Marked(["[laughter]"], [], [_Piece("laugh", "ha ha ha")], [(0, -1, -1)])
        elif kind == "noise" and rng.random() < 0.4:
            marked = _Marked(["[vocalized-noise]"], [], [_Piece("vocal", "hmm")], [(0, -1, -1)])
        elif kind == "noise":
            marked = _Marked(["[noise]"], [], [_Piece("noise", seconds=0.3)], [(0, -1, -1)])
        else:
            marked = markup(sentence, rng)
        audio, layout = voices[side].render(marked.pieces, sentence.sentiment, rng, nprng)
        if audio.size == 0:
            return None
        if start < busy[side] + margin:
            if not force:
                return None
            start = busy[side] + margin
        utt = _Utt(side, kind, sentence, marked, start, audio, layout)
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


def _sentiment_of(utt: _Utt) -> str | None:
    return None if utt.kind == "noise" else utt.sentence.sentiment


# --------------------------------------------------------------------------------------
# Switchboard
# --------------------------------------------------------------------------------------


@dataclass
class _SwbdSpec:
    index: int
    number: int
    shorten: bool
    speakers: dict[str, Speaker]


def _fmt6(samples: int) -> str:
    return f"{samples / SAMPLE_RATE:.6f}"


def _token_times(utt: _Utt, lo: int, hi: int) -> list[tuple[int, int]]:
    """(start, end) samples of each transcript token of ``utt``, inside its segment ``[lo, hi]``."""
    times: list[tuple[int, int]] = []
    previous = lo
    for piece, first, stop in utt.marked.anchors:
        offset, length, onsets = utt.layout[piece]

        def at(k: int, onsets: list[int] = onsets, length: int = length) -> int:
            return onsets[k] if k < len(onsets) else length

        if first < 0:
            t0, t1 = offset, offset + length
        else:
            t0, t1 = offset + at(first), offset + at(stop)
        t0 = min(max(utt.start + t0, previous, lo), hi)
        t1 = min(max(utt.start + t1, t0), hi)
        times.append((t0, t1))
        previous = t0 if t1 == t0 else t1
    return times


def _render_swbd(out_dir: str, config: CorpusConfig, spec: _SwbdSpec) -> SwbdConversation:
    import numpy as np

    conv = f"sw0{spec.number:04d}"
    rng = random.Random(f"{config.seed}:swbd:{spec.number}")
    nprng = np.random.default_rng([config.seed & 0xFFFFFFFF, 1, spec.number])
    gen = SentenceGenerator(rng, config.disfluency_rate)
    topic = rng.choice(TOPICS)
    voices = {side: _Voice(spk, config) for side, spk in spec.speakers.items()}
    utts, total = _plan_conversation(
        rng,
        nprng,
        gen,
        voices,
        config,
        config.turns_per_conv,
        topic,
        lambda s, r: _markup_ms98(s, r, config.markup_rate),
    )
    samples = _finish_channels(utts, total, config, nprng)

    # MS98 segmentation: each utterance padded a little, the rest of the side tiled by [silence].
    segments: list[Ms98Segment] = []
    ms98_paths: dict[str, str] = {}
    ms98_word_paths: dict[str, str] = {}
    for side in ("A", "B"):
        mine = [u for u in utts if u.side == side]
        bounds: list[tuple[int, int, _Utt]] = []
        for i, utt in enumerate(mine):
            lo = utt.start - int(rng.uniform(0.03, 0.15) * SAMPLE_RATE)
            hi = utt.start + utt.audio.size + int(rng.uniform(0.03, 0.15) * SAMPLE_RATE)
            prev_end = bounds[-1][1] if bounds else 0
            lo = max(lo, prev_end, 0)
            if i + 1 < len(mine):
                hi = min(hi, (utt.start + utt.audio.size + mine[i + 1].start) // 2)
            hi = min(hi, total)
            bounds.append((lo, hi, utt))
        pieces: list[tuple[int, int, _Utt | None]] = []
        cursor = 0
        for lo, hi, utt in bounds:
            if lo > cursor:
                pieces.append((cursor, lo, None))
            pieces.append((lo, hi, utt))
            cursor = hi
        if cursor < total:
            pieces.append((cursor, total, None))
        lines = []
        word_lines = []
        side_name = f"sw{spec.number:04d}{side}"
        for n, (lo, hi, utt) in enumerate(pieces, start=1):
            seg_id = f"{side_name}-ms98-a-{n:04d}"
            if utt is None:
                word_lines.append(f"{seg_id} {_fmt6(lo)} {_fmt6(hi)} [silence]")
            else:
                for token, (t0, t1) in zip(utt.marked.transcript, _token_times(utt, lo, hi), strict=True):
                    word_lines.append(f"{seg_id} {_fmt6(t0)} {_fmt6(t1)} {token}")
            if utt is None:
                transcript, words, kind, sentence = "[silence]", "", "silence", None
            else:
                transcript = " ".join(utt.marked.transcript)
                words = " ".join(utt.marked.words)
                kind = utt.kind
                sentence = utt.sentence
            lines.append(f"{seg_id} {_fmt6(lo)} {_fmt6(hi)} {transcript}")
            segments.append(
                Ms98Segment(
                    segment_id=seg_id,
                    conversation=conv,
                    side=side,
                    start=round(lo / SAMPLE_RATE, 6),
                    end=round(hi / SAMPLE_RATE, 6),
                    kind=kind,
                    transcript=transcript,
                    words=words,
                    sentence=sentence.text if sentence is not None else "",
                    sentiment=None if utt is None else _sentiment_of(utt),
                    topic=sentence.topic if sentence is not None else "",
                    question=bool(sentence is not None and sentence.kind == "question"),
                )
            )
        rel = ms98_path(spec.number, side)
        ms98_paths[side] = rel
        _atomic_write(Path(out_dir) / rel, ("\n".join(lines) + "\n").encode())
        word_rel = ms98_word_path(spec.number, side)
        ms98_word_paths[side] = word_rel
        _atomic_write(Path(out_dir) / word_rel, ("\n".join(word_lines) + "\n").encode())

    transcribed = sorted((s for s in segments if s.kind != "silence"), key=lambda s: (s.start, s.side))
    for k, seg in enumerate(transcribed):
        seg.index = k
    segments.sort(key=lambda s: (s.side, s.start))

    rel_sph = swbd_sph_path(spec.number, spec.index)
    fields = [
        ("database_id", "Switchboard-1"),
        ("database_version", "2.0"),
        ("conversation_id", f"{spec.number:04d}"),
        ("channels_interleaved", "TRUE"),
    ]
    _atomic_write_sphere(Path(out_dir) / rel_sph, samples, shorten=spec.shorten, fields=fields)
    return SwbdConversation(
        conversation=conv,
        number=spec.number,
        path=rel_sph,
        shorten=spec.shorten,
        duration=round(total / SAMPLE_RATE, 6),
        topic=topic,
        speakers=spec.speakers,
        segments=segments,
        ms98_paths=ms98_paths,
        ms98_word_paths=ms98_word_paths,
    )


# --------------------------------------------------------------------------------------
# Fisher
# --------------------------------------------------------------------------------------


@dataclass
class _FisherSpec:
    number: int
    speakers: dict[str, Speaker]


def _render_fisher(out_dir: str, config: CorpusConfig, spec: _FisherSpec) -> FisherConversation:
    import numpy as np

    name = f"fe_03_{spec.number:05d}"
    rng = random.Random(f"{config.seed}:fisher:{spec.number}")
    nprng = np.random.default_rng([config.seed & 0xFFFFFFFF, 2, spec.number])
    gen = SentenceGenerator(rng, config.disfluency_rate)
    topic = rng.choice(TOPICS)
    bbn = rng.random() < 0.88
    voices = {side: _Voice(spk, config) for side, spk in spec.speakers.items()}
    utts, total = _plan_conversation(
        rng,
        nprng,
        gen,
        voices,
        config,
        config.fisher_turns_per_conv,
        topic,
        lambda s, r: _markup_fisher(s, r, config.markup_rate, bbn),
    )
    samples = _finish_channels(utts, total, config, nprng)
    transcriber = "BBN/WordWave" if bbn else "LDC"
    header = f"# {name}.sph\n# Transcribed {'by BBN/WordWave' if bbn else 'at the LDC'}\n\n"
    segments: list[FisherSegment] = []
    for utt in utts:
        if utt.kind == "noise":
            transcript_tokens = [rng.choice(_FISHER_TAGS)]
        elif utt.kind == "laughter":
            transcript_tokens = ["[laughter]"]
        else:
            transcript_tokens = utt.marked.transcript
        lo = max(0.0, math.floor((utt.start / SAMPLE_RATE - rng.uniform(0.0, 0.1)) * 100) / 100)
        hi = min(total / SAMPLE_RATE, math.ceil(((utt.start + utt.audio.size) / SAMPLE_RATE) * 100) / 100)
        segments.append(
            FisherSegment(
                conversation=name,
                side=utt.side,
                start=round(lo, 2),
                end=round(hi, 2),
                kind=utt.kind,
                transcript=" ".join(transcript_tokens),
                words=" ".join(utt.marked.words),
                sentence=utt.sentence.text,
                sentiment=_sentiment_of(utt),
                topic=utt.sentence.topic,
            )
        )
    segments.sort(key=lambda s: (s.start, s.side))
    body = "".join(f"{s.start:.2f} {s.end:.2f} {s.side}: {s.transcript} \n\n" for s in segments)
    audio_rel, trans_rel = fisher_paths(spec.number)
    _atomic_write(Path(out_dir) / trans_rel, (header + body).encode())
    _atomic_write_sphere(Path(out_dir) / audio_rel, samples, shorten=True, fields=())
    return FisherConversation(
        conversation=name,
        number=spec.number,
        part=1 if spec.number < FISHER_PART2_FIRST else 2,
        audio_path=audio_rel,
        transcript_path=trans_rel,
        transcriber=transcriber,
        duration=round(total / SAMPLE_RATE, 6),
        topic=topic,
        speakers=spec.speakers,
        segments=segments,
    )


# --------------------------------------------------------------------------------------
# Sentiment annotations
# --------------------------------------------------------------------------------------


def _vote_label(true: str, rng: random.Random, accuracy: float) -> str:
    if rng.random() < accuracy:
        return true
    labels, weights = _CONFUSION[true]
    return rng.choices(labels, weights=weights)[0]


def _reason(label: str, seg: Ms98Segment, rng: random.Random) -> str:
    if label == "Neutral" and seg.question and rng.random() < 0.7:
        return "Questioning"
    if label == "Positive" and seg.kind == "laughter" and rng.random() < 0.8:
        return "Laughter"
    if label == "Neutral" and rng.random() < 0.5:
        return "No emotion"
    return rng.choice(REASONS[label])


def _outcome(labels: list[str]) -> str:
    counts = {label: labels.count(label) for label in SENTIMENTS}
    top = max(counts.values())
    winners = [label for label, c in counts.items() if c == top]
    return winners[0] if len(winners) == 1 else "tie"


def _matches(start: float, end: float, seg: Ms98Segment, tol: float) -> bool:
    return abs(seg.start - start) <= tol and abs(seg.end - end) <= tol


def _sentiment_rows(conv: SwbdConversation, config: CorpusConfig, unmatched: int) -> list[SentimentRow]:
    rng = random.Random(f"{config.seed}:tsv:{conv.number}")
    transcribed = sorted(
        (s for s in conv.segments if s.index is not None and s.kind != "silence"), key=lambda s: s.index or 0
    )
    eligible = [s for s in transcribed if s.kind in ("speech", "backchannel", "laughter")]
    rows: list[tuple[int, SentimentRow]] = []
    step = 1.0 / SAMPLE_RATE

    def jitter() -> float:
        if config.time_jitter <= 0 or rng.random() < 0.4:
            return 0.0
        return round(rng.uniform(-config.time_jitter, config.time_jitter) / step) * step

    def votes_for(seg: Ms98Segment, forced_tie: bool) -> list[str]:
        true = seg.sentiment or "Neutral"
        n = 4 if rng.random() < config.four_vote_fraction else 3
        if forced_tie:
            if n == 3:
                labels = list(SENTIMENTS)
                rng.shuffle(labels)
            else:
                pair = rng.sample(SENTIMENTS, 2)
                labels = [pair[0], pair[0], pair[1], pair[1]]
                rng.shuffle(labels)
        else:
            labels = [_vote_label(true, rng, config.annotator_accuracy) for _ in range(n)]
        return [f"{label}-{{{_reason(label, seg, rng)}}}" for label in labels]

    for seg in eligible:
        ambiguous = any(
            other is not seg and other.kind != "silence" and _matches(seg.start, seg.end, other, 0.1)
            for other in transcribed
        )
        if ambiguous or rng.random() >= config.labeled_fraction:
            continue
        seg.labeled = True
        votes = votes_for(seg, rng.random() < config.tie_fraction)
        start = max(0.0, seg.start + jitter())
        end = max(start + step, seg.end + jitter())
        labels = [v.split("-{", 1)[0] for v in votes]
        row = SentimentRow(
            row_id=f"{conv.conversation}_{seg.index}",
            conversation=conv.conversation,
            start=round(start, 6),
            end=round(end, 6),
            votes=votes,
            outcome=_outcome(labels),
            true_sentiment=seg.sentiment or "Neutral",
            segment_id=seg.segment_id,
            side=seg.side,
        )
        rows.append((seg.index or 0, row))

    # Rows whose times match no segment (annotation spans that do not line up with MS98's).
    candidates = [s for s in eligible if not s.labeled] + [s for s in eligible if s.labeled]
    extra_index = len(transcribed)
    made = 0
    for seg in candidates:
        if made >= unmatched:
            break
        shift = round(rng.uniform(0.4, 0.9) / step) * step
        start, end = round(seg.start + shift, 6), round(seg.end + shift, 6)
        if end > conv.duration:
            continue
        if any(_matches(start, end, other, 0.25) for other in transcribed):
            continue
        if seg.labeled:
            index = extra_index
            extra_index += 1
        else:
            index = seg.index or 0
        votes = votes_for(seg, False)
        rows.append(
            (
                index,
                SentimentRow(
                    row_id=f"{conv.conversation}_{index}",
                    conversation=conv.conversation,
                    start=start,
                    end=end,
                    votes=votes,
                    outcome="unmatched",
                    true_sentiment=seg.sentiment or "Neutral",
                    segment_id=seg.segment_id,
                    side=seg.side,
                ),
            )
        )
        made += 1
    rows.sort(key=lambda item: item[0])
    return [row for _, row in rows]


def _ensure_tie(rows: list[SentimentRow], config: CorpusConfig) -> None:
    """Make sure the corpus has at least one row with no majority (deterministically)."""
    if any(r.outcome == "tie" for r in rows):
        return
    for row in rows:
        if row.outcome in SENTIMENTS:
            rng = random.Random(f"{config.seed}:tie:{row.row_id}")
            labels = list(SENTIMENTS)
            rng.shuffle(labels)
            reasons = [rng.choice(REASONS[label]) for label in labels]
            row.votes = [f"{label}-{{{reason}}}" for label, reason in zip(labels, reasons, strict=True)]
            row.outcome = "tie"
            return


# --------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------


_MARKER = ".speechsent-synth-corpus"
_SUBTREES = ("swbd", "swb_ms98_transcriptions", "swbd_sentiment", "fisher")


def _claim(out: Path) -> None:
    """Make ``out`` a corpus directory: new or empty, or one this module wrote before (it has the marker).

    Anything else is refused, so that a corpus is never mixed into (or cleaned out of) other data.
    """
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / _MARKER).is_file():
        raise ValueError(
            f"{out} is not empty and holds no synthetic corpus (no {_MARKER}): give a new or empty directory"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / _MARKER).write_text("written by speechsent.synth.corpus: may be rewritten and cleaned by it\n")


def _remove_stale(out: Path, keep: set[Path]) -> None:
    """Delete the files of an earlier, different corpus from the LDC subtrees (and the dirs left empty)."""
    for name in _SUBTREES:
        root = out / name
        if not root.is_dir() or root.is_symlink():
            continue
        for dirpath, dirnames, filenames in os.walk(root, topdown=False):
            here = Path(dirpath)
            for filename in filenames:
                path = here / filename
                if path not in keep:
                    path.unlink()
            for dirname in dirnames:
                sub = here / dirname
                if sub.is_dir() and not sub.is_symlink() and not any(sub.iterdir()):
                    sub.rmdir()
        if not any(root.iterdir()):
            root.rmdir()


def _swbd_numbers(config: CorpusConfig) -> list[int]:
    rng = random.Random(f"{config.seed}:swbd-numbers")
    n = config.num_swbd_convs
    span = min(_MAX_SWBD, 3 * n)
    return sorted(rng.sample(range(2001, 2001 + span), n))


def _assign_speakers(pool: list[Speaker], seed: int, conversation: str) -> dict[str, Speaker]:
    a, b = random.Random(f"{seed}:speakers:{conversation}").sample(pool, 2)
    return {"A": a, "B": b}


def _work(task: tuple[str, str, CorpusConfig, Any]) -> SwbdConversation | FisherConversation:
    kind, out_dir, config, spec = task
    if kind == "swbd":
        return _render_swbd(out_dir, config, spec)
    return _render_fisher(out_dir, config, spec)


def synthesize_corpus(
    out_dir: str | os.PathLike[str],
    config: CorpusConfig | None = None,
    *,
    nj: int = 1,
    progress: Callable[[str], None] | None = None,
) -> CorpusManifest:
    """Synthesize the corpus described by ``config`` under ``out_dir``; returns (and writes) the manifest.

    ``nj`` worker processes render conversations in parallel (the output does not depend on it);
    ``progress`` is called with each finished conversation's id.
    """
    config = config or CorpusConfig()
    config.validate()
    out = Path(out_dir).resolve()
    _claim(out)
    began = time.perf_counter()

    pool = _speaker_pool(config)
    if len(pool) < 2:
        raise ValueError("num_speakers must be at least 2")
    shorten_rng = random.Random(f"{config.seed}:shorten")
    numbers = _swbd_numbers(config)
    n_short = round(config.swbd_shorten_fraction * len(numbers))
    if len(numbers) >= 2 and 0.0 < config.swbd_shorten_fraction < 1.0:
        n_short = min(max(n_short, 1), len(numbers) - 1)
    shortened = set(shorten_rng.sample(numbers, n_short))
    tasks: list[tuple[str, str, CorpusConfig, Any]] = []
    for index, number in enumerate(numbers):
        speakers = _assign_speakers(pool, config.seed, f"sw0{number:04d}")
        tasks.append(("swbd", str(out), config, _SwbdSpec(index, number, number in shortened, speakers)))
    fisher_numbers = list(range(1, config.num_fisher_convs + 1)) + list(
        range(FISHER_PART2_FIRST, FISHER_PART2_FIRST + config.num_fisher_p2_convs)
    )
    for number in fisher_numbers:
        speakers = _assign_speakers(pool, config.seed, f"fe_03_{number:05d}")
        tasks.append(("fisher", str(out), config, _FisherSpec(number, speakers)))

    results: list[SwbdConversation | FisherConversation] = []
    if nj > 1 and len(tasks) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(nj, len(tasks)), mp_context=context) as executor:
            for result in executor.map(_work, tasks, chunksize=1):
                results.append(result)
                if progress is not None:
                    progress(result.conversation)
    else:
        for task in tasks:
            result = _work(task)
            results.append(result)
            if progress is not None:
                progress(result.conversation)

    swbd = [r for r in results if isinstance(r, SwbdConversation)]
    fisher = [r for r in results if isinstance(r, FisherConversation)]

    rows: list[SentimentRow] = []
    if swbd:
        targets = [j * len(swbd) // config.unmatched_rows for j in range(config.unmatched_rows)]
        owed = 0  # unmatched rows a conversation could not make, passed on to the next ones
        for i, conv in enumerate(swbd):
            wanted = owed + targets.count(i)
            conv_rows = _sentiment_rows(conv, config, wanted)
            owed = wanted - sum(1 for r in conv_rows if r.outcome == "unmatched")
            rows.extend(conv_rows)
        _ensure_tie(rows, config)
    tsv = "".join(row.line + "\n" for row in rows)
    if swbd:
        _atomic_write(out / "swbd_sentiment" / "data" / "sentiment_labels.tsv", tsv.encode())

    fisher_roots = ["fisher/LDC2004S13", "fisher/LDC2004T19"] if config.num_fisher_convs else []
    if config.num_fisher_p2_convs:
        fisher_roots += ["fisher/LDC2005S13", "fisher/LDC2005T19"]
    db = {  # empty where the corpus has no such part
        "SWBD": str(out / "swbd") if swbd else "",
        "SWBD_MS98": str(out / "swb_ms98_transcriptions") if swbd else "",
        "SWBD_SENTIMENT": str(out / "swbd_sentiment") if swbd else "",
        "FISHER": " ".join(str(out / root) for root in fisher_roots),
    }
    audio_seconds = sum(c.duration for c in swbd) + sum(c.duration for c in fisher)
    manifest = CorpusManifest(
        out_dir=str(out),
        config=config,
        db=db,
        swbd=swbd,
        sentiment_rows=rows,
        fisher=fisher,
        audio_seconds=audio_seconds,
    )
    _atomic_write(out / MANIFEST_NAME, (json.dumps(manifest.to_dict(), indent=1) + "\n").encode())
    keep = {out / c.path for c in swbd} | {out / p for c in swbd for p in c.ms98_paths.values()}
    keep |= {out / p for c in swbd for p in c.ms98_word_paths.values()}
    keep |= {out / c.audio_path for c in fisher} | {out / c.transcript_path for c in fisher}
    if swbd:
        keep.add(out / "swbd_sentiment" / "data" / "sentiment_labels.tsv")
    _remove_stale(out, keep)
    manifest.synthesis_seconds = time.perf_counter() - began
    return manifest
