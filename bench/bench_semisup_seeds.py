#!/usr/bin/env python3
"""Seeds study: does fine-tuning after pseudo-label pre-training beat supervised-only training?

Usage (from the repository root, on a finished demo run of ``egs/mini_sentiment``)::

    python bench/bench_semisup_seeds.py --recipe_dir egs/mini_sentiment --seeds 0 1 2 3 4 \\
        --sizes all 0.2 0.1 --variants current short --supervised_variants current short \\
        --work_dir bench_semisup --num_threads 1 [--nj 2]

Per seed, as stage 9 does: one pre-training on the VADER pseudo labels of ``swbd_train`` + ``fisher``
(``conf/train_e2e_pretrain.yaml``, ``--task pseudo``); then, at each size (``all``, or ``0.2`` for the
``data/swbd_train_0.2h`` subset), a supervised-only training (``conf/train_e2e.yaml``) and a fine-tuning of
that pre-training (``--init_from ... --reset_head true``) under each fine-tuning schedule ``--variants``
(see ``VARIANTS``: extra options of ``speechsent-train-e2e`` after the recipe's config); the supervised
baselines are trained under each schedule of ``--supervised_variants``. Every training is a subprocess of the
real entry point (``python -m speechsent.bin.train_e2e``, run in ``--recipe_dir``) with its exp dir under
``--work_dir``; one already scored there is reused (rerunning resumes).

Printed: per scored set (``swbd_holdout``; ``swbd_test`` also selects the best epoch, so it is optimistic),
a markdown table of unweighted F1 mean ± std [min, max] over seeds per size, the supervised baselines and
each variant, with the paired difference per seed (variant − the supervised baseline of the same schedule,
else of the first, same seed: mean ± std, wins). ``--out`` also writes every score as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# fine-tuning schedules: extra options after the recipe's --config (later options win)
VARIANTS: dict[str, list[str]] = {
    "current": [],
    # the demo's schedule before the seeds study (conf/train_e2e.yaml now has 20 epochs, patience 6: "long")
    "short": ["--max_epochs", "10", "--patience", "3"],
    "lr3e-4": ["--lr", "3e-4"],
    "lr1e-4": ["--lr", "1e-4"],
    "long": ["--max_epochs", "20", "--patience", "6"],
    "lr3e-4_long": ["--lr", "3e-4", "--max_epochs", "20", "--patience", "6"],
    "warmup": ["--scheduler", "warmup_linear", "--warmup_steps", "30"],
    "body0.1": ["--body_lr", "1e-4"],
    "frozen": ["--body_lr", "0"],
}
SCORE_SETS = ("swbd_holdout", "swbd_test")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--recipe_dir", required=True, help="a finished mini_sentiment run (dump/, data/, exp/)"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--sizes", nargs="+", default=["all", "0.2", "0.1"], help="all, or H: swbd_train_Hh")
    parser.add_argument("--variants", nargs="+", default=["current"], choices=sorted(VARIANTS))
    parser.add_argument(
        "--supervised_variants",
        nargs="+",
        default=["current"],
        choices=sorted(VARIANTS),
        help="schedules of the supervised-only baselines (a fine-tuning is paired with the baseline of its "
        "own schedule when there is one, else with the first)",
    )
    parser.add_argument("--work_dir", required=True, help="the trainings' exp dirs go here")
    parser.add_argument("--config", default="conf/train_e2e.yaml", help="relative to --recipe_dir")
    parser.add_argument("--pretrain_config", default="conf/train_e2e_pretrain.yaml")
    parser.add_argument("--pseudo_sets", nargs="+", default=["swbd_train", "fisher"])
    parser.add_argument("--labeler", default="vader")
    parser.add_argument("--num_threads", type=int, default=1, help="torch threads per training")
    parser.add_argument("--nj", type=int, default=1, help="trainings run at once")
    parser.add_argument("--out", default=None, help="also write the scores as JSON here")
    return parser


def _train(args: argparse.Namespace, exp_dir: Path, options: list[str]) -> dict[str, float]:
    """Run speechsent-train-e2e into ``exp_dir`` (unless already scored); its unweighted F1 per set."""
    scores = {s: exp_dir / f"score_{s}" / "scores.json" for s in SCORE_SETS}
    pretrain = "--task" in options
    if not (exp_dir / "best.pth").is_file() if pretrain else not all(p.is_file() for p in scores.values()):
        exp_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "speechsent.bin.train_e2e", *options, "--exp_dir", str(exp_dir)]
        cmd += ["--num_threads", str(args.num_threads), "--ngpu", "0", "--progress", "false"]
        env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        with open(exp_dir / "bench.log", "w") as log:
            log.write(" ".join(cmd) + "\n")
            log.flush()
            done = subprocess.run(cmd, cwd=args.recipe_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
        if done.returncode:
            raise RuntimeError(f"training failed (exit {done.returncode}): see {exp_dir / 'bench.log'}")
    if pretrain:
        return {}
    return {s: json.loads(p.read_text())["unweighted_f1"] for s, p in scores.items()}


def _options(args: argparse.Namespace, seed: int, size: str) -> list[str]:
    """The recipe's stage-9 options of a 3-class training on ``size`` (no init)."""
    score = " ".join(f"{s}:dump/encoder/{s}/feats.scp:data/{s}/utt2sentiment" for s in SCORE_SETS)
    opts = [
        "--train_feats",
        "dump/encoder/swbd_train/feats.scp",
        "--train_labels",
        "data/swbd_train/utt2sentiment",
    ]
    opts += [
        "--valid_feats",
        "dump/encoder/swbd_test/feats.scp",
        "--valid_labels",
        "data/swbd_test/utt2sentiment",
    ]
    opts += ["--score_sets", score, "--seed", str(seed), "--config", args.config]
    if size != "all":
        opts += ["--train_utt_list", f"data/swbd_train_{size}h/utt2spk", "--system_train_hours", size]
    return opts


