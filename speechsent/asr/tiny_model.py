"""Tiny, randomly initialised ESPnet2 ASR models saved like an experiment dir (for tests and benchmarks).

:func:`write_tiny_asr_model` writes ``<out_dir>/config.yaml`` (every option of ``ASRTask``'s parser, as
``espnet2.bin.asr_train`` saves it), ``<out_dir>/model.pth`` (the state dict) and the global-MVN statistics
``<out_dir>/feats_stats.npz`` (computed from noise-like speech through the model's own frontend, so that
normalised features have realistic scale), and returns the two file paths. Importing this module is cheap;
the call imports ``espnet2.tasks.asr`` (slow). :func:`write_tiny_hf_encoder` saves a tiny random-weight
Hugging Face speech model of each family :mod:`speechsent.asr.hf_encoder` reads, with its feature extractor,
as ``save_pretrained`` does (a local model dir, no network).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "TINY_HF_KINDS",
    "TinyModelSpec",
    "synthetic_speech",
    "write_synthetic_data_dir",
    "write_tiny_asr_model",
    "write_tiny_hf_encoder",
]


@dataclass
class TinyModelSpec:
    """What to build: the encoder type and its size; the frontend at ``fs`` Hz."""

    encoder: str = "transformer"  # transformer | conformer | e_branchformer
    input_layer: str = "conv2d"
    output_size: int = 64
    attention_heads: int = 4
    linear_units: int = 128
    num_blocks: int = 2
    fs: int = 8000
    n_fft: int = 256
    win_length: int = 200
    hop_length: int = 80
    n_mels: int = 40
    vocab: int = 32
    seed: int = 0
    extra_encoder_conf: dict[str, Any] = field(default_factory=dict)

    def encoder_conf(self) -> dict[str, Any]:
        conf: dict[str, Any] = {
            "output_size": self.output_size,
            "attention_heads": self.attention_heads,
            "linear_units": self.linear_units,
            "num_blocks": self.num_blocks,
            "dropout_rate": 0.1,
            "positional_dropout_rate": 0.1,
            "attention_dropout_rate": 0.0,
            "input_layer": self.input_layer,
        }
        if self.encoder == "transformer":
            conf["normalize_before"] = True
        elif self.encoder == "conformer":
            conf.update(
                normalize_before=True,
                macaron_style=True,
                rel_pos_type="latest",
                pos_enc_layer_type="rel_pos",
                selfattention_layer_type="rel_selfattn",
                activation_type="swish",
                use_cnn_module=True,
                cnn_module_kernel=15,
            )
        elif self.encoder == "e_branchformer":
            conf.pop("normalize_before", None)
            conf.update(
                cgmlp_linear_units=self.linear_units,
                cgmlp_conv_kernel=15,
                use_linear_after_conv=False,
                gate_activation="identity",
                rel_pos_type="latest",
                pos_enc_layer_type="rel_pos",
                attention_layer_type="rel_selfattn",
                merge_conv_kernel=3,
            )
        else:
            raise ValueError(f"unknown encoder {self.encoder!r}")
        conf.update(self.extra_encoder_conf)
        return conf


def synthetic_speech(num_samples: int, fs: int, seed: int):
    """Speech-like noise: harmonics of a wobbling f0 under a syllable-rate envelope, plus noise; float32."""
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(num_samples) / fs
    f0 = rng.uniform(90, 220) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
    phase = 2 * np.pi * np.cumsum(f0) / fs
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * rng.uniform(2, 5) * t + rng.uniform(0, 6.3)), 0, None) ** 2
    x = 0.2 * envelope * voiced + 0.02 * rng.standard_normal(num_samples)
    return np.clip(x, -0.99, 0.99).astype(np.float32)


def write_synthetic_data_dir(
    out_dir: str | Path,
    recordings: list[list[float]],
    *,
    fs: int = 8000,
    seed: int = 0,
    gap: float = 0.3,
) -> Path:
    """A Kaldi data dir of synthetic speech: ``wav.scp``, ``segments``, ``utt2spk``, ``spk2utt``, ``utt2dur``.

    ``recordings[i]`` lists the durations (s) of the segments of recording ``i``, cut ``gap`` s apart from a
    16-bit wav file ``<out_dir>/wav/sw0NNNN-A.wav``; utterance ids follow the Switchboard convention
    ``sw00001-A_000020-000145``, speaker = recording. Returns ``<out_dir>/data``.
    """
    import numpy as np
    import soundfile as sf

    root = Path(out_dir)
    data = root / "data"
    (root / "wav").mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    tables: dict[str, list[str]] = {"wav.scp": [], "segments": [], "utt2spk": [], "utt2dur": []}
    spk2utt: dict[str, list[str]] = {}
    for index, durations in enumerate(recordings):
        reco = f"sw{index + 1:05d}-A"
        start = gap
        spans = []
        for dur in durations:
            spans.append((start, start + dur))
            start += dur + gap
        path = root / "wav" / f"{reco}.wav"
        samples = synthetic_speech(int(start * fs) + 1, fs, seed * 100003 + index)
        sf.write(path, (samples * 32767).astype(np.int16), fs)
        tables["wav.scp"].append(f"{reco} {path}")
        for begin, end in spans:
            utt = f"{reco}_{round(begin * 100):06d}-{round(end * 100):06d}"
            tables["segments"].append(f"{utt} {reco} {begin:.3f} {end:.3f}")
            tables["utt2spk"].append(f"{utt} {reco}")
            tables["utt2dur"].append(f"{utt} {end - begin:.3f}")
            spk2utt.setdefault(reco, []).append(utt)
    tables["spk2utt"] = [f"{spk} {' '.join(sorted(utts))}" for spk, utts in spk2utt.items()]
    for name, lines in tables.items():
        (data / name).write_text("".join(line + "\n" for line in sorted(lines)), encoding="utf-8")
    return data


def write_tiny_asr_model(out_dir: str | Path, spec: TinyModelSpec | None = None) -> tuple[Path, Path]:
    """Build, save and return ``(config.yaml, model.pth)`` of a random ESPnet2 ASR model under ``out_dir``."""
    import numpy as np
    import torch
    import yaml
    from espnet2.asr.frontend.default import DefaultFrontend
    from espnet2.tasks.asr import ASRTask

    spec = spec or TinyModelSpec()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frontend_conf = {
        "fs": spec.fs,
        "n_fft": spec.n_fft,
        "win_length": spec.win_length,
        "hop_length": spec.hop_length,
        "n_mels": spec.n_mels,
    }
    # Global MVN statistics of the frontend's output on speech-like noise (as asr.sh stage 10 collects).
    frontend = DefaultFrontend(**frontend_conf).eval()
    total = np.zeros(spec.n_mels)
    total_sq = np.zeros(spec.n_mels)
    count = 0
    with torch.inference_mode():
        for i in range(8):
            wav = torch.from_numpy(synthetic_speech(spec.fs * 2, spec.fs, spec.seed * 100 + i))[None]
            feats, _ = frontend(wav, torch.tensor([wav.shape[1]]))
            f = feats[0].double().numpy()
            total += f.sum(0)
            total_sq += (f * f).sum(0)
            count += f.shape[0]
    stats_file = out / "feats_stats.npz"
    np.savez(stats_file, count=np.array(count), sum=total, sum_square=total_sq)

    tokens = ["<blank>", "<unk>"] + [chr(ord("a") + i % 26) * (1 + i // 26) for i in range(spec.vocab)]
    tokens.append("<sos/eos>")
    args = vars(ASRTask.get_parser().parse_args(["--output_dir", str(out)]))
    args.update(
        token_list=tokens,
        token_type="char",
        bpemodel=None,
        frontend="default",
        frontend_conf=frontend_conf,
        normalize="global_mvn",
        normalize_conf={"stats_file": str(stats_file)},
        encoder=spec.encoder,
        encoder_conf=spec.encoder_conf(),
        decoder="transformer",
        decoder_conf={"attention_heads": 2, "linear_units": 64, "num_blocks": 1},
        model="espnet",
        model_conf={"ctc_weight": 0.3, "lsm_weight": 0.1},
    )
    import argparse

    torch.manual_seed(spec.seed)
    model = ASRTask.build_model(argparse.Namespace(**args))
    config_file = out / "config.yaml"
    with config_file.open("w", encoding="utf-8") as f:
        yaml.safe_dump(_plain(args), f, sort_keys=False)
    model_file = out / "model.pth"
    torch.save(model.state_dict(), model_file)
    return config_file, model_file


def _plain(value: Any) -> Any:
    """YAML-safe copy (tuples → lists, paths → str)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


