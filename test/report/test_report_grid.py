"""The paper's grid in one exp dir: two labelers x two pseudo-set choices x {all, 5h} + Fig. 2 curve sizes + 2
seeds, written through the manifest and scoring writers; Table 4 rows and missing rows from the run options,
Fig. 2 crossing read both ways, Table 1 rows with the topline and the LM layer mode, the header and the
departures generated from the options."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_fixtures import table_rows

from speechsent.report.collect import collect
from speechsent.report.departures import PAPER, departures
from speechsent.report.make import ReportConfig, make_report
from speechsent.report.plots import fig2_data
from speechsent.report.run_info import RunOptions, gather_facts, read_run_options
from speechsent.report.tables import render_results
from speechsent.scoring.metrics import METRIC_KEYS, write_scores
from speechsent.tasks.manifests import SystemManifest
from speechsent.utils.fileio import write_json

BERT, XLNET = "bert-base-uncased_sst2", "xlnet-base-cased_sst2"
SF, S = ["swbd_train", "fisher"], ["swbd_train"]
FULL_HOURS = 20.0  # the fixture's train set: 20 utterances of 1 h
OPTIONS = {
    "recipe": "swbd_sentiment",
    "train_set": "swbd_train",
    "valid_set": "swbd_test",
    "test_sets": "swbd_holdout",
    "unlabeled_sets": "fisher",
    "asr_train_sets": "fisher",
    "asr_exp": "exp/asr_train",
    "asr_overlap_json": "exp/asr_train/overlap.json",
    "decode_mode": "beam",
    "nbpe": "2000",
    "ngpu": "1",
    "pseudo_labelers": f"{BERT} distilbert-base-uncased_sst2 roberta-base_sst2 {XLNET}",
    "sst2": "true",
    "text_lm": "bert-base-uncased",
    "text_hours": "5",
    "e2e_hours": "all 5",
    "e2e_curve_hours": "2.5 5 7.5 10",
    "e2e_pseudo_configs": f"{BERT}:swbd_train:gt {BERT}:swbd_train+fisher:gt {XLNET}:swbd_train+fisher:gt "
    f"{BERT}:swbd_train+fisher:asr",
    "e2e_seeds": "0 1",
    "local_data_opts": "--split conversation --split_seed 3",
    "SWBD": "corpora/swbd",
    "FISHER": "",
}


def _scores(base: float) -> dict:
    """A scores.json of the scorer's keys, every metric = ``base``."""
    return {**dict.fromkeys(METRIC_KEYS, float(base)), "micro_f1": float(base), "num_utts": 10}


def _system(exp: Path, name: str, holdout: float, *, seeds=(0, 1), gt: float | None = None, **fields) -> None:
    """``<name>_s<seed>`` for each seed; holdout (and test) U-F1 = holdout -1 / +1 over the two seeds."""
    for i, seed in enumerate(seeds):
        d = exp / f"{name}_s{seed}"
        d.mkdir(parents=True)
        offset = (-1.0 if i == 0 else 1.0) if len(seeds) == 2 else 0.0
        meta = dict(family="e2e", architecture="blstm", input="encoder", train_set="swbd_train")
        meta.update(fields)
        config = meta.pop("config", {})
        SystemManifest(**meta, system=d.name, seed=seed, config={"seed": seed, **config}).write(d)
        sets = ("swbd_test_asr", "swbd_holdout_asr") if meta["family"] == "two_step" else ()
        for s in ("swbd_test", "swbd_holdout", *sets):
            if meta["family"] == "two_step" and s in ("swbd_test", "swbd_holdout") and gt is None:
                continue
            base = gt if s in ("swbd_test", "swbd_holdout") and meta["family"] == "two_step" else holdout
            write_scores(d / f"score_{s}" / "scores.json", _scores(base + offset))


def _pseudo(labeler: str, sets: list[str], transcript: str = "gt") -> dict:
    return dict(pseudo_labeler=f"pseudo_labeler_{labeler}", pseudo_sets=sets, pseudo_transcript=transcript)


