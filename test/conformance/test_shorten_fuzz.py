"""Corrupt shorten-compressed SPHERE files: each one is an error, or decodes to exactly the original samples.

Seeded mutations (byte changes, bit flips, truncations, insertions, deletions, bursts of flips) of
shorten-compressed SPHERE files as NIST's tools write them (µ-law and pcm, 1 and 2 channels, with
``sample_checksum``), in the header and in the stream, are read through :func:`read_sphere`.  A
corruption the shorten decoder cannot see (about 7 % of random ones decode to the right number of wrong
samples) is caught by the header's ``sample_checksum``.  The only undetectable header changes are those of
fields that do not decide the samples (a ``sample_rate`` digit, a ``database_id`` letter): they are
counted apart, as decodes with the original samples.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from speechsent.audio.shorten import ShortenError
from speechsent.audio.sphere import SphereError, read_sphere, read_sphere_header, write_sphere

RATE = 8000
MUTATIONS_PER_FILE = 250  # x 4 files = 1000


def speech(n: int, channels: int, seed: int) -> np.ndarray:
    """int16 speech-like audio with pauses (so the streams hold ZERO and BITSHIFT blocks too)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    out = np.zeros((n, channels))
    for ch in range(channels):
        phase = 2 * np.pi * np.cumsum(110 + 45 * ch + 20 * np.sin(2 * np.pi * 0.6 * t)) / RATE
        voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
        envelope = np.clip(np.sin(2 * np.pi * (2.5 + ch) * t + ch), 0, None) ** 2
        out[:, ch] = 8000 * voiced * envelope + rng.normal(0, 25, n) * (envelope > 0.05)
    return np.clip(out, -32768, 32767).astype(np.int16)


BASES = [("ulaw", 1), ("ulaw", 2), ("pcm", 1), ("pcm", 2)]


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> list[tuple[str, bytes, np.ndarray, int]]:
    """(name, file bytes, decoded samples, end of the header text) per base file."""
    folder = tmp_path_factory.mktemp("shorten_fuzz")
    result = []
    for index, (coding, channels) in enumerate(BASES):
        path = folder / f"{coding}{channels}.sph"
        samples = speech(3000, channels, seed=index)
        fields = [("database_id", "fisher"), ("conversation_id", f"fe_03_0000{index}")]
        write_sphere(path, samples, RATE, coding=coding, shorten=True, fields=fields)
        data = path.read_bytes()
        assert "sample_checksum" in read_sphere_header(path).fields
        decoded, _ = read_sphere(path)
        result.append((path.stem, data, decoded, data.index(b"end_head") + 9))
    return result


def mutate(data: bytes, header_text_end: int, rng: np.random.Generator) -> tuple[bytes, str]:
    """One seeded corruption of ``data``; returns the damaged bytes and what was done where."""
    kind = str(rng.choice(["byte", "bit", "truncate", "insert", "delete", "burst"]))
    # A third in the header (mostly its text, where a change can matter), the rest in the stream.
    region = "header" if rng.random() < 1 / 3 else "stream"
    if region == "header":
        low, high = (0, header_text_end) if rng.random() < 0.9 else (header_text_end, 1024)
    else:
        low, high = 1024, len(data)
    pos = int(rng.integers(low, high))
    damaged = bytearray(data)
    if kind == "byte":
        damaged[pos] = (damaged[pos] + int(rng.integers(1, 256))) % 256
    elif kind == "bit":
        damaged[pos] ^= 1 << int(rng.integers(8))
    elif kind == "truncate":
        del damaged[pos:]
    elif kind == "insert":
        damaged[pos:pos] = rng.integers(0, 256, int(rng.integers(1, 5)), dtype=np.uint8).tobytes()
    elif kind == "delete":
        del damaged[pos : pos + int(rng.integers(1, 5))]
    else:  # a burst of 2-6 bit flips within 64 bytes
        for _ in range(int(rng.integers(2, 7))):
            at = min(len(damaged) - 1, pos + int(rng.integers(0, 64)))
            damaged[at] ^= 1 << int(rng.integers(8))
    return bytes(damaged), f"{kind}@{region}:{pos}"


def classify(path: Path, original: np.ndarray, *, verify_checksum: bool) -> str:
    try:
        # The default reader (what every wav.scp entry uses) verifies; only the control run opts out.
        samples, rate = read_sphere(path) if verify_checksum else read_sphere(path, verify_checksum=False)
    except (SphereError, ShortenError) as error:
        assert str(error).startswith(f"{path}: "), error  # names the file
        return "error"
    if samples.shape == original.shape and np.array_equal(samples, original):
        return "identical" if rate == RATE else "identical samples, other sample_rate"
    return "wrong"


def fuzz(originals, tmp_path: Path, *, verify_checksum: bool, seed: int = 12):
    rng = np.random.default_rng(seed)
    counts: Counter[str] = Counter()
    wrong: list[str] = []
    slowest = 0.0
    path = tmp_path / "mutant.sph"
    for name, data, decoded, text_end in originals:
        for _ in range(MUTATIONS_PER_FILE):
            damaged, what = mutate(data, text_end, rng)
            path.write_bytes(damaged)
            began = time.perf_counter()
            outcome = classify(path, decoded, verify_checksum=verify_checksum)
            slowest = max(slowest, time.perf_counter() - began)
            counts[outcome] += 1
            if outcome == "wrong":
                wrong.append(f"{name} {what}")
    return counts, wrong, slowest


def test_no_corrupt_stream_decodes_to_wrong_samples(originals, tmp_path):
    began = time.perf_counter()
    counts, wrong, slowest = fuzz(originals, tmp_path, verify_checksum=True)
    elapsed = time.perf_counter() - began
    total = sum(counts.values())
    print(f"\nshorten fuzz: {total} mutations, {dict(counts)}, {elapsed:.2f} s, slowest read {slowest:.3f} s")
    assert total >= 500
    assert not wrong, f"decoded to wrong samples without an error: {wrong}"
    assert counts["error"] > total / 2 and counts["identical"] > 0
    assert slowest < 10, "a corrupt stream took too long: the decoder's work must stay bounded"


def test_the_checksum_is_what_catches_them(originals, tmp_path):
    """The same mutations read without the checksum: some decode to wrong samples, silently."""
    counts, wrong, _ = fuzz(originals, tmp_path, verify_checksum=False)
    print(f"\nwithout sample_checksum: {dict(counts)}")
    assert counts["wrong"] == len(wrong) > 0
