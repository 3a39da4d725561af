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
    parser.add_argument("--ctc_pre_beam", type=float, default=1.5, help="CTC candidates / beam")
    return parser


# ---- parameter counts --------------------------------------------------------------------------------------
@dataclass
class AsrSize:
    """What the FLOP formulas need of the ASR: dims and parameter groups (counted as ``source`` says)."""

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
    enc = conf.get("encoder_conf", {})
    if conf.get("encoder") != "transformer" or enc.get("input_layer", "conv2d") != "conv2d":
        raise SystemExit(f"{path}: only a transformer encoder with a conv2d input layer is costed")
    if conf.get("decoder") != "transformer":
        raise SystemExit(f"{path}: only a transformer decoder is costed")
    return conf


def analytic_asr_size(conf: dict, nbpe: int, source: str = "the analytic formula from the config") -> AsrSize:
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

    size = analytic_asr_size(conf, nbpe, "building it with ESPnet's ASRTask.build_model")
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
        return analytic_asr_size(conf, nbpe, "the analytic formula from the config (ESPnet is not installed)")


def classifier_params(conf_dir: Path) -> dict[str, float]:
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
        model = build_model(cfg.model, **model_config(cfg, dim, 3))
        out[key] = count(model)
    rate, fwd = 1.0, 0.0  # the CNN's forward FLOPs per input (fbank) frame: each conv at its output rate
    for conv in model.convs:
        rate /= conv.stride[0]
        fwd += 2 * count(conv) * rate
    out["cnn_fwd_per_frame"] = fwd
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
        return LM_FALLBACK, "published sizes: transformers is not installed"
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
    return out, "counted on the base models built from transformers configs on the meta device"


# ---- FLOPs -------------------------------------------------------------------------------------------------
def enc_fwd_per_frame(s: AsrSize, t: float) -> float:
    """Encoder forward FLOPs per output frame; ``t`` = frames per utterance (self-attention span)."""
    linear = s.encoder - s.conv1 - s.conv2  # applied once per output frame
    conv = s.conv1 * 2 * s.freq1 + s.conv2 * s.freq2  # positions per output frame (time x frequency)
    return 2 * (linear + conv) + s.enc_blocks * 4 * t * s.d


def _kv(s: AsrSize) -> int:
    return s.dec_blocks * 2 * (s.d * s.d + s.d)  # the key and value projections of one attention per layer


def dec_train_fwd_per_utt(s: AsrSize, t: float, tokens: float) -> float:
    """Teacher-forced decoder forward over ``tokens`` output tokens of an utterance of ``t`` encoder frames
    (source keys/values projected once per encoder frame; attention over all tokens and frames)."""
    per_token = s.decoder - s.vocab * s.d - _kv(s)  # the embedding is a lookup
    attn = s.dec_blocks * (4 * tokens * s.d + 4 * t * s.d) * tokens
    return 2 * per_token * tokens + 2 * _kv(s) * t + attn


def beam_per_utt(s: AsrSize, t: float, tokens: float, beam: int, pre_beam: float) -> float:
    """ESPnet's batched joint CTC/attention beam search: per step and hypothesis the new position through the
    decoder, with the self- and source-attention keys/values re-projected over the prefix and the encoder
    frames (ESPnet's MultiHeadedAttention does not cache them), plus the CTC prefix scores of the
    ``pre_beam`` x beam candidates (~6 FLOPs per frame each)."""
    steps = math.ceil(tokens) + 1  # + <eos>
    fixed = 2 * (s.decoder - s.vocab * s.d - 2 * _kv(s))
    total = 0.0
    for prefix in range(1, steps + 1):
        total += fixed + s.dec_blocks * (4 * s.d * s.d * (prefix + t) + 4 * s.d * (prefix + t))
    ctc = steps * math.floor(pre_beam * beam) * t * 6
    return beam * total + ctc


