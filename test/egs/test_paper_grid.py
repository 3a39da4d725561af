"""Issue 14's acceptance: ``egs/swbd_sentiment/run.sh`` with its defaults (the paper's grid) on a tiny
synthesized corpus in the LDC layouts, only the model sizes and the hours scaled down to the corpus.

Its defaults are the paper's: the ASR trained on Fisher; four pseudo labelers (BERT, DistilBERT, RoBERTa,
XLNet) fine-tuned on SST-2 (here: tiny BERT-architecture models saved under those names, fine-tuned on a tiny
SST-2 in GLUE's TSV format); Table 4's grid (supervised; BERT-SST2 on S, on S+F; XLNet-SST2 on S+F; BERT-SST2
on S_asr+F_asr) at two fine-tuning sizes; Fig. 2's nested subsets for the supervised and the BERT-SST2 S+F
systems; three seeds (two here, for time). Checked: every system of the grid exists under its name, the
two labelers' labels coexist in the data dirs (``utt2pseudo`` is the default labeler's), RESULTS.md has every
table row and the figure, its header and the departures; the ASR's overlap with every set is measured; stage 9
refuses labels that are not the ones its labeler wrote; ``--dry_run true`` lists the whole paper grid.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from speechsent.kaldi.table import read_table, write_table

pytest.importorskip("espeakng_loader")
pytest.importorskip("espnet2")

pytestmark = pytest.mark.slow

LABELERS = ("bert-base-uncased", "distilbert-base-uncased", "roberta-base", "xlnet-base-cased")
BERT, XLNET = "bert-base-uncased_sst2", "xlnet-base-cased_sst2"
# Table 4's pseudo configs, as the paper lists them (labeler, pseudo sets, transcripts).
CONFIGS = (
    f"{BERT}_swbd_train_gt",
    f"{BERT}_swbd_train+fisher_gt",
    f"{XLNET}_swbd_train+fisher_gt",
    f"{BERT}_swbd_train+fisher_asr",
)
CURVE_CONFIG = f"{BERT}_swbd_train+fisher_gt"
SEEDS = ("0", "1")
SYNTH = {"num_swbd_convs": 8, "num_fisher_convs": 3, "turns_per_conv": 8, "fisher_turns_per_conv": 8}
POSITIVE = ("i really love this it is great", "that was wonderful and nice", "good fun and a great day")
NEGATIVE = ("i hate this it is awful", "that was terrible and bad", "a sad and horrible day")


def _size_name(h: str) -> str:
    return h if h == "all" else f"{h}h"


def expected_systems(table4_hours: list[str], curve_hours: list[str], seeds=SEEDS) -> set[str]:
    """The paper grid's system dirs, written out independently of the recipe (``table4_hours``: the subset
    sizes of Table 4 besides the whole set; the first is also the 2-step systems' subset)."""
    names = set()
    for s in seeds:
        names.add(f"e2e_cnn_fbank_s{s}")
        for h in dict.fromkeys(["all", *table4_hours, *curve_hours]):
            names.add(f"e2e_blstm_{_size_name(h)}_s{s}")
        for c in CONFIGS:
            names.add(f"e2e_pretrain_{c}_s{s}")
            sizes = ["all", *table4_hours, *(curve_hours if c == CURVE_CONFIG else [])]
            names |= {f"e2e_blstm_pseudo_{c}_{_size_name(h)}_s{s}" for h in sizes}
        for arch in ("baseline", "lm"):
            names |= {
                f"text_{arch}_gt_s{s}",
                f"text_{arch}_asr_s{s}",
                f"text_{arch}_asr_{table4_hours[0]}h_s{s}",
            }
    return names


def _tiny_models(out: Path, words: list[str]) -> list[str]:
    from speechsent.text.lm_features import build_tiny_lm

    return [
        str(build_tiny_lm(out / name, words, hidden=16, layers=4, seed=i)) for i, name in enumerate(LABELERS)
    ]


def _sst2(out: Path) -> Path:
    out.mkdir(parents=True)
    rows = [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE]
    for name, reps in (("train.tsv", 4), ("dev.tsv", 1)):
        lines = ["sentence\tlabel", *(f"{t} \t{y}" for t, y in rows * reps)]
        (out / name).write_text("\n".join(lines) + "\n")
    return out


