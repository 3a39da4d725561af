"""speechsent.bin.make_report: the stage-10 entry point end to end on fixture exp dirs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from report_fixtures import build_exp, scores, table_rows, write_labeler, write_system

from speechsent.bin import make_report
from speechsent.report.make import ReportConfig
from speechsent.report.make import make_report as make_report_files

REPO = Path(__file__).resolve().parents[2]


def _small_exp(exp: Path) -> Path:
    write_system(exp, "e2e_sup_seed0", {"swbd_test": scores(60), "swbd_holdout": scores(58)}, seed=0)
    write_system(exp, "e2e_sup_seed1", {"swbd_holdout": scores(60)}, seed=1)
    write_system(
        exp,
        "e2e_semi_5h",
        {"swbd_holdout": scores(59)},
        train_hours=0.25,
        pseudo_labeler="pl_bert",
        pseudo_sets=["swbd_train"],
        pseudo_transcript="gt",
    )
    write_system(
        exp,
        "e2e_semi_1h",
        {"swbd_holdout": scores(55)},
        train_hours=0.125,
        pseudo_labeler="pl_bert",
        pseudo_sets=["swbd_train"],
        pseudo_transcript="gt",
    )
    write_labeler(exp, "pseudo_labeler_bert", {"swbd_holdout": (70.0, 71.0)})
    return exp


def test_main_writes_results_plots_and_prints(tmp_path, capsys):
    exp = _small_exp(tmp_path / "exp")
    data = tmp_path / "data" / "swbd_train"
    data.mkdir(parents=True)
    (data / "utt2dur").write_text("a 900\nb 900\n")  # 0.5 h
    out = tmp_path / "RESULTS.md"
    plots = tmp_path / "exp" / "report"
    argv = [
        "--exp_dir",
        str(exp),
        "--out",
        str(out),
        "--plots_dir",
        str(plots),
        "--data_dir",
        str(tmp_path / "data"),
        "--date",
        "none",
        "--corpus",
        "mini",
    ]
    assert make_report.main(argv) == 0
    printed = capsys.readouterr().out
    text = out.read_text()
    assert printed.startswith("# Speech sentiment results — mini")
    assert "## Table 2" in printed and "## Systems" not in printed and "## Systems" in text
    assert "whole train set: 0.5h" in text
    rows = table_rows(text, "Table 4:")
    assert [r["Fine-tuning dataset"] for r in rows] == [
        "swbd_train (0.5h)",
        "swbd_train (0.25h)",
        "swbd_train (0.125h)",
    ]
    assert rows[0]["Eval U-F1"] == "61.00 ± 1.41" and rows[0]["Val U-F1"] == "62.00 (n=1)"
    # baseline 61 (mean of 60, 62); semi: 57 @ 0.125 h, 61 @ 0.25 h -> reached at 0.25 h = 50% saved
    fig_rows = table_rows(text, "Figure 2")
    assert fig_rows == [
        {
            "Pseudo configuration": "BERT: S",
            "First measured subset reaching baseline (h)": "0.25",
            "Annotation saved": "50.0%",
            "Interpolated crossing (h)": "0.25",
            "Annotation saved (interpolated)": "50.0%",
        }
    ]
    assert "![Fig. 2 CTC-Attention encoder + blstm](exp/report/fig2.png)" in text
    pngs = sorted(p.relative_to(plots).as_posix() for p in plots.rglob("*.png"))
    assert pngs == [
        "confusion/e2e_semi_1h_swbd_holdout.png",
        "confusion/e2e_semi_5h_swbd_holdout.png",
        "confusion/e2e_sup_swbd_holdout.png",
        "confusion/e2e_sup_swbd_test.png",
        "fig2.png",
    ]
    for p in plots.rglob("*"):
        assert not p.name.startswith("."), p  # no temp files left
    assert "[e2e_sup_swbd_test.png](exp/report/confusion/e2e_sup_swbd_test.png)" in text
    # a rerun gives the same file (deterministic)
    summary = tmp_path / "report" / "summary.md"
    assert make_report.main([*argv, "--print", "false", "--summary_out", str(summary)]) == 0
    assert capsys.readouterr().out == ""
    assert out.read_text() == text
    # the printed tables, for a recipe to show at its end
    assert make_report.main(argv) == 0
    printed = capsys.readouterr().out
    assert "## Table 4" in printed and summary.read_text() == printed


def test_full_hours_option_and_no_plots(tmp_path, capsys):
    exp = build_exp(tmp_path / "exp")
    out = tmp_path / "o" / "R.md"
    assert (
        make_report.main(
            [
                "--exp_dir",
                str(exp),
                "--out",
                str(out),
                "--plots_dir",
                "none",
                "--full_train_hours",
                "86",
                "--date",
                "2026-11-25",
            ]
        )
        == 0
    )
    text = out.read_text()
    assert "generated 2026-11-25" in text and "whole train set: 86h" in text
    crossing = table_rows(text, "Figure 2")[0]
    assert crossing["Interpolated crossing (h)"] == "15.00"
    assert crossing["First measured subset reaching baseline (h)"] == "20.00"
    assert not (tmp_path / "exp" / "report").exists()
    assert "## Table 1:" in capsys.readouterr().out


def test_confusion_per_system(tmp_path):
    exp = _small_exp(tmp_path / "exp")
    plots = tmp_path / "p"
    config = ReportConfig(exp, tmp_path / "R.md", plots, confusion_plots="systems", full_train_hours=0.5)
    make_report_files(config)
    names = sorted(p.name for p in (plots / "confusion").iterdir())
    assert "e2e_sup_seed0_swbd_test.png" in names and "e2e_sup_seed1_swbd_holdout.png" in names
    assert len(names) == 5


def test_bad_json_exit_1_names_file(tmp_path, caplog):
    exp = _small_exp(tmp_path / "exp")
    bad = exp / "e2e_semi_1h" / "score_swbd_holdout" / "scores.json"
    bad.write_text("{oops")
    out = tmp_path / "RESULTS.md"
    assert make_report.main(["--exp_dir", str(exp), "--out", str(out), "--plots_dir", "none"]) == 1
    assert f"{bad}:1: not valid JSON" in caplog.text
    assert not out.exists()


def test_empty_exp_dir_is_an_error(tmp_path, caplog):
    (tmp_path / "exp" / "asr_x").mkdir(parents=True)
    assert make_report.main(["--exp_dir", str(tmp_path / "exp"), "--out", str(tmp_path / "R.md")]) == 1
    assert "no system" in caplog.text


def test_module_entry_point(tmp_path):
    """``python -m speechsent.bin.make_report`` with the defaults, run from a recipe dir."""
    _small_exp(tmp_path / "exp")
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechsent.bin.make_report",
            "--full_train_hours",
            "0.5",
            "--confusion_plots",
            "none",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "RESULTS.md").is_file() and (tmp_path / "exp" / "report" / "fig2.png").is_file()
    assert "## Table 4" in proc.stdout
    assert proc.stdout.splitlines()[0].endswith(tmp_path.name)  # corpus = the recipe dir's name
