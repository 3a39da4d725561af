"""speechsent.scoring: scores vs hand-computed values; prediction files; score_system; the entry point."""

from __future__ import annotations

import json
import logging
import math

import pytest

from speechsent.bin import score as score_bin
from speechsent.kaldi.table import KaldiDataError, write_table
from speechsent.scoring import (
    METRIC_KEYS,
    ScoringError,
    compute_scores,
    read_predictions,
    read_probabilities,
    read_scores,
    score_system,
    write_predictions,
    write_scores,
)

N, U, P = "Negative", "Neutral", "Positive"
# confusion (rows ref, cols hyp): N [2 1 0], U [1 1 1], P [1 0 3]
REFS = [N, N, N, U, U, U, P, P, P, P]
HYPS = [N, N, U, U, P, N, P, P, N, P]


def test_scores_equal_hand_computed_values():
    s = compute_scores(REFS, HYPS)
    assert s["confusion"] == [[2, 1, 0], [1, 1, 1], [1, 0, 3]]
    assert s["num_utts"] == 10
    assert s["labels"] == [N, U, P]
    recall = [2 / 3, 1 / 3, 3 / 4]
    precision = [2 / 4, 1 / 2, 3 / 4]
    f1 = [2 * p * r / (p + r) for p, r in zip(precision, recall, strict=True)]
    support = [3, 3, 4]
    expected = {
        "unweighted_recall": sum(recall) / 3,
        "unweighted_precision": sum(precision) / 3,
        "unweighted_f1": sum(f1) / 3,
        "weighted_recall": sum(r * n for r, n in zip(recall, support, strict=True)) / 10,
        "weighted_precision": sum(p * n for p, n in zip(precision, support, strict=True)) / 10,
        "weighted_f1": sum(f * n for f, n in zip(f1, support, strict=True)) / 10,
    }
    for key in METRIC_KEYS:
        assert s[key] == pytest.approx(100 * expected[key], abs=1e-9), key
    assert s["weighted_recall"] == pytest.approx(60.0)  # = accuracy
    assert s["per_class"][U] == pytest.approx(
        {"precision": 50.0, "recall": 100 / 3, "f1": 40.0, "support": 3}
    )


def test_micro_f1_and_per_class_match_scikit_learn_on_random_labels():
    import random

    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    rng = random.Random(3)
    labels = [N, U, P]
    assert compute_scores(REFS, HYPS)["micro_f1"] == pytest.approx(60.0)  # = accuracy, by hand
    for _ in range(20):
        n = rng.randint(1, 40)
        refs = [rng.choice(labels) for _ in range(n)]
        hyps = [rng.choice(labels) for _ in range(n)]
        s = compute_scores(refs, hyps)
        assert s["micro_f1"] == pytest.approx(100 * f1_score(refs, hyps, labels=labels, average="micro"))
        assert s["micro_f1"] == pytest.approx(100 * accuracy_score(refs, hyps))
        assert s["weighted_recall"] == pytest.approx(s["micro_f1"])
        p, r, f, sup = precision_recall_fscore_support(refs, hyps, labels=labels, zero_division=0)
        for i, label in enumerate(labels):
            assert s["per_class"][label] == pytest.approx(
                {"precision": 100 * p[i], "recall": 100 * r[i], "f1": 100 * f[i], "support": sup[i]}
            )
    assert "micro_f1" not in METRIC_KEYS and len(METRIC_KEYS) == 6


def test_absent_class_keeps_its_row_and_counts_in_macro():
    s = compute_scores([N, P, P], [N, P, N])
    assert s["confusion"] == [[1, 0, 0], [0, 0, 0], [1, 0, 1]]
    assert s["unweighted_recall"] == pytest.approx(100 * (1 + 0 + 0.5) / 3)
    assert s["weighted_recall"] == pytest.approx(100 * 2 / 3)
    assert s["per_class"][U]["support"] == 0


