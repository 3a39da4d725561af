#!/usr/bin/env python3
"""Estimate: the compute of egs/swbd_sentiment's default run (the paper's grid), stage by stage, computed from
the models' parameter counts and the data sizes - not measured (no GPU here). Prints a markdown table.

Usage (from the repository root)::

    python bench/bench_paper_cost.py [--conf_dir egs/swbd_sentiment/conf] [--asr_train_hours 2000]
        [--epochs N] [--tflops 25 60] [--mean_utt_seconds 4.5 | --data_dir data/swbd_train]
        [--tokens_per_second 3.0] [--seeds 3] ...

The ASR of ``conf/train_asr.yaml`` is built with ESPnet (``ASRTask.build_model``, a dummy token list of
``--nbpe`` entries) and its parameters counted; without ESPnet the count comes from the config (the output
says which; both agree for the transformer encoder/decoder). The classifiers are built from
``speechsent.models`` with the recipe's configs, the pre-trained LMs from ``transformers``' configs (no
weights; without ``transformers``: their published sizes). Training costs 6 FLOPs per parameter applied
(forward + backward), inference 2; the convolutional input layer is counted per position it is applied at;
attention scores and values add 4·T·d per layer and query (forward). Epochs are the configs' maxima (early
stopping can only make it cheaper); GPU-hours = FLOPs / sustained throughput (``--tflops LOW HIGH``).
Numbers are rounded to 2 significant digits.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

# Published sizes of the stage-6 labelers (used without transformers): name -> (params, non-embedding params)
LM_FALLBACK = {
    "bert-base-uncased": (110e6, 86e6),
    "distilbert-base-uncased": (66e6, 43e6),
    "roberta-base": (125e6, 86e6),
    "xlnet-base-cased": (117e6, 92e6),
}


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conf_dir", default="egs/swbd_sentiment/conf", help="the recipe's conf/ dir")
    parser.add_argument("--asr_config", default=None, help="default: <conf_dir>/train_asr.yaml")
    parser.add_argument("--nbpe", type=int, default=2000, help="output vocabulary of the ASR")
    parser.add_argument("--asr_train_hours", type=float, default=2000.0, help="Fisher: ~2,000 h")
    parser.add_argument("--epochs", type=int, default=None, help="ASR epochs (default: max_epoch of config)")
    parser.add_argument("--tflops", type=float, nargs=2, default=[25.0, 60.0], metavar=("LOW", "HIGH"),
                        help="sustained TFLOP/s per GPU (default: A100 with AMP, 25..60)")
    parser.add_argument("--mean_utt_seconds", type=float, default=None,
                        help="mean utterance length (default: from --data_dir's utt2dur, else 4.5)")
    parser.add_argument("--data_dir", default=None, help="a Kaldi data dir whose utt2dur gives the mean")
    parser.add_argument("--tokens_per_second", type=float, default=3.0,
                        help="BPE tokens per second of conversational speech (2,000 pieces)")
    parser.add_argument("--swbd_hours", type=float, nargs=3, default=[86.0, 5.0, 5.0],
                        metavar=("TRAIN", "TEST", "HOLDOUT"), help="SWBD-Sentiment sets (paper: 86/5/5 h)")
    parser.add_argument("--fisher_hours", type=float, default=2000.0)
    parser.add_argument("--fisher_utts", type=float, default=2.0e6, help="Fisher utterances (stage 7)")
    parser.add_argument("--lm_tokens_per_utt", type=float, default=12.0, help="stage 7: tokens per utterance")
    parser.add_argument("--sst2_sentences", type=float, default=67349.0)
    parser.add_argument("--sst2_tokens", type=float, default=25.0, help="tokens per SST-2 sentence")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per classifier (run.sh: 0 1 2)")
    parser.add_argument("--e2e_hours", nargs="+", default=["all", "5"])
    parser.add_argument("--e2e_curve_hours", type=float, nargs=3, default=[2.5, 2.5, 85.0],
                        metavar=("FIRST", "STEP", "LAST"), help="Fig. 2's fine-tuning subsets")
    parser.add_argument("--ctc_pre_beam", type=float, default=1.5, help="CTC candidates per hypothesis / beam")
    return parser


# ---- parameter counts ----------------------------------------------------------------------------------------
@dataclass
class AsrSize:
    """What the FLOP formulas need of the ASR: dims and parameter groups (the counting method in ``source``)."""

    d: int
    enc_blocks: int
    dec_blocks: int
    vocab: int
    conv1: int  # the conv2d input layer's first and second convolution (weights + biases)
    conv2: int
    freq1: int  # their output frequency bins
    freq2: int
    encoder: int  # all of the encoder, conv layers included
    decoder: int  # all of the decoder, embedding included
    ctc: int
    frontend: int
    source: str


def _asr_conf(path: Path) -> dict:
    conf = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(conf, dict):
        raise SystemExit(f"{path}: not a YAML mapping")
    enc, dec = conf.get("encoder_conf", {}), conf.get("decoder_conf", {})
    if conf.get("encoder") != "transformer" or enc.get("input_layer", "conv2d") != "conv2d":
        raise SystemExit(f"{path}: only a transformer encoder with a conv2d input layer is costed")
    if conf.get("decoder") != "transformer":
        raise SystemExit(f"{path}: only a transformer decoder is costed")
    return conf


def analytic_asr_size(conf: dict, nbpe: int, source: str = "analytic (from the config)") -> AsrSize:
    """The ESPnet transformer ASR's parameter groups from its config alone."""
    enc, dec = conf["encoder_conf"], conf.get("decoder_conf", {})
    d = enc.get("output_size", 256)
    n_mels = conf.get("frontend_conf", {}).get("n_mels", 80)
    f1 = (n_mels - 1) // 2
    f2 = (f1 - 1) // 2
    conv1, conv2 = 9 * d + d, 9 * d * d + d
    attn = 4 * (d * d + d)

    def ffn(units: int) -> int:
        return 2 * d * units + units + d

    n_enc = enc.get("num_blocks", 6)
    n_dec = dec.get("num_blocks", 6)
    encoder = conv1 + conv2 + (f2 * d * d + d) + n_enc * (attn + ffn(enc.get("linear_units", 2048)) + 4 * d)
    encoder += 2 * d  # after_norm
    decoder = nbpe * d + n_dec * (2 * attn + ffn(dec.get("linear_units", 2048)) + 6 * d) + 2 * d
    decoder += d * nbpe + nbpe  # output layer
    return AsrSize(d, n_enc, n_dec, nbpe, conv1, conv2, f1, f2, encoder, decoder, d * nbpe + nbpe, 0, source)


