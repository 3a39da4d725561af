#!/usr/bin/env python3
"""Benchmark: wall time of ``--help`` for every speechsent console entry point (target: < 1 s each).

Usage: python bench/bench_help.py [--runs N]
Each entry point is run N times as a fresh process; min / median / max wall time are printed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from importlib.metadata import entry_points


def time_help(command: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([command, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per entry point")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    scripts = sorted(
        ep.name for ep in entry_points(group="console_scripts") if ep.value.startswith("speechsent.")
    )
    if not scripts:
        sys.exit("no speechsent console scripts installed: run tools/setup.sh first")
    worst = 0.0
    print(f"{'entry point':32s} {'min':>7s} {'median':>7s} {'max':>7s}  (s, {args.runs} runs)")
    for name in scripts:
        path = shutil.which(name)
        if path is None:
            sys.exit(f"{name} is not on PATH: activate the environment (. tools/activate_python.sh)")
        t = time_help(path, args.runs)
        worst = max(worst, statistics.median(t))
        print(f"{name:32s} {min(t):7.3f} {statistics.median(t):7.3f} {max(t):7.3f}")
    print(f"slowest median: {worst:.3f} s -> {'OK' if worst < 1.0 else 'FAIL'} (target < 1 s)")


if __name__ == "__main__":
    main()
