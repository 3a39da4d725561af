#!/usr/bin/env python3
"""Benchmark: shorten decoding speed on Fisher-like audio, and ``speechsent-sph2pipe --help`` time.

Usage: python bench/bench_shorten.py [--minutes M] [--runs N] [--fresh-jit]

Synthesises M minutes (default 10) of 2-channel 8 kHz speech-like audio (two talkers taking
turns, voiced harmonics and noise bursts under a syllabic envelope, line noise), stores it
as a µ-law shorten-compressed SPHERE file as in LDC's Fisher release, and times on one core
(NUMBA_NUM_THREADS=1; the decoder is single-threaded anyway):

* the first decode call (numba compile, or loading the cached machine code with
  ``cache=True``; ``--fresh-jit`` forces a real compile into an empty cache directory),
* ``decode_shorten`` on the stream in memory (best of N runs),
* ``read_sphere`` of the file to 16-bit linear (best of N runs),

printing samples/s (all channels counted) and the multiple of real time (target: >= 200x,
i.e. >= 3.2 M samples/s for 2 x 8 kHz), then the wall time of
``python -m speechsent.bin.sph2pipe --help`` in a fresh process (target: < 1 s).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RATE = 8000


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """Two channels of int16 speech-like audio: talkers alternate turns of a few seconds."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    out = np.zeros((n, 2))
    turn = np.cumsum(rng.exponential(3.0, size=int(seconds / 2) + 4))
    active = (np.searchsorted(turn, t) % 2)[:, None] == np.arange(2)[None, :]
    for ch in range(2):
        f0 = 110.0 + 60.0 * ch + 20.0 * np.sin(2 * np.pi * 0.3 * t + ch)
        phase = 2 * np.pi * np.cumsum(f0) / RATE
        voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
        noise = np.convolve(rng.normal(size=n), np.hanning(9), mode="same")
        syllables = np.clip(np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 6)), 0, None) ** 2
        voicing = np.sin(2 * np.pi * 1.3 * t + ch) > -0.3
        signal = np.where(voicing, voiced, 0.4 * noise) * syllables
        out[:, ch] = 6000 * signal * active[:, ch] + rng.normal(0, 20, n)
    return np.clip(out, -32768, 32767).astype(np.int16)


def best_of(runs: int, func) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="audio length in minutes")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (the best is reported)")
    parser.add_argument(
        "--fresh-jit", action="store_true", help="compile into an empty numba cache (times a real compile)"
    )
    return parser


def main() -> None:
    args = get_parser().parse_args()
    os.environ["NUMBA_NUM_THREADS"] = "1"
    if args.fresh_jit:
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-cache-")
    from speechsent.audio.shorten import decode_shorten
    from speechsent.audio.sphere import read_sphere, write_sphere

    seconds = args.minutes * 60
    audio = speech_like(seconds)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fisher_like.sph"
        start = time.perf_counter()
        write_sphere(path, audio, RATE, coding="ulaw", shorten=True)
        encode_time = time.perf_counter() - start
        size = path.stat().st_size
        stream = path.read_bytes()[1024:]
        total = audio.size  # samples over both channels

        start = time.perf_counter()
        decode_shorten(stream, max_samples=1)
        first_call = time.perf_counter() - start
        decode_time = best_of(args.runs, lambda: decode_shorten(stream, expected_samples=len(audio)))
        read_time = best_of(args.runs, lambda: read_sphere(path))
        check, _ = read_sphere(path)

    jit_kind = "JIT compile" if args.fresh_jit else "JIT compile or cache load"
    lossless = np.array_equal(check, read_sphere_reference(audio))
    print(f"audio: {args.minutes:g} min, 2 ch x {RATE} Hz = {total:,} samples")
    print(f"µ-law shorten SPHERE file: {size:,} bytes ({size / total:.0%} of plain µ-law)")
    print(f"encode (write_sphere, first call includes JIT): {encode_time:.2f} s")
    print(f"first decode call ({jit_kind}): {first_call:.2f} s")
    for label, elapsed in (("decode_shorten", decode_time), ("read_sphere -> int16", read_time)):
        rate = total / elapsed
        print(f"{label}: {elapsed:.3f} s = {rate / 1e6:.1f} M samples/s = {seconds / elapsed:.0f}x real time")
    print(f"decoded samples equal the G.711 round trip of the input: {'yes' if lossless else 'NO'}")

    command = [sys.executable, "-m", "speechsent.bin.sph2pipe", "--help"]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    print(f"python -m speechsent.bin.sph2pipe --help: {time.perf_counter() - start:.3f} s")


def read_sphere_reference(audio: np.ndarray) -> np.ndarray:
    """What a lossless µ-law round trip must give: G.711 encode, then decode."""
    from speechsent.audio.g711 import linear_to_ulaw, ulaw_to_linear

    return ulaw_to_linear(linear_to_ulaw(audio))


if __name__ == "__main__":
    main()
