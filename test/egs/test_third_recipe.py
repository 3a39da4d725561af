"""Issue 13's acceptance of the corpus-agnostic template: a third recipe is made by copying
``egs/mini_sentiment`` and changing only its ``run.sh`` options and its ``local/data.sh``.

The copy ("calls") names its sets ``calls_train``, ``calls_dev``, ``calls_eval`` (labeled), ``calls_unlab``
(unlabeled) and ``calls_asr`` (the ASR's); its ``local/data.sh`` writes them from the fixture corpus. The
cheap stages then run on those names alone: 1 (data), 2 (BPE on the ASR set's text), 6-7 (VADER pseudo
labels of the training and unlabeled sets, evaluated on the validation and evaluation sets), 8 (a tiny
2-step classifier trained on calls_train, selected on calls_dev, scored on calls_dev and calls_eval) and
10 (the report). No ``swbd_*``, ``asr_train`` or ``fisher`` data dir appears.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from speechsent.kaldi.table import read_table

pytest.importorskip("vaderSentiment")

pytestmark = pytest.mark.slow

SETS = {
    "train_set": "calls_train",
    "valid_set": "calls_dev",
    "test_sets": "calls_eval",
    "unlabeled_sets": "calls_unlab",
    "asr_train_set": "calls_asr",
}

# The third recipe's stage 1: its own set names, from the corpora of db.sh (here: the fixture corpus).
LOCAL_DATA_SH = """#!/usr/bin/env bash
# Stage 1 of the "calls" recipe: data/{calls_train,calls_dev,calls_eval,calls_asr,calls_unlab}.
set -euo pipefail
. ./path.sh
. ./db.sh
sets=(calls_train calls_dev calls_eval calls_asr calls_unlab)
python -m speechsent.bin.prepare_data --swbd "${SWBD}" --swbd_ms98 "${SWBD_MS98}" \\
    --swbd_sentiment "${SWBD_SENTIMENT}" --fisher "${FISHER}" --out_dir data \\
    --train_set "${sets[0]}" --test_set "${sets[1]}" --holdout_set "${sets[2]}" \\
    --asr_train_set "${sets[3]}" --fisher_set "${sets[4]}" "$@"
for s in "${sets[@]}"; do validate_data_dir.sh --no-feats "data/${s}"; done
"""

# Run-time options only (no conf/ file changes): a tiny BPE and a tiny text classifier.
TINY = [
    "--nbpe", "40",
    "--pseudo_transcripts", "gt",
    "--text_archs", "baseline", "--text_transcripts", "gt", "--text_valid_set", "calls_dev",
    "--text_args",
    "--max_epochs 1 --patience 0 --batch_size 16 --num_threads 1 --nbpe 60 --embed_dim 8 --hidden 8",
]  # fmt: skip


def _third_recipe(tmp_path: Path, copy_recipe) -> Path:
    recipe = copy_recipe(tmp_path, "mini_sentiment").rename(tmp_path / "egs" / "calls_sentiment")
    run_sh = (recipe / "run.sh").read_text()
    for option, name in SETS.items():
        run_sh, n = re.subn(rf"^{option}=.*$", f"{option}={name}", run_sh, flags=re.M)
        assert n == 1, f"run.sh sets no {option}"
    (recipe / "run.sh").write_text(run_sh)
    (recipe / "local" / "data.sh").write_text(LOCAL_DATA_SH)
    return recipe


def test_a_third_recipe_with_other_set_names(corpus, tmp_path: Path, copy_recipe, run_recipe):
    recipe = _third_recipe(tmp_path, copy_recipe)
    r = run_recipe(recipe, ["--stage", "1", "--stop_stage", "2", *TINY], corpus.env)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-6000:]
    data = recipe / "data"
    assert sorted(p.name for p in data.iterdir() if p.name.startswith("calls_")) == sorted(
        [*SETS.values()]
    )
    assert "outputs: data/{calls_train,calls_dev,calls_eval,calls_asr,calls_unlab}" in log
    assert "inputs: data/calls_asr/text" in log and (data / "token_list/bpe_unigram40/bpe.model").is_file()

    r = run_recipe(recipe, ["--stage", "6", "--stop_stage", "8", *TINY], corpus.env, timeout=600)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-6000:]
    for s in ("calls_train", "calls_unlab"):  # the pseudo-labeled sets: training + unlabeled
        assert read_table(data / s / "utt2pseudo").keys() == read_table(data / s / "text").keys()
    labeler = recipe / "exp/pseudo_labeler_vader"
    assert {p.name for p in labeler.glob("eval_*")} == {"eval_calls_dev", "eval_calls_eval"}
    system = recipe / "exp/text_baseline_gt_s0"
    assert {p.name for p in system.glob("score_*")} == {"score_calls_dev", "score_calls_eval"}
    scores = json.loads((system / "score_calls_eval/scores.json").read_text())
    assert scores["num_utts"] == len(read_table(data / "calls_eval" / "utt2sentiment"))
    r = run_recipe(recipe, ["--stage", "10", "--stop_stage", "10", *TINY], corpus.env)
    assert r.returncode == 0 and "Stage 10 done" in r.stdout, (r.stdout + r.stderr)[-6000:]
    assert "text_baseline_gt_s0" in (recipe / "RESULTS.md").read_text()
    assert not [p.name for p in data.iterdir() if p.name.startswith(("swbd_", "asr_train", "fisher"))]
