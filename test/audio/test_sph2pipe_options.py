"""speechsent.audio.sph2pipe: sph2pipe v2.5's -f names and -t / -s ranges (the command: test/bin)."""

from __future__ import annotations

import argparse

import pytest

from speechsent.audio.sph2pipe import parse_format, parse_samples, parse_seconds, resolve_range


def test_resolve_range_matches_sph2pipe():
    count, rate = 80000, 8000  # 10 s
    assert resolve_range(count, rate) == (0, count)
    assert resolve_range(count, rate, seconds=(1.5, 2.25)) == (12000, 18000)
    assert resolve_range(count, rate, seconds=(1.5, None)) == (12000, count)
    assert resolve_range(count, rate, seconds=(None, 2.0)) == (0, 16000)
    assert resolve_range(count, rate, seconds=(2.0, 0.0)) == (16000, count)  # zero end = end of file
    assert resolve_range(count, rate, seconds=(2.0, 10.0)) == (16000, count)
    assert resolve_range(count, rate, seconds=(2.0, 99.0)) == (16000, count)
    assert resolve_range(count, rate, seconds=(0.00001, 0.00013)) == (0, 1)  # truncation, end excluded
    assert resolve_range(count, rate, seconds=(10.0, None)) == (count, count)
    assert resolve_range(count, rate, samples=(100, 200)) == (100, 200)
    assert resolve_range(count, rate, samples=(100, None)) == (100, count)
    assert resolve_range(count, rate, samples=(None, 10**9)) == (0, count)
    with pytest.raises(ValueError, match="start point > length"):
        resolve_range(count, rate, seconds=(10.5, None))
    with pytest.raises(ValueError, match="start point > length"):
        resolve_range(count, rate, samples=(count + 1, None))


def test_format_names_match_sph2pipe():
    assert [parse_format(v) for v in ("rif", "raw", "SPH", "au", "aiff", "mac")] == [
        "wav", "raw", "sph", "au", "aif", "aif"
    ]  # fmt: skip
    with pytest.raises(argparse.ArgumentTypeError, match="unknown output format 'mp3'"):
        parse_format("mp3")


def test_spans():
    assert parse_seconds("1:2.5") == (1.0, 2.5)
    assert parse_seconds(":2") == (None, 2.0)
    assert parse_samples("7990:") == (7990, None)
    for bad in ("5", "2:1", "0:01:30", "-1:2", "nan:1"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_seconds(bad)
    for bad in ("1.5:3", "10:5"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_samples(bad)
