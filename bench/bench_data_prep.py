#!/usr/bin/env python3
"""Benchmark: stage-1 data preparation on text inputs of the real corpora's size (target: <= 60 s, 2 cores).

Generates, in a temporary directory (or --work_dir):

* 2,438 empty ``swNNNNN.sph`` placeholders (utt2dur comes from the segments, so no audio is read) and their
  MS98 transcripts: ~250,000 segments (both sides tiled by speech and ``[silence]`` segments, with MS98
  markup: partial words, laughter-words, noise tags);
* ``sentiment_labels.tsv`` with 52,293 rows (sides interleaved in time order, jittered times, ~4 % ties,
  a few rows that match nothing);
* 11,699 empty Fisher ``fe_03_NNNNN.sph`` placeholders and transcripts (--fisher_segments_per_call, default
  180, i.e. ~2.1 M segments as in Fisher English parts 1 and 2);

then times the whole of stage 1 as ``local/data.sh`` runs it: :func:`speechsent.data.prepare.prepare_data`,
then ``utils/validate_data_dir.sh --no-feats`` of each dir, as subprocesses, ``--validate_nj`` (2) at a time,
the biggest first. It reports both figures (and each dir's validation) and their sum, the stage-1 time
(``--no-validate``: the preparation only).

Usage: python bench/bench_data_prep.py [--work_dir DIR] [--runs N] [--split conversation|espnet]
           [--[no-]validate] [--validate_nj 2] [--profile]
"""

from __future__ import annotations

import argparse
import ast
import logging
import random
import resource
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The order local/data.sh starts the validations in (the biggest first).
VALIDATION_ORDER = ("fisher", "asr_train", "swbd_train", "swbd_test", "swbd_holdout")

NUM_SWBD = 2438
MS98_SEGMENTS = 250_000
TSV_ROWS = 52_293
NUM_FISHER = 11_699
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
    "we",
    "went",
    "to",
    "uh",
    "um",
    "yeah",
    "you",
    "know",
    "it",
    "was",
    "kind",
    "of",
    "a",
    "mess",
    "and",
    "they",
    "said",
    "okay",
    "well",
    "anyway",
    "right",
]
MARKUP = ("[noise]", "[laughter]", "[vocalized-noise]", "th[e]-", "[laughter-yes]", "-[a]bout", "them_1")


def _words(rng: random.Random, n: int) -> str:
    out = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.3:
        out.insert(rng.randrange(len(out) + 1), rng.choice(MARKUP))
    return " ".join(out)


def generate(root: Path, fisher_per_call: int, seed: int = 0) -> dict[str, str]:
    rng = random.Random(seed)
    swbd = root / "LDC97S62"
    ms98 = root / "swb_ms98_transcriptions"
    senti = root / "LDC2020T14" / "data"
    senti.mkdir(parents=True)
    per_side = MS98_SEGMENTS // (2 * NUM_SWBD)
    labelable: list[tuple[str, float, float]] = []  # conv, start, end of speech segments
    for k in range(NUM_SWBD):
        number = 2001 + k
        conv = f"sw0{number}"
        disc = swbd / f"swb1_d{1 + k // 650}" / "data"
        disc.mkdir(parents=True, exist_ok=True)
        (disc / f"{conv}.sph").write_bytes(b"")
        d = ms98 / str(number)[:2] / str(number)
        d.mkdir(parents=True, exist_ok=True)
        conv_segments = []
        for side in "AB":
            t = 0.0
            lines = []
            for i in range(per_side):
                dur = rng.uniform(0.5, 6.0)
                start, end = t, t + dur
                if i % 4 == 3:
                    words = "[silence]"
                else:
                    words = _words(rng, rng.randint(1, 14))
                    conv_segments.append((conv, start, end))
                lines.append(f"sw{number}{side}-ms98-a-{i + 1:04d} {start:.6f} {end:.6f} {words}\n")
                t = end
            (d / f"sw{number}{side}-ms98-a-trans.text").write_text("".join(lines))
        conv_segments.sort(key=lambda s: s[1])
        labelable.extend(conv_segments)
    chosen = sorted(rng.sample(range(len(labelable)), TSV_ROWS - 50))
    labels = ("Negative", "Neutral", "Positive")
    rows = []
    index: dict[str, int] = {}
    for i in chosen:
        conv, start, end = labelable[i]
        if rng.random() < 0.04:
            votes = ["Negative", "Neutral", "Positive"]
        else:
            lab = rng.choice(labels)
            votes = [lab, lab, rng.choice(labels)]
        j = rng.uniform(-0.01, 0.01)
        n = index[conv] = index.get(conv, -1) + 1
        votes_s = "#".join(f"{v}-{{r}}" for v in votes)
        rows.append(f"{conv}_{n}\t{max(0.0, start + j):.6f}\t{end - j:.6f}\t{votes_s}")
    for k in range(50):  # rows that match nothing
        bad = f"sw0{2001 + k}_999\t9000.0\t9001.0\tNeutral-{{x}}#Neutral-{{y}}"
        rows.insert(rng.randrange(len(rows)), bad)
    (senti / "sentiment_labels.tsv").write_text("\n".join(rows) + "\n")

    fisher_audio = root / "LDC2004S13"
    fisher_trans = root / "LDC2004T19"
    for n in range(1, NUM_FISHER + 1):
        call = f"fe_03_{n:05d}"
        sub = f"{n // 1000:03d}"
        a = fisher_audio / f"fe_03_p1_sph{1 + n // 1700}" / "audio" / sub
        a.mkdir(parents=True, exist_ok=True)
        (a / f"{call}.sph").write_bytes(b"")
        tdir = fisher_trans / "fe_03_p1_tran" / "data" / "trans" / sub
        tdir.mkdir(parents=True, exist_ok=True)
        lines = [f"# {call}.sph", "# Transcribed at the LDC", ""]
        t = 0.5
        for i in range(fisher_per_call):
            dur = rng.uniform(0.8, 6.0)
            words = _words(rng, rng.randint(1, 14)).replace("th[e]-", "th-").replace("them_1", "them")
            if rng.random() < 0.05:
                words += " ((maybe))"
            lines.append(f"{t:.2f} {t + dur:.2f} {'AB'[i % 2]}: {words} ")
            lines.append("")
            t += dur + 0.1
        (tdir / f"{call}.txt").write_text("\n".join(lines) + "\n")
    return {
        "swbd": str(swbd),
        "swbd_ms98": str(ms98),
        "swbd_sentiment": str(root / "LDC2020T14"),
        "fisher": f"{fisher_audio} {fisher_trans}",
    }


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work_dir", default=None, help="where to generate (default: a temporary directory)")
    parser.add_argument("--runs", type=int, default=1, help="timed runs of stage 1 (the best is reported)")
    parser.add_argument("--split", default="conversation", choices=("conversation", "espnet"))
    parser.add_argument("--fisher_segments_per_call", type=int, default=180)
    parser.add_argument(
        "--validate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time utils/validate_data_dir.sh --no-feats of each dir after the preparation, as local/data.sh "
        "runs them (default: on)",
    )
    parser.add_argument("--validate_nj", type=int, default=2, help="validations at a time (local/data.sh: 2)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary of the first run")
    return parser


