"""speechsent.report.tables: the paper's tables, numbers in the right cells, seeds, missing cells."""

from __future__ import annotations

import pytest
from report_fixtures import build_exp, scores, table_rows, write_system

from speechsent.report.collect import MetricStat, collect
from speechsent.report.plots import fig2_data, pseudo_sets_notation
from speechsent.report.tables import format_cell, format_hours, markdown_table, render_results, table4


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    exp = build_exp(tmp_path_factory.mktemp("t") / "exp")
    results = collect(exp)
    figs = fig2_data(results.groups, 86.0)
    return render_results(results, full_train_hours=86.0, corpus="swbd", fig2=figs, fig2_pngs=["fig2.png"])


def _row(rows, **match):
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


def test_format_cell_and_hours():
    assert format_cell(None, 1) == "-"
    assert format_cell(MetricStat(64.126, None, 1), 1) == "64.13"
    assert format_cell(MetricStat(62.0, 2.0, 3), 3) == "62.00 ± 2.00"
    assert format_cell(MetricStat(65.0, 1.41421, 2), 3) == "65.00 ± 1.41 (n=2)"
    assert [format_hours(h) for h in (86.0, 5.0, 2.5, 0.63356, 120.4)] == [
        "86h",
        "5h",
        "2.5h",
        "0.634h",
        "120h",
    ]
    assert pseudo_sets_notation(["swbd_train", "fisher"], "gt") == "S, F"
    assert pseudo_sets_notation(["swbd_train", "fisher"], "asr") == "S_asr, F_asr"
    assert pseudo_sets_notation(["swbd_train", "other"], "asr") == "S_asr, other_asr"
    assert pseudo_sets_notation(None, None) == "-"
    assert pseudo_sets_notation(["swbd_train", "fisher"], "mixed") == "S, F (mixed GT/ASR)"


def test_markdown_table_layout():
    text = markdown_table(["a", "bb"], [["x|y", "1.00"]], [False, True])
    assert text.splitlines() == ["| a    |   bb |", "|------|-----:|", "| x\\|y | 1.00 |"]
    with pytest.raises(ValueError, match="2 cells"):
        markdown_table(["a"], [["1", "2"]])


def test_header(rendered):
    lines = rendered.splitlines()
    assert lines[0] == "# Speech sentiment results — swbd"
    assert "18 systems in 16 groups, 1-3 seed(s) per group" in lines[2]
    assert "whole train set: 86h" in lines[2]
    assert "generated" not in rendered  # no date given


def test_table1_asr_cells(rendered):
    rows = table_rows(rendered, "Table 1:")
    assert [(r["Architecture"], r["Train transcript"]) for r in rows] == [
        ("Baseline", "GT"),
        ("Baseline", "ASR"),
        ("Baseline", "ASR (5h)"),
        ("LM-based (bert-base-uncased)", "GT"),
        ("LM-based (bert-base-uncased)", "ASR"),
        ("LM-based (bert-base-uncased)", "ASR (5h)"),
        ("LM-based (bert-base-uncased)", "GT, scored on GT text (topline)"),
    ]
    # the topline: the GT-trained LM system on GT text (swbd_test 66, swbd_holdout 67)
    assert rows[-1]["Val U-REC"] == "66.00" and rows[-1]["Eval U-REC"] == "67.00"
    assert rows[-1]["System"] == "text_bert_gt"
    gt = _row(rows, Architecture="LM-based (bert-base-uncased)", **{"Train transcript": "GT"})
    # validation = swbd_test_asr (base 63), evaluation = swbd_holdout_asr (base 64)
    assert [gt[f"Val {k}"] for k in ("U-REC", "U-PRE", "U-F1", "W-REC", "W-PRE", "W-F1")] == [
        "63.00",
        "64.00",
        "65.00",
        "66.00",
        "67.00",
        "68.00",
    ]
    assert gt["Eval U-REC"] == "64.00" and gt["Eval W-F1"] == "69.00"
    five = _row(rows, Architecture="LM-based (bert-base-uncased)", **{"Train transcript": "ASR (5h)"})
    assert five["Val U-F1"] == "-" and five["Eval U-F1"] == "53.00" and five["System"] == "text_bert_asr_5h"


def test_table1b_gt_only_scored_systems(rendered):
    rows = table_rows(rendered, "Table 1b:")
    assert len(rows) == 1
    assert (
        rows[0]["System"] == "text_bert_gt"
        and rows[0]["Val U-REC"] == "66.00"
        and rows[0]["Eval U-REC"] == "67.00"
    )


