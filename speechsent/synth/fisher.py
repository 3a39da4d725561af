"""One Fisher call: its shortened 2-channel SPHERE file and its LDC2004T19-style transcript.

Transcript: ``# fe_03_00001.sph``, ``# Transcribed at the LDC`` (or ``by BBN/WordWave``), a blank line,
then ``3.76 5.54 A: words `` lines (2-decimal times, a trailing space) each followed by a blank line, in
order of start time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

from speechsent.synth.conversation import sentiment_of, speak_conversation
from speechsent.synth.layout import (
    FISHER_PART2_FIRST,
    SAMPLE_RATE,
    fisher_paths,
    write_sphere_file,
    write_text_file,
)
from speechsent.synth.manifest import CorpusConfig, FisherConversation, FisherSegment, Speaker
from speechsent.synth.markup import FISHER_TAGS, markup_fisher
from speechsent.synth.topics import TOPICS

__all__ = ["FisherSpec", "render_fisher"]


@dataclass
class FisherSpec:
    """What the driver decides for a Fisher call: its number and talkers."""

    number: int
    speakers: dict[str, Speaker]


def render_fisher(out_dir: str, config: CorpusConfig, spec: FisherSpec) -> FisherConversation:
    """Synthesize Fisher call ``spec.number`` (Part 1 or 2) and write its audio and transcript."""
    import numpy as np

    name = f"fe_03_{spec.number:05d}"
    rng = random.Random(f"{config.seed}:fisher:{spec.number}")
    nprng = np.random.default_rng([config.seed & 0xFFFFFFFF, 2, spec.number])
    topic = rng.choice(TOPICS)
    bbn = rng.random() < 0.88
    utts, total, samples = speak_conversation(
        config,
        spec.speakers,
        rng,
        nprng,
        config.fisher_turns_per_conv,
        topic,
        lambda s, r: markup_fisher(s, r, config.markup_rate, bbn),
    )
    transcriber = "BBN/WordWave" if bbn else "LDC"
    header = f"# {name}.sph\n# Transcribed {'by BBN/WordWave' if bbn else 'at the LDC'}\n\n"
    segments: list[FisherSegment] = []
    for utt in utts:
        if utt.kind == "noise":
            transcript_tokens = [rng.choice(FISHER_TAGS)]
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
                sentiment=sentiment_of(utt),
                topic=utt.sentence.topic,
            )
        )
    segments.sort(key=lambda s: (s.start, s.side))
    body = "".join(f"{s.start:.2f} {s.end:.2f} {s.side}: {s.transcript} \n\n" for s in segments)
    audio_rel, trans_rel = fisher_paths(spec.number)
    write_text_file(Path(out_dir) / trans_rel, header + body)
    write_sphere_file(Path(out_dir) / audio_rel, samples, shorten=True, fields=())
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