def _validate_one(data_dir: Path) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    r = subprocess.run(
        ["bash", str(ROOT / "utils" / "validate_data_dir.sh"), "--no-feats", str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - t0, r


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def validate_dirs(data: Path, names: list[str], nj: int) -> tuple[float, float, dict[str, float]]:
    """Validate the dirs as local/data.sh does (subprocesses, nj at a time, the biggest first): wall time,
    CPU time (all of them), each dir's wall time; raises if one fails."""
    order = [n for n in VALIDATION_ORDER if n in names] + [n for n in names if n not in VALIDATION_ORDER]
    t0, cpu0 = time.perf_counter(), _children_cpu()
    with ThreadPoolExecutor(max_workers=nj) as pool:
        results = dict(zip(order, pool.map(lambda n: _validate_one(data / n), order), strict=True))
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    for name, (_, r) in results.items():
        if r.returncode != 0:
            raise RuntimeError(f"validate_data_dir.sh {data / name} failed:\n{r.stdout}{r.stderr}")
    return wall, cpu, {n: results[n][0] for n in names}


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    from speechsent.data.prepare import prepare_data
    from speechsent.data.prepare_common import PrepareConfig

    logging.basicConfig(level=logging.ERROR)
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="bench_data_prep."))
    try:
        corpus = work / "corpus"
        t0 = time.perf_counter()
        if not (corpus / "done").exists():
            shutil.rmtree(corpus, ignore_errors=True)
            corpus.mkdir(parents=True)
            db = generate(corpus, args.fisher_segments_per_call)
            (corpus / "done").write_text(repr(db))
        db = ast.literal_eval((corpus / "done").read_text())
        print(f"inputs ready in {time.perf_counter() - t0:.1f} s: {corpus}")
        cfg = PrepareConfig(
            out_dir=work / "data",
            swbd=db["swbd"],
            swbd_ms98=db["swbd_ms98"],
            swbd_sentiment=db["swbd_sentiment"],
            fisher=db["fisher"].split(),
            split=args.split,
            skip_bad_rows=False,
        )
        prep_times, val_times, stage_times = [], [], []
        for run in range(args.runs):
            t0 = time.perf_counter()
            if args.profile and run == 0:
                import cProfile
                import pstats

                prof = cProfile.Profile()
                report = prof.runcall(prepare_data, cfg)
                pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
            else:
                report = prepare_data(cfg)
            prep_times.append(time.perf_counter() - t0)
            line = f"run {run + 1}: preparation {prep_times[-1]:.1f} s"
            if args.validate:
                wall, cpu, per_dir = validate_dirs(work / "data", list(report.dirs), args.validate_nj)
                val_times.append(wall)
                line += (
                    f", validation {wall:.1f} s ({args.validate_nj} at a time, {cpu:.1f} s CPU: "
                    + ", ".join(f"{n} {t:.1f} s" for n, t in per_dir.items())
                    + ")"
                )
            stage_times.append(prep_times[-1] + (val_times[-1] if val_times else 0.0))
            print(line + f", stage 1 {stage_times[-1]:.1f} s")
        print("dirs:", ", ".join(f"{k}={v} utts" for k, v in report.dirs.items()))
        c = report.counts
        print(
            f"rows read {c['rows_read']}, no majority {c['rows_no_majority']}, "
            f"unmatched {c['rows_unmatched']}, MS98 segments ok {c['swbd_segments_ok']}, "
            f"Fisher segments ok {c['fisher_segments_ok']}"
        )
        print(f"stage-1 preparation: {min(prep_times):.1f} s")
        if args.validate:
            print(f"stage-1 validation (all dirs): {min(val_times):.1f} s")
        best = min(stage_times)
        what = "preparation + validation" if args.validate else "preparation only (--no-validate)"
        print(f"stage 1 ({what}): {best:.1f} s -> {'OK' if best <= 60 else 'SLOW'} (target <= 60 s)")
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