def built_asr_size(conf: dict, nbpe: int) -> AsrSize:
    """Build the model with ESPnet on CPU and count its parameters (the dims from the config)."""
    import argparse as ap

    from espnet2.tasks.asr import ASRTask

    size = analytic_asr_size(conf, nbpe, "ESPnet ASRTask.build_model (counted)")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"  # parsed as asr_train.py parses it (e.g. "none" -> None)
        config.write_text(yaml.safe_dump(conf), encoding="utf-8")
        args = vars(ASRTask.get_parser().parse_args(["--config", str(config), "--output_dir", tmp]))
    tokens = ["<blank>", "<unk>"] + [f"t{i}" for i in range(nbpe - 3)] + ["<sos/eos>"]
    args.update(token_list=tokens, token_type="bpe", bpemodel=None, normalize=None, model="espnet")
    model = ASRTask.build_model(ap.Namespace(**args))

    def count(module) -> int:
        return sum(p.numel() for p in module.parameters()) if module is not None else 0

    size.encoder, size.decoder, size.ctc = count(model.encoder), count(model.decoder), count(model.ctc)
    size.frontend = count(model.frontend)
    embed = model.encoder.embed.conv
    size.conv1, size.conv2 = count(embed[0]), count(embed[2])
    return size


def asr_size(conf: dict, nbpe: int) -> AsrSize:
    try:
        return built_asr_size(conf, nbpe)
    except ImportError:
        return analytic_asr_size(conf, nbpe, "analytic (from the config; ESPnet is not installed)")


def classifier_params(conf_dir: Path) -> dict[str, int]:
    """Parameters of the stage-8/9 classifiers built from the recipe's configs (speechsent.models)."""
    from speechsent.models import build_model
    from speechsent.models.text_classifier import TextClassifierConfig, build_text_classifier
    from speechsent.tasks.e2e import E2EConfig
    from speechsent.tasks.e2e_parts import model_config

    def load(name: str) -> dict:
        return yaml.safe_load((conf_dir / name).read_text(encoding="utf-8"))

    def count(model) -> int:
        return sum(p.numel() for p in model.parameters())

    out = {}
    for key, name, dim in (("e2e", "train_e2e.yaml", 512), ("cnn", "train_e2e_cnn.yaml", 80)):
        cfg = E2EConfig(**load(name))
        out[key] = count(build_model(cfg.model, **model_config(cfg, dim, 3)))
    base, lm = load("train_text_baseline.yaml"), load("train_text_lm.yaml")
    b = TextClassifierConfig(arch="baseline", vocab_size=base["nbpe"], embed_dim=base["embed_dim"],
                             hidden=base["hidden"], num_layers=base["num_layers"])
    out["text_baseline"] = count(build_text_classifier(b)) - base["nbpe"] * base["embed_dim"]  # no lookups
    h = TextClassifierConfig(arch="lm", input_dim=768, hidden=lm["hidden"], num_layers=lm["num_layers"])
    out["text_lm"] = count(build_text_classifier(h))
    out["epochs_e2e"], out["epochs_pretrain"] = load("train_e2e.yaml")["max_epochs"], load(
        "train_e2e_pretrain.yaml")["max_epochs"]
    out["epochs_cnn"] = load("train_e2e_cnn.yaml")["max_epochs"]
    out["epochs_text"] = max(base["max_epochs"], lm["max_epochs"])
    return out


def lm_params() -> tuple[dict[str, tuple[float, float]], str]:
    """(all, non-embedding) parameters of the four stage-6 LMs: built on the meta device from configs."""
    try:
        import torch
        import transformers as tf
    except ImportError:
        return LM_FALLBACK, "published sizes (transformers is not installed)"
    configs = {
        "bert-base-uncased": (tf.BertConfig(), tf.BertModel),
        "distilbert-base-uncased": (tf.DistilBertConfig(), tf.DistilBertModel),
        "roberta-base": (tf.RobertaConfig(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1,
                                          pad_token_id=1), tf.RobertaModel),
        "xlnet-base-cased": (tf.XLNetConfig(d_model=768, n_layer=12, n_head=12, d_inner=3072), tf.XLNetModel),
    }
    out = {}
    for name, (config, cls) in configs.items():
        with torch.device("meta"):
            model = cls(config)
        total = sum(p.numel() for p in model.parameters())
        embed = sum(p.numel() for n, p in model.named_parameters() if "embed" in n or "word_emb" in n)
        out[name] = (float(total), float(total - embed))
    return out, "transformers configs of the base models (built on the meta device, counted)"