def build_grid(root: Path) -> Path:
    exp = root / "exp"
    # supervised: all (baseline 60), 5 h (the Table 4 size), curve points 2.5, 7.5, 10 h
    for hours, score in ((None, 60), (5.0, 50), (2.5, 45), (7.5, 52), (10.0, 54)):
        _system(exp, f"e2e_blstm_{'all' if hours is None else f'{hours:g}h'}", score, train_hours=hours)
    _system(exp, "e2e_cnn_fbank", 40, architecture="cnn", input="fbank")
    # BERT-SST2 on S+F: 55 @2.5, 58 @5, 61 @7.5, 64 @10, 63 @all -> first measured >= 60: 7.5 h;
    # interpolated 5 + (60 - 58) * 2.5 / 3 = 6.667 h
    for hours, score in ((2.5, 55), (5.0, 58), (7.5, 61), (10.0, 64), (None, 63)):
        size = "all" if hours is None else f"{hours:g}h"
        _system(
            exp,
            f"e2e_blstm_pseudo_{BERT}_swbd_train+fisher_gt_{size}",
            score,
            train_hours=hours,
            **_pseudo(BERT, SF),
        )
    # BERT-SST2 on S: 55 @5, 61 @all (20 h) -> first 20 h, interpolated 5 + 5 * 15 / 6 = 17.5 h
    _system(exp, f"e2e_blstm_pseudo_{BERT}_swbd_train_gt_5h", 55, train_hours=5.0, **_pseudo(BERT, S))
    _system(exp, f"e2e_blstm_pseudo_{BERT}_swbd_train_gt_all", 61, **_pseudo(BERT, S))
    # XLNet-SST2 on S+F: all only (its 5 h row is missing)
    _system(exp, f"e2e_blstm_pseudo_{XLNET}_swbd_train+fisher_gt_all", 62, **_pseudo(XLNET, SF))
    # BERT-SST2 on S_asr+F_asr
    for hours, score in ((5.0, 56), (None, 62)):
        size = "all" if hours is None else "5h"
        _system(
            exp,
            f"e2e_blstm_pseudo_{BERT}_swbd_train+fisher_asr_{size}",
            score,
            train_hours=hours,
            **_pseudo(BERT, SF, "asr"),
        )
    # 2-step: Baseline and BERT x GT / ASR / ASR (5h); the GT LM system also on GT text (topline); pooler
    two = dict(family="two_step", config={"lm_layers": "sum_last4"})
    lm = dict(two, architecture="lm", lm="bert-base-uncased")
    _system(exp, "text_baseline_asr_5h", 23, architecture="baseline", input="asr", train_hours=5.0, **two)
    _system(exp, "text_baseline_gt", 55, architecture="baseline", input="gt", **two)
    _system(exp, "text_baseline_asr", 47, architecture="baseline", input="asr", **two)
    _system(exp, "text_lm_asr_5h", 51, input="asr", train_hours=5.0, **lm)
    _system(exp, "text_lm_gt", 64, gt=70, input="gt", **lm)
    _system(exp, "text_lm_asr", 63, input="asr", **lm)
    _system(exp, "text_lm_pooler_gt", 62, input="gt", **dict(lm, config={"lm_layers": "pooler"}))
    # the labelers (Table 3) with SST-2 dev accuracy for BERT
    for tag, (gt, asr) in ((BERT, (70.99, 69.08)), (XLNET, (72.15, None))):
        d = exp / f"pseudo_labeler_{tag}"
        d.mkdir()
        write_json(d / "labeler.json", {"kind": "hf", "name": tag})
        for s, value in (("swbd_holdout", gt), ("swbd_holdout_asr", asr)):
            if value is not None:
                write_scores(
                    d / f"eval_{s}" / "scores.json", {"unweighted_recall": value, "weighted_recall": value}
                )
    write_json(exp / f"pseudo_labeler_{BERT}" / "sst2_results.json", {"dev_accuracy": 92.5, "best_epoch": 2})
    # the ASR: config, WER per set, overlap
    asr = exp / "asr_train"
    asr.mkdir()  # before overlap.json: write_json does not create dirs
    (asr / "config.yaml").write_text(
        "encoder: transformer\nencoder_conf:\n  output_size: 512\n  num_blocks: 12\n"
        "bpemodel: data/token_list/bpe_unigram2000/bpe.model\ntoken_list: [a, b]\n"
    )
    wers = {
        "swbd_test": "%WER 12.34 [ 123 / 997, 10 ins, 20 del, 93 sub ]",
        "fisher": "%WER 9.50 [ 19 / 200, 1 ins, 2 del, 16 sub ]",
    }
    for s, line in wers.items():
        (asr / "decode_beam" / s).mkdir(parents=True)
        (asr / "decode_beam" / s / "score.txt").write_text(f"# {s}\n{line}\n%SER 50.00 [ 5 / 10 ]\n")
    write_json(
        asr / "overlap.json",
        {
            "asr_train_sets": ["fisher"],
            "asr_train_hours": 2.0,
            "sets": {
                "swbd_train": {"hours": 20.0, "overlap_hours": 0.0, "overlap_fraction": 0.0},
                "swbd_test": {"hours": 1.0, "overlap_hours": 0.25, "overlap_fraction": 0.25},
            },
        },
    )
    # data: swbd_train 20 x 1 h, swbd_test 2 x 0.5 h, fisher 4 x 0.5 h
    for s, n, dur in (("swbd_train", 20, 3600), ("swbd_test", 2, 1800), ("fisher", 4, 1800)):
        (root / "data" / s).mkdir(parents=True)
        (root / "data" / s / "utt2dur").write_text("".join(f"{s}-{i:03d} {dur}\n" for i in range(n)))
    return root


