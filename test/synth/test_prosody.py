"""The corpus's sentiment prosody: a partial, noisy cue (``prosody_consistency``) that words must beat."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from speechsent.synth.manifest import CorpusConfig
from speechsent.synth.sentences import (
    PROSODY_INTENSITY,
    SENTIMENTS,
    ProsodyShift,
    draw_prosody,
    prosody_for,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "egs" / "mini_sentiment" / "conf" / "synth_corpus.yaml"
#: The demo corpus's labeled segments (README: 57 % Neutral) and the synthesizer's turn weights.
PRIORS = {
    "demo labels": (0.22, 0.57, 0.21),
    "turn weights": CorpusConfig().sentiment_weights,
}


def _demo_consistency() -> float:
    return float(yaml.safe_load(DEMO_CONFIG.read_text())["prosody_consistency"])


def _observed(shift: ProsodyShift) -> tuple[str, int]:
    """All a listener could know of a shift: the sentiment it is of and its intensity (in tenths)."""
    if shift.pitch_delta == 0:
        return "Neutral", 0
    source = "Positive" if shift.pitch_delta > 0 else "Negative"
    return source, min(9, int(10 * shift.pitch_delta / prosody_for(source).pitch_delta))


def _best_from_prosody(prior: tuple[float, ...], consistency: float, n: int = 30000) -> tuple[float, float]:
    """Accuracy and unweighted recall of the best classifiers of the prosody shift alone.

    Turns with labels drawn from ``prior`` get their shifts from :func:`draw_prosody`; per observed shift
    (:func:`_observed`) the best classifier says the label most frequent there (accuracy) or most frequent
    relative to its share (unweighted recall), measured on the same turns (an upper bound).
    """
    rng = random.Random(7)
    labels = rng.choices(SENTIMENTS, weights=prior, k=n)
    counts: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    for label in labels:
        counts[_observed(draw_prosody(label, 1.0, consistency, rng))][label] += 1
    totals = Counter(labels)
    accuracy = sum(max(c.values()) for c in counts.values()) / n
    recall = 0.0
    for c in counts.values():
        said = max(c, key=lambda label: c[label] / totals[label])
        recall += c[said] / totals[said] / len(SENTIMENTS)
    return accuracy, recall


@pytest.mark.parametrize("prior", PRIORS.values(), ids=PRIORS.keys())
def test_the_demo_prosody_alone_cannot_classify(prior):
    consistency = _demo_consistency()
    assert 0.0 < consistency < 1.0
    accuracy, recall = _best_from_prosody(prior, consistency)
    majority = max(prior) / sum(prior)
    assert accuracy <= majority + 0.03, (accuracy, majority)
    assert recall <= 1 / 3 + 0.12, recall
    # the old corpus's prosody (every turn its sentiment's shift) gives the label away: the test can fail
    accuracy, recall = _best_from_prosody(prior, 1.0)
    assert accuracy > 0.99 and recall > 0.99
    # and a moderate consistency still tells a lot (unweighted, whatever the accuracy says)
    assert _best_from_prosody(prior, 0.35)[1] > 1 / 3 + 0.2


def test_consistency_one_is_the_fixed_shift_and_draws_nothing():
    rng = random.Random(3)
    state = rng.getstate()
    for sentiment in SENTIMENTS:
        for strength in (0.0, 0.5, 1.0, 1.7):
            assert draw_prosody(sentiment, strength, 1.0, rng) == prosody_for(sentiment, strength)
        # no prosody (strength 0) draws nothing either, whatever the consistency
        assert draw_prosody(sentiment, 0.0, 0.2, rng) == ProsodyShift()
    assert rng.getstate() == state  # the corpora of earlier releases come out bit for bit


def test_partial_consistency_draws_other_sentiments_and_intensities():
    rng = random.Random(5)
    low, high = PROSODY_INTENSITY
    heard: dict[str, Counter[str]] = {s: Counter() for s in SENTIMENTS}
    for sentiment in SENTIMENTS:
        for _ in range(3000):
            shift = draw_prosody(sentiment, 2.0, 0.4, rng)
            source, _ = _observed(shift)
            heard[sentiment][source] += 1
            if source != "Neutral":
                intensity = shift.pitch_delta / prosody_for(source).pitch_delta / 2.0
                assert low - 1e-9 <= intensity <= high + 1e-9
                assert shift.rate_factor == pytest.approx(prosody_for(source, 2.0 * intensity).rate_factor)
    # own shift: 0.4 + 0.6 / 3 = 60 %; each other sentiment's: 20 %
    for sentiment, sources in heard.items():
        assert sources[sentiment] / 3000 == pytest.approx(0.6, abs=0.04)
        for other in set(SENTIMENTS) - {sentiment}:
            assert sources[other] / 3000 == pytest.approx(0.2, abs=0.04)
    one, two = random.Random(9), random.Random(9)  # a pure function of the rng's state
    assert [draw_prosody("Neutral", 1.0, 0.4, one) for _ in range(50)] == [
        draw_prosody("Neutral", 1.0, 0.4, two) for _ in range(50)
    ]


def test_consistency_validation_and_old_manifests():
    with pytest.raises(ValueError, match="prosody_consistency"):
        CorpusConfig(prosody_consistency=1.5).validate()
    with pytest.raises(ValueError, match="prosody_consistency"):
        CorpusConfig(prosody_consistency=-0.1).validate()
    with pytest.raises(ValueError, match="consistency"):
        draw_prosody("Neutral", 1.0, 2.0, random.Random(0))
    CorpusConfig(prosody_consistency=0.0).validate()
    # a manifest written before the option existed means what it meant then: every turn, in full
    old = CorpusConfig().to_dict()
    del old["prosody_consistency"]
    assert CorpusConfig.from_dict(old).prosody_consistency == 1.0
    assert CorpusConfig.from_dict(CorpusConfig(prosody_consistency=0.3).to_dict()).prosody_consistency == 0.3
