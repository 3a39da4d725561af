"""Fixture exp dirs for the report tests: system.json + score_<set>/scores.json as the trainers write them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: the docs/contracts.md keys written out (not imported from the code under test: the fixture states them)
METRICS = (
    "unweighted_recall",
    "unweighted_precision",
    "unweighted_f1",
    "weighted_recall",
    "weighted_precision",
    "weighted_f1",
)


def scores(base: float, confusion: list[list[int]] | None = None) -> dict[str, Any]:
    """A scores.json dict whose metrics are base, base+1, ..., base+5 (in METRICS order)."""
    out: dict[str, Any] = {m: base + i for i, m in enumerate(METRICS)}
    out["confusion"] = confusion if confusion is not None else [[8, 1, 1], [2, 20, 3], [0, 2, 6]]
    out["labels"] = ["Negative", "Neutral", "Positive"]
    out["num_utts"] = sum(map(sum, out["confusion"]))
    return out


def meta(name: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "system": name,
        "family": "e2e",
        "architecture": "blstm",
        "input": "encoder",
        "train_set": "swbd_train",
        "train_hours": None,
        "lm": None,
        "pseudo_labeler": None,
        "pseudo_sets": None,
        "pseudo_transcript": None,
        "seed": 0,
        "select_set": "swbd_test",
        "best_epoch": 3,
        "config": {"lr": 0.001, "seed": fields.get("seed", 0), "exp_dir": f"exp/{name}"},
    }
    base.update(fields)
    return base


def write_system(exp: Path, name: str, set_scores: dict[str, dict[str, Any]], **fields: Any) -> Path:
    d = exp / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "system.json").write_text(json.dumps(meta(name, **fields), indent=1))
    for set_name, sc in set_scores.items():
        sd = d / f"score_{set_name}"
        sd.mkdir(exist_ok=True)
        (sd / "scores.json").write_text(json.dumps(sc))
        (sd / "utt2pred").write_text("u1 Neutral\n")
    return d


def write_labeler(
    exp: Path, name: str, evals: dict[str, tuple[float, float]], info: dict | None = None
) -> Path:
    d = exp / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "labeler.json").write_text(json.dumps(info or {"kind": "hf", "model": "some/model"}))
    for set_name, (urec, wrec) in evals.items():
        sd = d / f"eval_{set_name}"
        sd.mkdir()
        sc = {
            "unweighted_recall": urec,
            "weighted_recall": wrec,
            "unweighted_f1": urec - 1,
            "labels": ["Negative", "Positive"],
            "confusion": [[5, 2], [1, 6]],
            "num_utts": 14,
        }
        (sd / "scores.json").write_text(json.dumps(sc))
    return d


def build_exp(exp: Path) -> Path:
    """A paper-like exp dir.

    * 2-step: baseline GT/ASR/ASR(5h), lm bert GT/ASR (GT scored on swbd_test/holdout too), lm ASR(5h)
      without swbd_test_asr (missing cell);
    * e2e: fbank cnn; encoder blstm supervised full (3 seeds: holdout U-F1 60, 62, 64 -> mean 62, std 2;
      seed 2 not scored on swbd_test) and at 5, 10, 20 h; semi-supervised bert S,F at 5, 10, 20, full
      (holdout U-F1 = 50+... chosen so the crossing is at 15 h) and bert S_asr,F_asr at 5 h;
    * pseudo labelers bert_sst2 (holdout, holdout_asr) and xlnet_sst2 (holdout).
    """
    ev = ("swbd_test_asr", "swbd_holdout_asr")
    write_system(
        exp,
        "text_baseline_gt",
        {s: scores(50) for s in ev},
        family="two_step",
        architecture="baseline",
        input="gt",
    )
    write_system(
        exp,
        "text_baseline_asr",
        {s: scores(45) for s in ev},
        family="two_step",
        architecture="baseline",
        input="asr",
    )
    write_system(
        exp,
        "text_baseline_asr_5h",
        {s: scores(20) for s in ev},
        family="two_step",
        architecture="baseline",
        input="asr",
        train_hours=5.0,
    )
    write_system(
        exp,
        "text_bert_gt",
        {
            "swbd_test_asr": scores(63),
            "swbd_holdout_asr": scores(64),
            "swbd_test": scores(66),
            "swbd_holdout": scores(67),
        },
        family="two_step",
        architecture="lm",
        input="gt",
        lm="bert-base-uncased",
    )
    write_system(
        exp,
        "text_bert_asr",
        {s: scores(62) for s in ev},
        family="two_step",
        architecture="lm",
        input="asr",
        lm="bert-base-uncased",
    )
    write_system(
        exp,
        "text_bert_asr_5h",
        {"swbd_holdout_asr": scores(51)},
        family="two_step",
        architecture="lm",
        input="asr",
        lm="bert-base-uncased",
        train_hours=5,
    )

    both = ("swbd_test", "swbd_holdout")
    write_system(exp, "e2e_fbank_cnn", {s: scores(40) for s in both}, architecture="cnn", input="fbank")
    # full-data supervised baseline, 3 seeds: holdout unweighted F1 = base + 2 = 60, 62, 64
    write_system(exp, "e2e_sup_seed0", {"swbd_test": scores(64), "swbd_holdout": scores(58)}, seed=0)
    write_system(
        exp, "e2e_sup_seed1", {"swbd_test": scores(66), "swbd_holdout": scores(60)}, seed=1, best_epoch=9
    )
    write_system(exp, "e2e_sup_seed2", {"swbd_holdout": scores(62)}, seed=2)
    for h, base in ((5, 46), (10, 50), (20, 55)):
        write_system(exp, f"e2e_sup_{h}h", {s: scores(base) for s in both}, train_hours=float(h))
    # semi-supervised bert on S, F: holdout U-F1 (base+2) = 54 @5h, 58 @10h, 66 @20h, 67 @full
    # baseline 62 -> crossing between 10 h (58) and 20 h (66): 10 + (62-58) * 10/8 = 15 h
    semi = dict(
        pseudo_labeler="exp/pseudo_labeler_bert_sst2",
        pseudo_sets=["swbd_train", "fisher"],
        pseudo_transcript="gt",
    )
    for h, base in ((5, 52), (10, 56), (20, 64), (None, 65)):
        name = f"e2e_semi_bert_sf_{h}h" if h else "e2e_semi_bert_sf_full"
        write_system(exp, name, {s: scores(base) for s in both}, train_hours=h, **semi)
    write_system(
        exp,
        "e2e_semi_bert_sfasr_5h",
        {s: scores(53) for s in both},
        train_hours=5.0,
        pseudo_labeler="exp/pseudo_labeler_bert_sst2",
        pseudo_sets=["swbd_train", "fisher"],
        pseudo_transcript="asr",
    )
    write_labeler(
        exp, "pseudo_labeler_bert_sst2", {"swbd_holdout": (70.99, 71.05), "swbd_holdout_asr": (69.08, 69.2)}
    )
    write_labeler(exp, "pseudo_labeler_xlnet_sst2", {"swbd_holdout": (72.15, 72.19)})
    # not a system: an ASR model dir
    (exp / "asr_train").mkdir()
    (exp / "asr_train" / "config.yaml").write_text("x: 1\n")
    return exp


def table_rows(text: str, title_start: str) -> list[dict[str, str]]:
    """The rows (header -> cell) of the first markdown table after the heading ``## <title_start>...``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## " + title_start))
    i = start + 1
    while not lines[i].startswith("|"):
        i += 1
    table = []
    while i < len(lines) and lines[i].startswith("|"):
        table.append(lines[i])
        i += 1

    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.strip().strip("|").split(" | ")]

    header = cells(table[0])
    return [dict(zip(header, cells(line), strict=True)) for line in table[2:]]