def _write_options(root: Path, **changes: str | None) -> Path:
    values = {k: v for k, v in {**OPTIONS, **changes}.items() if v is not None}
    path = root / "run_options.tsv"
    path.write_text("".join(f"{k}\t{v}\n" for k, v in values.items()))
    return path


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    root = build_grid(tmp_path_factory.mktemp("grid"))
    config = ReportConfig(
        exp_dir=root / "exp",
        out=root / "RESULTS.md",
        plots_dir=None,
        data_dir=root / "data",
        run_options=_write_options(root),
        date="2026-01-02",
    )
    text, _ = make_report(config)
    return root, text


def test_table4_every_row_in_the_paper_order_and_missing_row_flagged(grid):
    _, text = grid
    rows = table_rows(text, "Table 4:")
    keys = [
        (r["Fine-tuning dataset"], r["Pseudo labeler"], r["Semi-supervised training dataset"]) for r in rows
    ]
    expected = []
    for size in ("swbd_train (20h)", "swbd_train (5h)"):
        expected += [
            (size, "-", "-"),
            (size, "BERT-SST2", "S"),
            (size, "BERT-SST2", "S, F"),
            (size, "XLNet-SST2", "S, F"),
            (size, "BERT-SST2", "S_asr, F_asr"),
        ]
    assert keys == expected  # the curve sizes (2.5, 7.5, 10 h) are not Table 4 rows; no fbank CNN row
    assert rows[0]["System"] == "e2e_blstm_all" and rows[0]["Seeds"] == "2"
    assert rows[0]["Eval U-F1"] == "60.00 ± 1.41"  # 59, 61
    assert rows[2]["System"] == f"e2e_blstm_pseudo_{BERT}_swbd_train+fisher_gt_all"
    missing = rows[8]
    assert missing["System"] == f"**missing** (e2e_blstm_pseudo_{XLNET}_swbd_train+fisher_gt_5h_s*)"
    assert missing["Seeds"] == "0" and missing["Eval U-F1"] == "-"
    assert sum("**missing**" in r["System"] for r in rows) == 1


def test_table4_grid_without_options_lists_every_size(grid):
    root, _ = grid
    text = render_results(collect(root / "exp"), full_train_hours=FULL_HOURS)
    rows = table_rows(text, "Table 4:")
    assert len({r["Fine-tuning dataset"] for r in rows}) == 5  # all, 10, 7.5, 5, 2.5 h
    assert not any("missing" in r["System"] for r in rows)


