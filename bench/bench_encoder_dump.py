#!/usr/bin/env python3
"""Benchmark of stage 5 (speechsent-dump-encoder) on a small random ESPnet ASR model and synthetic speech.

Prints, in one run:

1. batch invariance: naive padded ``model.encode()`` batches vs this toolkit's exact batches, each against
   single-utterance ``encode()`` (max abs diff, length mismatches);
2. throughput: the bare single-utterance ``encode()`` loop (audio already in memory) vs the whole dump (audio
   read from wav files, ark + scp written, one job) in utt/s and their ratio, plus naive padded batching and
   exact length-bucketed batching at the same batch size;
3. storage: bytes per frame of float32 and compressed arks, the measured compression error, and what kaldiio's
   compression method 6 (meant for integers 0..255) silently does to the same features.

Usage: ``python bench/bench_encoder_dump.py [--num_utts 300] [--device cpu|cuda|auto] [--encoder ...]``
(public tools only: torch, espnet, kaldiio, numpy, soundfile).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_data_dir(root: Path, num_utts: int, fs: int, seed: int) -> Path:
    """A Kaldi data dir of ``num_utts`` segments (1-10 s) cut from 16-bit wav files of synthetic speech."""
    import soundfile as sf

    from speechsent.asr.tiny_model import synthetic_speech

    rng = np.random.default_rng(seed)
    data = root / "data"
    (root / "wav").mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    wav_scp, segments, utt2spk, utt2dur = [], [], [], []
    made = 0
    reco_id = 0
    while made < num_utts:
        durs = rng.uniform(1.0, 10.0, size=min(10, num_utts - made))
        starts = np.concatenate([[0.2], 0.2 + np.cumsum(durs + 0.3)[:-1]])
        total = float(starts[-1] + durs[-1] + 0.2)
        reco = f"sw{reco_id:05d}-A"
        path = root / "wav" / f"{reco}.wav"
        samples = synthetic_speech(int(total * fs), fs, seed * 1000 + reco_id)
        sf.write(path, (samples * 32767).astype(np.int16), fs)
        wav_scp.append(f"{reco} {path}")
        for start, dur in zip(starts, durs, strict=True):
            end = start + dur
            utt = f"{reco}_{round(start * 100):06d}-{round(end * 100):06d}"
            segments.append(f"{utt} {reco} {start:.2f} {end:.2f}")
            utt2spk.append(f"{utt} {reco}")
            utt2dur.append(f"{utt} {end - start:.2f}")
        made += len(durs)
        reco_id += 1
    for name, lines in (
        ("wav.scp", wav_scp),
        ("segments", segments),
        ("utt2spk", utt2spk),
        ("utt2dur", utt2dur),
    ):
        (data / name).write_text("".join(line + "\n" for line in sorted(lines)), encoding="utf-8")
    return data


def max_diff(reference: list[np.ndarray], other: list[np.ndarray]) -> tuple[float, int]:
    worst, mismatches = 0.0, 0
    for r, o in zip(reference, other, strict=True):
        if r.shape != o.shape:
            mismatches += 1
        n = min(len(r), len(o))
        if n:
            worst = max(worst, float(np.abs(r[:n] - o[:n]).max()))
    return worst, mismatches


def naive_encode(model, wavs, device) -> list[np.ndarray]:
    """``model.encode()`` on one zero-padded batch, as a data loader would call it."""
    import torch

    speech = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(w) for w in wavs], batch_first=True).to(device)
    lengths = torch.tensor([len(w) for w in wavs], device=device)
    out, lens = model.encode(speech, lengths)
    return [out[i, :n].float().cpu().numpy() for i, n in enumerate(lens.tolist())]


def timed(fn, *args) -> tuple[float, object]:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = fn(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--num_utts", type=int, default=300)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument(
        "--encoder", default="transformer", choices=("transformer", "conformer", "e_branchformer")
    )
    parser.add_argument("--output_size", type=int, default=144)
    parser.add_argument("--num_blocks", type=int, default=6)
    parser.add_argument(
        "--batch_size", type=int, default=8, help="batch size of the naive/exact CPU comparison"
    )
    parser.add_argument("--gpu_batch_size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--num_threads", type=int, default=1, help="torch CPU threads (the dump's default: 1)"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timing runs per method (best is shown)")
    parser.add_argument("--workdir", default=None, help="keep the files here (default: a temporary dir)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    import torch

    torch.set_num_threads(args.num_threads)
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    tmp = None
    if args.workdir:
        root = Path(args.workdir)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench_encoder_dump.")
        root = Path(tmp.name)

    from espnet2.tasks.asr import ASRTask

    from speechsent.asr.batch_encode import BatchEncoder
    from speechsent.asr.dump_jobs import merge_jobs
    from speechsent.asr.encoder_dump import DumpConfig, dump_job
    from speechsent.asr.tiny_model import TinyModelSpec, write_tiny_asr_model
    from speechsent.audio.io import UtteranceReader
    from speechsent.kaldi.ark import REFUSED_METHODS, StorageSpec, compress_matrix

    spec = TinyModelSpec(
        encoder=args.encoder,
        output_size=args.output_size,
        linear_units=4 * args.output_size,
        num_blocks=args.num_blocks,
        seed=args.seed,
    )
    config, model_file = write_tiny_asr_model(root / "exp" / "asr_tiny", spec)
    data = write_data_dir(root, args.num_utts, spec.fs, args.seed)
    model, _ = ASRTask.build_model_from_file(config, model_file, device)
    model.eval()
    enc = BatchEncoder(model, device)
    utts_audio = list(UtteranceReader(data).iter_utterances())
    wavs = [w for _, w, _ in utts_audio]
    seconds = sum(len(w) for w in wavs) / spec.fs
    print(
        f"model: {args.encoder} ({spec.input_layer}), {args.num_blocks} blocks x {args.output_size} dims, "
        f"{sum(p.numel() for p in model.encoder.parameters()) / 1e6:.2f} M encoder parameters; "
        f"device {device} "
        f"({torch.cuda.get_device_name() if device == 'cuda' else f'{torch.get_num_threads()} threads'})"
    )
    print(f"data: {len(wavs)} utterances, {seconds / 60:.1f} min of 8 kHz synthetic speech (1-10 s each)")

    with torch.inference_mode():
        # warm-up (allocator, kernels)
        for w in wavs[:5]:
            enc.encode_single(w)
        enc.encode_batch(wavs[:4])

        # 1. batch invariance ----------------------------------------------------------------------------
        sample = wavs[: min(64, len(wavs))]
        single = [enc.encode_single(w) for w in sample]
        bs = args.batch_size
        naive, ours = [], []
        for i in range(0, len(sample), bs):
            naive += naive_encode(model, sample[i : i + bs], device)
            ours += enc.encode_batch(sample[i : i + bs])
        print("\n1. batch invariance (vs single-utterance model.encode(), batches of", bs, "in data order)")
        print(f"   {'':34s} {'max abs diff':>12s} {'length mismatches':>18s}")
        for name, outs in (("naive padded model.encode()", naive), ("speechsent exact batches", ours)):
            worst, mism = max_diff(single, outs)
            print(f"   {name:34s} {worst:12.3g} {mism:>11d} / {len(sample)}")

        # 2. throughput --------------------------------------------------------------------------------------
        encoded: list[np.ndarray] = []

        def bare_loop() -> None:
            encoded.clear()
            for w in wavs:
                x = torch.from_numpy(w).to(device)
                out, lens = model.encode(x[None], torch.tensor([len(w)], device=device))
                encoded.append(out[0, : int(lens[0])].float().cpu().numpy())

        def batched(fn, size, order) -> None:
            for i in range(0, len(order), size):
                fn([wavs[j] for j in order[i : i + size]])

        data_order = list(range(len(wavs)))
        sorted_order = sorted(data_order, key=lambda j: -len(wavs[j]))
        bare_loop()  # warm-up: every utterance's shapes once (oneDNN primitives), for all rows below

    def dump(storage: StorageSpec, name: str, batch_size: int = 0) -> tuple[float, dict]:
        cfg = DumpConfig(
            data_dir=data,
            out_dir=root / "dump" / name,
            asr_config=config,
            asr_model_file=model_file,
            storage=storage,
            device=device,
            batch_size=batch_size,
            num_threads=args.num_threads,
            progress=False,
        )
        result = dump_job(cfg, 1, force=True)
        merge_jobs(cfg.data_dir, cfg.out_dir, 1)
        return result.record["loop_seconds"], result.record["loop_cpu_seconds"]

    def encode_only(fn):
        def run():
            cpu = time.process_time()
            with torch.inference_mode():
                wall = timed(fn)[0]
            return wall, time.process_time() - cpu

        return run

    gbs = args.gpu_batch_size
    methods = {
        "bare": encode_only(bare_loop),
        "dump_float": lambda: dump(StorageSpec("float"), "float"),
        "dump_compressed": lambda: dump(StorageSpec("compressed", method=2), "compressed"),
        "naive": encode_only(lambda: batched(lambda b: naive_encode(model, b, device), bs, data_order)),
        "exact_sorted": encode_only(lambda: batched(enc.encode_batch, bs, sorted_order)),
    }
    if device == "cuda":
        methods["exact_sorted_gpu"] = encode_only(lambda: batched(enc.encode_batch, gbs, sorted_order))
        methods["dump_gpu"] = lambda: dump(StorageSpec("float"), "float_gpu_batched", batch_size=gbs)
    best = {name: float("inf") for name in methods}  # wall-clock seconds
    best_cpu = {name: float("inf") for name in methods}  # CPU seconds of the process (all its threads)
    for _ in range(args.repeats):  # interleaved, best of N: robust to a busy machine
        for name, run in methods.items():
            wall, cpu = run()
            best[name] = min(best[name], wall)
            best_cpu[name] = min(best_cpu[name], cpu)
    rec_float = json.loads((root / "dump" / "float" / "done.1").read_text())
    rec_comp = json.loads((root / "dump" / "compressed" / "done.1").read_text())
    n = len(wavs)
    t_bare = best["bare"]
    print(
        f"\n2. throughput ({n} utterances, best of {args.repeats} interleaved runs; dump = read wav + "
        "segments, encode, write ark/scp, model loading excluded; CPU = process time of all threads)"
    )
    print(f"   {'':56s} {'utt/s':>8s} {'x bare loop':>11s} {'CPU s/utt':>10s} {'x bare CPU':>10s}")
    rows = [
        ("bare single-utterance encode() loop (audio in memory)", "bare"),
        (f"dump, float32 ark (default batch size {rec_float['batch_size']})", "dump_float"),
        (f"dump, compressed ark (default batch size {rec_comp['batch_size']})", "dump_compressed"),
        (f"naive padded encode(), batches of {bs} in data order", "naive"),
        (f"exact batches of {bs}, length-sorted (encode only)", "exact_sorted"),
    ]
    if device == "cuda":
        rows += [
            (f"exact batches of {gbs}, length-sorted (encode only)", "exact_sorted_gpu"),
            (f"dump, float32, batches of {gbs}", "dump_gpu"),
        ]
    for label, name in rows:
        print(
            f"   {label:56s} {n / best[name]:8.1f} {t_bare / best[name]:11.2f} "
            f"{best_cpu[name] / n * 1e3:8.2f}ms {best_cpu['bare'] / best_cpu[name]:10.2f}"
        )
    # The dump's own work besides encoding, measured alone (CPU time, so hardly affected by a busy machine).
    from speechsent.kaldi.ark import ArkWriter

    io_cpu = {}
    for _ in range(args.repeats):
        start = time.process_time()
        for _utt in UtteranceReader(data).iter_utterances():
            pass
        io_cpu["read"] = min(io_cpu.get("read", float("inf")), time.process_time() - start)
        for kind in ("float", "compressed"):
            start = time.process_time()
            with ArkWriter(root / "io_test.ark", StorageSpec(kind)) as writer:
                for i, mat in enumerate(encoded):
                    writer.write(f"utt{i}", mat)
            io_cpu[kind] = min(io_cpu.get(kind, float("inf")), time.process_time() - start)
    encode_ms = best_cpu["bare"] / n * 1e3
    read_ms, float_ms, comp_ms = (io_cpu[k] / n * 1e3 for k in ("read", "float", "compressed"))
    print(
        f"   dump work besides encode(), alone: audio reading {read_ms:.2f} ms + ark writing "
        f"{float_ms:.2f} ms (float32) / {comp_ms:.2f} ms (compressed, verified) CPU per utterance = "
        f"{(read_ms + float_ms) / encode_ms:.1%} / {(read_ms + comp_ms) / encode_ms:.1%} of encode() "
        f"({encode_ms:.2f} ms)"
    )
    if device == "cuda":
        rec_gpu = json.loads((root / "dump" / "float_gpu_batched" / "done.1").read_text())
        inv = rec_gpu["invariance_check"]
        worst = inv.get("max_abs_diff", float("nan"))
        print(f"   (the GPU dump's own invariance check: max abs diff {worst:.3g})")

    # 3. storage ---------------------------------------------------------------------------------------------
    def ark_bytes(name: str) -> int:
        return sum(p.stat().st_size for p in (root / "dump" / name).glob("feats.*.ark"))

    frames = rec_float["num_frames"]
    dim = rec_float["model"]["output_dim"]
    measured = rec_comp["storage"]
    import kaldiio

    feats = kaldiio.load_scp(str(root / "dump" / "float" / "feats.scp"))
    comp = kaldiio.load_scp(str(root / "dump" / "compressed" / "feats.scp"))
    errs = [np.abs(feats[k] - comp[k]) for k in feats]
    stds = np.concatenate([feats[k].ravel() for k in feats]).std()
    print(f"\n3. storage ({frames} frames x {dim} dims; feature std {stds:.3f})")
    print(f"   {'':40s} {'bytes/frame':>11s} {'x float32':>9s} {'max abs err':>11s} {'mean abs err':>12s}")
    fb = ark_bytes("float") / frames
    cb = ark_bytes("compressed") / frames
    print(f"   {'float32 (FM)':40s} {fb:11.1f} {1.0:9.3f} {0.0:11.3g} {0.0:12.3g}")
    print(
        f"   {'compressed, speech_feature (2), verified':40s} {cb:11.1f} {cb / fb:9.3f} "
        f"{max(e.max() for e in errs):11.3g} {np.concatenate([e.ravel() for e in errs]).mean():12.3g}"
    )
    print(
        f"   (the dump's own check of every matrix: max abs error {measured['max_abs_error']:.3g}, mean "
        f"{measured['mean_abs_error']:.3g}, worst {measured['worst_rel_error']:.3g} x the matrix std, "
        f"{len(measured['fallbacks'])} stored as float32)"
    )
    for method in (5, 3, 6):
        e_max, e_sum, nbytes, nvals = 0.0, 0.0, 0, 0
        worst_rel = 0.0
        for k, m in feats.items():
            if method == 6:  # kaldiio, unguarded, as a user would call it
                buf = io.BytesIO()
                kaldiio.save_ark(buf, {k: m}, compression_method=6)
                buf.seek(0)
                restored = next(iter(kaldiio.load_ark(buf)))[1]
                nbytes += len(buf.getvalue()) - len(k) - 1
                err = np.abs(restored - m)
                mx, sm = float(err.max()), float(err.sum())
            else:
                data_bytes, mx, sm = compress_matrix(m, method)
                nbytes += len(data_bytes)
            e_max, e_sum, nvals = max(e_max, mx), e_sum + sm, nvals + m.size
            worst_rel = max(worst_rel, mx / m.std())
        label = {5: "one_byte (5)", 3: "two_byte (3)", 6: "kaldiio method 6 (integers 0..255)"}[method]
        flag = f"  <- {worst_rel:.0f} x std: refused / caught by the guard" if method == 6 else ""
        print(
            f"   {label:40s} {nbytes / frames:11.1f} {nbytes / frames / fb:9.3f} {e_max:11.3g} "
            f"{e_sum / nvals:12.3g}{flag}"
        )
    print(f"   refused compression methods: {', '.join(f'{k} = {v}' for k, v in REFUSED_METHODS.items())}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
