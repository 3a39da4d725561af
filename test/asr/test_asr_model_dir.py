"""Model dirs: the model file chosen as ESPnet packs choose it, relative paths resolved from any directory,
model-zoo unpacks (meta.yaml), the exp/asr_model pointer, the CLI. No ESPnet needed: fake models."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from speechsent.asr.model_dir import (
    ModelDirError,
    choose_model_file,
    parse_fs,
    read_model_pointer,
    resolve_model_dir,
    write_model_pointer,
    write_resolved_config,
)


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _recipe_model(root: Path, *, fs: object = 8000) -> Path:
    """A trained-here layout: paths in config.yaml relative to the recipe dir ``root``."""
    _touch(root / "data/token_list/bpe_unigram30/bpe.model")
    _touch(root / "exp/asr_stats_raw_bpe30/train/feats_stats.npz")
    exp = root / "exp/asr_tiny"
    config = {
        "token_type": "bpe",
        "bpemodel": "data/token_list/bpe_unigram30/bpe.model",
        "token_list": ["<blank>", "<unk>", "▁a", "<sos/eos>"],
        "normalize": "global_mvn",
        "normalize_conf": {"stats_file": "exp/asr_stats_raw_bpe30/train/feats_stats.npz"},
        "frontend": "default",
        "frontend_conf": {"fs": fs, "n_fft": 256},
        "encoder": "transformer",
        "train_data_path_and_name_and_type": [["dump/raw/asr_train/wav.scp", "speech", "sound"]],
        "output_dir": "exp/asr_tiny",
    }
    _touch(exp / "config.yaml", yaml.safe_dump(config).encode())
    return exp


def test_parse_fs():
    assert parse_fs(8000) == 8000
    assert parse_fs("8k") == 8000
    assert parse_fs("16k") == 16000
    assert parse_fs("16000") == 16000
    assert parse_fs(None) == 16000
    with pytest.raises(ModelDirError):
        parse_fs("fast")


def test_choose_model_file(tmp_path):
    d = tmp_path / "exp"
    _touch(d / "checkpoint.pth")
    with pytest.raises(ModelDirError, match="no model file"):
        choose_model_file(d)
    _touch(d / "1epoch.pth")
    time.sleep(0.01)
    newest = _touch(d / "3epoch.pth")
    os.utime(d / "1epoch.pth", (1, 1))
    assert choose_model_file(d) == newest
    _touch(d / "valid.acc.best.pth")
    assert choose_model_file(d).name == "valid.acc.best.pth"
    _touch(d / "valid.acc.ave_2best.pth")
    _touch(d / "valid.acc.ave_10best.pth")
    assert choose_model_file(d).name == "valid.acc.ave_10best.pth"
    _touch(d / "valid.acc.ave.pth")
    assert choose_model_file(d).name == "valid.acc.ave.pth"


def test_resolve_trained_model_from_any_cwd(tmp_path, monkeypatch):
    exp = _recipe_model(tmp_path / "recipe")
    _touch(exp / "valid.acc.ave.pth")
    _touch(exp / "5epoch.pth")
    monkeypatch.chdir(tmp_path)  # not the recipe dir: paths are found above the config
    files = resolve_model_dir(exp)
    assert files.config_file == (exp / "config.yaml").resolve()
    assert files.model_file.name == "valid.acc.ave.pth"
    assert files.bpemodel == (tmp_path / "recipe/data/token_list/bpe_unigram30/bpe.model").resolve()
    assert files.token_list == ["<blank>", "<unk>", "▁a", "<sos/eos>"]
    assert files.fs == 8000 and files.token_type == "bpe"
    stats = Path(files.config["normalize_conf"]["stats_file"])
    assert stats.is_absolute() and stats.is_file()
    # an explicit model file, given relative to the model dir
    assert resolve_model_dir(exp, "5epoch.pth").model_file.name == "5epoch.pth"
    # a config file or a model file instead of the dir
    assert resolve_model_dir(exp / "config.yaml").model_file.name == "valid.acc.ave.pth"
    assert resolve_model_dir(exp / "5epoch.pth").model_file.name == "5epoch.pth"
    # the resolved config: absolute paths, usable from anywhere
    out = write_resolved_config(files, tmp_path / "elsewhere" / "config.yaml")
    resolved = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert Path(resolved["bpemodel"]).is_absolute()
    assert Path(resolved["normalize_conf"]["stats_file"]).is_absolute()
    assert Path(resolved["train_data_path_and_name_and_type"][0][0]) == Path("dump/raw/asr_train/wav.scp")
    assert resolved["token_list"] == files.token_list


def test_resolve_zoo_unpack_with_meta(tmp_path, monkeypatch):
    root = tmp_path / "zoo"
    exp = _recipe_model(root, fs="16k")
    _touch(exp / "valid.acc.ave_10best.pth")
    _touch(exp / "valid.acc.best.pth")
    meta = {
        "files": {"asr_model_file": "exp/asr_tiny/valid.acc.best.pth"},
        "yaml_files": {"asr_train_config": "exp/asr_tiny/config.yaml"},
    }
    _touch(root / "meta.yaml", yaml.safe_dump(meta).encode())
    monkeypatch.chdir(tmp_path)
    files = resolve_model_dir(root)
    assert files.model_file.name == "valid.acc.best.pth"  # meta.yaml's choice
    assert files.fs == 16000
    assert files.root == root.resolve()
    # without meta.yaml: the one model below is found, the model file chosen by name
    (root / "meta.yaml").unlink()
    files = resolve_model_dir(root)
    assert files.config_file == (exp / "config.yaml").resolve()
    assert files.model_file.name == "valid.acc.ave_10best.pth"


def test_missing_files_are_errors(tmp_path):
    exp = _recipe_model(tmp_path / "recipe")
    _touch(exp / "model.pth")
    (tmp_path / "recipe/exp/asr_stats_raw_bpe30/train/feats_stats.npz").unlink()
    with pytest.raises(ModelDirError, match="stats_file"):
        resolve_model_dir(exp)
    with pytest.raises(ModelDirError, match="no such file"):
        resolve_model_dir(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelDirError, match="no ESPnet2 ASR model"):
        resolve_model_dir(tmp_path / "empty")


def test_pointer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exp = _recipe_model(tmp_path)
    _touch(exp / "valid.acc.best.pth")
    pointer = write_model_pointer(exp, tmp_path / "exp/asr_model")
    assert pointer.read_text() == "asr_tiny\n"  # relative to exp/: the recipe dir can move
    assert read_model_pointer(pointer).resolve() == exp.resolve()
    assert resolve_model_dir(pointer).model_file.name == "valid.acc.best.pth"
    outside = _recipe_model(tmp_path / "other")
    _touch(outside / "valid.acc.best.pth")
    write_model_pointer(outside, pointer)
    assert Path(pointer.read_text().strip()) == outside.resolve()
    with pytest.raises(ModelDirError, match="run stage 3"):
        read_model_pointer(tmp_path / "exp/none")


def test_cli(tmp_path):
    exp = _recipe_model(tmp_path / "recipe")
    _touch(exp / "valid.acc.best.pth")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechsent.bin.asr_model",
            "--model_dir",
            str(exp),
            "--pointer",
            str(tmp_path / "exp/asr_model"),
            "--resolved_config",
            str(tmp_path / "resolved.yaml"),
            "--expect_fs",
            "16000",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "valid.acc.best.pth" in proc.stderr and "expects 8000 Hz" in proc.stderr
    assert read_model_pointer(tmp_path / "exp/asr_model").resolve() == exp.resolve()
    assert (tmp_path / "resolved.yaml").is_file()
    proc = subprocess.run(
        [sys.executable, "-m", "speechsent.bin.asr_model", "--model_dir", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "no such file" in proc.stderr