def test_fig2_crossing_both_ways(grid):
    root, text = grid
    (fig,) = fig2_data(collect(root / "exp").groups, FULL_HOURS)
    assert fig.baseline.mean == pytest.approx(60.0) and fig.baseline.std == pytest.approx(2**0.5)
    # XLNet (one size) is not a curve
    assert [c.label for c in fig.curves] == [
        "supervised only",
        "BERT-SST2: S",
        "BERT-SST2: S, F",
        "BERT-SST2: S_asr, F_asr",
    ]
    by_label = {c.label: c for c in fig.crossings}
    sf = by_label["BERT-SST2: S, F"]
    assert sf.first_hours == 7.5 and sf.first_saving_percent == pytest.approx(62.5)
    assert sf.hours == pytest.approx(5 + 2 * 2.5 / 3) and sf.saving_percent == pytest.approx(
        100 * (1 - (5 + 2 * 2.5 / 3) / 20)
    )
    s_only = by_label["BERT-SST2: S"]
    assert s_only.first_hours == 20 and s_only.hours == pytest.approx(17.5)
    row = next(r for r in table_rows(text, "Figure 2") if r["Pseudo configuration"] == "BERT-SST2: S, F")
    assert row["First measured subset reaching baseline (h)"] == "7.50" and row["Annotation saved"] == "62.5%"
    assert row["Interpolated crossing (h)"] == "6.67" and row["Annotation saved (interpolated)"] == "66.7%"


def test_table1_rows_topline_and_layer_mode(grid):
    _, text = grid
    rows = table_rows(text, "Table 1:")
    sum4, pooler = (
        "LM-based (bert-base-uncased)",
        "LM-based (bert-base-uncased, pooler: BERT's pooled sentence embedding)",
    )
    assert [(r["Architecture"], r["Train transcript"]) for r in rows] == [
        ("Baseline", "GT"),
        ("Baseline", "ASR"),
        ("Baseline", "ASR (5h)"),
        (sum4, "GT"),
        (sum4, "ASR"),
        (sum4, "ASR (5h)"),
        (pooler, "GT"),  # a different experiment from the sum_last4 GT system, not a third seed
        (sum4, "GT, scored on GT text (topline)"),
    ]
    assert rows[3]["Eval U-F1"] == "64.00 ± 1.41" and rows[-1]["Eval U-F1"] == "70.00 ± 1.41"
    assert rows[-1]["System"] == rows[3]["System"] == "text_lm_gt"


def test_table3_paper_names_and_sst2_dev_accuracy(grid):
    _, text = grid
    rows = table_rows(text, "Table 3:")
    assert [(r["Pseudo labeler"], r["Eval U-REC"], r["SST-2 dev acc"]) for r in rows] == [
        ("BERT-SST2", "70.99", "92.50"),
        ("BERT-SST2 (ASR transcript)", "69.08", "92.50"),
        ("XLNet-SST2", "72.15", "-"),
    ]


def test_header_fields(grid):
    _, text = grid
    assert "## Environments" in text and "- date: `2026-01-02`" in text
    for field in (
        "speechsent git hash: `",
        "python version: `",
        "torch version: `",
        "espnet version: `",
        "transformers version: `",
        "GPU: `",
    ):
        assert f"- {field}" in text, field
    assert "run options: `" in text and "(recipe `swbd_sentiment`, --ngpu 1)" in text
    assert "- SWBD: `corpora/swbd`" in text and "- FISHER: (empty" in text
    data = {r["Set"]: r for r in table_rows(text, "Data")}
    assert data["swbd_train"]["Hours"] == "20.00" and data["swbd_train"]["Utterances"] == "20"
    assert (
        data["swbd_train"]["Role"] == "train"
        and data["swbd_train"]["Heard in ASR training"] == "0.00 h (0.0%)"
    )
    assert data["swbd_test"]["ASR WER % (mode)"] == "12.34 (beam)"
    assert data["swbd_test"]["Heard in ASR training"] == "0.25 h (25.0%)"
    assert (
        data["fisher"]["Role"] == "unlabeled (pseudo-labeled), ASR training"
        and data["fisher"]["Hours"] == "2.00"
    )
    assert (
        "- model: `exp/asr_train`: trained on fisher (2.0 h); encoder transformer, 12 blocks x 512, 2000 BPE"
        in text
    )