def test_two_class_labels_and_errors():
    s = compute_scores([N, P], [P, P], labels=(N, P))
    assert s["confusion"] == [[0, 1], [0, 1]]
    assert s["unweighted_precision"] == pytest.approx(25.0)  # zero_division=0 for the never-predicted N
    with pytest.raises(ScoringError, match="unknown label 'Neutral'"):
        compute_scores([N, U], [N, N], labels=(N, P))
    with pytest.raises(ScoringError, match="hypotheses"):
        compute_scores([N], [N, N])
    with pytest.raises(ScoringError, match="no utterances"):
        compute_scores([], [])


def test_predictions_round_trip_and_rescoring_equals_scores(tmp_path):
    utts = [f"sw0{i:04d}-A_000000-000100" for i in range(len(REFS))]
    utt2pred = dict(zip(reversed(utts), reversed(HYPS), strict=True))
    utt2prob = {u: [0.2, 0.3, 0.5] for u in utts}
    score_dir = tmp_path / "exp" / "sys" / "score_swbd_test"
    write_predictions(score_dir, utt2pred, utt2prob)
    assert read_predictions(score_dir) == utt2pred
    assert read_probabilities(score_dir, 3) == utt2prob
    lines = (score_dir / "utt2pred").read_text().splitlines()
    assert lines == sorted(lines) and lines[0] == f"{utts[0]} {HYPS[0]}"
    assert (score_dir / "utt2prob").read_text().splitlines()[0] == f"{utts[0]} 0.2 0.3 0.5"

    scores = compute_scores(REFS, HYPS)
    write_scores(score_dir / "scores.json", scores)
    ref = tmp_path / "utt2sentiment"
    write_table(ref, dict(zip(utts, REFS, strict=True)))
    rescored = score_system(score_dir, ref, out=tmp_path / "re.json")
    assert read_scores(tmp_path / "re.json") == {
        **read_scores(score_dir),
        "num_missing": 0,
        "num_imputed": 0,
        "imputed": {},
    }
    assert rescored["confusion"] == scores["confusion"]

    with pytest.raises(ScoringError, match="differ"):
        write_predictions(score_dir, utt2pred, {utts[0]: [1, 0, 0]})
    with pytest.raises(ScoringError, match="finite"):
        write_predictions(score_dir, {utts[0]: N}, {utts[0]: [math.nan, 0, 0]})
    with pytest.raises(ScoringError, match="unknown label"):
        write_predictions(score_dir, {utts[0]: "Happy"})


def test_score_system_errors(tmp_path):
    ref = tmp_path / "utt2sentiment"
    ref.write_text("a Negative\nb Neutral\nc Positive\nd Positive\n")
    hyp = tmp_path / "utt2pred"
    hyp.write_text("a Negative\nb Positive\n")
    with pytest.raises(ScoringError, match=r"2 of the 4 .*e\.g\. c, d"):
        score_system(tmp_path, ref)
    assert not (tmp_path / "scores.json").exists()
    s = score_system(tmp_path, ref, allow_missing=True)
    assert s["num_utts"] == 2 and s["num_missing"] == 2
    hyp.write_text("a Negative\nb Happy\n")
    with pytest.raises(KaldiDataError, match=r"utt2pred:2: unknown label 'Happy'"):
        score_system(tmp_path, ref)


