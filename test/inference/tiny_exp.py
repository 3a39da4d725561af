"""A tiny recipe ``exp/`` for the export and inference tests: what stages 3, 8, 9 leave, with random weights.

``build_tiny_recipe(root)`` writes under ``root`` (the recipe dir)::

    data/token_list/bpe.model            BPE model the ASR config names by a recipe-relative path
    exp/asr_tiny/{config.yaml,model.pth}  a tiny ESPnet2 ASR model (stats in exp/asr_stats/train/)
    exp/asr_model                         the pointer to it
    exp/e2e_blstm_all_s0, _s1             E2E BLSTM systems on the encoder's features (equal F1: seed 0 wins)
    exp/e2e_cnn_fbank_s0                  the fbank CNN (dump/fbank/swbd_train/info.json beside it)
    exp/e2e_pretrain_vader_gt_s0          a pre-trained pseudo-label model (no system.json: never chosen)
    exp/text_baseline_gt_s0, _asr_s0      2-step baseline systems (gt: better on swbd_test, worse on _asr)
    exp/text_lm_asr_s0                    2-step LM system whose LM is a local dir (exp/tiny_lm)
    audio/                                test inputs (see :func:`write_audio_inputs`)

Loaded by the test modules with ``runpy.run_path`` (the test dirs are not packages).
"""

from __future__ import annotations

import json
import runpy
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

LABELS = ["Negative", "Neutral", "Positive"]
FS = 8000
ENCODER_DIM = 64
WORDS = ["i", "love", "it", "hate", "the", "weather", "was", "great", "awful", "yeah", "um", "so"]


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")


def _scores(f1: float) -> dict[str, Any]:
    keys = ("unweighted_recall", "unweighted_precision", "unweighted_f1")
    keys += ("weighted_recall", "weighted_precision", "weighted_f1")
    return {**{k: f1 for k in keys}, "num_utts": 10, "confusion": [[1, 1, 1], [1, 2, 1], [1, 1, 1]]}


def _system(name: str, family: str, arch: str, input_kind: str, seed: int, **extra: Any) -> dict[str, Any]:
    """system.json as the trainers write it (the report tests' fixture, docs/contracts.md)."""
    fixtures = runpy.run_path(str(Path(__file__).parents[1] / "report" / "report_fixtures.py"))
    fields = {"family": family, "architecture": arch, "input": input_kind, "seed": seed, **extra}
    return fixtures["meta"](name, **fields)


def _e2e_system(exp: Path, name: str, arch: str, config: dict[str, Any], input_kind: str, seed: int, **kw):
    import torch

    from speechsent.models import build_model

    d = exp / name
    d.mkdir(parents=True)
    torch.manual_seed(seed + 7)
    model = build_model(arch, **config)
    torch.save(model.state_dict(), d / "best.pth")
    model_json = {
        "architecture": arch,
        "config": config,
        "labels": LABELS,
        "task": kw.pop("task", "sentiment"),
        "input": input_kind,
        "weights": "best.pth",
    }
    _write_json(d / "model.json", model_json)
    scores = kw.pop("scores", {})
    if model_json["task"] == "sentiment":
        _write_json(d / "system.json", _system(name, "e2e", arch, input_kind, seed, **kw))
    for set_name, f1 in scores.items():
        _write_json(d / f"score_{set_name}" / "scores.json", _scores(f1))
    return d


def _text_system(exp: Path, name: str, classifier: dict[str, Any], tokenizer: dict[str, Any], scores, seed=0):
    import torch

    from speechsent.models.text_classifier import TextClassifierConfig, build_text_classifier

    d = exp / name
    d.mkdir(parents=True)
    config = TextClassifierConfig(**classifier)
    torch.manual_seed(seed + 11)
    torch.save(build_text_classifier(config).state_dict(), d / "best.pth")
    _write_json(
        d / "model.json",
        {"classifier": asdict(config), "tokenizer": tokenizer, "labels": LABELS, "weights": "best.pth"},
    )
    input_kind = "asr" if "_asr_" in name else "gt"
    lm = tokenizer.get("lm")
    _write_json(d / "system.json", _system(name, "two_step", config.arch, input_kind, seed, lm=lm))
    for set_name, f1 in scores.items():
        _write_json(d / f"score_{set_name}" / "scores.json", _scores(f1))
    return d


