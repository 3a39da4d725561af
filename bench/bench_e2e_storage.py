#!/usr/bin/env python3
"""Benchmark: does storing the encoder dump compressed (Kaldi ``speech_feature``, ~1/4 of float32's bytes)
change the E2E classifier's unweighted F1? Target: |difference| <= 0.3 points.

For each seed, the same classifier (``speechsent.bin.train_e2e``, the same options and seed) is trained and
scored twice: on the float32 dump, and on a compressed copy of it written with
:class:`speechsent.kaldi.ark.ArkWriter` (every set: train, validation and scored sets). Printed:

* storage: bytes ratio and the measured compression error of the copy;
* per seed: unweighted F1 of both systems on each scored set, their difference, and how many predictions
  agree; plus the float-trained model scored on the *compressed* test features (the inference-only effect of
  compression, with no training divergence);
* the seed-to-seed spread of the float systems: the training noise any difference must be read against
  (two trainings on inputs that differ in the 3rd significant digit diverge like two seeds do).

Features: ``--dump_root DIR`` uses a recipe's ``DIR/dump/encoder/<set>/feats.scp`` with
``DIR/data/<set>/utt2sentiment`` (e.g. ``egs/mini_sentiment`` after its stage 5: real encoder outputs, but
test sets of ~60 utterances, where one changed prediction moves F1 by ~1-2 points); ``--dump_root synthetic``
(the default when no dump is given) synthesises encoder-like features (correlated columns, speaker offsets,
sentiment in a fraction of the frames, SWBD's class balance) with large scored sets, so that 0.3 points is
resolvable.

Usage: ``python bench/bench_e2e_storage.py [--dump_root egs/mini_sentiment|synthetic] [--seeds 0 1]
[--max_epochs 10] [--out result.json]``.

Measured (2-core CPU, 2026-11-25, 1 thread; default BLSTM 256/128x2 through the padded CPU path;
compressed = 0.29 of float32's bytes, max abs error 0.10, mean 0.006 for feature std ~1.2):

* ``--synthetic_utts 1000 1000 1500 --seeds 0 1 2 3 4 5 6 7 --max_epochs 8`` (26 min): paired differences
  compressed - float of the unweighted F1, per seed, test -0.07 -0.27 -0.45 -1.18 +0.55 +0.41 +1.17 +2.03 and
  holdout +0.72 -0.85 -1.77 -1.10 -1.72 +0.73 +0.07 +0.77: **mean +0.27 ± 0.35 (test), -0.39 ± 0.39
  (holdout), -0.06 ± 0.27 over both** (± one standard error), with a float seed-to-seed std of 1.5 points;
  93-98 % identical predictions. The float-trained model on the *compressed* holdout features (compression
  at inference only): |diff| 0.00-0.08, **mean 0.03**, 99.87-100 % identical predictions.
* Earlier, on the demo dump (``--dump_root egs/mini_sentiment --seeds 0 1 --max_epochs 10``; test 56,
  holdout 70 utterances): inference-only diff 0.00, 100 % identical predictions; the two trainings differ
  like two seeds do (one seed picked different epochs).

So the compression error itself moves F1 by ~0.03 points (target <= 0.3); training on compressed features
gives a different model, as a different seed does, and the mean difference over 8 seeds is zero within its
standard error (it cannot be resolved to 0.3 points without ~15x more seeds: the training noise is 1.5).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SETS = ("swbd_train", "swbd_test", "swbd_holdout")


def synthesize(root: Path, num_utts: dict[str, int], dim: int, seed: int) -> None:
    """Encoder-like features and labels under ``root/dump/encoder/<set>`` and ``root/data/<set>``."""
    import kaldiio

    from speechsent.data.labels import SENTIMENT_LABELS
    from speechsent.kaldi.table import write_table

    rng = np.random.default_rng(seed)
    mixing = rng.normal(0, 1 / np.sqrt(dim), (dim, dim)).astype(np.float32)  # correlated columns
    directions = rng.normal(0, 1, (3, dim)).astype(np.float32)
    directions[1] = 0.0  # Neutral: no sentiment direction, only its absence
    directions /= np.maximum(np.linalg.norm(directions, axis=1, keepdims=True), 1e-6)
    for number, (name, count) in enumerate(num_utts.items()):
        dump = root / "dump" / "encoder" / name
        data = root / "data" / name
        dump.mkdir(parents=True, exist_ok=True)
        data.mkdir(parents=True, exist_ok=True)
        labels, frames = {}, {}
        with kaldiio.WriteHelper(f"ark,scp:{dump / 'feats.ark'},{dump / 'feats.scp'}") as writer:
            for i in range(count):
                side = i // 10
                utt = f"sw{number}{side:04d}-A_{i:06d}-{i + 1:06d}"
                c = int(rng.choice(3, p=[0.2, 0.5, 0.3]))
                n = int(rng.integers(10, 80))
                speaker = np.random.default_rng([seed, number, side]).normal(0, 0.7, dim).astype(np.float32)
                x = rng.standard_t(5, (n, dim)).astype(np.float32) @ mixing * 1.2 + speaker
                carries = rng.random(n) < 0.3  # sentiment shows in some frames only
                x[carries] += 1.6 * directions[c] * np.sqrt(dim) / 4
                writer(utt, x)
                labels[utt] = SENTIMENT_LABELS[c]
                frames[utt] = n
        write_table(data / "utt2sentiment", labels)
        write_table(dump / "utt2num_frames", frames)


def compress_dump(src: Path, dst: Path) -> dict[str, Any]:
    """A compressed copy (Kaldi speech_feature) of the float dump ``src/feats.scp`` in ``dst``."""
    import kaldiio

    from speechsent.kaldi.ark import ArkWriter, StorageSpec
    from speechsent.kaldi.table import write_table

    dst.mkdir(parents=True, exist_ok=True)
    scp, frames = {}, {}
    with ArkWriter(dst / "feats.ark", StorageSpec(kind="compressed", method=2)) as w:
        for utt, mat in kaldiio.load_scp(str(src / "feats.scp")).items():
            scp[utt] = f"{dst / 'feats.ark'}:{w.write(utt, mat)}"
            frames[utt] = mat.shape[0]
        stats = w.stats
    write_table(dst / "utt2num_frames", frames)
    write_table(dst / "feats.scp", scp)
    return {
        "bytes_ratio": round(stats.bytes_ratio, 4),
        "max_abs_error": stats.max_abs_error,
        "mean_abs_error": stats.mean_abs_error,
        "worst_rel_error": stats.worst_rel_error,
        "fallbacks": len(stats.fallbacks),
    }


def train_and_score(
    feats: dict[str, Path], data: Path, exp: Path, seed: int, args: argparse.Namespace
) -> None:
    from speechsent.bin import train_e2e

    argv = [
        "--train_feats", str(feats["swbd_train"] / "feats.scp"),
        "--train_labels", str(data / "swbd_train" / "utt2sentiment"),
        "--valid_feats", str(feats["swbd_test"] / "feats.scp"),
        "--valid_labels", str(data / "swbd_test" / "utt2sentiment"),
        "--max_epochs", str(args.max_epochs), "--patience", "0", "--seed", str(seed),
        "--num_threads", str(args.num_threads), "--progress", "false", "--log_level", "WARNING",
        "--exp_dir", str(exp),
    ]  # fmt: skip
    for name in SETS[1:]:
        argv += ["--score_sets", f"{name}:{feats[name] / 'feats.scp'}:{data / name / 'utt2sentiment'}"]
    if train_e2e.main(argv) != 0:
        raise RuntimeError(f"training {exp} failed")


def cross_score(exp: Path, feats: Path, labels: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The model of ``exp`` (best.pth) scored on other features (the compressed test set)."""
    import torch

    from speechsent.data.feats_dataset import FeatsDataset, collate_feats
    from speechsent.data.labels import SENTIMENT_LABELS
    from speechsent.models import build_model
    from speechsent.scoring import compute_scores, write_predictions
    from speechsent.tasks.manifests import E2EModelManifest

    model_json = E2EModelManifest.read(exp / "model.json")
    model = build_model(model_json.architecture, **model_json.config)
    model.load_state_dict(torch.load(exp / "best.pth", weights_only=True))
    model.eval()
    ds = FeatsDataset([(feats / "feats.scp", labels)], SENTIMENT_LABELS, name="cross")
    preds = {}
    with torch.no_grad():
        for start in range(0, len(ds), 64):
            batch = collate_feats([ds[i] for i in range(start, min(start + 64, len(ds)))])
            logits = model(**batch["inputs"])
            for utt, k in zip(batch["ids"], logits.argmax(-1).tolist(), strict=True):
                preds[utt] = SENTIMENT_LABELS[k]
    write_predictions(out, preds, None, SENTIMENT_LABELS)
    refs = [SENTIMENT_LABELS[t] for t in ds.targets]
    return compute_scores(refs, [preds[u] for u in ds.ids], SENTIMENT_LABELS)