def e2e_sizes(args: argparse.Namespace, train_hours: float) -> tuple[list[float], list[float]]:
    """The supervised fine-tuning sizes (hours) and Fig. 2's, as the recipe lists them (all = the train set;
    a subset of at least the whole set left out)."""
    first, step, last = args.e2e_curve_hours
    curve = [round(first + i * step, 6) for i in range(round((last - first) / step) + 1)]

    def size(h: str | float) -> float:
        return train_hours if h == "all" else float(h)

    main = list(dict.fromkeys(size(h) for h in args.e2e_hours))
    every = list(dict.fromkeys(main + curve))
    keep = [h for h in every if h <= train_hours]
    return [h for h in main if h in keep], keep


# ---- the stages --------------------------------------------------------------------------------------------
@dataclass
class Row:
    stage: str
    what: str
    flops: float


def mean_utt_seconds(args: argparse.Namespace) -> tuple[float, str]:
    if args.mean_utt_seconds is not None:
        return args.mean_utt_seconds, "--mean_utt_seconds"
    if args.data_dir:
        from speechsent.kaldi.table import read_table

        path = Path(args.data_dir) / "utt2dur"
        durs = [float(v) for v in read_table(path).values()]
        if not durs:
            raise SystemExit(f"{path}: no utterances")
        return sum(durs) / len(durs), f"mean of {path}"
    return 4.5, "Switchboard-like default"


def asr_rows(args: argparse.Namespace, s: AsrSize, conf: dict, decode: dict, utt_s: float) -> list[Row]:
    """Stages 3-5: ASR training, decoding (beam on SWBD, CTC greedy on Fisher), the encoder dump."""
    fc = conf.get("frontend_conf", {})
    fps = fc.get("fs", 16000) / fc.get("hop_length", 128) / 4  # encoder frames per second (conv2d: /4)
    t, tokens = utt_s * fps, utt_s * args.tokens_per_second
    enc, ctc = enc_fwd_per_frame(s, t), 2 * s.ctc

    def frames(hours: float) -> float:
        return hours * 3600 * fps

    def utts(hours: float) -> float:
        return hours * 3600 / utt_s

    epochs = args.epochs or conf.get("max_epoch", 1)
    h = args.asr_train_hours
    train = 3 * epochs * (frames(h) * (enc + ctc) + utts(h) * dec_train_fwd_per_utt(s, t, tokens))
    swbd = sum(args.swbd_hours)
    beam = int(decode.get("beam_size", 10))
    search = utts(swbd) * beam_per_utt(s, t, tokens, beam, args.ctc_pre_beam) + frames(swbd) * (enc + ctc)
    return [
        Row("3", f"ASR training: {h:g} h x {epochs} epochs, forward + backward", train),
        Row("4", f"beam search (beam {beam}) of SWBD ({swbd:g} h)", search),
        Row("4", f"CTC greedy of Fisher ({args.fisher_hours:g} h): one encoder + CTC forward",
            frames(args.fisher_hours) * (enc + ctc)),
        Row("5", f"encoder dump of SWBD + Fisher ({swbd + args.fisher_hours:g} h)",
            frames(swbd + args.fisher_hours) * enc),
    ]


def lm_rows(args: argparse.Namespace, lms: dict[str, tuple[float, float]], sst2_epochs: int) -> list[Row]:
    """Stages 6-7 (and stage 8's LM features): the LMs' non-embedding parameters per token."""
    tps = args.tokens_per_second
    sst2 = sum(6 * ne * args.sst2_sentences * sst2_epochs * args.sst2_tokens for _, ne in lms.values())
    evals = sum(2 * ne for _, ne in lms.values()) * 2 * sum(args.swbd_hours[1:]) * 3600 * tps
    bert, xlnet = lms["bert-base-uncased"][1], lms["xlnet-base-cased"][1]
    fisher = args.fisher_utts * args.lm_tokens_per_utt
    swbd_train = args.swbd_hours[0] * 3600 * tps
    labels = 2 * bert * 2 * (fisher + swbd_train) + 2 * xlnet * (fisher + swbd_train)
    return [
        Row("6", f"SST-2 fine-tuning of {len(lms)} LMs ({args.sst2_sentences:,.0f} sentences x {sst2_epochs} "
            "epochs) + Table 3 (test, holdout: GT and ASR)", sst2 + evals),
        Row("7", "pseudo labels: BERT-SST2 on GT + ASR, XLNet-SST2 on GT (Fisher + SWBD train)", labels),
        Row("8", "LM features (BERT) of the SWBD sets, GT and ASR",
            2 * bert * 2 * sum(args.swbd_hours) * 3600 * tps),
    ]