#: The Hugging Face families of :func:`write_tiny_hf_encoder`: wav2vec2 with layer norm and an attention
#: mask (as wav2vec2-large-lv60) and with group norm and none (as wav2vec2-base), HuBERT (group norm),
#: WavLM, data2vec-audio, Whisper.
TINY_HF_KINDS = ("wav2vec2-layer", "wav2vec2-group", "hubert", "wavlm", "data2vec-audio", "whisper")


def write_tiny_hf_encoder(out_dir: str | Path, kind: str, seed: int = 0) -> Path:
    """A ``kind`` model (:data:`TINY_HF_KINDS`): 2 layers x 32 dims, 16 kHz, in ``out_dir``; returns it.
    The waveform models downsample 10 times (conv kernels 10, 3; strides 5, 2), Whisper as the real one."""
    import torch
    import transformers as t

    out = Path(out_dir)
    torch.manual_seed(seed)
    if kind == "whisper":
        config = t.WhisperConfig(
            d_model=32,
            encoder_layers=2,
            decoder_layers=1,
            encoder_attention_heads=2,
            decoder_attention_heads=2,
            encoder_ffn_dim=64,
            decoder_ffn_dim=64,
            num_mel_bins=80,
            vocab_size=100,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=2,
            decoder_start_token_id=1,
            max_source_positions=1500,
            max_target_positions=32,
        )
        t.WhisperModel(config).save_pretrained(out)
        t.WhisperFeatureExtractor(feature_size=80).save_pretrained(out)
        return out
    conv: dict[str, Any] = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "conv_dim": (16, 16),
        "conv_kernel": (10, 3),
        "conv_stride": (5, 2),
        "num_conv_pos_embeddings": 16,
        "num_conv_pos_embedding_groups": 2,
        "vocab_size": 8,
    }
    builders = {
        "wav2vec2-layer": lambda: (
            t.Wav2Vec2Model(t.Wav2Vec2Config(**conv, feat_extract_norm="layer", do_stable_layer_norm=True)),
            True,
        ),
        "wav2vec2-group": lambda: (
            t.Wav2Vec2Model(t.Wav2Vec2Config(**conv, feat_extract_norm="group")),
            False,
        ),
        "hubert": lambda: (t.HubertModel(t.HubertConfig(**conv, feat_extract_norm="group")), False),
        "wavlm": lambda: (
            t.WavLMModel(t.WavLMConfig(**conv, feat_extract_norm="layer", num_buckets=32)),
            True,
        ),
        "data2vec-audio": lambda: (
            t.Data2VecAudioModel(
                t.Data2VecAudioConfig(**{**conv, "num_conv_pos_embeddings": 2}, conv_pos_kernel_size=5)
            ),
            True,
        ),
    }
    if kind not in builders:
        raise ValueError(f"unknown tiny HF encoder {kind!r}: one of {', '.join(TINY_HF_KINDS)}")
    model, mask = builders[kind]()
    model.save_pretrained(out)
    t.Wav2Vec2FeatureExtractor(
        sampling_rate=16000, return_attention_mask=mask, do_normalize=True
    ).save_pretrained(out)
    return out