def _preds(score_dir: Path) -> dict[str, str]:
    from speechsent.scoring import read_predictions

    return read_predictions(score_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dump_root", default="synthetic", help="recipe dir with dump/encoder + data, or synthetic"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--max_epochs", type=int, default=10)
    parser.add_argument("--num_threads", type=int, default=1)
    parser.add_argument(
        "--synthetic_utts", type=int, nargs=3, default=[1500, 1500, 1500], help="train test holdout"
    )
    parser.add_argument("--synthetic_dim", type=int, default=144)
    parser.add_argument(
        "--work_dir", default=None, help="keep the dumps and exp dirs here (default: a temp dir)"
    )
    parser.add_argument("--out", default=None, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work_dir) if args.work_dir else Path(tmp)
        if args.dump_root == "synthetic":
            root = work / "synthetic"
            synthesize(root, dict(zip(SETS, args.synthetic_utts, strict=True)), args.synthetic_dim, 1234)
        else:
            root = Path(args.dump_root)
        data = root / "data"
        float_feats = {s: root / "dump" / "encoder" / s for s in SETS}
        comp_feats = {s: work / "compressed" / s for s in SETS}
        storage = {s: compress_dump(float_feats[s], comp_feats[s]) for s in SETS}
        print(f"features: {root}  storage of the compressed copy: {json.dumps(storage['swbd_train'])}")

        rows = []
        for seed in args.seeds:
            start = time.time()
            row: dict[str, Any] = {"seed": seed}
            for kind, feats in (("float", float_feats), ("compressed", comp_feats)):
                train_and_score(feats, data, work / "exp" / f"{kind}_s{seed}", seed, args)
            for name in SETS[1:]:
                f_dir, c_dir = (
                    work / "exp" / f"{k}_s{seed}" / f"score_{name}" for k in ("float", "compressed")
                )
                f1_float = json.loads((f_dir / "scores.json").read_text())["unweighted_f1"]
                f1_comp = json.loads((c_dir / "scores.json").read_text())["unweighted_f1"]
                pf, pc = _preds(f_dir), _preds(c_dir)
                row[name] = {
                    "f1_float": round(f1_float, 2),
                    "f1_compressed": round(f1_comp, 2),
                    "diff": round(f1_comp - f1_float, 2),
                    "agreement": round(100 * np.mean([pf[u] == pc[u] for u in pf]), 2),
                }
            cross = cross_score(
                work / "exp" / f"float_s{seed}",
                comp_feats["swbd_holdout"],
                data / "swbd_holdout" / "utt2sentiment",
                work / "exp" / f"float_s{seed}" / "cross_swbd_holdout",
                args,
            )
            f1_float_holdout = row["swbd_holdout"]["f1_float"]
            p_cross = _preds(work / "exp" / f"float_s{seed}" / "cross_swbd_holdout")
            p_float = _preds(work / "exp" / f"float_s{seed}" / "score_swbd_holdout")
            row["float_model_on_compressed_holdout"] = {
                "f1": round(cross["unweighted_f1"], 2),
                "diff": round(cross["unweighted_f1"] - f1_float_holdout, 2),
                "agreement": round(100 * np.mean([p_cross[u] == p_float[u] for u in p_cross]), 2),
            }
            row["seconds"] = round(time.time() - start, 1)
            rows.append(row)
            print(json.dumps(row))

        print("\n| seed | set | F1 float | F1 compressed | diff | agreement % |")
        print("|---|---|---|---|---|---|")
        for row in rows:
            for name in SETS[1:]:
                r = row[name]
                print(
                    f"| {row['seed']} | {name} | {r['f1_float']} | {r['f1_compressed']} | {r['diff']:+} | "
                    f"{r['agreement']} |"
                )
        summary: dict[str, Any] = {"features": str(root), "storage": storage, "rows": rows}
        for name in SETS[1:]:
            diffs = [row[name]["diff"] for row in rows]
            floats = [row[name]["f1_float"] for row in rows]
            summary[name] = {
                "mean_diff": round(float(np.mean(diffs)), 3),
                "mean_abs_diff": round(float(np.mean(np.abs(diffs))), 3),
                # the standard error of the mean paired difference: what "<= 0.3 points" is read against
                "diff_sem": round(float(np.std(diffs, ddof=1) / np.sqrt(len(diffs))), 3)
                if len(diffs) > 1
                else None,
                "float_seed_std": round(float(np.std(floats, ddof=1)), 3) if len(floats) > 1 else None,
            }
        cross_diffs = [row["float_model_on_compressed_holdout"]["diff"] for row in rows]
        summary["inference_only_mean_abs_diff"] = round(float(np.mean(np.abs(cross_diffs))), 3)
        print(
            "\nsummary: "
            + json.dumps({k: v for k, v in summary.items() if k not in ("rows", "storage", "features")})
        )
        if args.out:
            Path(args.out).write_text(json.dumps(summary, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
