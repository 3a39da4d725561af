"""The sentiment annotations of the Switchboard conversations: the rows of ``sentiment_labels.tsv``.

As LDC2020T14 writes them: ``sw02005_57<TAB>400.271875<TAB>404.732375<TAB>Negative-{Scared}#Neutral-{Mixed
emotions}#Negative-{Scared}``, no header; the number after ``_`` indexes the conversation's transcribed
(non-silence) segments of both sides in time order, so unlabeled segments leave gaps; times are the MS98
segment's, off by up to ``time_jitter`` seconds; 3 votes, sometimes 4, from noisy annotators; some rows have
no majority, a few match no segment.  Each row comes with its ground truth (:class:`SentimentRowTruth`).
"""

from __future__ import annotations

import random

from speechsent.synth.layout import SAMPLE_RATE
from speechsent.synth.manifest import CorpusConfig, Ms98Segment, SentimentRowTruth, SwbdConversation
from speechsent.synth.sentences import SENTIMENTS

__all__ = ["REASONS", "annotate"]

_STEP = 1.0 / SAMPLE_RATE
_Indexed = list[tuple[int, SentimentRowTruth]]  # rows with the segment index they sort by

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


def _jitter(rng: random.Random, config: CorpusConfig) -> float:
    """How far a row's time is off its segment's (0 or up to ``time_jitter``, on the sample grid)."""
    if config.time_jitter <= 0 or rng.random() < 0.4:
        return 0.0
    return round(rng.uniform(-config.time_jitter, config.time_jitter) / _STEP) * _STEP


def _votes(seg: Ms98Segment, forced_tie: bool, rng: random.Random, config: CorpusConfig) -> list[str]:
    """3 or 4 ``Label-{reason}`` votes on ``seg`` (no majority when ``forced_tie``)."""
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


def _labeled_rows(
    conv: SwbdConversation,
    transcribed: list[Ms98Segment],
    eligible: list[Ms98Segment],
    rng: random.Random,
    config: CorpusConfig,
) -> _Indexed:
    """A row for ``labeled_fraction`` of the eligible segments (not one whose times match another's)."""
    rows: _Indexed = []
    for seg in eligible:
        ambiguous = any(
            other is not seg and other.kind != "silence" and _matches(seg.start, seg.end, other, 0.1)
            for other in transcribed
        )
        if ambiguous or rng.random() >= config.labeled_fraction:
            continue
        seg.labeled = True
        votes = _votes(seg, rng.random() < config.tie_fraction, rng, config)
        start = max(0.0, seg.start + _jitter(rng, config))
        end = max(start + _STEP, seg.end + _jitter(rng, config))
        labels = [v.split("-{", 1)[0] for v in votes]
        row = SentimentRowTruth(
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
    return rows


def _unmatched_rows(
    conv: SwbdConversation,
    transcribed: list[Ms98Segment],
    eligible: list[Ms98Segment],
    rng: random.Random,
    config: CorpusConfig,
    unmatched: int,
) -> _Indexed:
    """Up to ``unmatched`` rows whose times match no segment (annotation spans that do not line up with
    MS98's): a segment's times shifted by 0.4-0.9 s, unlabeled segments first."""
    rows: _Indexed = []
    candidates = [s for s in eligible if not s.labeled] + [s for s in eligible if s.labeled]
    extra_index = len(transcribed)
    for seg in candidates:
        if len(rows) >= unmatched:
            break
        shift = round(rng.uniform(0.4, 0.9) / _STEP) * _STEP
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
        row = SentimentRowTruth(
            row_id=f"{conv.conversation}_{index}",
            conversation=conv.conversation,
            start=start,
            end=end,
            votes=_votes(seg, False, rng, config),
            outcome="unmatched",
            true_sentiment=seg.sentiment or "Neutral",
            segment_id=seg.segment_id,
            side=seg.side,
        )
        rows.append((index, row))
    return rows


def _conversation_rows(
    conv: SwbdConversation, config: CorpusConfig, unmatched: int
) -> list[SentimentRowTruth]:
    """The rows of one conversation in index order (marks its labeled segments ``labeled``)."""
    rng = random.Random(f"{config.seed}:tsv:{conv.number}")
    transcribed = sorted(
        (s for s in conv.segments if s.index is not None and s.kind != "silence"), key=lambda s: s.index or 0
    )
    eligible = [s for s in transcribed if s.kind in ("speech", "backchannel", "laughter")]
    rows = _labeled_rows(conv, transcribed, eligible, rng, config)
    rows += _unmatched_rows(conv, transcribed, eligible, rng, config, unmatched)
    rows.sort(key=lambda item: item[0])
    return [row for _, row in rows]


def _ensure_tie(rows: list[SentimentRowTruth], config: CorpusConfig) -> None:
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


def annotate(swbd: list[SwbdConversation], config: CorpusConfig) -> list[SentimentRowTruth]:
    """Every row of the corpus's TSV in file order: ``unmatched_rows`` spread over the conversations (one
    that cannot make its share passes it on), and at least one row with no majority."""
    rows: list[SentimentRowTruth] = []
    if not swbd:
        return rows
    targets = [j * len(swbd) // config.unmatched_rows for j in range(config.unmatched_rows)]
    owed = 0  # unmatched rows a conversation could not make, passed on to the next ones
    for i, conv in enumerate(swbd):
        wanted = owed + targets.count(i)
        conv_rows = _conversation_rows(conv, config, wanted)
        owed = wanted - sum(1 for r in conv_rows if r.outcome == "unmatched")
        rows.extend(conv_rows)
    _ensure_tie(rows, config)
    return rows
