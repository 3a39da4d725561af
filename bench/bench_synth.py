#!/usr/bin/env python3
"""Benchmark: synthetic corpus speed (seconds of wall time per minute of conversation audio).

Synthesizes a corpus with ``speechsent.synth.corpus.synthesize_corpus`` into a temporary directory (or
--work_dir) and prints the wall time, the audio produced and the rate; also the raw eSpeak NG rate
(``Espeak.synthesize`` alone, library reload included) for comparison.

Usage: python bench/bench_synth.py [--num_swbd_convs N] [--num_fisher_convs N] [--nj N] [--work_dir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--num_swbd_convs", type=int, default=10)
    parser.add_argument("--num_fisher_convs", type=int, default=5)
    parser.add_argument("--nj", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work_dir", default=None, help="keep the corpus here (default: a temporary dir)")
    args = parser.parse_args()

    from speechsent.synth.corpus import synthesize_corpus
    from speechsent.synth.espeak import get_espeak
    from speechsent.synth.manifest import CorpusConfig

    engine = get_espeak()
    text = "well i really love going to the lake with my kids you know it was wonderful"
    began = time.perf_counter()
    samples = sum(engine.synthesize(text, "en-us+m3").size for _ in range(40))
    spent = time.perf_counter() - began
    audio_min = samples / engine.sample_rate / 60.0
    speed = audio_min * 60 / spent
    print(f"eSpeak NG {engine.version}: {spent / audio_min:.3f} s per minute of audio ({speed:.0f}x)")

    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="bench_synth_"))
    try:
        config = CorpusConfig(
            seed=args.seed, num_swbd_convs=args.num_swbd_convs, num_fisher_convs=args.num_fisher_convs
        )
        began = time.perf_counter()
        manifest = synthesize_corpus(work / "corpus", config, nj=args.nj)
        spent = time.perf_counter() - began
        minutes = manifest.audio_seconds / 60.0
        print(
            f"corpus: {len(manifest.swbd)} SWBD + {len(manifest.fisher)} Fisher conversations, "
            f"{minutes:.1f} min of audio, {len(manifest.sentiment_rows)} sentiment rows, nj={args.nj}: "
            f"{spent:.1f} s = {spent / minutes:.2f} s per minute of audio"
        )
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
