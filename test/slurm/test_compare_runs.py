"""test/slurm/compare_runs.py, the CI Slurm step's check that two runs gave the same results."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

spec = importlib.util.spec_from_file_location("compare_runs", Path(__file__).with_name("compare_runs.py"))
compare_runs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_runs)


def _run(root: Path, f1: float, wer: str = "%WER 10.00 [ 1 / 10, 0 ins, 0 del, 1 sub ]") -> Path:
    (root / "exp/e2e_blstm_all_s0/score_swbd_test").mkdir(parents=True)
    (root / "exp/e2e_blstm_all_s0/score_swbd_test/scores.json").write_text(json.dumps({"unweighted_f1": f1}))
    (root / "exp/asr_x/decode_ctc_greedy/swbd_test").mkdir(parents=True)
    (root / "exp/asr_x/decode_ctc_greedy/swbd_test/score.txt").write_text(f"# a header\n{wer}\n")
    (root / "data/swbd_test_asr").mkdir(parents=True)
    (root / "data/swbd_test_asr/text").write_text("u1 hello\n")
    return root


def test_equal_runs(tmp_path, capsys):
    a, b = _run(tmp_path / "a", 50.0), _run(tmp_path / "b", 50.0)
    assert compare_runs.main([str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "compared 3 result files" in out and out.rstrip().endswith("equal")


def test_a_different_score_a_missing_file_and_a_different_wer(tmp_path, capsys):
    a = _run(tmp_path / "a", 50.0)
    b = _run(tmp_path / "b", 50.5, wer="%WER 20.00 [ 2 / 10, 0 ins, 0 del, 2 sub ]")
    (b / "data/swbd_test_asr/text").unlink()
    assert compare_runs.main([str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "DIFFERENT exp/e2e_blstm_all_s0/score_swbd_test/scores.json: differs" in out
    assert "DIFFERENT exp/asr_x/decode_ctc_greedy/swbd_test/score.txt: differs" in out
    assert f"DIFFERENT data/swbd_test_asr/text: only in {a}" in out


def test_nothing_to_compare_fails(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert compare_runs.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
