"""speechsent.jobs: the split of a data dir by speaker, and the ``${cmd} JOB=1:N`` job array (logged)."""

from __future__ import annotations

import logging
import shlex
import sys

import pytest

from speechsent.jobs import JobError, run_jobs, split_utts
from speechsent.kaldi.table import read_table


def _data(root):
    d = root / "data" / "set"
    d.mkdir(parents=True)
    utts = [f"sw0{i}-{s}_000{k}" for i in range(3) for s in "AB" for k in range(2)]
    (d / "utt2spk").write_text("".join(f"{u} {u.split('_')[0]}\n" for u in utts))
    return d


def test_split_keeps_speakers_together(tmp_path):
    data = _data(tmp_path)
    pieces = split_utts(data, 4, tmp_path / "logdir")
    assert len(pieces) == 4
    seen = []
    for p in pieces:
        utts = p.read_text().split()
        assert utts and len({u.split("_")[0] for u in utts}) * 2 == len(utts)
        seen += utts
    assert sorted(seen) == sorted(read_table(data / "utt2spk"))
    assert len(split_utts(data, 50, tmp_path / "logdir2")) == 6  # at most one job per speaker


def test_run_jobs_logs_the_exact_command_line(tmp_path, caplog):
    log = tmp_path / "log" / "x.JOB.log"
    argv = [sys.executable, "-c", "import sys; print('job', sys.argv[1])", "JOB"]
    with caplog.at_level(logging.INFO, logger="speechsent.jobs"):
        run_jobs("run.pl", 2, log, argv)
    line = next(r.getMessage() for r in caplog.records if "JOB=1:2" in r.getMessage())
    assert line.startswith("running 2 job(s): ") and line.endswith(shlex.join(["JOB=1:2", str(log), *argv]))
    assert "run.pl" in line
    assert "job 2" in (tmp_path / "log" / "x.2.log").read_text()
    with pytest.raises(JobError, match="x.JOB.log"):
        run_jobs("run.pl", 1, log, [sys.executable, "-c", "raise SystemExit(3)"])
