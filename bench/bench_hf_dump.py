#!/usr/bin/env python3
"""Cost of stage 5 with a Hugging Face encoder against the paper's ESPnet ASR encoder, on the same utterances.

Both encoders have the real models' sizes and random weights (cost does not depend on the weights; no
network is needed): the paper's ASR encoder (conv2d + 12 Transformer blocks x 512, 8 kHz, 40-ms frames) and a
WavLM Base+-sized encoder (``WavLMConfig()``'s defaults: 7 convolutions + 12 layers x 768, 16 kHz, 20-ms
frames). Each is dumped by ``speechsent.asr.encoder_dump`` (one job, audio read from wav files, ark + scp
written) and the script prints, per dump: wall time, utterances and audio seconds per second, frames per
second of audio, bytes per frame and the storage of 1,000 h of utterances. The HF encoder is dumped with all
13 hidden states (the weighted sum's input), float32 and compressed, and with the last one only.

Usage: ``python bench/bench_hf_dump.py [--num_utts 20] [--device cpu|cuda] [--num_threads 2]`` (public tools
only: torch, transformers, espnet, kaldiio, numpy, soundfile). With ``--device cuda`` the same dumps run on
the GPU (batched where the encoder allows it).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_encoder_dump import write_data_dir  # the data dir of the ESPnet dump benchmark


def _hf_model(root: Path) -> Path:
    import torch
    import transformers as t

    torch.manual_seed(0)
    out = root / "wavlm_base_plus_sized"
    t.WavLMModel(t.WavLMConfig(feat_extract_norm="layer")).save_pretrained(out)
    t.Wav2Vec2FeatureExtractor(sampling_rate=16000, return_attention_mask=True).save_pretrained(out)
    return out


def _espnet_model(root: Path) -> tuple[Path, Path]:
    from speechsent.asr.tiny_model import TinyModelSpec, write_tiny_asr_model

    spec = TinyModelSpec(output_size=512, attention_heads=8, linear_units=2048, num_blocks=12)
    return write_tiny_asr_model(root / "espnet_paper_sized", spec)


def _dump(name: str, data: Path, out: Path, audio_seconds: float, **kw) -> dict:
    from speechsent.asr.dump_jobs import merge_jobs
    from speechsent.asr.encoder_dump import DumpConfig, dump_job

    cfg = DumpConfig(data_dir=data, out_dir=out, nj=1, progress=False, **kw)
    start = time.perf_counter()
    dump_job(cfg, 1)
    merged = merge_jobs(data, out, 1)
    seconds = time.perf_counter() - start
    frames = int(merged.info["num_frames"])
    ark_bytes = sum(p.stat().st_size for p in out.glob("feats.*.ark"))
    per_frame = ark_bytes / frames
    frames_per_second = frames / audio_seconds
    return {
        "dump": name,
        "seconds": round(seconds, 2),
        "utt_per_s": round(merged.info["num_utts"] / seconds, 2),
        "audio_x_realtime": round(audio_seconds / seconds, 2),
        "dim": merged.info["dim"],
        "frames_per_audio_s": round(frames_per_second, 2),
        "bytes_per_frame": round(per_frame, 1),
        "tb_per_1000h": round(per_frame * frames_per_second * 3600 * 1000 / 1e12, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num_utts", type=int, default=20)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--num_threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from speechsent.kaldi.ark import StorageSpec
    from speechsent.kaldi.table import read_table

    with tempfile.TemporaryDirectory(prefix="bench_hf_dump_") as tmp:
        root = Path(tmp)
        data = write_data_dir(root, args.num_utts, 8000, args.seed)
        audio_seconds = sum(float(d) for d in read_table(data / "utt2dur").values())
        config, model_file = _espnet_model(root)
        hf = _hf_model(root)
        common = {"device": args.device, "num_threads": args.num_threads}
        rows = [
            _dump(
                "ESPnet ASR encoder 12 x 512 (paper), float32",
                data,
                root / "d_espnet",
                audio_seconds,
                asr_config=config,
                asr_model_file=model_file,
                **common,
            ),
            _dump(
                "WavLM Base+-sized, 13 layers, float32",
                data,
                root / "d_all",
                audio_seconds,
                encoder=f"hf:{hf}",
                **common,
            ),
            _dump(
                "WavLM Base+-sized, 13 layers, compressed",
                data,
                root / "d_comp",
                audio_seconds,
                encoder=f"hf:{hf}",
                storage=StorageSpec("compressed"),
                **common,
            ),
            _dump(
                "WavLM Base+-sized, last layer, float32",
                data,
                root / "d_last",
                audio_seconds,
                encoder=f"hf:{hf}",
                hf_layers="last",
                **common,
            ),
        ]
    print(f"{args.num_utts} utterances, {audio_seconds:.1f} s of 8-kHz audio, device {args.device}, "
          f"{args.num_threads} thread(s)")  # fmt: skip
    names = ("s", "utt/s", "x RT", "dim", "fr/s", "B/frame", "TB/1000h")
    widths = (7, 6, 6, 6, 6, 8, 8)
    print(f"{'dump':45s} " + " ".join(f"{n:>{w}s}" for n, w in zip(names, widths, strict=True)))
    for r in rows:
        print(
            f"{r['dump']:45s} {r['seconds']:7.1f} {r['utt_per_s']:6.2f} {r['audio_x_realtime']:6.2f} "
            f"{r['dim']:6d} {r['frames_per_audio_s']:6.1f} {r['bytes_per_frame']:8.1f} "
            f"{r['tb_per_1000h']:8.3f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
