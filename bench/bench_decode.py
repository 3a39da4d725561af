#!/usr/bin/env python3
"""Benchmark: stage 4's two decoding modes on the same utterances - batched CTC greedy vs ESPnet's joint
CTC/attention beam search (``Speech2Text``) - speed (real-time factor, speed ratio) and WER.

Usage (from the repository root, after the demo's stages 1-3)::

    python bench/bench_decode.py --recipe_dir egs/mini_sentiment --data_dir data/swbd_holdout \\
        [--model_dir exp/asr_model] [--beam_size 5] [--ctc_weight 0.3] [--num_threads 2] [--max_utts N]

Both modes run in this process, one after the other, on the audio read once beforehand; model loading is
timed apart from decoding. Each mode decodes exactly as a stage-4 job does (``speechsent.asr.decode_job``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipe_dir", default="egs/mini_sentiment", help="paths below are relative to it")
    parser.add_argument("--model_dir", default="exp/asr_model", help="model dir, config or exp/asr_model")
    parser.add_argument("--data_dir", default="data/swbd_holdout", help="the Kaldi data dir to decode")
    parser.add_argument("--beam_size", type=int, default=5)
    parser.add_argument("--ctc_weight", type=float, default=0.3)
    parser.add_argument("--batch_seconds", type=float, default=200.0)
    parser.add_argument("--num_threads", type=int, default=1, help="torch threads (both modes)")
    parser.add_argument("--max_utts", type=int, default=0, help="decode only the first N utterances (0: all)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    os.chdir(args.recipe_dir)
    import logging

    logging.basicConfig(level=logging.WARNING)
    from speechsent.asr.decode import DecodeOptions
    from speechsent.asr.decode_job import _batches, _Decoder
    from speechsent.asr.model_dir import resolve_model_dir, write_resolved_config
    from speechsent.asr.wer import format_score, score_texts
    from speechsent.audio.io import UtteranceReader
    from speechsent.kaldi.table import read_table

    files = resolve_model_dir(args.model_dir)
    config = write_resolved_config(files, Path("exp/bench_decode/asr_config.yaml"))
    reader = UtteranceReader(args.data_dir, target_rate=files.fs)
    utts = reader.utt_ids()[: args.max_utts or None]
    audio = [(u, reader[u]) for u in utts]
    seconds = sum(len(x) for _, x in audio) / files.fs
    ref = {u: t for u, t in read_table(Path(args.data_dir) / "text").items() if u in set(utts)}
    print(
        f"model {files.model_file} ({files.fs} Hz); {args.data_dir}: {len(audio)} utterances, {seconds:.1f} s"
    )
    print(f"torch threads: {args.num_threads}")
    results = {}
    for mode in ("ctc_greedy", "beam"):
        opts = DecodeOptions(
            mode=mode,
            beam_size=args.beam_size,
            ctc_weight=args.ctc_weight,
            batch_seconds=args.batch_seconds,
            num_threads=args.num_threads,
        )
        spec = {
            "config": str(config.resolve()),
            "model_file": str(files.model_file),
            "bpemodel": str(files.bpemodel) if files.bpemodel else None,
            "fs": files.fs,
            "options": opts.__dict__,
        }
        start = time.perf_counter()
        decoder = _Decoder(spec)
        load = time.perf_counter() - start
        start = time.perf_counter()
        hyp: dict[str, str] = {}
        batches = (
            _batches(audio, opts.batch_seconds * files.fs) if mode == "ctc_greedy" else ([a] for a in audio)
        )
        for batch in batches:
            for utt, text, _error in decoder.decode(batch):
                hyp[utt] = text or ""
        elapsed = time.perf_counter() - start
        score = score_texts(ref, hyp)
        results[mode] = (elapsed, score)
        print(f"\n== {mode}: model load {load:.1f} s, decoding {elapsed:.2f} s, RTF {elapsed / seconds:.4f}")
        sys.stdout.write(format_score(score))
    (g, gs), (b, bs) = results["ctc_greedy"], results["beam"]
    print(
        f"\nspeed ratio beam / ctc_greedy: {b / g:.1f}x; WER ctc_greedy {gs.wer:.2f} %, beam {bs.wer:.2f} %"
    )


if __name__ == "__main__":
    main()
