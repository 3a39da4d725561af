"""speechsent-dump-encoder: the entry point, under utils/run.pl JOB=1:2 as stage 5 runs it, and killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from speechsent import cli
from speechsent.asr.encoder_dump_cli import make_configs
from speechsent.bin import dump_encoder

REPO = Path(__file__).resolve().parents[2]
RUN_PL = REPO / "utils" / "run.pl"


def _command() -> list[str]:
    """The entry point (before it is installed as a console script: the module)."""
    return [sys.executable, "-m", "speechsent.bin.dump_encoder"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def test_help_is_fast_and_light():
    code = (
        "import sys, time; t = time.perf_counter(); from speechsent.bin import dump_encoder as d; "
        "d.get_parser().format_help(); print(time.perf_counter() - t, 'torch' in sys.modules, "
        "'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_env())
    seconds, torch_loaded, numpy_loaded = out.stdout.split()
    assert float(seconds) < 1.0 and torch_loaded == "False" and numpy_loaded == "False"
    proc = subprocess.run([*_command(), "--help"], capture_output=True, text=True, check=False, env=_env())
    assert proc.returncode == 0 and "--storage" in proc.stdout and "--asr_model_dir" in proc.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--data_dir", "d"], "give --asr_model_dir, or --asr_config"),
        (["--data_dir", "d", "--asr_config", "c", "--asr_model_dir", "m"], "not both"),
        (["--data_dir", "d", "--asr_model_dir", "m", "--amp", "fp16"], "--amp needs --ngpu 1"),
        (["--data_dir", "d", "--asr_model_dir", "m", "--nj", "2", "--job", "3"], "--job must be in 1..--nj"),
        (["--asr_model_dir", "m"], "--data_dir is required"),
        (["--data_dir", "d", "--asr_model_dir", "m", "--storage", "zip"], "invalid choice"),
    ],
)
def test_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        dump_encoder.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_refused_compression_method_is_a_usage_error(tmp_path, capsys):
    argv = ["--data_dir", str(tmp_path), "--asr_model_dir", "m", "--storage", "compressed"]
    with pytest.raises(SystemExit) as exit_info:
        dump_encoder.main([*argv, "--compression_method", "6"])
    assert exit_info.value.code == 2
    assert "integers 0..255" in capsys.readouterr().err


def test_config_file_sets_options(tmp_path):
    config = tmp_path / "dump.yaml"
    config.write_text(
        "storage: compressed\ncompression_method: one_byte\nnj: 3\nbatch_size: 16\namp: false\n"
    )
    args = cli.parse_args(
        dump_encoder.get_parser(), ["--config", str(config), "--data_dir", "d", "--nj", "4"]
    )
    (cfg,) = make_configs(args)
    assert cfg.storage.kind == "compressed" and cfg.storage.method == 5
    assert cfg.nj == 4 and cfg.batch_size == 16 and cfg.amp is None
    assert str(cfg.out_dir) == "dump/encoder/d"


# ----------------------------------------------------------------------------------------------------------
# Through run.pl, as stage 5 runs it


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    pytest.importorskip("espnet2")
    from speechsent.asr.tiny_model import TinyModelSpec, write_synthetic_data_dir, write_tiny_asr_model

    root = tmp_path_factory.mktemp("stage5")
    config, model_file = write_tiny_asr_model(root / "exp" / "asr_tiny", TinyModelSpec("transformer"))
    recordings = [[1.2, 3.4, 0.02], [2.5, 0.8], [4.1], [0.6, 1.9, 2.2]]
    data = write_synthetic_data_dir(root, recordings, seed=5)
    return root, data, config, model_file


def _model_args(config: Path, model_file: Path) -> list[str]:
    return ["--asr_config", str(config), "--asr_model_file", str(model_file)]


@pytest.mark.slow
def test_run_pl_two_jobs_then_merge(setup):
    import kaldiio
    import torch

    from speechsent.asr.batch_encode import BatchEncoder
    from speechsent.audio.io import UtteranceReader
    from speechsent.kaldi.data_dir import DataDir
    from speechsent.kaldi.table import read_table

    root, data, config, model_file = setup
    out = root / "dump" / "encoder" / "set"
    argv = [
        "perl",
        str(RUN_PL),
        "JOB=1:2",
        str(out / "log" / "dump.JOB.log"),
        *_command(),
        "--data_dir",
        str(data),
        "--out_dir",
        str(out),
        *_model_args(config, model_file),
        "--nj",
        "2",
        "--job",
        "JOB",
        "--storage",
        "compressed",
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=_env(), cwd=root)
    logs = "".join(p.read_text() for p in sorted((out / "log").glob("dump.*.log")))
    assert proc.returncode == 0, proc.stderr + logs
    for job in (1, 2):
        assert (
            (out / "log" / f"dump.{job}.log")
            .read_text()
            .rstrip()
            .splitlines()[-1]
            .startswith("# Ended (code 0)")
        )
    assert not (out / "feats.scp").exists()  # the merge is a separate step
    merge = subprocess.run(
        [*_command(), "--data_dir", str(data), "--out_dir", str(out), "--nj", "2", "--merge", "true"],
        capture_output=True,
        text=True,
        check=False,
        env=_env(),
    )
    assert merge.returncode == 0, merge.stderr
    assert "1 of 9 utterances not dumped" in merge.stderr  # the 0.02 s segment, reported
    scp = read_table(out / "feats.scp")
    skipped = read_table(out / "skipped_utts")
    assert list(scp) == sorted(scp) and len(scp) == 8 and len(skipped) == 1
    assert sorted([*scp, *skipped]) == DataDir(data).utt_ids
    info = json.loads((out / "info.json").read_text())
    assert info["storage"]["kind"] == "compressed" and info["storage"]["measured"]["bytes_ratio"] < 0.5
    # every dumped matrix is the single-utterance encoding (within the compression error)
    from espnet2.tasks.asr import ASRTask

    model, _ = ASRTask.build_model_from_file(config, model_file, "cpu")
    enc = BatchEncoder(model.eval())
    feats = dict(kaldiio.load_scp(str(out / "feats.scp")))
    with torch.inference_mode():
        for utt, wav, _ in UtteranceReader(data).iter_utterances(list(scp)):
            ref = enc.encode_single(wav)
            assert feats[utt].shape == ref.shape
            assert np.abs(feats[utt] - ref).max() <= 0.1 * ref.std()
    # a second run of the stage: nothing to do
    again = subprocess.run(argv, capture_output=True, text=True, check=False, env=_env(), cwd=root)
    assert again.returncode == 0
    assert "already complete" in (out / "log" / "dump.2.log").read_text()


@pytest.mark.slow
def test_killed_job_leaves_no_scp_and_resumes(setup):
    root, _data, config, _model_file = setup
    from speechsent.asr.tiny_model import write_synthetic_data_dir
    from speechsent.kaldi.table import read_table

    big = write_synthetic_data_dir(root / "big", [[9.5, 8.0, 7.5, 9.0, 6.5]] * 30, seed=9)
    out = root / "dump" / "killed"
    argv = [
        *_command(),
        "--data_dir",
        str(big),
        "--out_dir",
        str(out),
        "--asr_model_dir",
        str(config.parent),  # config.yaml + model.pth, as an exp dir
        "--nj",
        "1",
        "--job",
        "1",
        "--progress",
        "false",
    ]
    tmp_ark = out / ".feats.1.ark.tmp"
    proc = subprocess.Popen(argv, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if tmp_ark.exists() and tmp_ark.stat().st_size > 100_000:
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the job ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
        proc.stderr.close()
    assert tmp_ark.exists() and not (out / "feats.1.ark").exists()
    assert not (out / "feats.1.scp").exists() and not (out / "done.1").exists()
    merge = [*_command(), "--data_dir", str(big), "--out_dir", str(out), "--merge", "true"]
    assert subprocess.run(merge, env=_env(), capture_output=True, check=False).returncode == 1
    assert not (out / "feats.scp").exists()
    resumed = subprocess.run(argv, env=_env(), capture_output=True, text=True, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert subprocess.run(merge, env=_env(), capture_output=True, check=False).returncode == 0
    assert not tmp_ark.exists()
    assert len(read_table(out / "feats.scp")) == 150
    # identical to an uninterrupted dump
    fresh = root / "dump" / "fresh"
    argv_fresh = [a if a != str(out) else str(fresh) for a in argv]
    assert subprocess.run(argv_fresh, env=_env(), capture_output=True, check=False).returncode == 0
    assert (fresh / "feats.1.ark").read_bytes() == (out / "feats.1.ark").read_bytes()


@pytest.mark.slow
def test_one_call_dumps_every_set_through_run_pl(setup):
    """Stage 5's call: both sets, their two jobs through ``--cmd run.pl`` (logs in the sets' parent), then
    the merges; the same arks as the jobs run by hand; a rerun has nothing to do."""
    root, data, config, model_file = setup
    from speechsent.kaldi.table import read_table

    base = root / "dump" / "one_call"
    sets = ["--data_dir", str(data), "--out_dir", str(base / "a"), "--data_dir", str(data)]
    argv = [*_command(), *sets, "--out_dir", str(base / "b"), *_model_args(config, model_file), "--nj", "2"]
    argv += ["--cmd", "run.pl", "--progress", "false"]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=_env(), cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert f"JOB=1:2 {base / 'log' / 'dump.JOB.log'} " in proc.stderr  # the job array's command line, logged
    assert (base / "log" / "spec.json").is_file()
    for s in ("a", "b"):
        assert len(read_table(base / s / "feats.scp")) == 8
    assert (base / "a" / "feats.1.ark").read_bytes() == (base / "b" / "feats.1.ark").read_bytes()
    again = subprocess.run(argv, capture_output=True, text=True, check=False, env=_env(), cwd=root)
    assert again.returncode == 0, again.stderr
    assert (base / "log" / "dump.2.log").read_text().count("nothing to do") == 2