@pytest.fixture(scope="module")
def grid(tmp_path_factory, copy_recipe, run_recipe, egs_module):
    stages = egs_module("test_stages_2_5")
    tmp = tmp_path_factory.mktemp("grid")
    (tmp / "synth.yaml").write_text(yaml.safe_dump(SYNTH))
    subprocess.run(
        [sys.executable, "-m", "speechsent.bin.synth_corpus", "--config", str(tmp / "synth.yaml"),
         "--out_dir", str(tmp / "corpus"), "--seed", "5", "--nj", "2"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    corpus = tmp / "corpus"
    env = {
        "SWBD": str(corpus / "swbd"),
        "SWBD_MS98": str(corpus / "swb_ms98_transcriptions"),
        "SWBD_SENTIMENT": str(corpus / "swbd_sentiment"),
        "FISHER": " ".join(str(p) for p in sorted((corpus / "fisher").iterdir())),
    }
    recipe = copy_recipe(tmp, "swbd_sentiment")
    r = run_recipe(recipe, ["--stage", "1", "--stop_stage", "1"], env, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    # sizes scaled to the corpus: Table 4 at all and ~1/4 of the train set; Fig. 2 at 1/4, 2/4, 3/4
    total = sum(float(v) for v in read_table(recipe / "data/swbd_train/utt2dur").values()) / 3600
    step = f"{total / 4:.4f}"
    table4 = ["all", step]
    curve = [f"{k * total / 4:.4f}" for k in (1, 2, 3)]
    texts = [*POSITIVE, *NEGATIVE]
    for s in ("swbd_train", "fisher"):
        texts += read_table(recipe / f"data/{s}/text").values()
    words = sorted({w for t in texts for w in t.split()})
    models = _tiny_models(tmp / "models", [*words, "<unk>"])
    conf = recipe / "conf"
    (conf / "tiny_asr.yaml").write_text(yaml.safe_dump(stages.TINY_ASR))
    tiny = {
        "tiny_text_baseline.yaml": {**stages.TINY_TRAIN, "nbpe": 60, "embed_dim": 8, "hidden": 8},
        "tiny_text_lm.yaml": {**stages.TINY_TRAIN, "hidden": 8},
        "tiny_e2e.yaml": stages.TINY_E2E,
        "tiny_e2e_pretrain.yaml": {**stages.TINY_E2E, "valid_fraction": 0.2},
        "tiny_cnn.yaml": stages.TINY_CNN,
        "tiny_sst2.yaml": {"epochs": 1, "batch_size": 8, "lr": 1e-3},
    }
    for name, values in tiny.items():
        (conf / name).write_text(yaml.safe_dump(values))
    args = [
        "--nbpe", "40", "--asr_config", "conf/tiny_asr.yaml", "--ngpu", "0", "--nj", "2",
        "--decode_mode", "ctc_greedy", "--train_nj", "2",
        "--pseudo_labelers", " ".join(models), "--pseudo_labeler", models[0],
        "--sst2_dir", str(_sst2(tmp / "sst2")), "--pseudo_labeler_config", "conf/tiny_sst2.yaml",
        "--pseudo_args", "--num_threads 1",
        "--text_lm", models[0], "--text_baseline_config", "conf/tiny_text_baseline.yaml",
        "--text_lm_config", "conf/tiny_text_lm.yaml", "--text_hours", step, "--text_seeds", " ".join(SEEDS),
        "--e2e_config", "conf/tiny_e2e.yaml", "--e2e_pretrain_config", "conf/tiny_e2e_pretrain.yaml",
        "--e2e_cnn_config", "conf/tiny_cnn.yaml", "--e2e_hours", " ".join(table4),
        "--e2e_curve_hours", " ".join(curve), "--e2e_seeds", " ".join(SEEDS),
        # a tiny ASR transcribes little and tiny labelers may say one class: trainings go on without a class
        "--text_args", "--allow_missing_classes true", "--e2e_args", "--allow_missing_classes true",
    ]  # fmt: skip
    r = run_recipe(recipe, ["--stage", "2", "--stop_stage", "10", *args], env, timeout=3000)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-6000:]
    return {"recipe": recipe, "log": log, "args": args, "env": env, "table4": table4, "curve": curve}


def test_every_system_of_the_grid(grid):
    exp = grid["recipe"] / "exp"
    trained = {p.parent.name for p in exp.glob("*/system.json")} | {
        p.parent.name for p in exp.glob("*/pretrain.json")
    }
    assert trained == expected_systems(grid["table4"][1:], grid["curve"])
    system = json.loads(
        (exp / f"e2e_blstm_pseudo_{XLNET}_swbd_train+fisher_gt_all_s1/system.json").read_text()
    )
    assert system["pseudo_labeler"] == XLNET and system["pseudo_sets"] == ["swbd_train", "fisher"]
    assert system["pseudo_transcript"] == "gt" and system["pseudo_fingerprint"]
    for labeler in LABELERS:  # Table 3: every labeler fine-tuned, evaluated on GT and ASR transcripts
        for s in ("swbd_holdout", "swbd_holdout_asr", "swbd_test", "swbd_test_asr"):
            assert (exp / f"pseudo_labeler_{labeler}_sst2/eval_{s}/scores.json").is_file()


def test_labelers_labels_coexist(grid):
    data = grid["recipe"] / "data"
    for d, labelers in (("swbd_train", (BERT, XLNET)), ("fisher", (BERT, XLNET)), ("fisher_asr", (BERT,))):
        utts = read_table(data / d / "text").keys()
        for tag in labelers:
            labels = read_table(data / d / f"utt2pseudo_{tag}")
            assert labels and set(labels) <= utts and set(labels.values()) <= {"Negative", "Positive"}
            assert read_table(data / d / f"utt2pseudo_prob_{tag}").keys() == labels.keys()
        assert (data / d / "utt2pseudo").read_bytes() == (data / d / f"utt2pseudo_{BERT}").read_bytes()
        subprocess.run(
            ["utils/validate_data_dir.sh", "--no-feats", str(data / d)], check=True, cwd=Path.cwd()
        )


def test_results_md_has_every_row_and_the_header(grid):
    results = (grid["recipe"] / "RESULTS.md").read_text()
    for title in ("Table 1", "Table 2", "Table 3", "Table 4", "Departures from the paper"):
        assert title in results
    table4 = results.split("## Table 4")[1].split("\n## ")[0]
    assert "**missing** (" not in table4  # every row of the grid has its systems
    assert table4.count("| BERT-SST2 ") == 6 and table4.count("| XLNet-SST2 ") == 2
    for name in ("BERT-SST2", "XLNet-SST2", "DistilBERT-SST2", "RoBERTa-SST2"):
        assert name in results
    assert (grid["recipe"] / "exp/report/fig2.png").is_file()
    overlap = json.loads(next((grid["recipe"] / "exp").glob("asr_*/overlap.json")).read_text())
    assert overlap["sets"]["fisher"]["overlap_fraction"] == pytest.approx(1.0)
    for s in ("swbd_train", "swbd_test", "swbd_holdout"):
        assert overlap["sets"][s]["overlap_hours"] == 0


def test_stage_9_refuses_labels_its_labeler_did_not_write(grid, run_recipe):
    labels_file = grid["recipe"] / f"data/fisher/utt2pseudo_{XLNET}"
    original = labels_file.read_bytes()
    labels = read_table(labels_file)
    utt = next(iter(labels))
    labels[utt] = "Negative" if labels[utt] == "Positive" else "Positive"
    write_table(labels_file, labels)
    try:
        r = run_recipe(
            grid["recipe"], ["--stage", "9", "--stop_stage", "9", *grid["args"]], grid["env"], timeout=900
        )
    finally:
        labels_file.write_bytes(original)
    log = r.stdout + r.stderr
    assert r.returncode != 0 and f"utt2pseudo_{XLNET}" in log and "stage 7" in log, log[-4000:]


def test_dry_run_lists_the_paper_grid(tmp_path, copy_recipe, run_recipe):
    recipe = copy_recipe(tmp_path, "swbd_sentiment")
    r = run_recipe(recipe, ["--dry_run", "true"], {})
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-4000:]
    systems = {
        line.split("system ", 1)[1].split(":", 1)[0] for line in log.splitlines() if ": system exp/" in line
    }
    paper_curve = [f"{k * 2.5:g}" for k in range(1, 35)]
    expected = {f"exp/{n}" for n in expected_systems(["5"], paper_curve, seeds=("0", "1", "2"))}
    assert expected <= systems
    assert len([s for s in systems if "/e2e_" in s]) == 243 and "exp/asr_train_asr_raw_bpe2000" in systems
    assert {f"exp/pseudo_labeler_{n}_sst2" for n in LABELERS} <= systems
    assert not any((recipe / d).exists() for d in ("data", "exp", "dump")), os.listdir(recipe)