def classifier_rows(
    args: argparse.Namespace, cls: dict[str, float], fps: float
) -> tuple[list[Row], int, int]:
    """Stages 8-9: the 2-step and E2E classifiers of the default grid (their counts returned too)."""
    seeds, tps = args.seeds, args.tokens_per_second
    train_h = args.swbd_hours[0]
    text_hours = 2 * train_h + 5  # gt all, asr all, asr 5 h
    text_params = cls["text_baseline"] + cls["text_lm"]
    text = 6 * text_params * text_hours * 3600 * tps * cls["epochs_text"] * seeds
    main, every = e2e_sizes(args, train_h)
    # BERT on S; BERT, XLNet on S+F; BERT on S_asr+F_asr
    pretrain_hours = [train_h] + [train_h + args.fisher_hours] * 3
    sup = 6 * cls["e2e"] * sum(every) * 3600 * fps * cls["epochs_e2e"] * seeds
    finetune_hours = 3 * sum(main) + sum(every)  # Fig. 2 for BERT S+F only
    ft = 6 * cls["e2e"] * finetune_hours * 3600 * fps * cls["epochs_e2e"] * seeds
    pre = 6 * cls["e2e"] * sum(pretrain_hours) * 3600 * fps * cls["epochs_pretrain"] * seeds
    cnn = 3 * cls["cnn_fwd_per_frame"] * train_h * 3600 * 100 * cls["epochs_cnn"] * seeds
    n_text = 2 * 3 * seeds
    n_e2e = seeds * (len(pretrain_hours) + 1 + len(every) + 3 * len(main) + len(every))
    rows = [
        Row("8", f"{n_text} 2-step classifiers (baseline, LM x GT, ASR, ASR 5 h x {seeds} seeds)", text),
        Row("9", f"{len(pretrain_hours) * seeds} pseudo-label pre-trainings ({len(pretrain_hours)} label "
            f"sets, {sum(pretrain_hours):g} h)", pre),
        Row("9", f"{seeds * (len(every) + 3 * len(main) + len(every))} supervised + fine-tuned BLSTMs "
            f"({len(every)} sizes), {seeds} fbank CNNs", sup + ft + cnn),
    ]
    return rows, n_text, n_e2e