def _departures(root: Path, **changes: str | None) -> list[str]:
    options = read_run_options(_write_options(root, **changes))
    facts = gather_facts(options, data_dir=root / "data", base_dir=root)
    return departures(facts, collect(root / "exp"))


def _line(lines: list[str], start: str) -> str | None:
    return next((line for line in lines if line.startswith(start)), None)


def test_departures_generated_from_the_options(grid):
    root, text = grid
    lines = _departures(root)
    assert "## Departures from the paper" in text and f"- {lines[0]}" in text
    # the paper's own settings: no line
    for start in ("Pseudo labelers", "Table 4 pseudo", "Text LM", "GPUs"):
        assert _line(lines, start) is None, start
    asr = _line(lines, "ASR: paper: an in-house")  # always: the in-house ASR
    assert "trained here on fisher (2 h; transformer 12 x 512, 2000 BPE)" in asr
    assert "swbd_test 0.25 h (25%)" in asr and "decoding: beam" in asr
    split = _line(lines, "Split:")
    assert "conversation-disjoint split" in split and "--split_seed 3" in split and "20 h swbd_train" in split
    assert (
        _line(lines, "Seeds:")
        == "Seeds: paper: one run per system reported; ours: 2 seeds per system, mean ± sample std."
    )
    assert "Fig. 2 subsets: paper: 2.5 h steps up to 86 h; ours: 2.5 5 7.5 10 h" not in (
        _line(lines, "Table 4 fine") or ""
    )
    assert _line(lines, "Fisher (pseudo-labeled F): paper: ~2,000 h; ours: 2 h")
    # change an option: the line changes
    changed = _departures(
        root,
        text_lm="roberta-base",
        ngpu="4",
        e2e_seeds="0",
        pseudo_labelers=BERT,
        e2e_pseudo_configs=f"{BERT}:swbd_train+fisher:gt",
        asr_model_dir="models/asr",
        asr_exp=None,
    )
    assert _line(changed, "Text LM").endswith("ours: roberta-base.")
    assert "4 GPUs" in _line(changed, "GPUs:") and _line(changed, "Seeds:") is None
    assert _line(changed, "Pseudo labelers").endswith(
        "ours: BERT-SST2 (bert-base-uncased_sst2) fine-tuned here on SST-2."
    )
    assert _line(changed, "Table 4 pseudo").endswith("ours: BERT-SST2 on S+F (gt).")
    assert "the external model models/asr" in _line(changed, "ASR:")
    assert PAPER["nbpe"] == 2000 and PAPER["seeds"] == 1


def test_report_without_run_options(grid):
    root, _ = grid
    config = ReportConfig(
        exp_dir=root / "exp", out=root / "R2.md", plots_dir=None, data_dir=root / "data", environment=False
    )
    text, _ = make_report(config)
    assert "run options: unknown (no --run_options)" in text and "## Environments" in text
    assert "git hash" not in text
    assert "ours: unknown (no --run_options)" in text  # the ASR line
    assert "Seeds: paper: one run per system reported; ours: 2 seeds" in text  # from the exp dir
    assert not any("missing" in r["System"] for r in table_rows(text, "Table 4:"))
    assert RunOptions().known is False


def test_run_options_errors(tmp_path):
    from speechsent.report.collect import ReportError

    bad = tmp_path / "o.tsv"
    bad.write_text("recipe\tx\nno tab here\n")
    with pytest.raises(ReportError, match=r"o.tsv:2: expected 'name<TAB>value'"):
        read_run_options(bad)
    bad.write_text("a\t1\na\t2\n")
    with pytest.raises(ReportError, match=r"o.tsv:2: option 'a' given twice"):
        read_run_options(bad)
    ok = tmp_path / "ok.tsv"
    ok.write_text("# comment\ntext_hours\t\nlocal_data_opts\t--split lists --split_lists ids  \n")
    options = read_run_options(ok)
    assert options.get("text_hours") == "" and options.list("text_hours") == []
    assert options.get("local_data_opts") == "--split lists --split_lists ids" and options.get("nbpe") is None


