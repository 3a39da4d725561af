"""Stages 2-5 of egs/mini_sentiment as users run them, on a tiny eSpeak corpus (stage 1 synthesizes it) with
a tiny ASR trained for a few steps: BPE layout, ESPnet training and the exp/asr_model pointer, decoding in
both modes into data/<set>_asr (same utterances), the frozen-encoder dump of every set (frame counts from
utt2dur and the conv2d subsampling), reruns that skip finished work, and a model given with --asr_model_dir
(the trained one copied elsewhere as a model-zoo unpack) used unchanged, stages 2-3 skipped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import yaml

from speechsent.asr.model_dir import read_model_pointer, resolve_model_dir
from speechsent.kaldi.table import read_table

pytest.importorskip("espeakng_loader")
pytest.importorskip("espnet2")

ROOT = Path(__file__).resolve().parents[2]
DECODE_SETS = ("swbd_train", "swbd_test", "swbd_holdout", "fisher")

pytestmark = pytest.mark.slow

SYNTH = {"num_swbd_convs": 6, "num_fisher_convs": 2, "turns_per_conv": 6, "fisher_turns_per_conv": 6}
TINY_ASR = {
    "batch_type": "numel",
    "batch_bins": 400000,
    "max_epoch": 2,
    "num_att_plot": 0,
    "keep_nbest_models": 1,
    "best_model_criterion": [["valid", "acc", "max"]],
    "num_workers": 0,
    "frontend_conf": {"fs": 8000, "n_fft": 256, "win_length": 200, "hop_length": 128, "n_mels": 20},
    "encoder": "transformer",
    "encoder_conf": {
        "output_size": 32,
        "attention_heads": 2,
        "linear_units": 64,
        "num_blocks": 1,
        "input_layer": "conv2d",
    },
    "decoder": "transformer",
    "decoder_conf": {"attention_heads": 2, "linear_units": 64, "num_blocks": 1},
    "model_conf": {"ctc_weight": 0.3, "lsm_weight": 0.1},
    "optim": "adam",
    "optim_conf": {"lr": 0.002},
    "scheduler": "warmuplr",
    "scheduler_conf": {"warmup_steps": 10},
}


# The options every run of the tiny recipe shares (its ASR, trained on the SWBD-style asr_train set: the tiny
# corpus's Fisher is too small; every set decoded with ctc_greedy).
TINY_RECIPE_ARGS = [
    "--asr_train_set", "asr_train", "--nbpe", "40", "--asr_config", "conf/tiny.yaml", "--asr_train_hours", "",
    "--nj", "2", "--decode_mode", "ctc_greedy",
]  # fmt: skip


def _recipe(tmp_path: Path) -> Path:
    dst = tmp_path / "egs" / "mini_sentiment"
    shutil.copytree(
        ROOT / "egs" / "mini_sentiment",
        dst,
        ignore=shutil.ignore_patterns("data", "exp", "dump", "downloads"),
    )
    return dst


def _run(recipe: Path, args: list[str], ok: bool = True) -> str:
    """The recipe's log (stdout + stderr); its exit status must be 0 (``ok``) or not."""
    env = {k: v for k, v in os.environ.items() if k not in ("SWBD", "SWBD_MS98", "SWBD_SENTIMENT", "FISHER")}
    env["SPEECHSENT_ROOT"] = str(ROOT)
    proc = subprocess.run(
        ["bash", "./run.sh", *args],
        cwd=recipe,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    log = proc.stdout + proc.stderr
    assert (proc.returncode == 0) == ok, log[-6000:]
    return log


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Stages 1-5 on a tiny synthesized corpus, decoding with ctc_greedy; returns (recipe dir, log)."""
    tmp = tmp_path_factory.mktemp("stages24")
    recipe = _recipe(tmp)
    (tmp / "synth.yaml").write_text(yaml.safe_dump(SYNTH))
    (recipe / "conf" / "tiny.yaml").write_text(yaml.safe_dump(TINY_ASR))
    log = _run(
        recipe,
        [
            "--stage",
            "1",
            "--stop_stage",
            "5",
            "--local_data_opts",
            f"--synth_config {tmp / 'synth.yaml'} --synth_dir {tmp / 'corpus'}",
            *TINY_RECIPE_ARGS,
        ],
    )
    return recipe, log


def test_bpe_training_and_pointer(trained):
    recipe, log = trained
    tokens = (recipe / "data/token_list/bpe_unigram40/tokens.txt").read_text().splitlines()
    assert tokens[:2] == ["<blank>", "<unk>"] and tokens[-1] == "<sos/eos>" and len(tokens) == 40
    assert (recipe / "data/token_list/bpe_unigram40/bpe.model").is_file()
    exp = recipe / "exp/asr_tiny_raw_bpe40"
    assert "Stage 3: ESPnet ASR training" in log and (exp / "train.log").is_file()
    assert "2epoch results" in (exp / "train.log").read_text()
    stats = recipe / "exp/asr_stats_raw_bpe40/train/feats_stats.npz"
    assert stats.is_file()
    config = yaml.safe_load((exp / "config.yaml").read_text())
    assert config["normalize"] == "global_mvn" and config["frontend_conf"]["fs"] == 8000
    assert config["bpemodel"] == "data/token_list/bpe_unigram40/bpe.model"
    assert read_model_pointer(recipe / "exp/asr_model").resolve() == exp.resolve()
    assert resolve_model_dir(recipe / "exp/asr_model").config_file == (exp / "config.yaml").resolve()
    # the training audio: 8 kHz flac with its tables
    wav = read_table(recipe / "dump/raw/asr_train/wav.scp")
    assert wav and all(v.endswith(".flac") for v in wav.values())


def test_ctc_greedy_decoding_keeps_every_utterance(trained):
    recipe, log = trained
    exp = recipe / "exp/asr_tiny_raw_bpe40"
    for s in DECODE_SETS:
        src, asr = recipe / "data" / s, recipe / "data" / f"{s}_asr"
        assert list(read_table(asr / "text")) == list(read_table(src / "utt2spk"))
        for name in ("utt2spk", "segments", "wav.scp"):
            assert (asr / name).read_bytes() == (src / name).read_bytes()
        score = (exp / "decode_ctc_greedy" / s / "score.txt").read_text()
        assert score.startswith("# ") and "%WER" in score
        assert f"{s} (ctc_greedy): %WER" in log
        assert read_table(exp / "decode_ctc_greedy" / s / "failed") == {}


def test_rerun_skips_finished_work(trained):
    recipe, _ = trained
    before = (recipe / "data/swbd_test_asr/text").read_bytes()
    dump_scp = (recipe / "dump/encoder/swbd_test/feats.scp").read_bytes()
    arks = {p: p.stat().st_mtime_ns for p in (recipe / "dump/encoder").glob("*/*.ark")}
    mtime = (recipe / "exp/asr_tiny_raw_bpe40/valid.acc.best.pth").stat().st_mtime_ns
    log = _run(
        recipe,
        [
            "--stage",
            "2",
            "--stop_stage",
            "5",
            *TINY_RECIPE_ARGS,
        ],
    )
    assert "is up to date" in log and "trained already" in log
    assert "0 files written now" in log  # the audio formatting resumed with nothing to do
    assert "already done" in "".join(
        p.read_text()
        for p in (recipe / "exp/asr_tiny_raw_bpe40/decode_ctc_greedy/logdir").glob("decode.*.log")
    )
    assert (recipe / "exp/asr_tiny_raw_bpe40/valid.acc.best.pth").stat().st_mtime_ns == mtime
    assert (recipe / "data/swbd_test_asr/text").read_bytes() == before
    dump_logs = "".join(p.read_text() for p in (recipe / "dump/encoder/log").glob("dump.*.log"))
    assert dump_logs.count("nothing to do") == 2 * len(DECODE_SETS)  # 2 jobs x every set
    assert arks and {p: p.stat().st_mtime_ns for p in (recipe / "dump/encoder").glob("*/*.ark")} == arks
    assert (recipe / "dump/encoder/swbd_test/feats.scp").read_bytes() == dump_scp


def _conv2d_frames(duration: float) -> int:
    """Encoder frames of an utterance: STFT frames (hop 128 at 8 kHz, centred), then Conv2dSubsampling's
    two 3x3 stride-2 convolutions."""
    frames = round(duration * 8000) // 128 + 1
    return ((frames - 3) // 2 + 1 - 3) // 2 + 1


def test_encoder_dump_of_every_set(trained):
    recipe, log = trained
    for s in DECODE_SETS:
        out = recipe / "dump/encoder" / s
        utts = list(read_table(recipe / "data" / s / "utt2spk"))
        feats = read_table(out / "feats.scp")
        skipped = read_table(out / "skipped_utts")
        assert sorted([*feats, *skipped]) == sorted(utts) and not set(feats) & set(skipped)
        assert len(feats) >= len(utts) - 1  # eSpeak utterances are long enough for the subsampling
        durations = {u: float(d) for u, d in read_table(recipe / "data" / s / "utt2dur").items()}
        num_frames = read_table(out / "utt2num_frames")
        for utt, mat in kaldiio.load_scp_sequential(str(out / "feats.scp")):
            assert mat.dtype == np.float32 and mat.shape[1] == 32 and np.isfinite(mat).all()
            assert mat.shape[0] == int(num_frames[utt])
            assert abs(mat.shape[0] - _conv2d_frames(durations[utt])) <= 1, (utt, durations[utt])
        assert f"{s}: {len(feats)} utterances in dump/encoder/{s}/feats.scp" in log
    assert "Stage 5 done" in log


def test_beam_search_mode(trained):
    recipe, _ = trained
    log = _run(
        recipe,
        [
            "--stage",
            "4",
            "--stop_stage",
            "4",
            "--nbpe",
            "40",
            "--asr_config",
            "conf/tiny.yaml",
            "--asr_train_hours",
            "",
            "--nj",
            "1",
            "--decode_mode",
            "beam",
            "--fast_decode_sets",
            "",
            "--decode_sets",
            "swbd_test",
            "--inference_args",
            "--beam_size 2 --maxlenratio 0.3",
        ],
    )
    out = recipe / "exp/asr_tiny_raw_bpe40/decode_beam/swbd_test"
    assert list(read_table(out / "text")) == list(read_table(recipe / "data/swbd_test/utt2spk"))
    assert "%WER" in (out / "score.txt").read_text() and "swbd_test (beam): %WER" in log


def test_asr_model_dir_is_used_unchanged(trained, tmp_path):
    recipe, _ = trained
    # the trained model packed like a model-zoo unpack: relative paths below a root, elsewhere
    zoo = tmp_path / "zoo"
    for rel in ("exp/asr_tiny_raw_bpe40", "exp/asr_stats_raw_bpe40/train", "data/token_list/bpe_unigram40"):
        shutil.copytree(recipe / rel, zoo / rel, symlinks=True)
    # a fresh recipe dir with the data dirs only
    other = _recipe(tmp_path)
    for s in DECODE_SETS:
        shutil.copytree(recipe / "data" / s, other / "data" / s)
    log = _run(
        other,
        [
            "--stage",
            "2",
            "--stop_stage",
            "5",
            "--asr_model_dir",
            str(zoo / "exp/asr_tiny_raw_bpe40"),
            "--nj",
            "1",
            "--decode_mode",
            "ctc_greedy",
            "--decode_sets",
            "swbd_test fisher",
            "--dump_sets",
            "swbd_test",
        ],
    )
    assert "Stage 2: skipped" in log and "Stage 3: skipped training" in log
    assert not (other / "data/token_list").exists() and not (other / "dump/raw").exists()
    assert read_model_pointer(other / "exp/asr_model").resolve() == (zoo / "exp/asr_tiny_raw_bpe40").resolve()
    for s in ("swbd_test", "fisher"):  # the same model: the same text (decoded with other job splits)
        ours = other / "exp/asr_tiny_raw_bpe40/decode_ctc_greedy" / s / "text"
        assert (
            ours.read_bytes()
            == (recipe / "exp/asr_tiny_raw_bpe40/decode_ctc_greedy" / s / "text").read_bytes()
        )
        assert (other / "data" / f"{s}_asr/text").read_bytes() == ours.read_bytes()
    # the same encoder: the same features (dumped as one job here, two there)
    theirs = dict(kaldiio.load_scp_sequential(str(recipe / "dump/encoder/swbd_test/feats.scp")))
    ours_feats = dict(kaldiio.load_scp_sequential(str(other / "dump/encoder/swbd_test/feats.scp")))
    assert ours_feats.keys() == theirs.keys()
    for utt, mat in ours_feats.items():
        np.testing.assert_array_equal(mat, theirs[utt])


# ----------------------------------------------------------------------------------------------------------
# Stages 6-11 on the same recipe: VADER pseudo labels, both 2-step classifiers on GT and ASR text (a tiny
# random BERT as the LM), the E2E systems (supervised, pseudo-label pre-training + fine-tuning, an hours
# subset, the fbank CNN; two trainings at a time), the report, the export of the best systems and their
# accuracies on the held-out check set (conf/check_set) spoken by eSpeak NG; then a rerun that trains nothing.

# the demo's pseudo configs (its run.sh): VADER labels of S and of S+F, GT transcripts (its Fig. 2 size,
# 0.2 h, is not below this corpus's train set: left out)
VADER_S, VADER_SF = "vader_swbd_train_gt", "vader_swbd_train+fisher_gt"
TINY_TRAIN = {"max_epochs": 2, "patience": 0, "batch_size": 16, "num_threads": 1}
TINY_E2E = {**TINY_TRAIN, "fc_dim": 16, "lstm_dim": 8}
# stage 11's check set spoken by two voices at two rates and two pitches (the demo: conf/check_set in run.sh)
CHECK_SYNTH = "--voices en-us+Alex en+steph3 --rates 135 220 --pitches 15 80"
TINY_CNN = {**TINY_TRAIN, "cnn_channels": [8, 8], "cnn_kernels": [3, 3], "cnn_strides": [1, 2]}


def _classifier_args(recipe: Path, tmp: Path) -> list[str]:
    from speechsent.text.lm_features import build_tiny_lm

    words = " ".join(read_table(recipe / "data/swbd_train/text").values()).split()
    lm = build_tiny_lm(tmp / "tiny_lm", [*words, "<unk>"], hidden=16, layers=4)
    conf = recipe / "conf"
    for name, values in {
        "tiny_text_baseline.yaml": {**TINY_TRAIN, "nbpe": 60, "embed_dim": 8, "hidden": 8},
        "tiny_text_lm.yaml": {**TINY_TRAIN, "hidden": 8},
        "tiny_e2e.yaml": TINY_E2E,
        "tiny_e2e_pretrain.yaml": {**TINY_E2E, "valid_fraction": 0.2},
        "tiny_cnn.yaml": TINY_CNN,
    }.items():
        (conf / name).write_text(yaml.safe_dump(values))
    return [
        *TINY_RECIPE_ARGS,
        "--pseudo_labeler", "vader", "--pseudo_args", "--num_threads 1",
        "--text_lm", str(lm),
        "--text_baseline_config", "conf/tiny_text_baseline.yaml",
        "--text_lm_config", "conf/tiny_text_lm.yaml",
        "--e2e_config", "conf/tiny_e2e.yaml", "--e2e_pretrain_config", "conf/tiny_e2e_pretrain.yaml",
        "--e2e_cnn_config", "conf/tiny_cnn.yaml", "--e2e_hours", "all 0.01", "--e2e_seeds", "0",
        "--train_nj", "2", "--export_check_text", "conf/check_set/text",
        "--export_check_labels", "conf/check_set/utt2sentiment",
        "--export_check_synth_args", f"--telephone true {CHECK_SYNTH}",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def classified(trained, tmp_path_factory):
    recipe, _ = trained
    args = _classifier_args(recipe, tmp_path_factory.mktemp("lm"))
    log = _run(recipe, ["--stage", "6", "--stop_stage", "11", *args])
    return recipe, log, args


def test_pseudo_labels(classified):
    recipe, log, _ = classified
    for s in ("swbd_train", "swbd_train_asr", "fisher", "fisher_asr"):
        pseudo = read_table(recipe / "data" / s / "utt2pseudo")
        # the default labeler's labels: its own files, utt2pseudo a byte-identical copy
        own = (recipe / "data" / s / "utt2pseudo_vader").read_bytes()
        assert own == (recipe / "data" / s / "utt2pseudo").read_bytes()
        utts = read_table(recipe / "data" / s / "utt2spk")
        assert pseudo and set(pseudo) <= set(utts) and set(pseudo.values()) <= {"Negative", "Positive"}
        assert read_table(recipe / "data" / s / "utt2pseudo_prob").keys() == pseudo.keys()
        subprocess.run(
            [str(ROOT / "utils/validate_data_dir.sh"), "--no-feats", str(recipe / "data" / s)], check=True
        )
    table3 = recipe / "exp/pseudo_labeler_vader/eval_swbd_holdout/scores.json"
    assert "unweighted_recall" in json.loads(table3.read_text()) and "Table 3: vader on swbd_holdout" in log


def test_classifier_systems_and_report(classified):
    recipe, log, _ = classified
    exp = recipe / "exp"
    systems = {p.parent.name: json.loads(p.read_text()) for p in exp.glob("*/system.json")}
    expected = {
        "text_baseline_gt_s0", "text_baseline_asr_s0", "text_lm_gt_s0", "text_lm_asr_s0",
        "e2e_cnn_fbank_s0", "e2e_blstm_all_s0", "e2e_blstm_0.01h_s0",
        f"e2e_blstm_pseudo_{VADER_SF}_all_s0", f"e2e_blstm_pseudo_{VADER_SF}_0.01h_s0",
        f"e2e_blstm_pseudo_{VADER_S}_all_s0", f"e2e_blstm_pseudo_{VADER_S}_0.01h_s0",
    }  # fmt: skip
    assert set(systems) == expected
    assert systems["text_lm_asr_s0"]["input"] == "asr" and systems["e2e_cnn_fbank_s0"]["input"] == "fbank"
    assert systems[f"e2e_blstm_pseudo_{VADER_SF}_all_s0"]["pseudo_sets"] == ["swbd_train", "fisher"]
    keys = {"unweighted_recall", "unweighted_precision", "unweighted_f1", "weighted_recall", "weighted_f1"}
    for name in expected:
        sets = ("swbd_test", "swbd_holdout") + (
            ("swbd_test_asr", "swbd_holdout_asr") if "text" in name else ()
        )
        for s in sets:
            scores = json.loads((exp / name / f"score_{s}/scores.json").read_text())
            assert keys <= scores.keys() and len(scores["confusion"]) == 3
            utts = read_table(recipe / "data" / s / "utt2sentiment")
            assert scores["num_utts"] == len(utts) == sum(map(sum, scores["confusion"]))
    results = (recipe / "RESULTS.md").read_text()
    for title in ("Table 1", "Table 2", "Table 3", "Table 4"):
        assert title in results
    assert (exp / "report" / "fig2.png").is_file() and "Stage 10 done" in log


def test_classifier_rerun_trains_nothing(classified):
    recipe, _, args = classified
    stamps = {p: p.stat().st_mtime_ns for p in (recipe / "exp").glob("*/best.pth")}
    _run(recipe, ["--stage", "6", "--stop_stage", "9", *args])
    assert stamps and {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_export_of_the_best_systems_and_their_check(classified):
    recipe, log, _ = classified
    export = recipe / "exp" / "export"
    sentences = read_table(recipe / "conf" / "check_set" / "text")
    labels = read_table(recipe / "conf" / "check_set" / "utt2sentiment")
    polar = sum(label != "Neutral" for label in labels.values())
    for family in ("e2e", "two_step"):
        info = json.loads((export / family / "speechsent_model.json").read_text())
        assert info["type"] == family and info["labels"] == ["Negative", "Neutral", "Positive"]
        # the 0.01 h subset system is a study, never the exported product
        assert info["system_json"]["train_hours"] is None
        lines = [json.loads(line) for line in (export / family / "check.jsonl").read_text().splitlines()]
        assert [x["file"] for x in lines] == sorted(sentences)
        for x in lines:
            assert x["label"] in x["probabilities"] and abs(sum(x["probabilities"].values()) - 1) < 1e-4
            assert ("transcript" in x) == (family == "two_step")
        # each model's accuracy: overall, polar, per class, in check_scores.json and printed
        scores = json.loads((export / family / "check_scores.json").read_text())
        right = sum(x["label"] == labels[x["file"]] for x in lines)
        assert (scores["num_utts"], scores["num_right"]) == (len(sentences), right)
        assert scores["polar"]["num_utts"] == polar == 24
        assert sum(c["num_right"] for c in scores["per_class"].values()) == right
        assert len(scores["wrong"]) == len(sentences) - right
        assert f"exp/export/{family}/check.jsonl: {right}/{len(sentences)} right (" in log
        # the 2-step model's transcripts: their WER against the check text (the E2E model has none)
        assert ("asr" in scores) == (family == "two_step")
        if family == "two_step":
            assert scores["asr"]["ref_words"] == sum(len(t.split()) for t in sentences.values())
        # the words of the sentences that the ASR's training text (data/asr_train) lacks, for both families
        heard = {w for t in read_table(recipe / "data" / "asr_train" / "text").values() for w in t.split()}
        unheard = [w for t in sentences.values() for w in t.split() if w not in heard]
        assert scores["unheard"]["heard_text"] == ["data/asr_train/text"]
        assert scores["unheard"]["num_unheard"] == len(unheard)
    assert "Stage 11 done" in log


def test_a_failed_training_job_stops_the_recipe(classified):
    recipe, _, args = classified
    bad = ["--stage", "9", "--stop_stage", "10", *args, "--e2e_args", "--no_such_option 1"]
    log = _run(recipe, bad, ok=False)
    assert "background job(s) failed" in log and "Stage 9 done" not in log


# ---- --encoders: the ASR's encoder and a Hugging Face one compared in one run (stages 5 -> 9 -> 10 -> 11)
PSEUDO = "vader:swbd_train:gt"


@pytest.fixture(scope="module")
def compared(trained, tmp_path_factory):
    """The trained recipe (data, dumps, ASR; no classifier) copied, then stages 5-11 with
    ``--encoders "asr hf:<tiny WavLM dir>"``: per encoder, a supervised BLSTM and a vader pre-training
    fine-tuned; the HF fine-tuned system exported. Returns (recipe, log, the HF model dir)."""
    pytest.importorskip("transformers")
    from speechsent.asr.tiny_model import write_tiny_hf_encoder

    src, _ = trained
    tmp = tmp_path_factory.mktemp("encoders")
    recipe = tmp / "egs" / "mini_sentiment"
    exp_kept = ("asr_", "asr_model")  # the ASR (its model, stats, decodings), no classifier of another test
    shutil.copytree(
        src,
        recipe,
        ignore=lambda d, names: (
            [n for n in names if Path(d) == src / "exp" and not n.startswith(exp_kept)]
            + [n for n in names if Path(d) == src and n == "RESULTS.md"]
        ),
    )
    model = write_tiny_hf_encoder(tmp / "tiny_wavlm", "wavlm")
    conf = recipe / "conf"
    (conf / "tiny_e2e.yaml").write_text(yaml.safe_dump(TINY_E2E))
    (conf / "tiny_e2e_pretrain.yaml").write_text(yaml.safe_dump({**TINY_E2E, "valid_fraction": 0.2}))
    hf_system = f"e2e_hf_tiny_wavlm_blstm_pseudo_{PSEUDO.replace(':', '_')}_all_s0"
    log = _run(recipe, [
        "--stage", "5", "--stop_stage", "11", *TINY_RECIPE_ARGS,
        "--encoders", f"asr hf:{model}", "--hf_layers", "all",
        "--pseudo_labeler", "vader", "--pseudo_args", "--num_threads 1", "--text_archs", "",
        "--e2e_config", "conf/tiny_e2e.yaml", "--e2e_pretrain_config", "conf/tiny_e2e_pretrain.yaml",
        "--e2e_cnn_config", "", "--e2e_hours", "all", "--e2e_curve_hours", "", "--e2e_pseudo_configs", PSEUDO,
        "--e2e_curve_configs", "", "--e2e_seeds", "0", "--train_nj", "2",
        "--export_families", "e2e", "--export_e2e_system", hf_system,
        "--export_check_text", "", "--export_check_labels", "", "--export_check_synth_args", "",
    ])  # fmt: skip
    return recipe, log, model


def test_encoders_compared_in_one_run(compared):
    """Each encoder's dump, its systems (named by it, system.json's encoder), the report's Tables 2 and 4
    naming both, and the exported HF system reproducing its scored utt2prob (<= 1e-4)."""
    from speechsent.asr.hf_encoder import encoder_tag
    from speechsent.audio.io import UtteranceReader
    from speechsent.data.labels import SENTIMENT_LABELS
    from speechsent.inference.model import SentimentModel

    recipe, log, model = compared
    tag = encoder_tag(f"hf:{model}")
    assert tag == "hf_tiny_wavlm"
    for s in DECODE_SETS:  # stage 5: the HF encoder's dump of every set, all 3 hidden states stacked
        info = json.loads((recipe / "dump" / f"encoder_{tag}" / s / "info.json").read_text())
        assert info["model"]["layers"] == [0, 1, 2] and info["model"]["encoder"] == f"hf:{model}"
        utts = read_table(recipe / "data" / s / "utt2spk")
        feats = dict(kaldiio.load_scp(str(recipe / "dump" / f"encoder_{tag}" / s / "feats.scp")))
        assert feats and set(feats) <= set(utts) and {m.shape[1] for m in feats.values()} == {3 * 32}
        assert (recipe / "dump" / "encoder" / s / "feats.scp").is_file()
    exp = recipe / "exp"
    systems = {p.parent.name: json.loads(p.read_text()) for p in exp.glob("e2e_*/system.json")}
    finetuned = f"blstm_pseudo_{PSEUDO.replace(':', '_')}_all_s0"
    expected = {"e2e_blstm_all_s0", f"e2e_{finetuned}", f"e2e_{tag}_blstm_all_s0", f"e2e_{tag}_{finetuned}"}
    assert set(systems) == expected
    for name, system in systems.items():
        assert system["encoder"] == (f"hf:{model}" if name.startswith(f"e2e_{tag}_") else "asr"), name
    hf_model = json.loads((exp / f"e2e_{tag}_{finetuned}" / "model.json").read_text())
    assert hf_model["config"]["feature_layers"] == 3
    assert (exp / f"e2e_{tag}_pretrain_{PSEUDO.replace(':', '_')}_s0" / "pretrain.json").is_file()
    # stage 10: Table 2 and Table 4 name each encoder
    results = (recipe / "RESULTS.md").read_text()
    table2 = results.split("Table 2", 1)[1].split("Table 3", 1)[0]
    assert "| CTC-Attention encoder " in table2 and "| tiny_wavlm (HF encoder) " in table2
    table4 = results.split("Table 4", 1)[1]
    assert "Input + classifier" in table4
    assert "CTC-Attention encoder + BLSTM" in table4 and "tiny_wavlm (HF encoder) + BLSTM" in table4
    assert "E2E encoder (Tables 2 and 4): paper: the frozen encoder of its CTC-attention ASR" in results
    # stage 11: the HF system exported (its encoder packed) reproduces the probabilities stage 9 scored
    export = exp / "export" / "e2e"
    manifest = json.loads((export / "speechsent_model.json").read_text())
    assert manifest["features"]["kind"] == "hf" and (export / "hf_encoder" / "config.json").is_file()
    sentiment = SentimentModel.from_pretrained(export, device="cpu")
    reader = UtteranceReader(recipe / "data" / "swbd_holdout", target_rate=16000)
    probs = read_table(exp / f"e2e_{tag}_{finetuned}" / "score_swbd_holdout" / "utt2prob")
    utts = [u for u in reader.utt_ids() if u in probs]
    assert len(utts) >= len(probs) - 1
    predictions = sentiment.predict_waveforms([reader.load(u)[0] for u in utts])
    for utt, prediction in zip(utts, predictions, strict=True):
        ours = np.array([prediction.probabilities[label] for label in SENTIMENT_LABELS])
        assert np.abs(ours - np.array([float(p) for p in probs[utt].split()])).max() <= 1e-4, utt
    assert "Stage 5 done: dump/encoder/" in log and f"dump/encoder_{tag}/" in log and "Stage 11 done" in log
