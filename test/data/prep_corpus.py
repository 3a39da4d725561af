"""A tiny corpus in the LDC layouts of docs/contracts.md, with what stage 1 should make of it (for the tests).

``build_corpus(root)`` writes:

* ``LDC97S62/swb1_d1/data/sw0NNNN.sph`` (2-channel 8 kHz; one µ-law shorten file, the others pcm; one of
  them reached through a symbolic link to another directory), plus an audio file with no transcript;
* ``swb_ms98_transcriptions/NN/NNNN/swNNNNS-ms98-a-trans.text``, plus a transcript with no audio; segments
  with silence, noise-only text, laughter-words, partial words, an overlapping and a reversed segment;
* ``LDC2020T14/data/sentiment_labels.tsv``: one row per speech segment (sides interleaved in time order, the
  side not given), a few tied rows, one row matching no segment, one row matching a noise-only segment;
* ``LDC2004S13/fe_03_p1_sph1/audio/000/fe_03_0000N.sph`` and ``LDC2004T19/fe_03_p1_tran/data/trans/000/
  fe_03_0000N.txt``.

Loaded by path (``importlib``) from the tests that use it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from speechsent.audio.g711 import linear_to_ulaw, ulaw_to_linear
from speechsent.audio.sphere import write_sphere

RATE = 8000
LABELS = ("Negative", "Neutral", "Positive")
WORDS = [
    "i",
    "think",
    "that",
    "the",
    "weather",
    "is",
    "really",
    "nice",
    "today",
    "but",
    "my",
    "car",
    "broke",
    "down",
    "again",
    "so",
]


@dataclasses.dataclass
class Corpus:
    root: Path
    env: dict[str, str]
    #: Kaldi utterance id → majority label, for every row that must end in a split.
    labeled: dict[str, str]
    #: Every usable MS98 segment (utt → text), labeled or not.
    usable: dict[str, str]
    #: Conversation → its int16 samples (num_samples, 2), as sph2pipe -p decodes them.
    audio: dict[str, np.ndarray]
    tie_rows: int
    unmatched_rows: int
    noise_only_rows: int
    fisher_usable: dict[str, str]
    fisher_unintelligible: int


def _signal(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    a = 5000 * np.sin(2 * np.pi * (180 + 10 * seed) * t) + rng.normal(0, 500, t.size)
    b = 3000 * np.sin(2 * np.pi * (300 + 7 * seed) * t) + rng.normal(0, 800, t.size)
    return np.clip(np.stack([a, b], axis=1).round(), -32768, 32767).astype(np.int16)


def _t(x: float) -> str:
    return f"{x:.6f}"


def _cs(x: float) -> int:
    return int(100 * x + 0.5)


def build_corpus(root: Path, *, n_convs: int = 6, seconds: float = 24.0) -> Corpus:
    root = Path(root)
    swbd = root / "LDC97S62" / "swb1_d1" / "data"
    other = root / "elsewhere" / "disk2"  # reached through a link below LDC97S62
    swbd.mkdir(parents=True)
    other.mkdir(parents=True)
    (root / "LDC97S62" / "swb1_d2").symlink_to(other, target_is_directory=True)
    ms98 = root / "swb_ms98_transcriptions"
    senti = root / "LDC2020T14" / "data"
    senti.mkdir(parents=True)

    labeled: dict[str, str] = {}
    usable: dict[str, str] = {}
    audio: dict[str, np.ndarray] = {}
    tsv: list[str] = []
    tie_rows = unmatched_rows = noise_only_rows = 0
    for k in range(n_convs):
        number = 2001 + 4 * k
        conv = f"sw0{number}"
        samples = _signal(seconds, k)
        path = (other if k == 1 else swbd) / f"{conv}.sph"
        if k == 0:
            codes = linear_to_ulaw(samples)
            write_sphere(path, codes, RATE, coding="ulaw", shorten=True)
            audio[conv] = ulaw_to_linear(codes).reshape(samples.shape)
        else:
            write_sphere(path, samples, RATE)
            audio[conv] = samples
        # turns: alternate A/B every ~2.9 s, with silence segments between them on each side
        rows: list[tuple[float, float, str, str, str]] = []  # start end side words label-votes
        side_lines: dict[str, list[str]] = {"A": [], "B": []}
        side_last: dict[str, float] = {"A": 0.0, "B": 0.0}
        t = 0.35 + 0.01 * k
        turn = 0
        while t + 3.0 < seconds - 0.5:
            side = "AB"[turn % 2]
            start, end = t + 0.000375, t + 2.6 + 0.01 * (turn % 3) + 0.000125
            if start > side_last[side]:
                side_lines[side].append(f"{_t(side_last[side])} {_t(start)} [silence]")
            words = [WORDS[(turn * 3 + k + i) % len(WORDS)] for i in range(3 + turn % 4)]
            kind = turn % 7
            if kind == 1:
                words = ["[laughter-yes]", *words, "[noise]"]
                expected_words = ["yes", *words[1:-1]]
            elif kind == 2:
                words = [*words, "th[e]-", "[it'n/isn't]", "[silence]"]
                expected_words = [*words[:-3], "th-", "it'n"]
            elif kind == 3 and k == 2:
                words = ["[noise]", "[vocalized-noise]"]
                expected_words = []
            else:
                expected_words = list(words)
            side_lines[side].append(f"{_t(start)} {_t(end)} " + " ".join(words))
            side_last[side] = end
            utt = f"{conv}-{side}_{_cs(start):06d}-{_cs(end):06d}"
            if expected_words:
                usable[utt] = " ".join(expected_words)
            label_kind = (turn + k) % 5
            if label_kind == 4 and turn % 2 == 0:
                votes = "Negative-{Sad}#Neutral-{No emotion}#Positive-{Amused}"  # 3-way tie
            else:
                lab = LABELS[(turn + 2 * k) % 3]
                other_lab = LABELS[(turn + 2 * k + 1) % 3]
                votes = f"{lab}-{{Reason one}}#{other_lab}-{{Something}}#{lab}-{{Reason #2}}"
            rows.append((start, end, side, utt, votes))
            t = end + 0.3
            turn += 1
        # an overlapping and a reversed segment on side A (skipped), not labeled
        last = side_last["A"]
        side_lines["A"].append(f"{_t(last - 1.0)} {_t(last + 0.2)} overlapping words here")
        side_lines["A"].append(f"{_t(last + 0.5)} {_t(last + 0.3)} reversed times")
        for side in "AB":
            d = ms98 / str(number)[:2] / str(number)
            d.mkdir(parents=True, exist_ok=True)
            lines = [f"sw{number}{side}-ms98-a-{i + 1:04d} {line}" for i, line in enumerate(side_lines[side])]
            (d / f"sw{number}{side}-ms98-a-trans.text").write_text("\n".join(lines) + "\n")
        for idx, (start, end, _side, utt, votes) in enumerate(rows):
            jitter = 0.004 if idx % 2 else -0.003
            tsv.append(f"{conv}_{idx}\t{start + jitter:.6f}\t{end - jitter:.6f}\t{votes}")
            if "Amused" in votes:
                tie_rows += 1
            elif utt not in usable:
                noise_only_rows += 1
            else:
                labeled[utt] = votes.split("-")[0]
        # a row that matches nothing (times far from any segment)
        tsv.append(f"{conv}_{len(rows)}\t{seconds + 5:.6f}\t{seconds + 7:.6f}\tPositive-{{x}}#Positive-{{y}}")
        unmatched_rows += 1

    # audio with no transcript, transcript with no audio
    write_sphere(swbd / "sw04099.sph", _signal(2.0, 99), RATE)
    d = ms98 / "41" / "4100"
    d.mkdir(parents=True)
    for side in "AB":
        (d / f"sw4100{side}-ms98-a-trans.text").write_text(
            f"sw4100{side}-ms98-a-0001 0.000000 1.500000 no audio for me\n"
        )
    (senti / "sentiment_labels.tsv").write_text("\n".join(tsv) + "\n")

    # Fisher: two calls, one with an unintelligible utterance and tags
    fisher_usable: dict[str, str] = {}
    fisher_unintelligible = 0
    for n in (1, 2):
        call = f"fe_03_{n:05d}"
        sph = root / "LDC2004S13" / "fe_03_p1_sph1" / "audio" / "000" / f"{call}.sph"
        sph.parent.mkdir(parents=True, exist_ok=True)
        write_sphere(sph, linear_to_ulaw(_signal(8.0, 50 + n)), RATE, coding="ulaw")
        trans = root / "LDC2004T19" / "fe_03_p1_tran" / "data" / "trans" / "000" / f"{call}.txt"
        trans.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"# {call}.sph", "# Transcribed at the LDC", ""]
        entries = [
            (0.61, 2.17, "A", "hello [laugh] this is fisher", "hello this is fisher"),
            (2.5, 4.0, "B", "hi there ((i think))", None),
            (4.1, 5.95, "A", "[noise] so the topic is", "so the topic is"),
            (6.0, 7.5, "B", "[breath] [lipsmack]", ""),
        ]
        for start, end, side, words, expected in entries:
            lines.append(f"{start:.2f} {end:.2f} {side}: {words}")
            utt = f"{call}-{side}_{_cs(start):06d}-{_cs(end):06d}"
            if expected is None:
                fisher_unintelligible += 1
            elif expected:
                fisher_usable[utt] = expected
        trans.write_text("\n".join(lines) + "\n")

    env = {
        "SWBD": str(root / "LDC97S62"),
        "SWBD_MS98": str(ms98),
        "SWBD_SENTIMENT": str(root / "LDC2020T14"),
        "FISHER": f"{root / 'LDC2004S13'} {root / 'LDC2004T19'}",
    }
    return Corpus(
        root=root,
        env=env,
        labeled=labeled,
        usable=usable,
        audio=audio,
        tie_rows=tie_rows,
        unmatched_rows=unmatched_rows,
        noise_only_rows=noise_only_rows,
        fisher_usable=fisher_usable,
        fisher_unintelligible=fisher_unintelligible,
    )
