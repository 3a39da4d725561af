"""tools/gpu_check.sh (speechsent-gpu-check) on this CPU-only machine: the checks that do not need CUDA run
on the CPU and pass (the BLSTM's packed and padded paths, the batch-invariant encoder and its throughput
ratio, DDP through torchrun with 2 gloo processes, the exported model against its scored utt2prob), the CUDA
ones are skipped with a message, and the summary table is printed and written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from speechsent.bin import gpu_check

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _rows(table: str) -> dict[str, list[str]]:
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1] in ("PASS", "FAIL", "SKIP"):
            rows[cells[0]] = cells[1:]
    return rows


def test_gpu_check_on_cpu(tmp_path):
    pytest.importorskip("espnet2")
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA machine: run tools/gpu_check.sh itself")
    out = tmp_path / "gpu_check.md"
    proc = subprocess.run(
        ["bash", str(ROOT / "tools/gpu_check.sh"), "--demo", "false", "--num_utts", "16", "--out", str(out)],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    rows = _rows(proc.stdout)
    assert list(rows) == ["cuda", "blstm", "encoder", "amp", "ddp", "infer", "demo"]
    assert {name: r[0] for name, r in rows.items()} == {
        "cuda": "SKIP", "blstm": "PASS", "encoder": "PASS", "amp": "SKIP", "ddp": "PASS", "infer": "PASS",
        "demo": "SKIP",
    }  # fmt: skip
    assert "no CUDA device" in rows["cuda"][2] and "needs CUDA" in rows["amp"][2]
    assert "0 length mismatches" in rows["encoder"][2] and "vs batch 1:" in rows["encoder"][2]
    assert "DDP world size 2, gloo" in rows["ddp"][2]
    assert "CUDA part skipped" in rows["infer"][2]
    assert _rows(out.read_text()) == rows


def test_unknown_check_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        gpu_check.main(["--checks", "blstm nccl"])
    assert exit_info.value.code == 2 and "--checks nccl" in capsys.readouterr().err