def sig2(x: float) -> str:
    """``x`` to 2 significant digits: 1.2e19 style for FLOPs-sized numbers, else with separators."""
    if x == 0:
        return "0"
    r = round(x, 1 - math.floor(math.log10(abs(x))))
    if abs(r) >= 1e6:
        m, e = f"{r:.1e}".split("e")
        return f"{m}e{int(e)}"
    return f"{r:,.0f}" if abs(r) >= 10 else f"{r:g}"


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    conf_dir = Path(args.conf_dir)
    asr_path = Path(args.asr_config) if args.asr_config else conf_dir / "train_asr.yaml"
    conf = _asr_conf(asr_path)
    decode = yaml.safe_load((conf_dir / "decode_asr.yaml").read_text(encoding="utf-8")) or {}
    from speechsent.text.sst2 import SST2Options

    utt_s, utt_source = mean_utt_seconds(args)
    size = asr_size(conf, args.nbpe)
    cls = classifier_params(conf_dir)
    lms, lm_source = lm_params()
    fc = conf.get("frontend_conf", {})
    fps = fc.get("fs", 16000) / fc.get("hop_length", 128) / 4
    rows = asr_rows(args, size, conf, decode, utt_s) + lm_rows(args, lms, SST2Options().epochs)
    more, n_text, n_e2e = classifier_rows(args, cls, fps)
    rows += more
    low, high = args.tflops
    print(f"| Stage | What | FLOPs | GPU-hours at {low:g} TFLOP/s | GPU-hours at {high:g} TFLOP/s |")
    print("|---|---|---|---|---|")
    for r in [*rows, Row("all", "total", sum(r.flops for r in rows))]:
        hours = [r.flops / (t * 1e12) / 3600 for t in (low, high)]
        print(f"| {r.stage} | {r.what} | {sig2(r.flops)} | {sig2(hours[0])} | {sig2(hours[1])} |")
    m = 1e6
    print(f"""
Computed from parameter counts and data sizes, not measured (no GPU was used). Assumptions:
- ASR ({asr_path}, {args.nbpe} BPE): encoder {size.encoder / m:.1f} M, decoder {size.decoder / m:.1f} M, CTC \
{size.ctc / m:.2f} M, frontend {size.frontend} parameters; counted by {size.source}.
- Classifiers (speechsent.models, the recipe's configs): E2E BLSTM {cls['e2e'] / m:.2f} M, fbank CNN \
{cls['cnn'] / m:.2f} M, 2-step baseline {cls['text_baseline'] / m:.2f} M (without its embedding), \
2-step LM head {cls['text_lm'] / m:.2f} M; {n_text} 2-step and {n_e2e} E2E systems ({args.seeds} seeds), as \
`./run.sh --dry_run true` lists them for an {args.swbd_hours[0]:g} h train set.
- LMs ({lm_source}); non-embedding parameters used per token: """ + ", ".join(
        f"{k} {v[1] / m:.0f} M of {v[0] / m:.0f} M" for k, v in lms.items()) + f""".
- Sustained throughput {low:g}-{high:g} TFLOP/s per GPU (A100-class with mixed precision; an assumption, \
not measured). Training = 6 FLOPs per parameter and frame/token (forward + backward), inference = 2. \
The ASR config has use_amp: {str(bool(conf.get('use_amp', False))).lower()}; in FP32 an A100 peaks at \
19.5 TFLOP/s, so without use_amp (stage 3) and --amp (stage 5) those rows take longer than the low column.
- Mean utterance {utt_s:.2f} s ({utt_source}); {args.tokens_per_second:g} BPE tokens per second of speech \
(2,000 pieces on conversational English: an assumption); encoder frames = hours x 3600 x {fps:g}/s \
(hop {fc.get('hop_length')} at {fc.get('fs')} Hz, conv2d subsampling 4); fbank frames 100/s.
- Data: SWBD-Sentiment {'/'.join(f'{h:g}' for h in args.swbd_hours)} h (train/test/holdout), Fisher \
{args.fisher_hours:g} h and {args.fisher_utts:,.0f} utterances of {args.lm_tokens_per_utt:g} tokens; the ASR \
on {args.asr_train_hours:g} h; SST-2 {args.sst2_sentences:,.0f} sentences of {args.sst2_tokens:g} tokens.
- Epochs are the configs' maxima (ASR {args.epochs or conf.get('max_epoch')}, E2E {cls['epochs_e2e']}, \
pre-training {cls['epochs_pretrain']}, CNN {cls['epochs_cnn']}, 2-step {cls['epochs_text']}, SST-2 \
{SST2Options().epochs}); early stopping only lowers them.
- Left out: padding, validation passes (5 h per epoch), feature extraction, data loading and I/O; the LMs' \
attention terms (sequences of 12-25 tokens).
- Not determined: the beam-search and BLSTM rows are FLOP lower bounds. Batch-1 beam search and 128-cell \
LSTMs are latency-bound and run far below the throughput above, so their wall-clock GPU time is larger by a \
factor this computation cannot give; bench/bench_decode.py measures decoding speed on a machine.""")


if __name__ == "__main__":
    main()
