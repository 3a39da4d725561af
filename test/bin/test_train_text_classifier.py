"""Stage 8 end to end on a tiny separable corpus: training, scoring files, system.json, reruns, LM cache."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import precision_recall_fscore_support

from speechsent.bin import train_text_classifier as ttc
from speechsent.models.text_classifier import TextSentimentPredictor
from speechsent.text import lm_features
from speechsent.text.lm_features import build_tiny_lm
from speechsent.text.tokenize import train_sentencepiece

CONF = Path(__file__).parent / "conf_text_classifier"
CUES = {
    "Negative": ["awful", "hate", "terrible"],
    "Neutral": ["weather", "table", "monday"],
    "Positive": ["great", "love", "wonderful"],
}
FILLER = ["i", "the", "it", "was", "um", "yeah", "so", "and"]
WORDS = FILLER + [w for ws in CUES.values() for w in ws]


def write_set(path: Path, n: int, seed: int, labels: bool = True, empty: int = 0) -> Path:
    rng = random.Random(seed)
    path.mkdir(parents=True)
    text, sent = [], []
    for i in range(n):
        label = ("Negative", "Neutral", "Positive")[i % 3]
        words = [*rng.choices(FILLER, k=rng.randint(1, 5)), rng.choice(CUES[label])]
        rng.shuffle(words)
        utt = f"sw0{seed}-A_{i:06d}-{i + 1:06d}"
        text.append(f"{utt} {' '.join(words)}" if i >= empty else utt)
        sent.append(f"{utt} {label}")
    (path / "text").write_text("\n".join(text) + "\n")
    if labels:
        (path / "utt2sentiment").write_text("\n".join(sent) + "\n")
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    write_set(root / "swbd_train", 90, 1)
    write_set(root / "swbd_test", 24, 2)
    write_set(root / "swbd_holdout", 30, 3)
    write_set(root / "swbd_holdout_asr", 30, 3, labels=False, empty=2)  # labels: the GT sibling's
    (root / "swbd_train_5h").mkdir()
    (root / "swbd_train_5h" / "utt2spk").write_text(
        "".join(
            line.split()[0] + " spk\n"
            for line in (root / "swbd_train" / "text").read_text().splitlines()[:45]
        )
    )
    return root


def args_for(corpus: Path, exp: Path, *extra: str) -> list[str]:
    return [
        "--train_dir", str(corpus / "swbd_train"), "--valid_dir", str(corpus / "swbd_test"),
        "--score_dirs", f"{corpus}/swbd_holdout {corpus}/swbd_holdout_asr {corpus}/swbd_test_asr",
        "--exp_dir", str(exp), *extra,
    ]  # fmt: skip


def check_predictor(exp: Path, data: Path, atol: float) -> None:
    """The exported-model API gives the probabilities of utt2prob from the transcripts."""
    texts = dict([*line.split(maxsplit=1), ""][:2] for line in (data / "text").read_text().splitlines())
    rows = [line.split() for line in (exp / f"score_{data.name}" / "utt2prob").read_text().splitlines()]
    predictor = TextSentimentPredictor(exp)
    probs = predictor.predict([texts.get(row[0], "") for row in rows], batch_size=7)
    expected = np.array([[float(x) for x in row[1:]] for row in rows])
    np.testing.assert_allclose(probs, expected, atol=atol)
    assert predictor.labels == ["Negative", "Neutral", "Positive"]


def check_scores(score_dir: Path, ref: Path) -> dict:
    """scores.json equals scikit-learn's metrics recomputed from utt2pred."""
    refs = dict(line.split() for line in ref.read_text().splitlines())
    hyps = dict(line.split() for line in (score_dir / "utt2pred").read_text().splitlines())
    assert set(hyps) == set(refs)
    probs = {
        line.split()[0]: [float(x) for x in line.split()[1:]]
        for line in (score_dir / "utt2prob").read_text().splitlines()
    }
    assert all(abs(sum(p) - 1) < 1e-4 for p in probs.values())
    scores = json.loads((score_dir / "scores.json").read_text())
    utts = sorted(refs)
    y, h = [refs[u] for u in utts], [hyps[u] for u in utts]
    for prefix, average in (("unweighted", "macro"), ("weighted", "weighted")):
        p, r, f, _ = precision_recall_fscore_support(y, h, average=average, zero_division=0)
        assert scores[f"{prefix}_precision"] == pytest.approx(100 * p)
        assert scores[f"{prefix}_recall"] == pytest.approx(100 * r)
        assert scores[f"{prefix}_f1"] == pytest.approx(100 * f)
    assert scores["num_utts"] == len(utts)
    return scores


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models: one torch thread is fastest (and much faster on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_baseline_trains_scores_and_reruns_without_work(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    corpus = Path(shutil.copytree(corpus, tmp_path / "data"))  # this test adds a set
    exp = tmp_path / "exp" / "text_baseline_gt"
    argv = ["--config", str(CONF / "baseline.yaml"), *args_for(corpus, exp)]
    assert ttc.main(argv) == 0
    holdout = check_scores(exp / "score_swbd_holdout", corpus / "swbd_holdout" / "utt2sentiment")
    assert holdout["unweighted_f1"] > 80  # the cue words separate the classes
    check_scores(exp / "score_swbd_holdout_asr", corpus / "swbd_holdout" / "utt2sentiment")  # 2 empty texts
    check_predictor(exp, corpus / "swbd_holdout_asr", atol=1e-5)
    assert not (exp / "score_swbd_test_asr").exists()  # no such dir: not scored
    system = json.loads((exp / "system.json").read_text())
    assert system["family"] == "two_step" and system["architecture"] == "baseline"
    assert system["input"] == "gt" and system["train_set"] == "swbd_train" and system["lm"] is None
    assert system["train_hours"] is None and system["select_set"] == "swbd_test" and system["seed"] == 0
    model = json.loads((exp / "model.json").read_text())
    assert model["classifier"]["num_layers"] == 2 and (exp / "bpe.model").is_file()
    assert len((exp / "metrics.jsonl").read_text().splitlines()) == 6

    def no_work(*_a, **_k):
        raise AssertionError("a rerun must not train")

    monkeypatch.setattr("speechsent.training.Trainer.fit", no_work)
    assert ttc.main(argv) == 0  # .done matches: nothing to do
    # a new score dir: scored without retraining (the finished checkpoint is resumed, fit returns at once)
    monkeypatch.undo()
    write_set(corpus / "swbd_test_asr", 24, 2, labels=False)
    before = (exp / "metrics.jsonl").read_text()
    assert ttc.main(argv) == 0
    assert (exp / "metrics.jsonl").read_text() == before
    check_scores(exp / "score_swbd_test_asr", corpus / "swbd_test" / "utt2sentiment")
    # more epochs continue the run; another training option retrains from scratch
    assert ttc.main([*argv, "--max_epochs", "7"]) == 0
    assert (exp / "metrics.jsonl").read_text().startswith(before) and len(before.splitlines()) == 6
    assert len((exp / "metrics.jsonl").read_text().splitlines()) == 7
    assert ttc.main([*argv, "--max_epochs", "2", "--lr", "0.02"]) == 0
    assert len((exp / "metrics.jsonl").read_text().splitlines()) == 2


def test_asr_subset_system_json_and_errors(corpus: Path, tmp_path: Path) -> None:
    exp = tmp_path / "text_baseline_asr_5h"
    argv = ["--config", str(CONF / "baseline.yaml"), *args_for(corpus, exp), "--max_epochs", "1"]
    argv[argv.index("--train_dir") + 1] = str(corpus / "swbd_holdout_asr")  # an _asr train dir
    utt_list = str(corpus / "swbd_train_5h" / "utt2spk")
    with pytest.raises(SystemExit):
        ttc.main([*argv, "--train_hours", "5"])  # hours without the list
    assert ttc.main([*argv, "--train_utt_list", utt_list, "--train_hours", "5"]) == 1  # no utt of the list
    argv[argv.index("--train_dir") + 1] = str(corpus / "swbd_train")
    bpe = train_sentencepiece(WORDS * 3, tmp_path / "asr_bpe.model", vocab_size=30)  # e.g. the ASR's
    subset = ["--train_utt_list", utt_list, "--train_hours", "5", "--input", "asr", "--bpemodel", str(bpe)]
    assert ttc.main([*argv, *subset]) == 0
    system = json.loads((exp / "system.json").read_text())
    assert system["train_hours"] == 5.0 and system["input"] == "asr"
    assert (exp / "bpe.model").read_bytes() == bpe.read_bytes()
    assert ttc.main([*argv, "--valid_dir", str(tmp_path / "missing")]) == 1


@pytest.mark.slow
def test_lm_features_cached_once_for_all_systems(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    lm = build_tiny_lm(tmp_path / "tiny_bert", WORDS)
    calls = {"n": 0}
    forward = lm_features.LMEncoder.forward

    def counting(self, *a, **k):
        calls["n"] += 1
        return forward(self, *a, **k)

    monkeypatch.setattr(lm_features.LMEncoder, "forward", counting)
    cache = tmp_path / "lm_cache"
    base = ["--config", str(CONF / "lm.yaml"), "--lm", str(lm), "--lm_cache_dir", str(cache)]
    assert ttc.main([*base, *args_for(corpus, tmp_path / "text_lm_gt")]) == 0
    first = calls["n"]
    assert first > 0 and len(list(cache.iterdir())) >= 3  # train, test, holdout(+_asr)
    scores = check_scores(
        tmp_path / "text_lm_gt" / "score_swbd_holdout", corpus / "swbd_holdout" / "utt2sentiment"
    )
    assert scores["num_utts"] == 30  # learning itself: the baseline test and test_text_classifier_model
    check_predictor(tmp_path / "text_lm_gt", corpus / "swbd_holdout_asr", atol=1e-3)
    first = calls["n"]  # (the predictor runs the LM too)
    system = json.loads((tmp_path / "text_lm_gt" / "system.json").read_text())
    assert system["architecture"] == "lm" and system["lm"] == str(lm)
    # another seed, same LM and transcripts: every feature comes from the cache
    seed1 = [*args_for(corpus, tmp_path / "text_lm_gt_seed1"), "--seed", "1", "--max_epochs", "1"]
    assert ttc.main([*base, *seed1]) == 0
    assert calls["n"] == first
    # fine-tuning runs the LM inside the model (no cache)
    ft = tmp_path / "text_lm_ft"
    assert ttc.main([*base, *args_for(corpus, ft), "--finetune_lm", "true", "--max_epochs", "1"]) == 0
    assert calls["n"] > first and (ft / "score_swbd_holdout" / "scores.json").is_file()
    check_predictor(ft, corpus / "swbd_holdout", atol=1e-4)


def test_a_class_without_training_utterance(corpus: Path, tmp_path: Path, caplog) -> None:
    labels = dict(line.split() for line in (corpus / "swbd_train" / "utt2sentiment").read_text().splitlines())
    no_neutral = tmp_path / "no_neutral"
    no_neutral.write_text("".join(f"{u} spk\n" for u, lab in labels.items() if lab != "Neutral"))
    exp = tmp_path / "text_2cls"
    argv = ["--config", str(CONF / "baseline.yaml"), *args_for(corpus, exp), "--max_epochs", "1"]
    argv += ["--train_utt_list", str(no_neutral), "--score_dirs", ""]
    assert ttc.main(argv) == 1
    assert "no utterance of class Neutral (Negative 30, Neutral 0, Positive 30)" in caplog.text
    assert "--allow_missing_classes true" in caplog.text and not (exp / "checkpoint.pth").exists()
    caplog.clear()
    assert ttc.main([*argv, "--allow_missing_classes", "true"]) == 0
    assert "!!! train swbd_train" in caplog.text and (exp / "system.json").is_file()
