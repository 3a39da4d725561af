"""speechsent.training.options / stamps: trainer options and .done / restart logic the entry points share."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from speechsent import cli
from speechsent.training import stamps
from speechsent.training.options import (
    TrainerOptions,
    add_trainer_arguments,
    check_trainer_options,
    trainer_config_from_options,
)
from speechsent.utils.fileio import read_json_or_none


def _parser(**kwargs) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="x")
    cli.add_config_argument(parser)
    add_trainer_arguments(parser.add_argument_group("training"), **kwargs)
    parser.add_argument("--progress", type=cli.str2bool, default=True)
    return parser


def test_trainer_arguments_to_config():
    parser = _parser(select_metric="loss")
    args = cli.parse_args(parser, ["--lr", "0.01", "--max_epochs", "3", "--scheduler", "cosine"])
    config = trainer_config_from_options(args, find_unused_parameters=True)
    assert (config.lr, config.max_epochs, config.scheduler, config.select_metric) == (
        0.01,
        3,
        "cosine",
        "loss",
    )
    assert config.find_unused_parameters and config.amp is None and config.progress
    assert trainer_config_from_options(args, select_metric="unweighted_f1").select_metric == "unweighted_f1"


def test_batching_arguments_follow_batch_size():
    parser = _parser(batching_arguments=lambda g: g.add_argument("--max_frames", type=int, default=0))
    dests = [a.dest for a in parser._actions]
    assert dests.index("max_frames") == dests.index("batch_size") + 1


def test_check_trainer_options(tmp_path):
    parser = _parser()
    config = tmp_path / "c.yaml"
    config.write_text("amp: false\n")
    options = TrainerOptions(amp=cli.parse_args(parser, ["--config", str(config)]).amp)
    check_trainer_options(options)
    assert options.amp is None
    with pytest.raises(ValueError, match="--amp needs --ngpu >= 1"):
        check_trainer_options(TrainerOptions(amp=cli.parse_args(parser, ["--amp", "bf16"]).amp))


def test_trainer_options_defaults_are_the_parsers():
    parser = _parser()
    parser.add_argument("--log_level", default="INFO")
    defaults = vars(cli.parse_args(parser, []))
    assert defaults == {k: v for k, v in vars(TrainerOptions()).items()}


def test_options_module_is_light():
    code = (
        "import sys, speechsent.training.options, speechsent.training.stamps; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_done_stamp_and_restart(tmp_path):
    exp = tmp_path / "exp"
    exp.mkdir()
    files = ("checkpoint.pth", "best.pth")
    stamp = {"options": {"lr": 0.1, "max_epochs": 5}, "inputs": {"train": "abc"}}
    assert not stamps.is_done(exp, {"training": stamp})
    stamps.prepare_training_dir(exp, stamp, force=False, training_files=files)
    (exp / "checkpoint.pth").write_text("c")
    (exp / "score_test").mkdir()
    stamps.write_stamp(exp / stamps.DONE, {"training": stamp})
    assert stamps.is_done(exp, {"training": stamp}) and not stamps.is_done(
        exp, {"training": stamp}, force=True
    )
    # more epochs: the run continues (checkpoint kept), .done dropped
    more = {**stamp, "options": {"lr": 0.1, "max_epochs": 9}}
    stamps.prepare_training_dir(exp, more, force=False, training_files=files)
    assert (exp / "checkpoint.pth").exists() and not (exp / stamps.DONE).exists()
    assert read_json_or_none(exp / stamps.TRAINING_STAMP) == more
    # another learning rate: training restarts
    stamps.prepare_training_dir(exp, {**stamp, "options": {"lr": 0.2}}, force=False, training_files=files)
    assert not (exp / "checkpoint.pth").exists() and not (exp / "score_test").exists()
    # a checkpoint without a stamp restarts too
    (exp / stamps.TRAINING_STAMP).unlink()
    (exp / "checkpoint.pth").write_text("c")
    stamps.prepare_training_dir(exp, stamp, force=False, training_files=files)
    assert not (exp / "checkpoint.pth").exists()


def test_trainer_run_prepares_the_exp_dir(tmp_path):
    from speechsent.training.options import trainer_run

    exp = tmp_path / "exp"
    stamp = {"options": {"lr": 0.1}, "inputs": {}}
    with trainer_run(TrainerOptions(), exp, stamp, training_files=("best.pth",)) as dist:
        assert dist.is_main and read_json_or_none(exp / stamps.TRAINING_STAMP) == stamp
