"""What speechsent-dump-encoder and speechsent-dump-fbank share (speechsent.asr.dump_cli, asr.dump_jobs): the
usage checks, the error report, the configs a job array's spec carries, where its logs go."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pytest

from speechsent.asr.dump_cli import check_compression_option, check_job_options, run_reporting_errors
from speechsent.asr.dump_jobs import config_dict, default_log_dir


def _check(capsys, **options) -> str:
    parser = argparse.ArgumentParser(prog="x")
    args = argparse.Namespace(**{"nj": 2, "job": None, "merge": False, **options})
    with pytest.raises(SystemExit):
        check_job_options(parser, args)
        check_compression_option(parser, argparse.Namespace(compression_method=options.get("method", "x")))
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"nj": 0}, "--nj must be at least 1"),
        ({"job": 3}, "--job must be in 1..--nj (2)"),
        ({"job": 1, "merge": True}, "--merge and --job exclude each other"),
        ({"worker": "spec.json"}, "--worker needs --job"),
        ({"method": "bogus"}, "--compression_method: unknown compression method"),
    ],
)
def test_usage_errors(capsys, options, message):
    assert message in _check(capsys, **options)


def test_valid_options_pass():
    parser = argparse.ArgumentParser(prog="x")
    check_job_options(parser, argparse.Namespace(nj=2, job=2, merge=False))
    check_compression_option(parser, argparse.Namespace(compression_method="speech_feature"))


def test_run_reporting_errors(caplog):
    def fail() -> None:
        raise ValueError("bad input")

    assert run_reporting_errors(lambda: None, logging.getLogger("t")) == 0
    with caplog.at_level(logging.ERROR):
        assert run_reporting_errors(fail, logging.getLogger("t")) == 1
    assert "bad input" in caplog.text
    with pytest.raises(KeyError):  # a bug is no usage error: its traceback shows
        run_reporting_errors(lambda: {}["x"], logging.getLogger("t"))


def test_configs_survive_the_spec_file(tmp_path):
    """A job array's worker gets the very config the command made (through JSON and back)."""
    import json

    from speechsent.asr.encoder_dump import DumpConfig
    from speechsent.features.fbank import FbankConfig, FbankDumpConfig
    from speechsent.kaldi.ark import StorageSpec

    encoder = DumpConfig(
        Path("data/a"),
        Path("dump/encoder/a"),
        nj=3,
        asr_model_dir=Path("exp/asr_model"),
        storage=StorageSpec(kind="compressed", method=3, max_rel_error=0.05, fallback="error"),
        amp="bf16",
        channel=1,
    )
    fbank = FbankDumpConfig(Path("data/a"), Path("dump/fbank/a"), nj=2, fbank=FbankConfig(num_mel_bins=40))
    for cfg in (encoder, fbank):
        assert type(cfg).from_dict(json.loads(json.dumps(config_dict(cfg)))) == cfg


def test_default_log_dir():
    assert default_log_dir(["dump/fbank/a"]) == Path("dump/fbank/a/log")
    assert default_log_dir(["dump/encoder/a", "dump/encoder/b"]) == Path("dump/encoder/log")
