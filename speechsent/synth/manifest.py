"""The synthetic corpus's configuration and ground truth: :class:`CorpusConfig` and ``manifest.json``.

:class:`CorpusManifest` is what :func:`speechsent.synth.corpus.synthesize_corpus` returns and writes as
``manifest.json``: every Switchboard conversation with its MS98 segments, every row of the sentiment TSV
with its ground truth, every Fisher conversation and utterance, and the ``db.sh`` values.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsent.data.sentiment import SentimentRow, parse_votes
from speechsent.synth.layout import FISHER_PART2_FIRST, MAX_SWBD
from speechsent.utils.fileio import read_json, write_json

__all__ = [
    "CONFIG_HELP",
    "MANIFEST_NAME",
    "CorpusConfig",
    "CorpusManifest",
    "FisherConversation",
    "FisherSegment",
    "Ms98Segment",
    "SentimentRowTruth",
    "Speaker",
    "SwbdConversation",
    "load_manifest",
]

MANIFEST_NAME = "manifest.json"


#: One line per :class:`CorpusConfig` field (``speechsent-synth-corpus --help``; a test keeps them in step).
CONFIG_HELP: dict[str, str] = {
    "seed": "random seed: everything is a function of it and the other options",
    "num_swbd_convs": "Switchboard conversations (sw02001.. with gaps), all with MS98 transcripts",
    "num_fisher_convs": "Fisher Part 1 conversations (fe_03_00001..), unlabeled",
    "num_fisher_p2_convs": "Fisher Part 2 conversations (fe_03_05851.., LDC2005S13/T19 layout)",
    "turns_per_conv": "speaker turns per Switchboard conversation (backchannels come on top)",
    "fisher_turns_per_conv": "speaker turns per Fisher conversation",
    "swbd_shorten_fraction": "fraction of Switchboard files shorten-compressed (Fisher: all)",
    "prosody": "sentiment-dependent prosody (Positive faster/higher, Negative slower/lower)",
    "prosody_strength": "scale of the sentiment prosody shift",
    "prosody_consistency": "probability that a turn gets its own sentiment's prosody shift, else a random "
    "sentiment's (below 1 the shift's intensity also varies per turn, 0.3-1; 1: always, in full)",
    "labeled_fraction": "fraction of transcribed Switchboard segments with sentiment labels",
    "four_vote_fraction": "fraction of labeled rows with 4 votes instead of 3",
    "annotator_accuracy": "probability that a vote is the segment's true sentiment",
    "tie_fraction": "fraction of rows made to have no majority (others arise from annotator noise)",
    "unmatched_rows": "rows whose times match no MS98 segment",
    "time_jitter": "largest difference (s) between a row's times and its segment's",
    "sentiment_weights": "relative frequencies of Negative, Neutral, Positive turns",
    "disfluency_rate": "probability of disfluencies (uh, um, you know, repetitions) in a sentence",
    "markup_rate": "rate of transcript markup ([noise], [laughter], partial words, (( )), asides)",
    "backchannel_rate": "probability of a listener backchannel during a long turn",
    "num_speakers": "size of the speaker pool (0: 120)",
    "voices": "eSpeak voices to draw speakers from (default: English languages x human-like variants)",
    "noise_db": "background noise level (dBFS)",
    "crosstalk_db": "level of each side in the other's channel (dB)",
    "telephone_band": "300-3400 Hz band-pass of both channels",
}


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
    lower and flatter; ``prosody_consistency`` below 1 makes that cue partial and noisy, as in
    conversational speech: a turn gets its own sentiment's shift with that probability, otherwise the
    shift of a sentiment drawn at random, at an intensity drawn per turn
    (:func:`speechsent.synth.sentences.draw_prosody`; 1, the default and the meaning of a manifest
    without the field: every turn its sentiment's full shift).  Annotation: ``annotator_accuracy`` is
    the chance that a vote is the true sentiment, ``four_vote_fraction`` of the rows have 4 votes,
    ``tie_fraction`` of them are made ties (more arise from the noise), ``unmatched_rows`` rows match no
    segment, times are off by up to ``time_jitter`` s.  ``sentiment_weights``: (Negative, Neutral,
    Positive) turn frequencies.  ``disfluency_rate``, ``markup_rate``, ``backchannel_rate``: how often
    sentences get disfluencies, transcripts markup, long turns a backchannel.  ``num_speakers``: the talker
    pool (0: 120), ``voices``: eSpeak voices to draw them from (empty: English languages x the reproducible
    variants of :data:`speechsent.synth.espeak.DEFAULT_VARIANTS`).  ``noise_db`` background noise (dBFS),
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
    prosody_consistency: float = 1.0
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
        if not 0 <= self.num_swbd_convs <= MAX_SWBD:
            raise ValueError(f"num_swbd_convs must be in 0..{MAX_SWBD}")
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
            "prosody_consistency",
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
class SentimentRowTruth:
    """One row the synthesizer wrote to ``sentiment_labels.tsv``, with what it should come to.

    Not the reader's row (:class:`speechsent.data.sentiment.SentimentRow`, parsed from the file): this is
    the ground truth behind it; :meth:`tsv_row` is the row as written and read back.  ``votes`` are
    ``Label-{reason}`` as written; ``outcome``: the majority label, ``tie`` (no majority) or ``unmatched``
    (times that match no segment).  ``segment_id`` / ``side`` name the segment it was made from (for
    unmatched rows: the segment whose times were shifted away).
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

    def tsv_row(self, lineno: int = 0) -> SentimentRow:
        """The row as :func:`speechsent.data.sentiment.write_sentiment_tsv` writes it (line ``lineno``)."""
        raw = "#".join(self.votes)
        return SentimentRow(
            lineno, self.row_id, self.conversation, self.start, self.end, parse_votes(raw), raw
        )


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
    sentiment_rows: list[SentimentRowTruth] = field(default_factory=list)
    fisher: list[FisherConversation] = field(default_factory=list)
    audio_seconds: float = 0.0
    synthesis_seconds: float = 0.0

    def db_lines(self) -> list[str]:
        """``db.sh`` lines: ``SWBD=...`` etc."""
        return [f"{key}={_shell_quote(value)}" for key, value in self.db.items()]

    def summary(self) -> str:
        """One line: what was written, how much audio, how many rows, how long it took, where."""
        minutes = self.audio_seconds / 60.0
        rate = self.synthesis_seconds / minutes if minutes else 0.0
        labeled = sum(1 for r in self.sentiment_rows if r.outcome not in ("tie", "unmatched"))
        return (
            f"wrote {len(self.swbd)} Switchboard + {len(self.fisher)} Fisher conversations "
            f"({minutes:.1f} min of audio, {len(self.sentiment_rows)} sentiment rows, {labeled} with a "
            f"majority) in {self.synthesis_seconds:.1f} s ({rate:.2f} s per minute of audio) "
            f"under {self.out_dir}"
        )

    def write(self) -> None:
        """``manifest.json`` in ``out_dir`` (deterministic: no wall-clock time in it), atomically."""
        write_json(Path(self.out_dir) / MANIFEST_NAME, self.to_dict(), indent=1)

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
            sentiment_rows=[SentimentRowTruth(**r) for r in data["sentiment_rows"]],
            fisher=fisher,
            audio_seconds=float(data.get("audio_seconds", 0.0)),
        )


def load_manifest(out_dir: str | os.PathLike[str]) -> CorpusManifest:
    """Read ``out_dir/manifest.json`` (``db`` paths are taken relative to ``out_dir``)."""
    root = Path(out_dir).resolve()
    data = read_json(root / MANIFEST_NAME)
    manifest = CorpusManifest.from_dict(data, str(root))
    if "db_relative" in data:  # the corpus may have been moved since it was written
        relative: dict[str, str] = data["db_relative"]
        manifest.db = {key: " ".join(str(root / p) for p in value.split()) for key, value in relative.items()}
    return manifest


def _shell_quote(value: str) -> str:
    if value and all(c.isalnum() or c in "/._-+:=@" for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`") + '"'
