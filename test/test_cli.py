"""speechsent.cli: --config YAML defaults under the command line, booleans, errors naming the file."""

from __future__ import annotations

import argparse

import pytest

from speechsent import cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="x")
    cli.add_config_argument(parser)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--use_amp", type=cli.str2bool, default=False)
    parser.add_argument(
        "--hours", type=lambda v: tuple(float(x) for x in v.split()), default=(86.0, 5.0, 5.0)
    )
    parser.add_argument("--sets", nargs="+", default=["a"])
    parser.add_argument("--name", default="n")
    return parser


def test_config_values_then_command_line(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("lr: 0.5\nuse_amp: true\nhours: [80, 8, 8]\nsets: [x, y]\nname: from_yaml\n")
    args = cli.parse_args(_parser(), ["--config", str(config), "--name", "cli"])
    assert args.lr == 0.5 and args.use_amp is True and args.hours == (80.0, 8.0, 8.0)
    assert args.sets == ["x", "y"] and args.name == "cli"
    args = cli.parse_args(_parser(), [])
    assert args.lr == 0.1 and args.use_amp is False


def test_config_repeatable_option(tmp_path):
    parser = _parser()
    parser.add_argument("--data_dir", action="append", type=str, default=None)
    config = tmp_path / "c.yaml"
    config.write_text("data_dir: one\n")
    assert cli.parse_args(parser, ["--config", str(config)]).data_dir == ["one"]
    config.write_text("data_dir: [one, two]\n")
    assert cli.parse_args(parser, ["--config", str(config)]).data_dir == ["one", "two"]
    argv = ["--config", str(config), "--data_dir", "a", "--data_dir", "b"]
    assert cli.parse_args(parser, argv).data_dir == ["a", "b"]  # the command line wins


@pytest.mark.parametrize(
    ("text", "message"),
    [("nope: 1\n", "unknown option"), ("- a\n", "expected a mapping"), ("use_amp: maybe\n", "true or false")],
)
def test_config_errors_name_the_file(tmp_path, capsys, text, message):
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(_parser(), ["--config", str(config)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and message in err


def test_str2bool():
    assert cli.str2bool("True") is True and cli.str2bool("0") is False
    with pytest.raises(argparse.ArgumentTypeError):
        cli.str2bool("2")


def test_none_or_value_types():
    assert cli.none_or_str("None") is None and cli.none_or_str("") is None and cli.none_or_str("null") is None
    assert cli.none_or_str("exp/x") == "exp/x"
    assert cli.none_or_float("none") is None and cli.none_or_float("2.5") == 2.5
    with pytest.raises(ValueError):
        cli.none_or_float("abc")


def test_amp_types():
    assert cli.amp_type("none") is None and cli.amp_type("false") is None
    assert cli.amp_type("float16") == "fp16" and cli.amp_type("BF16") == "bf16"
    with pytest.raises(argparse.ArgumentTypeError, match="expected none, fp16 or bf16"):
        cli.amp_type("true")  # a trainer needs a dtype
    assert cli.amp_or_auto_type("true") == "auto" and cli.amp_or_auto_type("auto") == "auto"
    assert cli.amp_or_auto_type("0") is None and cli.amp_or_auto_type("bfloat16") == "bf16"
    with pytest.raises(argparse.ArgumentTypeError, match="expected none, true, fp16 or bf16"):
        cli.amp_or_auto_type("int8")