def test_option_value():
    from speechsent.report.run_info import option_value

    assert option_value("--split-seed 7 --split lists", "split_seed") == "7"
    assert option_value("--split_seed=8", "split_seed") == "8"
    assert option_value("--split lists --split_lists 'a b'", "split_lists") == "a b"
    assert option_value("--other 1", "split") is None and option_value(None, "split") is None


WAVLM = "hf:microsoft/wavlm-base-plus"


def test_tables_per_encoder(grid, tmp_path):
    """``--encoders "asr hf:<id>@<rev>"``: Table 2 a row per encoder, Table 4's grid once per encoder (its
    missing rows named as the recipe names that encoder's systems), one Fig. 2 per encoder, the departure."""
    import shutil

    from speechsent.asr.hf_encoder import encoder_tag

    root = tmp_path / "grid"
    shutil.copytree(grid[0], root)
    exp, tag = root / "exp", encoder_tag(WAVLM)
    _system(exp, f"e2e_{tag}_blstm_all", 66, encoder=WAVLM)
    _system(exp, f"e2e_{tag}_blstm_5h", 57, train_hours=5.0, encoder=WAVLM)
    _system(exp, f"e2e_{tag}_blstm_pseudo_{BERT}_swbd_train_gt_all", 68, encoder=WAVLM, **_pseudo(BERT, S))
    config = ReportConfig(
        exp_dir=exp,
        out=root / "RESULTS.md",
        plots_dir=None,
        data_dir=root / "data",
        run_options=_write_options(root, encoders=f"asr {WAVLM}@0123abc", hf_layers="all"),
        date="2026-01-02",
    )
    text, _ = make_report(config)
    table2 = table_rows(text, "Table 2:")
    assert [(r["Input feature"], r["System"]) for r in table2] == [
        ("FBank", "e2e_cnn_fbank"),
        ("CTC-Attention encoder", "e2e_blstm_all"),
        ("microsoft/wavlm-base-plus (HF encoder)", f"e2e_{tag}_blstm_all"),
    ]
    rows = table_rows(text, "Table 4:")
    assert len(rows) == 2 * 2 * 5  # encoders x sizes x (supervised + 4 configs)
    ours = [r for r in rows if r["Input + classifier"] == "microsoft/wavlm-base-plus (HF encoder) + BLSTM"]
    assert rows[len(rows) // 2 :] == ours and len(ours) == 10
    assert [r["System"] for r in ours[:2]] == [
        f"e2e_{tag}_blstm_all",
        f"e2e_{tag}_blstm_pseudo_{BERT}_swbd_train_gt_all",
    ]
    assert ours[2]["System"] == f"**missing** (e2e_{tag}_blstm_pseudo_{BERT}_swbd_train+fisher_gt_all_s*)"
    assert ours[5]["System"] == f"e2e_{tag}_blstm_5h" and ours[5]["Eval U-F1"] == "57.00 ± 1.41"
    assert {r["Input + classifier"] for r in rows[:10]} == {"CTC-Attention encoder + BLSTM"}
    assert [f.input for f in fig2_data(collect(exp).groups, FULL_HOURS)] == ["encoder", WAVLM]
    assert (
        "E2E encoder (Tables 2 and 4): paper: the frozen encoder of its CTC-attention ASR; ours: the ASR's "
        "encoder and microsoft/wavlm-base-plus (HF encoder) (hidden layers stored: all)." in text
    )


def test_system_json_without_encoder_reads_as_the_asr_encoder(tmp_path):
    """Files written before system.json's ``encoder``: an E2E system on encoder features is the ASR's."""
    d = tmp_path / "e2e_blstm_all_s0"
    d.mkdir()
    write_json(d / "system.json", {"format_version": 1, "family": "e2e", "architecture": "blstm",
                                   "input": "encoder"})  # fmt: skip
    assert SystemManifest.read(d).encoder == "asr"
    write_json(
        d / "system.json", {"format_version": 1, "family": "e2e", "architecture": "cnn", "input": "fbank"}
    )
    assert SystemManifest.read(d).encoder is None
