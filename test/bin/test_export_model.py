"""speechsent-export: the system chosen (or given), the options, the exit status."""

from __future__ import annotations

import json
import logging
import runpy
from pathlib import Path

import pytest

from speechsent.bin import export_model

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--out_dir", "o"], "give --system_dir, or --exp_root with --family"),
        (["--out_dir", "o", "--system_dir", "s", "--exp_root", "e"], "give --system_dir, or --exp_root"),
        (["--out_dir", "o", "--exp_root", "e"], "--exp_root needs --family"),
        (["--out_dir", "o", "--exp_root", "e", "--family", "text"], "invalid choice"),
        (["--system_dir", "s"], "--out_dir"),
    ],
)
def test_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        export_model.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("espnet2")
    tiny_exp = runpy.run_path(str(REPO / "test" / "inference" / "tiny_exp.py"))  # not a package
    return tiny_exp["build_tiny_recipe"](tmp_path_factory.mktemp("recipe"))


def _info(model_dir: Path) -> dict:
    return json.loads((model_dir / "speechsent_model.json").read_text())


def test_best_e2e_system_from_the_recipe_dir(recipe, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(recipe["root"])  # as stage 11 runs it: exp/asr_model relative to the recipe dir
    out = tmp_path / "export" / "e2e"
    with caplog.at_level(logging.INFO):
        assert export_model.main(["--exp_root", "exp", "--family", "e2e", "--out_dir", str(out)]) == 0
    assert _info(out)["system"] == "e2e_blstm_all_s0"
    assert "candidate e2e_blstm_all_s0: unweighted F1 55.00 (score_swbd_test)  <- chosen" in caplog.text
    assert "candidate e2e_blstm_all_s1" in caplog.text


def test_two_step_with_decode_config_and_mode(recipe, tmp_path, caplog):
    decode = tmp_path / "decode_asr.yaml"
    # stage 4's config (speechsent-asr-decode's options): the job and batching options are ignored
    decode.write_text(
        "beam_size: 20\npenalty: 0.1\nmaxlenratio: 0.0\nminlenratio: 0.0\nctc_weight: 0.3\n"
        "decode_mode: beam\nbatch_seconds: 100\nnj: 4\nlm_train_config: none\n"
    )
    config = tmp_path / "export.yaml"
    config.write_text(
        f"exp_root: {recipe['exp']}\nfamily: two_step\nasr_model: {recipe['exp'] / 'asr_model'}\n"
    )
    out = tmp_path / "ts"
    argv = ["--config", str(config), "--decode_config", str(decode), "--out_dir", str(out)]
    assert export_model.main(argv) == 0
    info = _info(out)
    assert info["system"] == "text_baseline_asr_s0"
    assert info["decode"] == {
        "mode": "beam",
        "beam_size": 20,
        "ctc_weight": 0.3,
        "penalty": 0.1,
        "maxlenratio": 0.0,
        "minlenratio": 0.0,
        "lm_weight": 0.0,
    }
    import torch

    asr_model_file = recipe["asr"] / "other.pth"
    torch.save(torch.load(recipe["asr"] / "model.pth"), asr_model_file)  # another checkpoint
    assert asr_model_file.read_bytes() != (recipe["asr"] / "model.pth").read_bytes()
    argv += ["--decode_mode", "ctc_greedy", "--asr_model_file", str(asr_model_file)]
    assert export_model.main(argv) == 0
    assert _info(out)["decode"] == {"mode": "ctc_greedy"}
    assert (out / "asr" / "model.pth").read_bytes() == asr_model_file.read_bytes()
    # a file that is not a checkpoint would make a model dir that does not load: refused, named
    asr_model_file.write_bytes(b"not a checkpoint")
    with caplog.at_level(logging.ERROR):
        assert export_model.main(argv) == 1
    assert f"{asr_model_file}: not a PyTorch checkpoint" in caplog.text
    assert _info(out)["decode"] == {"mode": "ctc_greedy"}  # the model in place is kept
    asr_model_file.unlink()


def test_given_system_and_errors(recipe, tmp_path, caplog):
    out = tmp_path / "m"
    assert (
        export_model.main(["--system_dir", str(recipe["exp"] / "e2e_cnn_fbank_s0"), "--out_dir", str(out)])
        == 0
    )
    assert _info(out)["features"]["kind"] == "fbank"
    argv = [
        "--exp_root",
        str(recipe["exp"]),
        "--family",
        "e2e",
        "--select_set",
        "nothing",
        "--out_dir",
        str(out),
    ]
    assert export_model.main(argv) == 1
    assert "no e2e system scored on nothing" in caplog.text
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    argv = ["--system_dir", str(recipe["exp"] / "text_baseline_gt_s0"), "--decode_config", str(bad)]
    assert export_model.main([*argv, "--out_dir", str(out)]) == 1
    assert "not a mapping" in caplog.text
    assert _info(out)["features"]["kind"] == "fbank"  # the failed exports left the model in place
