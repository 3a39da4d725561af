"""speechsent-gpu-check: the GPU code paths exercised on this machine, one summary table (tools/gpu_check.sh).

Checks (``--checks``, in this order; each is described in :mod:`speechsent.gpu_check`): ``cuda`` (the
device), ``blstm`` (cuDNN packed BLSTM vs the CPU padded path), ``encoder`` (stage 5's batch-invariant
encoder on the device: batches vs one at a time, fp32 and AMP, and the bucketed-vs-batch-1 throughput ratio,
target >= 3x on a GPU), ``amp`` (autocast training steps), ``ddp`` (speechsent-train-e2e through torchrun),
``infer`` (the exported model on CUDA vs the CPU and vs its scored utt2prob), ``demo`` (the demo recipe with
``--ngpu 1 --gpu_inference true`` and AMP). Without CUDA, what does not need it runs on the CPU and the rest
is skipped with a message::

    python -m speechsent.bin.gpu_check                       # all, on CUDA when there is one
    python -m speechsent.bin.gpu_check --demo false --out gpu_check.md

Prints the table (and writes it to ``--out``); exit status 1 when a check failed, 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from speechsent import cli
from speechsent.cli import none_or_str, str2bool

__all__ = ["get_parser", "main"]

PROG = "speechsent-gpu-check"
CHECK_NAMES = ("cuda", "blstm", "encoder", "amp", "ddp", "infer", "demo")


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__)
    cli.add_list_argument(parser, "--checks", f"checks to run (default: all): {' '.join(CHECK_NAMES)}")
    parser.add_argument("--device", default="auto", choices=("auto", "cuda", "cpu"))
    parser.add_argument("--demo", type=str2bool, default=True, help="the demo recipe on CUDA (~minutes)")
    parser.add_argument("--num_utts", type=int, default=48, help="utterances of the encoder/ddp/infer checks")
    parser.add_argument("--work_dir", type=none_or_str, default=None, help="kept (default: a temporary dir)")
    parser.add_argument("--out", type=none_or_str, default=None, help="also write the table to this file")
    cli.add_log_level_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    checks = cli.split_words(args.checks) or list(CHECK_NAMES)
    unknown = sorted(set(checks) - set(CHECK_NAMES))
    if unknown:
        parser.error(f"--checks {' '.join(unknown)}: expected some of {' '.join(CHECK_NAMES)}")
    cli.setup_logging(args.log_level)
    from speechsent.gpu_check import GpuCheckConfig, format_table, run_checks

    config = GpuCheckConfig(
        checks=checks,
        device=args.device,
        work_dir=Path(args.work_dir) if args.work_dir else None,
        demo=args.demo,
        num_utts=args.num_utts,
    )
    try:
        results = run_checks(config)
    except ValueError as error:
        parser.error(str(error))
    table = format_table(results)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n", encoding="utf-8")
    return 1 if any(r.status == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
