"""speechsent-infer: JSON lines per input, an error line per bad input, exit status 1 when any failed."""

from __future__ import annotations

import json
import logging
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from speechsent.bin import infer

REPO = Path(__file__).resolve().parents[2]


def test_help_tells_the_exit_status():
    # (that building the parser imports neither torch nor espnet2: test/test_entry_points.py, every command)
    assert "exit status" in infer.get_parser().format_help().lower()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model_dir", "m"], "give audio FILEs and/or --wav_scp"),
        (["--model_dir", "m", "--segments", "s", "a.wav"], "--segments needs --wav_scp"),
        (["--model_dir", "m", "--batch_size", "0", "a.wav"], "--batch_size must be at least 1"),
        (["a.wav"], "--model_dir"),
    ],
)
def test_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        infer.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_not_a_model_dir_is_an_error(tmp_path, capsys, caplog):
    assert infer.main(["--model_dir", str(tmp_path), str(tmp_path / "a.wav")]) == 1
    assert capsys.readouterr().out == "" and "not an exported speechsent model" in caplog.text


# -- on exported tiny models ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("espnet2")
    from speechsent.inference.export import export_system

    tiny_exp = runpy.run_path(str(REPO / "test" / "inference" / "tiny_exp.py"))  # not a package
    recipe = tiny_exp["build_tiny_recipe"](tmp_path_factory.mktemp("recipe"))
    exp = recipe["exp"]
    out = tmp_path_factory.mktemp("export")
    return {
        **tiny_exp["write_audio_inputs"](tmp_path_factory.mktemp("audio")),
        "e2e": export_system(exp / "e2e_blstm_all_s0", out / "e2e", exp / "asr_model"),
        "two_step": export_system(
            exp / "text_baseline_asr_s0", out / "two_step", exp / "asr_model", {"mode": "ctc_greedy"}
        ),
        "fbank": export_system(exp / "e2e_cnn_fbank_s0", out / "fbank"),
    }


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_corrupt_file_among_good_ones(tiny, capsys, caplog):
    caplog.set_level(logging.INFO)
    files = [tiny["wav"], tiny["corrupt"], tiny["flac"], tiny["stereo"], tiny["short"], tiny["sph"]]
    status = infer.main(
        ["--model_dir", str(tiny["e2e"]), *map(str, files), "--batch_size", "2", "--device", "cpu"]
    )
    captured = capsys.readouterr()
    lines = _lines(captured.out)
    assert status == 1
    assert [line["file"] for line in lines] == list(map(str, files))
    good = [lines[i] for i in (0, 2, 5)]
    for line in good:
        assert set(line) == {"file", "label", "probabilities"}
        assert line["label"] in ("Negative", "Neutral", "Positive")
        assert list(line["probabilities"]) == ["Negative", "Neutral", "Positive"]
        assert abs(sum(line["probabilities"].values()) - 1) < 1e-5
        assert line["label"] == max(line["probabilities"], key=line["probabilities"].get)
    assert set(lines[1]) == {"file", "error"} and "not readable audio" in lines[1]["error"]
    assert "2 channels" in lines[3]["error"] and "too short" in lines[4]["error"]
    assert "3 input(s) classified, 3 failed" in caplog.text


def test_all_classified_exit_0_same_as_the_api(tiny, capsys):
    from speechsent import SentimentModel

    status = infer.main(["--model_dir", str(tiny["e2e"]), str(tiny["stereo"]), "--channel", "1"])
    (line,) = _lines(capsys.readouterr().out)
    assert status == 0
    pred = SentimentModel.from_pretrained(tiny["e2e"], device="cpu")(tiny["stereo"], channel=1)
    assert line["label"] == pred.label
    assert line["probabilities"] == pytest.approx(pred.probabilities, abs=1e-6)


def test_two_step_lines_have_the_transcript(tiny, capsys, tmp_path):
    out = tmp_path / "out.jsonl"
    argv = ["--model_dir", str(tiny["two_step"]), str(tiny["wav"]), str(tiny["short"]), "--output", str(out)]
    assert infer.main(argv) == 1
    assert capsys.readouterr().out == ""
    good, bad = _lines(out.read_text())
    assert set(good) == {"file", "label", "probabilities", "transcript"} and isinstance(
        good["transcript"], str
    )
    assert set(bad) == {"file", "error"} and "too short" in bad["error"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_wav_scp_and_segments(tiny, capsys, tmp_path):
    config = tmp_path / "infer.yaml"
    config.write_text(f"model_dir: {tiny['fbank']}\nbatch_size: 3\ndevice: cpu\namp: false\n")
    argv = ["--config", str(config), "--wav_scp", str(tiny["wav_scp"]), "--segments", str(tiny["segments"])]
    assert infer.main([*argv, str(tiny["flac"])]) == 1
    lines = _lines(capsys.readouterr().out)
    assert [line["file"] for line in lines] == [str(tiny["flac"]), "reco1_a", "reco1_b", "reco2_a", "reco3_a"]
    assert all("label" in line for line in lines[:4]) and "missing.wav" in lines[4]["error"]


@pytest.mark.slow  # a new process imports ESPnet (about 20 s)
def test_stdout_holds_only_json_in_a_fresh_process(tiny, tmp_path):
    """A new process imports ESPnet, which prints to stdout: that must not reach the JSON lines."""
    proc = subprocess.run(
        [sys.executable, "-m", "speechsent.bin.infer", "--model_dir", str(tiny["e2e"]), str(tiny["wav"])],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (line,) = _lines(proc.stdout)
    assert line["file"] == str(tiny["wav"])
