"""Stage 6 (speechsent.text.pseudo_labeler): Table 3 evaluation, the labeler dir, its entry point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_labelers_fixtures import make_data_dir, make_tiny_bert

from speechsent.bin import pseudo_labeler as stage6
from speechsent.kaldi.table import KaldiDataError
from speechsent.text.labelers import Labeler
from speechsent.text.pseudo_label_cli import pseudo_labeler_config
from speechsent.text.pseudo_labeler import (
    PseudoLabelerConfig,
    default_name,
    evaluate_labeler,
    make_pseudo_labeler,
)

# -- Table 3 evaluation --------------------------------------------------------------------------------------


class _FixedLabeler(Labeler):
    """P(Positive) = 0.9 for texts containing a positive word, else 0.1."""

    kind = "fixed"
    name = "fixed"

    def predict_proba(self, texts):
        p = np.array([0.9 if ("good" in t or "great" in t) else 0.1 for t in texts])
        return np.stack([1 - p, p], axis=1)

    def spec(self):
        return {"kind": "fixed"}


def _write(path: Path, rows: dict[str, str]) -> None:
    path.write_text("".join(f"{k} {v}".rstrip() + "\n" for k, v in sorted(rows.items())), encoding="utf-8")


def test_evaluate_labeler_numbers(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    gold = {
        "u1": "Positive",
        "u2": "Positive",
        "u3": "Positive",
        "u4": "Negative",
        "u5": "Neutral",
        "u6": "Negative",
    }
    text = {"u1": "good", "u2": "great", "u3": "meh", "u4": "bad", "u5": "good", "u6": ""}
    _write(data / "utt2sentiment", gold)
    _write(data / "text", text)
    scores, utt2pred, utt2prob = evaluate_labeler(_FixedLabeler(), data)
    # Positive: 2/3 right; Negative: 2/2 right (u4, u6) -> macro recall (66.67 + 100) / 2; weighted 4/5
    assert scores["unweighted_recall"] == pytest.approx((200 / 3 + 100) / 2)
    assert scores["weighted_recall"] == pytest.approx(80.0)
    assert scores["num_utts"] == 5 and scores["num_neutral_excluded"] == 1 and scores["num_empty_text"] == 1
    assert scores["labels"] == ["Negative", "Positive"]
    assert scores["confusion"] == [[2, 0], [1, 2]]
    assert "u5" not in utt2pred and utt2pred["u3"] == "Negative" and utt2prob["u1"] == pytest.approx(0.9)
    from sklearn.metrics import precision_score

    refs = [gold[u] for u in utt2pred]
    hyps = list(utt2pred.values())
    assert scores["unweighted_precision"] == pytest.approx(100 * precision_score(refs, hyps, average="macro"))


# -- stage 6 entry point -------------------------------------------------------------------------------------


def test_stage6_hf_model_eval_and_rerun(tmp_path, caplog):
    model_dir = make_tiny_bert(tmp_path / "m", initializer_range=1.0)
    make_data_dir(tmp_path / "data" / "swbd_holdout", num_utts=30)
    make_data_dir(tmp_path / "data" / "swbd_holdout_asr", num_utts=30, empty=3)
    out = tmp_path / "exp" / "pseudo_labeler_tiny"
    argv = [
        "--pseudo_labeler",
        str(model_dir),
        "--out_dir",
        str(out),
        "--eval_sets",
        str(tmp_path / "data" / "swbd_holdout"),
        "--eval_asr",
        "true",
    ]
    assert stage6.main(argv) == 0
    spec = json.loads((out / "labeler.json").read_text())
    assert spec["name"] == "tiny" and spec["model"] == str(model_dir.resolve())
    for name in ("swbd_holdout", "swbd_holdout_asr"):
        scores = json.loads((out / f"eval_{name}" / "scores.json").read_text())
        assert {"unweighted_recall", "weighted_recall", "confusion", "num_utts"} <= set(scores)
        assert scores["num_utts"] == 20 and scores["num_neutral_excluded"] == 10
        assert (out / f"eval_{name}" / "utt2pred").is_file()
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    caplog.clear()
    caplog.set_level("INFO")
    assert stage6.main(argv) == 0  # a rerun does no work
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == mtimes
    assert "up to date" in caplog.text
    # a changed evaluation text is evaluated again
    (tmp_path / "data" / "swbd_holdout" / "text").write_text(
        (tmp_path / "data" / "swbd_holdout_asr" / "text").read_text()
    )
    assert stage6.main(argv) == 0
    assert (out / "eval_swbd_holdout" / "scores.json").stat().st_mtime_ns != mtimes[
        out / "eval_swbd_holdout" / "scores.json"
    ]


def test_stage6_vader_and_errors(tmp_path):
    make_data_dir(tmp_path / "holdout", num_utts=12)
    out = tmp_path / "exp" / "pseudo_labeler_vader"
    assert (
        stage6.main(
            ["--pseudo_labeler", "vader", "--out_dir", str(out), "--eval_sets", str(tmp_path / "holdout")]
        )
        == 0
    )
    assert json.loads((out / "labeler.json").read_text())["kind"] == "vader"
    assert (out / "eval_holdout" / "scores.json").is_file()
    # no utt2sentiment / fine-tuning VADER: errors, not tracebacks
    make_data_dir(tmp_path / "unlabeled", num_utts=4, sentiment=False)
    assert (
        stage6.main(
            ["--pseudo_labeler", "vader", "--out_dir", str(out), "--eval_sets", str(tmp_path / "unlabeled")]
        )
        == 1
    )
    assert stage6.main(["--pseudo_labeler", "vader", "--sst2_dir", str(tmp_path), "--out_dir", str(out)]) == 1


def test_bad_utt2sentiment_label_names_file_and_line(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _write(data / "utt2sentiment", {"u1": "Positive", "u2": "Happy"})
    _write(data / "text", {"u1": "good", "u2": "great"})
    with pytest.raises(KaldiDataError, match=r"utt2sentiment:2:"):
        evaluate_labeler(_FixedLabeler(), data)


def test_library_call_and_the_entry_points_config(tmp_path):
    """Stage 6 from Python (a typed config, no command line) = the entry point's config of those options."""
    make_data_dir(tmp_path / "holdout", num_utts=12)
    config = PseudoLabelerConfig(
        "vader", out_dir=str(tmp_path / "exp" / "vader"), eval_sets=[str(tmp_path / "holdout")]
    )
    scores = make_pseudo_labeler(config)
    assert set(scores) == {"holdout"} and scores["holdout"]["num_utts"] == 8
    args = stage6.get_parser().parse_args(
        ["--pseudo_labeler", "vader", "--out_dir", config.out_dir, "--eval_sets", str(tmp_path / "holdout")]
    )
    assert pseudo_labeler_config(args) == config
    assert default_name("vader,exp/pseudo_labeler_bert/") == "vader+bert"
    assert PseudoLabelerConfig("a/b c").out_path() == Path("exp/pseudo_labeler_b_c")