def test_entry_point(tmp_path, capsys):
    ref = tmp_path / "utt2sentiment"
    utts = [f"u{i:02d}" for i in range(len(REFS))]
    write_table(ref, dict(zip(utts, REFS, strict=True)))
    score_dir = tmp_path / "score_swbd_test"
    write_predictions(score_dir, dict(zip(utts, HYPS, strict=True)))
    assert score_bin.main(["--ref", str(ref), "--hyp", str(score_dir / "utt2pred")]) == 0
    scores = json.loads((score_dir / "scores.json").read_text())
    assert scores["weighted_recall"] == pytest.approx(60.0)
    assert "unweighted_f1=" in capsys.readouterr().out
    # the score dir as --hyp, an explicit --out
    assert (
        score_bin.main(["--ref", str(ref), "--hyp", str(score_dir), "--out", str(tmp_path / "s.json")]) == 0
    )
    assert json.loads((tmp_path / "s.json").read_text()) == scores
    # missing predictions: exit 1, or scored with --allow_missing
    write_predictions(score_dir, dict(zip(utts[:-3], HYPS[:-3], strict=True)))
    assert score_bin.main(["--ref", str(ref), "--hyp", str(score_dir)]) == 1
    assert score_bin.main(["--ref", str(ref), "--hyp", str(score_dir), "--allow_missing", "true"]) == 0
    assert json.loads((score_dir / "scores.json").read_text())["num_missing"] == 3
    # two-class labels
    ref2 = tmp_path / "utt2pseudo"
    ref2.write_text("a Negative\nb Positive\n")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "utt2pred").write_text("a Positive\nb Positive\n")
    argv = ["--ref", str(ref2), "--hyp", str(tmp_path / "p"), "--labels", N, P]
    assert score_bin.main(argv) == 0
    assert read_scores(tmp_path / "p")["confusion"] == [[0, 1], [0, 1]]
    with pytest.raises(SystemExit):
        score_bin.main(["--ref", str(ref)])


def test_help_is_light():
    import subprocess
    import sys

    code = (
        "import sys; from speechsent.bin import score; score.get_parser().format_help(); "
        "print('sklearn' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_imputed_predictions_are_scored_and_counted(tmp_path, caplog):
    """A prediction the system did not make from the utterance (e.g. the training prior's class for an
    utterance without usable features) is named in utt2imputed and counted: num_missing is not 0."""
    ref = tmp_path / "utt2sentiment"
    utts = [f"u{i:02d}" for i in range(len(REFS))]
    write_table(ref, dict(zip(utts, REFS, strict=True)))
    score_dir = tmp_path / "score_x"
    utt2pred = dict(zip(utts, HYPS, strict=True))
    imputed = {utts[0]: "no_features", utts[1]: "non_finite_features", utts[2]: "non_finite_features"}
    write_predictions(score_dir, utt2pred, imputed=imputed)
    assert (score_dir / "utt2imputed").read_text().splitlines()[0] == f"{utts[0]} no_features"
    with caplog.at_level(logging.WARNING):
        scores = score_system(score_dir, ref)
    assert scores["num_utts"] == len(REFS)  # scored as written: every utterance counts
    assert scores["num_missing"] == 3 and scores["num_imputed"] == 3
    assert scores["imputed"] == {"no_features": 1, "non_finite_features": 2}
    assert read_scores(score_dir) == scores
    assert "3 of the 10 predictions are imputed (1 no_features, 2 non_finite_features" in caplog.text
    # rescoring through the entry point finds utt2imputed beside utt2pred
    assert score_bin.main(["--ref", str(ref), "--hyp", str(score_dir / "utt2pred")]) == 0
    assert read_scores(score_dir)["num_missing"] == 3
    # with allow_missing, absent predictions add to num_missing; imputed ones stay scored
    del utt2pred[utts[9]]
    write_predictions(score_dir, utt2pred, imputed=imputed)
    scores = score_system(score_dir, ref, allow_missing=True)
    assert scores["num_utts"] == 9 and scores["num_missing"] == 4 and scores["num_imputed"] == 3
    # a rewrite without imputed predictions removes the stale file
    write_predictions(score_dir, utt2pred)
    assert not (score_dir / "utt2imputed").exists()
    assert score_system(score_dir, ref, allow_missing=True)["num_missing"] == 1
    with pytest.raises(ScoringError, match="no prediction"):
        write_predictions(score_dir, utt2pred, imputed={"zz": "no_features"})
    with pytest.raises(ScoringError, match="one word"):
        write_predictions(score_dir, utt2pred, imputed={utts[0]: "no features"})
