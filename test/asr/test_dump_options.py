"""The usage checks speechsent-dump-encoder and speechsent-dump-fbank share (speechsent.asr.encoder_dump)."""

from __future__ import annotations

import argparse
import logging

import pytest

from speechsent.asr.dump_cli import check_compression_option, check_job_options, run_reporting_errors


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
