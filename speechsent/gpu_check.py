"""One command that exercises the GPU code paths and prints one summary table (``tools/gpu_check.sh``).

Each check runs on the CUDA device when there is one; on a machine without CUDA it runs what does not need
CUDA on the CPU (saying so) and skips the rest with a message, so that the script itself is tested anywhere
(``test/test_gpu_check.py``). The checks, in order:

``cuda``
    the device (name, capability, memory), torch's CUDA / cuDNN versions, bf16 support.
``blstm``
    the BLSTM classifier's two paths (:func:`speechsent.models.blstm.run_blstm`): cuDNN's packed sequences on
    CUDA against the padded path on the CPU, outputs and input gradients (tolerance: cuDNN may use TF32);
    without CUDA both paths on the CPU.
``encoder``
    stage 5's batch-invariant encoder (:class:`speechsent.asr.batch_encode.BatchEncoder`) on a random
    ESPnet Transformer ASR: exact length-bucketed batches against one utterance at a time (max abs
    difference, length mismatches), and their **throughput ratio** (the bucketed batches vs batch 1, target
    >= 3x on a GPU; on a CPU the ratio is printed without a target: the dump runs one at a time there).
    With CUDA also under ``--amp`` (bf16 where supported, else fp16).
``amp``
    training steps of the E2E BLSTM classifier under autocast (bf16 or fp16 with a gradient scaler): finite
    losses that go down. CUDA only.
``ddp``
    ``torchrun --standalone --nproc_per_node 1 -m speechsent.bin.train_e2e`` on features dumped by the
    ``encoder`` check's model (NCCL with ``--ngpu 1``; gloo on the CPU): a trained, scored system.
``infer``
    that system exported (:func:`speechsent.inference.export.export_system`, the ASR encoder packed) and run
    by :class:`speechsent.inference.model.SentimentModel` on the CUDA device and on the CPU: the largest
    difference of the probabilities between the two, and against the system's scored ``utt2prob``.
``demo``
    the demo recipe (egs/mini_sentiment, a copy) with ``--ngpu 1 --gpu_inference true`` and AMP (stage 5's
    ``--amp true``, the classifiers' ``amp: bf16|fp16``), every stage: its wall time and RESULTS.md's
    Table 2 line. CUDA only (``--demo false`` leaves it out).
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CHECKS", "CheckResult", "GpuCheckConfig", "format_table", "run_checks"]

log = logging.getLogger("speechsent.gpu_check")
ROOT = Path(__file__).resolve().parents[1]

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
#: the bucketed encoder's throughput over batch 1 that a GPU should reach
GPU_SPEEDUP_TARGET = 3.0


@dataclass
class GpuCheckConfig:
    """What to check (``speechsent-gpu-check --help``)."""

    checks: list[str] = field(default_factory=lambda: list(CHECKS))
    device: str = "auto"  # auto: cuda when available, else cpu
    work_dir: Path | None = None  # default: a temporary dir, removed afterwards
    demo: bool = True
    num_utts: int = 48  # utterances of the encoder / ddp / infer checks
    demo_timeout: int = 900


@dataclass
class CheckResult:
    name: str
    status: str  # PASS | FAIL | SKIP
    detail: str
    seconds: float = 0.0


@dataclass
class _Context:
    config: GpuCheckConfig
    device: str
    work: Path
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def cuda(self) -> bool:
        return self.device == "cuda"


def _torch() -> Any:
    import torch

    return torch


# ---- the checks --------------------------------------------------------------------------------------------


def check_cuda(ctx: _Context) -> CheckResult:
    torch = _torch()
    if not ctx.cuda:
        return CheckResult(
            "cuda", SKIP, f"no CUDA device (torch {torch.__version__}): the CUDA parts below are skipped"
        )
    p = torch.cuda.get_device_properties(0)
    return CheckResult(
        "cuda",
        PASS,
        f"{p.name}, capability {p.major}.{p.minor}, {p.total_memory / 2**30:.0f} GiB; torch "
        f"{torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}; "
        f"bf16 {'yes' if torch.cuda.is_bf16_supported() else 'no'}",
    )


def check_blstm(ctx: _Context) -> CheckResult:
    torch = _torch()
    from speechsent.models.blstm import run_blstm

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(24, 32, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.randn(8, 60, 24)
    lengths = torch.randint(5, 61, (8,))
    lengths[0] = 60

    def run(device: str, path: str) -> tuple[Any, Any]:
        module = lstm.to(device)
        xi = x.clone().to(device).requires_grad_(True)  # a leaf of its own: its own gradient
        out = run_blstm(module, xi, lengths.to(device), path=path)
        mask = (torch.arange(60, device=device)[None, :] < lengths.to(device)[:, None]).float()[..., None]
        (out * mask).sum().backward()
        valid = [out[b, : int(lengths[b])].detach().cpu() for b in range(8)]
        return valid, xi.grad.detach().cpu().clone()

    lstm.eval()
    ref, ref_grad = run("cpu", "padded")
    got, got_grad = run(ctx.device, "packed")
    lstm.to("cpu")
    diff = max(float((a - b).abs().max()) for a, b in zip(ref, got, strict=True))
    grad = float((ref_grad - got_grad).abs().max())
    tol = 2e-3 if ctx.cuda else 1e-5  # cuDNN may compute in TF32
    where = "cuDNN packed (CUDA)" if ctx.cuda else "packed (CPU; no CUDA)"
    status = PASS if diff <= tol and grad <= tol else FAIL
    return CheckResult(
        "blstm",
        status,
        f"{where} vs padded (CPU): outputs {diff:.2g}, input gradients {grad:.2g} (tol {tol:g})",
    )


def _tiny_asr(ctx: _Context) -> tuple[Path, Path, Path]:
    """A random ESPnet Transformer ASR (4 blocks x 128) and a data dir of synthetic speech (1-8 s)."""
    if "asr" not in ctx.shared:
        import numpy as np

        from speechsent.asr.tiny_model import TinyModelSpec, write_synthetic_data_dir, write_tiny_asr_model

        spec = TinyModelSpec(output_size=128, linear_units=512, num_blocks=4, seed=0)
        config, model_file = write_tiny_asr_model(ctx.work / "asr", spec)
        rng = np.random.default_rng(0)
        n = ctx.config.num_utts
        recordings = [list(rng.uniform(1.0, 8.0, size=4).round(2)) for _ in range(max(1, n // 4))]
        data = write_synthetic_data_dir(ctx.work / "speech", recordings, fs=spec.fs, seed=0)
        ctx.shared["asr"] = (config, model_file, data)
    return ctx.shared["asr"]


def check_encoder(ctx: _Context) -> CheckResult:
    torch = _torch()
    from espnet2.tasks.asr import ASRTask

    from speechsent.asr.batch_encode import BatchEncoder, compare_batched
    from speechsent.audio.io import UtteranceReader

    config, model_file, data = _tiny_asr(ctx)
    model, _ = ASRTask.build_model_from_file(config, model_file, ctx.device)
    model.eval()
    wavs = [w for _, w, _ in UtteranceReader(data).iter_utterances()]
    parts = []
    ok = True
    with torch.inference_mode():
        enc = BatchEncoder(model, ctx.device)
        report = compare_batched(enc, wavs, tol=1e-4)
        ok &= report.ok
        parts.append(f"fp32 batches vs one at a time: {report.max_abs_diff:.2g}, {report.length_mismatches} "
                     "length mismatches")  # fmt: skip
        if ctx.cuda:
            amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
            amp_report = compare_batched(BatchEncoder(model, ctx.device, amp=amp), wavs, tol=5e-2)
            ok &= amp_report.ok
            parts.append(f"{amp}: {amp_report.max_abs_diff:.2g}")

        def timed(fn: Callable[[], Any]) -> float:
            if ctx.cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if ctx.cuda:
                torch.cuda.synchronize()
            return time.perf_counter() - start

        order = sorted(range(len(wavs)), key=lambda i: -len(wavs[i]))
        size = 16

        def bucketed() -> None:
            for i in range(0, len(order), size):
                enc.encode_batch([wavs[j] for j in order[i : i + size]])

        def batch1() -> None:
            for w in wavs:
                enc.encode_single(w)

        bucketed(), batch1()  # warm-up: kernels, allocator
        ratios = []
        for _ in range(3):  # interleaved rounds
            t1 = timed(batch1)
            tb = timed(bucketed)
            ratios.append(t1 / tb)
    ratios.sort()
    ratio = ratios[1]
    seconds = sum(len(w) for w in wavs) / 8000
    speed = (
        f"bucketed (batches of {size}) vs batch 1: {ratio:.2f}x (median of 3 interleaved rounds, "
        f"{ratios[0]:.2f}-{ratios[2]:.2f})"
    )
    if ctx.cuda:
        ok &= ratio >= GPU_SPEEDUP_TARGET
        speed += f", target >= {GPU_SPEEDUP_TARGET:g}x"
    else:
        speed += ", no target on CPU"
    detail = f"{len(wavs)} utts, {seconds:.0f} s on {ctx.device}: " + "; ".join(parts) + "; " + speed
    return CheckResult("encoder", PASS if ok else FAIL, detail)


def check_amp(ctx: _Context) -> CheckResult:
    torch = _torch()
    if not ctx.cuda:
        return CheckResult("amp", SKIP, "autocast training needs CUDA")
    from speechsent.models import build_model

    amp = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    torch.manual_seed(0)
    model = build_model("blstm", input_dim=128, num_classes=3).to("cuda")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda", enabled=amp == torch.float16)
    x = torch.randn(16, 200, 128, device="cuda")
    lengths = torch.randint(50, 201, (16,), device="cuda")
    y = torch.randint(0, 3, (16,), device="cuda")
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        with torch.autocast("cuda", dtype=amp):
            loss = torch.nn.functional.cross_entropy(model(x, lengths), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        losses.append(float(loss))
    finite = all(math.isfinite(v) for v in losses)
    ok = finite and losses[-1] < losses[0]
    name = "bf16" if amp == torch.bfloat16 else "fp16 + GradScaler"
    return CheckResult(
        "amp", PASS if ok else FAIL, f"{name}, 20 steps: loss {losses[0]:.3f} -> {losses[-1]:.3f}"
    )


def _dump_features(ctx: _Context) -> Path:
    """The ``encoder`` check's model's features of its data dir (stage 5's dump, one job)."""
    if "feats" not in ctx.shared:
        import numpy as np

        from speechsent.asr.dump_jobs import merge_jobs
        from speechsent.asr.encoder_dump import DumpConfig, dump_job
        from speechsent.kaldi.table import read_table

        config, model_file, data = _tiny_asr(ctx)
        out = ctx.work / "dump"
        cfg = DumpConfig(data_dir=data, out_dir=out, asr_config=config, asr_model_file=model_file,
                         device=ctx.device, progress=False)  # fmt: skip
        dump_job(cfg, 1)
        merge_jobs(data, out, 1)
        rng = np.random.default_rng(0)
        utts = sorted(read_table(data / "utt2spk"))
        labels = ["Negative", "Neutral", "Positive"]
        (ctx.work / "labels").write_text("".join(f"{u} {labels[rng.integers(3)]}\n" for u in utts))
        ctx.shared["feats"] = out / "feats.scp"
    return ctx.shared["feats"]


def check_ddp(ctx: _Context) -> CheckResult:
    feats = _dump_features(ctx)
    labels = ctx.work / "labels"
    exp = ctx.work / "exp" / "e2e_blstm_all_s0"
    torch = _torch()
    # the CPU: 2 gloo processes (real DDP); CUDA: one process per GPU (NCCL from 2 GPUs on; with one GPU,
    # torchrun's single process trains without a process group, as the recipe's --ngpu 1 does)
    nproc = torch.cuda.device_count() if ctx.cuda else 2
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc)]
    cmd = [*torchrun, "-m", "speechsent.bin.train_e2e",
           "--train_feats", str(feats), "--train_labels", str(labels),
           "--valid_feats", str(feats), "--valid_labels", str(labels),
           "--score_sets", f"check:{feats}:{labels}", "--exp_dir", str(exp),
           "--ngpu", str(nproc) if ctx.cuda else "0", "--num_threads", "1",
           "--max_epochs", "2", "--batch_size", "8",
           "--lstm_dim", "16", "--fc_dim", "16", "--progress", "false",
           "--allow_missing_classes", "true"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    backend = f"nccl, {nproc} GPU(s)" if ctx.cuda else "gloo, 2 CPU processes"
    output = proc.stdout + proc.stderr
    if proc.returncode != 0 or not (exp / "score_check" / "utt2prob").is_file():
        tail = output.strip().splitlines()[-3:]
        detail = f"torchrun ({backend}) failed ({proc.returncode}): {' | '.join(tail)}"
        return CheckResult("ddp", FAIL, detail)
    ctx.shared["system"] = exp
    train_log = (exp / "train.log").read_text(encoding="utf-8") if (exp / "train.log").is_file() else output
    group = re.search(r"process group: rank 0/(\d+) \(local 0\), backend (\w+)", train_log + output)
    how = f"DDP world size {group.group(1)}, {group.group(2)}" if group else "one process, no process group"
    detail = f"torchrun ({backend}): speechsent-train-e2e trained and scored a system ({how})"
    return CheckResult("ddp", PASS, detail)


def check_infer(ctx: _Context) -> CheckResult:
    import numpy as np

    from speechsent.audio.io import UtteranceReader
    from speechsent.data.labels import SENTIMENT_LABELS
    from speechsent.inference.export import export_system
    from speechsent.inference.model import SentimentModel
    from speechsent.kaldi.table import read_table

    system = ctx.shared.get("system")
    if system is None:
        return CheckResult("infer", SKIP, "needs the ddp check's system")
    config, _, data = _tiny_asr(ctx)
    exported = export_system(system, ctx.work / "export", asr_model=config.parent)
    reader = UtteranceReader(data)
    utts = reader.utt_ids()
    wavs = [reader.load(u)[0] for u in utts]

    def probs(device: str) -> Any:
        model = SentimentModel.from_pretrained(exported, device=device)
        return np.array(
            [[p.probabilities[k] for k in SENTIMENT_LABELS] for p in model.predict_waveforms(wavs)]
        )

    cpu = probs("cpu")
    scored = read_table(system / "score_check" / "utt2prob")
    ref = np.array([[float(v) for v in scored[u].split()] for u in utts])
    vs_scored = float(np.abs(cpu - ref).max())
    parts = [f"CPU vs the system's utt2prob: {vs_scored:.2g}"]
    ok = vs_scored <= 1e-4
    if ctx.cuda:
        vs_cpu = float(np.abs(probs("cuda") - cpu).max())
        parts.insert(0, f"CUDA vs CPU: {vs_cpu:.2g}")
        ok &= vs_cpu <= 1e-3
    else:
        parts.append("CUDA part skipped (no CUDA)")
    detail = f"{len(utts)} utts, largest probability difference: " + "; ".join(parts)
    return CheckResult("infer", PASS if ok else FAIL, detail)


def check_demo(ctx: _Context) -> CheckResult:
    if not ctx.config.demo:
        return CheckResult("demo", SKIP, "--demo false")
    if not ctx.cuda:
        return CheckResult("demo", SKIP, "the demo on CUDA needs a GPU (on CPU: README's first command)")
    torch = _torch()
    amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    recipe = ctx.work / "egs" / "mini_sentiment"
    shutil.copytree(ROOT / "egs" / "mini_sentiment", recipe,
                    ignore=shutil.ignore_patterns("data", "exp", "dump", "RESULTS.md"))  # fmt: skip
    for name in (
        "train_e2e.yaml",
        "train_e2e_pretrain.yaml",
        "train_text_baseline.yaml",
        "train_text_lm.yaml",
    ):
        path = recipe / "conf" / name
        path.write_text(path.read_text() + f"\namp: {amp}\n")
    env = {**os.environ, "SPEECHSENT_ROOT": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.run(["bash", "./run.sh", "--ngpu", "1", "--gpu_inference", "true", "--amp", "true"],
                          cwd=recipe, env=env, capture_output=True, text=True, check=False,
                          timeout=ctx.config.demo_timeout)  # fmt: skip
    seconds = time.perf_counter() - start
    (ctx.work / "demo.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        return CheckResult("demo", FAIL, f"run.sh failed after {seconds:.0f} s: {' | '.join(tail)}")
    results = (recipe / "RESULTS.md").read_text()
    row = next((line for line in results.splitlines() if "| CTC-Attention encoder" in line), "")
    cells = [c.strip() for c in row.split("|") if c.strip()]
    f1 = f"E2E eval U-F1 {cells[10]}" if len(cells) > 10 else "Table 2 row not found"
    return CheckResult(
        "demo", PASS, f"stages 1-11 with --ngpu 1 --gpu_inference true, amp {amp}: {seconds:.0f} s; {f1}"
    )


#: name -> check, in the order they run (later ones reuse earlier ones' model, features and system)
CHECKS: dict[str, Callable[[_Context], CheckResult]] = {
    "cuda": check_cuda,
    "blstm": check_blstm,
    "encoder": check_encoder,
    "amp": check_amp,
    "ddp": check_ddp,
    "infer": check_infer,
    "demo": check_demo,
}


def run_checks(config: GpuCheckConfig) -> list[CheckResult]:
    """Every check of ``config.checks`` in :data:`CHECKS` order; an exception is that check's FAIL."""
    torch = _torch()
    unknown = sorted(set(config.checks) - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown checks {unknown}: expected some of {', '.join(CHECKS)}")
    device = config.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device here")
    own = config.work_dir is None
    work = Path(tempfile.mkdtemp(prefix="speechsent_gpu_check_")) if own else Path(config.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    ctx = _Context(config, device, work)
    results = []
    try:
        for name, check in CHECKS.items():
            if name not in config.checks:
                continue
            start = time.perf_counter()
            try:
                result = check(ctx)
            except Exception as error:  # a check that crashes is a failed check, shown in the table
                log.exception("check %s", name)
                result = CheckResult(name, FAIL, f"{type(error).__name__}: {error}")
            result.seconds = time.perf_counter() - start
            log.info("%s %s: %s", name, result.status, result.detail)
            results.append(result)
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    return results


def format_table(results: list[CheckResult]) -> str:
    """The markdown summary table (check, result, seconds, what was measured)."""
    lines = ["| check | result | s | detail |", "|---|---|---:|---|"]
    lines += [f"| {r.name} | {r.status} | {r.seconds:.1f} | {r.detail.replace('|', '/')} |" for r in results]
    return "\n".join(lines)