def build_tiny_recipe(root: Path) -> dict[str, Path]:
    """The tiny recipe under ``root`` (see the module doc); returns its notable paths."""
    import yaml

    from speechsent.asr.model_dir import write_model_pointer
    from speechsent.asr.tiny_model import TinyModelSpec, write_tiny_asr_model
    from speechsent.features.fbank import FbankConfig
    from speechsent.text.lm_features import build_tiny_lm
    from speechsent.text.tokenize import train_sentencepiece

    exp = root / "exp"
    bpe = train_sentencepiece(
        [" ".join(WORDS[i:] + WORDS[:i]) for i in range(len(WORDS))] * 3,
        root / "data" / "token_list" / "bpe.model",
        vocab_size=40,
    )
    # The ASR model as stage 3 leaves it: config paths relative to the recipe dir.
    config_file, _ = write_tiny_asr_model(exp / "asr_tiny", TinyModelSpec(output_size=ENCODER_DIM, fs=FS))
    stats = exp / "asr_stats" / "train" / "feats_stats.npz"
    stats.parent.mkdir(parents=True)
    (exp / "asr_tiny" / "feats_stats.npz").rename(stats)
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    config["normalize_conf"]["stats_file"] = "exp/asr_stats/train/feats_stats.npz"
    config["bpemodel"] = "data/token_list/bpe.model"
    config["token_type"] = "bpe"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    write_model_pointer(exp / "asr_tiny", exp / "asr_model")

    blstm = {
        "input_dim": ENCODER_DIM,
        "fc_dim": 16,
        "lstm_dim": 8,
        "num_lstm_layers": 2,
        "attention_dim": 0,
        "num_classes": 3,
        "dropout": 0.2,
    }
    sets = {"swbd_test": 55.0, "swbd_holdout": 50.0}
    _e2e_system(exp, "e2e_blstm_all_s1", "blstm", blstm, "encoder", 1, scores=sets)
    _e2e_system(exp, "e2e_blstm_all_s0", "blstm", blstm, "encoder", 0, scores=sets)
    _e2e_system(
        exp,
        "e2e_blstm_pseudo_vader_gt_all_s0",
        "blstm",
        blstm,
        "encoder",
        0,
        scores={"swbd_test": 40.0},
        pseudo_labeler="pseudo_labeler_vader",
        pseudo_sets=["swbd_train", "fisher"],
        pseudo_transcript="gt",
    )
    _e2e_system(
        exp, "e2e_pretrain_vader_gt_s0", "blstm", {**blstm, "num_classes": 2}, "encoder", 0, task="pseudo"
    )
    cnn = {
        "input_dim": 80,
        "channels": [4, 4],
        "kernels": [3, 3],
        "strides": [1, 2],
        "pooling": "mean",
        "input_norm": "utterance",
        "num_classes": 3,
        "dropout": 0.0,
    }
    _e2e_system(exp, "e2e_cnn_fbank_s0", "cnn", cnn, "fbank", 0, scores={"swbd_test": 30.0})
    cnn_system = json.loads((exp / "e2e_cnn_fbank_s0" / "system.json").read_text())
    cnn_system["config"]["train_feats"] = ["dump/fbank/swbd_train/feats.scp"]
    _write_json(exp / "e2e_cnn_fbank_s0" / "system.json", cnn_system)
    fbank_info = {"model": {"fbank": asdict(FbankConfig()), "sample_rates": [FS], "output_dim": 80}}
    _write_json(root / "dump" / "fbank" / "swbd_train" / "info.json", fbank_info)

    import sentencepiece

    vocab = sentencepiece.SentencePieceProcessor(model_file=str(bpe)).get_piece_size() + 1
    baseline = {"arch": "baseline", "vocab_size": vocab, "embed_dim": 8, "hidden": 8, "num_layers": 1}
    for name, scores in (
        ("text_baseline_gt_s0", {"swbd_test": 70.0, "swbd_test_asr": 45.0}),
        ("text_baseline_asr_s0", {"swbd_test": 60.0, "swbd_test_asr": 52.0}),
    ):
        d = _text_system(
            exp, name, baseline, {"kind": "sentencepiece", "model": "bpe.model", "max_tokens": 500}, scores
        )
        (d / "bpe.model").write_bytes(bpe.read_bytes())
    lm_dir = build_tiny_lm(exp / "tiny_lm", WORDS, hidden=16, layers=4)
    lm_classifier = {
        "arch": "lm",
        "input_dim": 16,
        "hidden": 8,
        "num_layers": 1,
        "extra": {"max_tokens": 500, "lm": str(lm_dir), "lm_layers": "sum_last4", "finetune_lm": False},
    }
    _text_system(
        exp,
        "text_lm_asr_s0",
        lm_classifier,
        {"kind": "lm", "lm": str(lm_dir), "layers": "sum_last4", "max_tokens": 500},
        {"swbd_test": 10.0},
    )
    return {"root": root, "exp": exp, "asr": exp / "asr_tiny", "bpe": bpe, "lm": lm_dir}


