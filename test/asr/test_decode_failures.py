"""Stage 4's decoding on unreadable audio: a mostly unreadable set stops it; a rerun retries what failed.

A tiny random ESPnet2 model (:mod:`speechsent.asr.tiny_model`) decodes synthetic speech written by soundfile;
the unreadable recordings are text under a ``.wav`` name. The command-line runs go through the entry point
the recipe runs (``python -m speechsent.bin.asr_decode``, its jobs under run.pl); the decoding runs call
:func:`decode_sets` with its jobs run in this process (ESPnet is imported once).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest

pytest.importorskip("espnet2")

from speechsent.asr import decode, decode_job
from speechsent.asr.decode import DecodeOptions, decode_sets
from speechsent.asr.decoder import Decoder
from speechsent.asr.tiny_model import (
    TinyModelSpec,
    write_synthetic_data_dir,
    write_tiny_asr_model,
)
from speechsent.kaldi.table import read_table

NUM = 20  # one-utterance recordings sw00001-A ... sw00020-A
BROKEN = "sw00008-A"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("asr_tiny")
    write_tiny_asr_model(out, TinyModelSpec("transformer", num_blocks=1))
    return out


def _corpus(root: Path, broken: list[str]) -> Path:
    """``NUM`` recordings of one 0.8 s utterance each (``data/<set>`` named ``set``); the recordings in
    ``broken`` are replaced by text (their good audio kept as ``<reco>.wav.good``)."""
    data = write_synthetic_data_dir(root / "corpus", [[0.8]] * NUM, seed=3)
    target = root / "data" / "set"
    target.parent.mkdir()
    data.rename(target)
    for reco in broken:
        wav = root / "corpus" / "wav" / f"{reco}.wav"
        shutil.copy(wav, wav.with_suffix(".wav.good"))
        wav.write_bytes(b"this is not audio\n" * 20)
    return target


def _fix(root: Path, reco: str) -> None:
    wav = root / "corpus" / "wav" / f"{reco}.wav"
    shutil.copy(wav.with_suffix(".wav.good"), wav)


def _utt(data: Path, reco: str) -> str:
    return next(u for u, s in read_table(data / "utt2spk").items() if s == reco)


class _Spy(Decoder):
    """The real decoder, recording which utterances it is given."""

    seen: ClassVar[list[str]] = []

    def decode(self, batch):
        _Spy.seen.extend(u for u, _ in batch)
        yield from super().decode(batch)


@pytest.fixture()
def in_process(monkeypatch):
    """Run the decoding jobs in this process (run.pl would start a Python, and import ESPnet, per job)."""

    def run_jobs(cmd, nj, log, argv, **kwargs):
        spec = argv[argv.index("--worker") + 1]
        for job in range(1, nj + 1):
            decode_job.decode_job(spec, job)

    monkeypatch.setattr(decode, "run_jobs", run_jobs)
    monkeypatch.setattr(decode_job, "_Decoder", _Spy)
    _Spy.seen = []


def _decode(model_dir: Path, data: Path, decode_dir: Path, **kwargs):
    return decode_sets(
        model_dir, [data], decode_dir, options=DecodeOptions(mode="ctc_greedy"), nj=2, **kwargs
    )


def _cli(model_dir: Path, data: Path, decode_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "speechsent.bin.asr_decode",
            "--model_dir",
            str(model_dir),
            "--decode_mode",
            "ctc_greedy",
            "--data_dir",
            str(data),
            "--decode_dir",
            str(decode_dir),
            "--nj",
            "2",
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_unreadable_set_stops_naming_the_failed_list(model_dir, tmp_path):
    recos = [f"sw{i:05d}-A" for i in range(1, NUM + 1)]
    data = _corpus(tmp_path, recos)
    asr = data.parent / "set_asr"
    asr.mkdir()
    (asr / "text").write_text("stale text of an earlier run\n")
    decode_dir = tmp_path / "exp" / "decode_ctc_greedy"
    proc = _cli(model_dir, data, decode_dir)  # no audio read: the jobs never load the model
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"decoding {data}: no utterance left of {NUM} ({NUM} unreadable)" in proc.stderr
    assert str(decode_dir / "set" / "failed") in proc.stderr
    first = _utt(data, recos[0])
    assert f"{first}: wav.scp entry {recos[0]}: " in proc.stderr and "not readable audio" in proc.stderr
    assert f"({NUM - 3} more)" in proc.stderr
    failed = read_table(decode_dir / "set" / "failed")
    assert len(failed) == NUM and all(r.startswith("unreadable: ") for r in failed.values())
    # nothing a later stage could take for the set's decoding
    assert not (asr / "text").exists() and not (decode_dir / "set" / "text").exists()
    # an empty result is an error even when any fraction may fail; a fraction out of [0, 1] is a usage error
    proc = _cli(model_dir, data, decode_dir, "--max_failed_fraction", "1")
    assert proc.returncode == 1 and "no utterance left" in proc.stderr
    assert _cli(model_dir, data, decode_dir, "--max_failed_fraction", "1.5").returncode == 2


def test_one_unreadable_of_twenty_is_counted_and_listed(model_dir, tmp_path, in_process, caplog):
    data = _corpus(tmp_path, [BROKEN])
    broken = _utt(data, BROKEN)
    decode_dir = tmp_path / "exp" / "decode_ctc_greedy"
    with caplog.at_level(logging.WARNING, logger="speechsent.asr.decode"):
        (result,) = _decode(model_dir, data, decode_dir)
    failed = read_table(decode_dir / "set" / "failed")
    assert list(failed) == [broken]
    assert f"set: 1 of {NUM} utterance(s) could not be read" in caplog.text
    assert str(decode_dir / "set" / "failed") in caplog.text
    assert failed[broken].startswith(f"unreadable: wav.scp entry {BROKEN}: ")
    assert "not readable audio" in failed[broken] and "BytesIO" not in failed[broken]
    assert (result.num_utts, result.num_failed, result.num_unreadable) == (NUM, 1, 1)
    # data/set_asr keeps every utterance of data/set; the unreadable one has an empty text
    text = read_table(data.parent / "set_asr" / "text")
    assert list(text) == list(read_table(data / "utt2spk")) and text[broken] == ""
    assert "Failed to decode: 1 (1 unreadable" in (decode_dir / "set" / "score.txt").read_text()
    assert sorted(_Spy.seen) == sorted(u for u in text if u != broken)


def test_failed_fraction_is_configurable(model_dir, tmp_path, in_process):
    from speechsent.asr.decode import DecodeError

    data = _corpus(tmp_path, [BROKEN])
    asr_text = data.parent / "set_asr" / "text"
    decode_dir = tmp_path / "exp" / "decode_ctc_greedy"
    with pytest.raises(DecodeError, match=r"1 of 20 utterances \(5.0 %\) could not be read.*0.04"):
        _decode(model_dir, data, decode_dir, max_failed_fraction=0.04)
    assert not asr_text.exists() and len(read_table(decode_dir / "set" / "failed")) == 1
    assert _decode(model_dir, data, decode_dir, max_failed_fraction=0.05)[0].num_unreadable == 1
    assert asr_text.is_file()
    # the same through the command line (the decoded pieces are kept: only the unreadable audio is read)
    proc = _cli(model_dir, data, decode_dir, "--max_failed_fraction", "0.04")
    assert proc.returncode == 1, proc.stderr
    assert "1 of 20 utterances (5.0 %) could not be read" in proc.stderr
    assert "--max_failed_fraction 0.04" in proc.stderr and _utt(data, BROKEN) in proc.stderr
    assert "Traceback" not in proc.stderr and not asr_text.exists()
    proc = _cli(model_dir, data, decode_dir)  # the default, 0.1
    assert proc.returncode == 0, proc.stderr
    assert "20 utterances (" in proc.stderr and "1 failed, 1 of them unreadable" in proc.stderr
    assert read_table(asr_text)[_utt(data, BROKEN)] == ""


def test_rerun_after_the_fix_decodes_exactly_what_failed(model_dir, tmp_path, in_process):
    data = _corpus(tmp_path, [BROKEN])
    broken = _utt(data, BROKEN)
    decode_dir = tmp_path / "exp" / "decode_ctc_greedy"
    _decode(model_dir, data, decode_dir)
    assert list(read_table(decode_dir / "set" / "failed")) == [broken]
    # a rerun with the audio still broken reads it again (and fails again), decoding nothing
    _Spy.seen = []
    _decode(model_dir, data, decode_dir)
    assert _Spy.seen == [] and list(read_table(decode_dir / "set" / "failed")) == [broken]
    _fix(tmp_path, BROKEN)
    _Spy.seen = []
    (result,) = _decode(model_dir, data, decode_dir)
    assert _Spy.seen == [broken]  # only what failed; the other pieces' results are kept
    assert read_table(decode_dir / "set" / "failed") == {}
    assert (result.num_failed, result.num_unreadable) == (0, 0)
    assert "Failed to decode: 0 (0 unreadable" in (decode_dir / "set" / "score.txt").read_text()
    # the same text as a decoding of the fixed set from scratch
    fresh = tmp_path / "exp" / "decode_fresh"
    _decode(model_dir, data, fresh, asr_suffix=None)
    assert read_table(decode_dir / "set" / "text") == read_table(fresh / "set" / "text")
    assert read_table(data.parent / "set_asr" / "text") == read_table(fresh / "set" / "text")
    # and done now: a third run decodes nothing
    _Spy.seen = []
    _decode(model_dir, data, decode_dir)
    assert _Spy.seen == []