def test_table2_seed_mean_std(rendered):
    rows = table_rows(rendered, "Table 2:")
    assert [(r["Input feature"], r["Classifier"]) for r in rows] == [
        ("FBank", "CNN"),
        ("CTC-Attention encoder", "BLSTM"),
    ]
    blstm = rows[1]
    assert blstm["Seeds"] == "3" and blstm["System"] == "e2e_sup"
    assert blstm["Eval U-F1"] == "62.00 ± 2.00"  # 60, 62, 64
    assert blstm["Val U-REC"] == "65.00 ± 1.41 (n=2)"  # seed 2 not scored on swbd_test: 64, 66
    assert rows[0]["Eval U-REC"] == "40.00"


def test_table3_pseudo_labelers(rendered):
    rows = table_rows(rendered, "Table 3:")
    bert, xlnet = "pseudo_labeler_bert_sst2", "pseudo_labeler_xlnet_sst2"
    assert rows == [
        {"Pseudo labeler": "BERT-SST2", "Eval U-REC": "70.99", "Eval W-REC": "71.05", "Labeler dir": bert},
        {
            "Pseudo labeler": "BERT-SST2 (ASR transcript)",
            "Eval U-REC": "69.08",
            "Eval W-REC": "69.20",
            "Labeler dir": bert,
        },
        {"Pseudo labeler": "XLNet-SST2", "Eval U-REC": "72.15", "Eval W-REC": "72.19", "Labeler dir": xlnet},
    ]


def test_table4_rows(rendered):
    rows = table_rows(rendered, "Table 4:")
    keys = [
        (r["Fine-tuning dataset"], r["Pseudo labeler"], r["Semi-supervised training dataset"]) for r in rows
    ]
    assert keys == [
        ("swbd_train (86h)", "-", "-"),
        ("swbd_train (86h)", "BERT-SST2", "S, F"),
        ("swbd_train (20h)", "-", "-"),
        ("swbd_train (20h)", "BERT-SST2", "S, F"),
        ("swbd_train (10h)", "-", "-"),
        ("swbd_train (10h)", "BERT-SST2", "S, F"),
        ("swbd_train (5h)", "-", "-"),
        ("swbd_train (5h)", "BERT-SST2", "S, F"),
        ("swbd_train (5h)", "BERT-SST2", "S_asr, F_asr"),
    ]
    assert rows[1]["Eval U-F1"] == "67.00" and rows[8]["Val W-PRE"] == "57.00"
    assert "fbank" not in " ".join(r["System"] for r in rows)


def test_fig2_section(rendered):
    assert "![Fig. 2 CTC-Attention encoder + blstm](fig2.png)" in rendered
    rows = table_rows(rendered, "Figure 2")
    assert rows == [
        {
            "Pseudo configuration": "BERT-SST2: S, F",
            "First measured subset reaching baseline (h)": "20.00",
            "Annotation saved": "76.7%",
            "Interpolated crossing (h)": "15.00",
            "Annotation saved (interpolated)": "82.6%",
        },
    ]


def test_systems_index(rendered):
    rows = table_rows(rendered, "Systems")
    sup = _row(rows, Group="e2e_sup")
    assert sup["Seeds"] == "0, 1, 2" and sup["Systems"] == "e2e_sup_seed0, e2e_sup_seed1, e2e_sup_seed2"


def test_unknown_full_hours_and_deterministic(tmp_path):
    exp = tmp_path / "exp"
    write_system(exp, "b_seed1", {"swbd_holdout": scores(50)}, seed=1)
    write_system(exp, "b_seed0", {"swbd_holdout": scores(52)}, seed=0)
    results = collect(exp)
    text = render_results(results, full_train_hours=None, date="2026-01-02")
    assert "generated 2026-01-02" in text and "whole train set: hours unknown" in text
    assert text == render_results(collect(exp), full_train_hours=None, date="2026-01-02")
    rows = table_rows(text, "Table 4:")
    assert rows[0]["Fine-tuning dataset"] == "swbd_train (all)"
    assert rows[0]["Eval U-REC"] == "51.00 ± 1.41" and rows[0]["Val U-REC"] == "-"
    assert "Table 1" not in text and "Table 3" not in text  # no 2-step system, no labeler
    assert table4([], 86.0) is None


def test_hours_value():
    from speechsent.report.tables import hours_value

    assert [hours_value(h) for h in (30.0, 29.974, 1.0, 0.02374, 0.5)] == [
        "30.00",
        "29.97",
        "1.00",
        "0.0237",
        "0.5",
    ]