def write_audio_inputs(out: Path, seed: int = 0) -> dict[str, Path]:
    """Test inputs: 8 kHz wav, 16 kHz wav, flac, 2-channel wav, shorten µ-law SPHERE, a corrupt "wav", a
    too-short wav, a wav.scp (+ segments, with a sph2pipe-style pipe and a missing file)."""
    import soundfile as sf

    from speechsent.asr.tiny_model import synthetic_speech
    from speechsent.audio.sphere import write_sphere

    out.mkdir(parents=True, exist_ok=True)
    speech = [synthetic_speech(int(FS * d), FS, seed + i) for i, d in enumerate((1.2, 0.9, 1.5))]
    pcm = [(s * 32767).astype(np.int16) for s in speech]
    paths = {
        "wav": out / "a.wav",
        "wav16k": out / "b16k.wav",
        "flac": out / "c.flac",
        "stereo": out / "d_stereo.wav",
        "sph": out / "e.sph",
        "corrupt": out / "f_corrupt.wav",
        "short": out / "g_short.wav",
    }
    sf.write(paths["wav"], pcm[0], FS)
    up = np.interp(np.arange(2 * len(pcm[1])) / 2, np.arange(len(pcm[1])), pcm[1]).astype(np.int16)
    sf.write(paths["wav16k"], up, 2 * FS)
    sf.write(paths["flac"], pcm[2], FS, format="FLAC")
    sf.write(paths["stereo"], np.stack([pcm[0], pcm[2][: len(pcm[0])]], axis=1), FS)
    write_sphere(paths["sph"], pcm[1], FS, coding="ulaw", shorten=True)
    paths["corrupt"].write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage, not audio" + bytes(range(256)))
    sf.write(paths["short"], pcm[0][:40], FS)
    scp = out / "scp"
    scp.mkdir()
    (scp / "wav.scp").write_text(
        f"reco1 {paths['wav']}\n"
        f"reco2 speechsent-sph2pipe -f wav -p -c 1 {paths['sph']} |\n"
        f"reco3 {out / 'missing.wav'}\n",
        encoding="utf-8",
    )
    (scp / "segments").write_text(
        "reco1_a reco1 0.00 0.60\nreco1_b reco1 0.50 1.20\nreco2_a reco2 0.10 0.80\nreco3_a reco3 0.0 0.5\n",
        encoding="utf-8",
    )
    paths["wav_scp"] = scp / "wav.scp"
    paths["segments"] = scp / "segments"
    return paths
