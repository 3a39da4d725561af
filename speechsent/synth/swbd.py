"""One Switchboard conversation: its 2-channel SPHERE file and its MS98 transcripts (``-trans``, ``-word``).

MS98 segmentation: each utterance of a side padded a little, the rest of the side tiled by ``[silence]``
segments from 0 to the end of the file; times on the 8 kHz sample grid with 6 decimals; the word-level file
times every transcript token by eSpeak's word events.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from speechsent.synth.conversation import Utt, sentiment_of, speak_conversation
from speechsent.synth.layout import (
    SAMPLE_RATE,
    ms98_path,
    ms98_word_path,
    swbd_sph_path,
    write_sphere_file,
    write_text_file,
)
from speechsent.synth.manifest import CorpusConfig, Ms98Segment, Speaker, SwbdConversation
from speechsent.synth.markup import markup_ms98
from speechsent.synth.topics import TOPICS

__all__ = ["SwbdSpec", "render_swbd"]

# (start, end) samples of a segment of one side, and its utterance (None: a [silence] segment)
_Span = tuple[int, int, "Utt | None"]


@dataclass
class SwbdSpec:
    """What the driver decides for a conversation: its position, number, coding and talkers."""

    index: int
    number: int
    shorten: bool
    speakers: dict[str, Speaker]


def _fmt6(samples: int) -> str:
    return f"{samples / SAMPLE_RATE:.6f}"


def _token_times(utt: Utt, lo: int, hi: int) -> list[tuple[int, int]]:
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


def _side_spans(mine: list[Utt], total: int, rng: random.Random) -> list[_Span]:
    """One side's segments: each utterance padded a little, the gaps filled by silence, 0 to ``total``."""
    bounds: list[tuple[int, int, Utt]] = []
    for i, utt in enumerate(mine):
        lo = utt.start - int(rng.uniform(0.03, 0.15) * SAMPLE_RATE)
        hi = utt.start + utt.audio.size + int(rng.uniform(0.03, 0.15) * SAMPLE_RATE)
        prev_end = bounds[-1][1] if bounds else 0
        lo = max(lo, prev_end, 0)
        if i + 1 < len(mine):
            hi = min(hi, (utt.start + utt.audio.size + mine[i + 1].start) // 2)
        hi = min(hi, total)
        bounds.append((lo, hi, utt))
    spans: list[_Span] = []
    cursor = 0
    for lo, hi, utt in bounds:
        if lo > cursor:
            spans.append((cursor, lo, None))
        spans.append((lo, hi, utt))
        cursor = hi
    if cursor < total:
        spans.append((cursor, total, None))
    return spans


def _segment(seg_id: str, conv: str, side: str, lo: int, hi: int, utt: Utt | None) -> Ms98Segment:
    """The ground truth of one MS98 segment (a ``[silence]`` one when ``utt`` is None)."""
    if utt is None:
        transcript, words, kind, sentence = "[silence]", "", "silence", None
    else:
        transcript = " ".join(utt.marked.transcript)
        words = " ".join(utt.marked.words)
        kind = utt.kind
        sentence = utt.sentence
    return Ms98Segment(
        segment_id=seg_id,
        conversation=conv,
        side=side,
        start=round(lo / SAMPLE_RATE, 6),
        end=round(hi / SAMPLE_RATE, 6),
        kind=kind,
        transcript=transcript,
        words=words,
        sentence=sentence.text if sentence is not None else "",
        sentiment=None if utt is None else sentiment_of(utt),
        topic=sentence.topic if sentence is not None else "",
        question=bool(sentence is not None and sentence.kind == "question"),
    )


def _write_side(out_dir: str, number: int, side: str, spans: list[_Span]) -> list[Ms98Segment]:
    """The ``-trans.text`` and ``-word.text`` files of one side; its segments."""
    conv = f"sw0{number:04d}"
    segments: list[Ms98Segment] = []
    lines = []
    word_lines = []
    side_name = f"sw{number:04d}{side}"
    for n, (lo, hi, utt) in enumerate(spans, start=1):
        seg_id = f"{side_name}-ms98-a-{n:04d}"
        if utt is None:
            word_lines.append(f"{seg_id} {_fmt6(lo)} {_fmt6(hi)} [silence]")
        else:
            for token, (t0, t1) in zip(utt.marked.transcript, _token_times(utt, lo, hi), strict=True):
                word_lines.append(f"{seg_id} {_fmt6(t0)} {_fmt6(t1)} {token}")
        segment = _segment(seg_id, conv, side, lo, hi, utt)
        lines.append(f"{seg_id} {_fmt6(lo)} {_fmt6(hi)} {segment.transcript}")
        segments.append(segment)
    write_text_file(Path(out_dir) / ms98_path(number, side), "\n".join(lines) + "\n")
    write_text_file(Path(out_dir) / ms98_word_path(number, side), "\n".join(word_lines) + "\n")
    return segments


def render_swbd(out_dir: str, config: CorpusConfig, spec: SwbdSpec) -> SwbdConversation:
    """Synthesize Switchboard conversation ``spec.number`` and write its audio and transcripts."""
    import numpy as np

    conv = f"sw0{spec.number:04d}"
    rng = random.Random(f"{config.seed}:swbd:{spec.number}")
    nprng = np.random.default_rng([config.seed & 0xFFFFFFFF, 1, spec.number])
    topic = rng.choice(TOPICS)
    utts, total, samples = speak_conversation(
        config,
        spec.speakers,
        rng,
        nprng,
        config.turns_per_conv,
        topic,
        lambda s, r: markup_ms98(s, r, config.markup_rate),
    )

    segments: list[Ms98Segment] = []
    for side in ("A", "B"):
        spans = _side_spans([u for u in utts if u.side == side], total, rng)
        segments += _write_side(out_dir, spec.number, side, spans)
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
    write_sphere_file(Path(out_dir) / rel_sph, samples, shorten=spec.shorten, fields=fields)
    return SwbdConversation(
        conversation=conv,
        number=spec.number,
        path=rel_sph,
        shorten=spec.shorten,
        duration=round(total / SAMPLE_RATE, 6),
        topic=topic,
        speakers=spec.speakers,
        segments=segments,
        ms98_paths={side: ms98_path(spec.number, side) for side in ("A", "B")},
        ms98_word_paths={side: ms98_word_path(spec.number, side) for side in ("A", "B")},
    )