def _pretrain_options(args: argparse.Namespace, seed: int) -> list[str]:
    opts = ["--task", "pseudo", "--seed", str(seed), "--config", args.pretrain_config]
    opts += ["--pseudo_labeler_dir", f"exp/pseudo_labeler_{args.labeler}"]
    for s in args.pseudo_sets:
        opts += [
            "--train_feats",
            f"dump/encoder/{s}/feats.scp",
            "--train_labels",
            f"data/{s}/utt2pseudo_{args.labeler}",
        ]
    return opts


def run_seed(args: argparse.Namespace, seed: int) -> dict[str, dict[str, dict[str, float]]]:
    """``{size: {"sup <schedule>" | variant: {set: U-F1}}}`` of one seed (pre-training first)."""
    work = Path(args.work_dir).resolve()
    pre = work / f"pretrain_s{seed}"
    _train(args, pre, _pretrain_options(args, seed))
    jobs = {}
    for size in args.sizes:
        for v in args.supervised_variants:
            name = f"sup_{size}_s{seed}" if v == "current" else f"sup_{v}_{size}_s{seed}"
            jobs[size, f"sup {v}"] = (work / name, _options(args, seed, size) + VARIANTS[v])
        for v in args.variants:
            init = ["--init_from", str(pre / "best.pth"), "--reset_head", "true"]
            jobs[size, v] = (work / f"ft_{v}_{size}_s{seed}", _options(args, seed, size) + init + VARIANTS[v])
    with ThreadPoolExecutor(max(1, args.nj)) as pool:
        futures = {key: pool.submit(_train, args, d, o) for key, (d, o) in jobs.items()}
        out: dict[str, dict[str, dict[str, float]]] = {}
        for (size, name), fut in futures.items():
            out.setdefault(size, {})[name] = fut.result()
    return out


def _stat(xs: list[float]) -> str:
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.mean(xs):.1f} ± {sd:.1f} [{min(xs):.1f}, {max(xs):.1f}]"


def table(results: dict[int, dict], args: argparse.Namespace, score_set: str) -> str:
    """Markdown: per (size, system) U-F1 mean ± std [min, max] over seeds; paired diff vs supervised."""
    seeds = sorted(results)
    lines = [
        f"U-F1 on {score_set}, {len(seeds)} seeds ({' '.join(map(str, seeds))})",
        "",
        "| size | system | U-F1 mean ± std [min, max] | paired Δ (ft − sup, same seed) | wins |",
        "|---|---|---|---|---|",
    ]
    for size in args.sizes:
        sups = {v: [results[s][size][f"sup {v}"][score_set] for s in seeds] for v in args.supervised_variants}
        for v, sup in sups.items():
            lines.append(f"| {size} | sup {v} | {_stat(sup)} | | |")
        for v in args.variants:
            base = v if v in sups else args.supervised_variants[0]
            sup = sups[base]
            ft = [results[s][size][v][score_set] for s in seeds]
            diff = [a - b for a, b in zip(ft, sup, strict=True)]
            sd = statistics.stdev(diff) if len(diff) > 1 else 0.0
            wins = sum(d > 0 for d in diff)
            delta = f"{statistics.mean(diff):+.1f} ± {sd:.1f} (vs sup {base})"
            lines.append(f"| {size} | ft {v} | {_stat(ft)} | {delta} | {wins}/{len(diff)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    start = time.time()
    results = {seed: run_seed(args, seed) for seed in args.seeds}
    for score_set in SCORE_SETS:
        print(table(results, args, score_set) + "\n")
    print(f"({time.time() - start:.0f} s; swbd_test also selects the best epoch)")
    if args.out:
        Path(args.out).write_text(json.dumps({str(k): v for k, v in results.items()}, indent=1) + "\n")


if __name__ == "__main__":
    main()
