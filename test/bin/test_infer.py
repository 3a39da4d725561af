"""speechsent-infer: JSON lines per input, an error line per bad input, exit status 1 when any failed."""

from __future__ import annotations

import json
import logging
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
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
        (["--model_dir", "m", "--chunk_seconds", "0", "a.wav"], "--chunk_seconds must be positive"),
        (["--model_dir", "m", "--max_duration", "-1", "a.wav"], "--max_duration must be positive"),
        (
            ["--model_dir", "m", "--chunk_seconds", "5", "--max_duration", "2", "a.wav"],
            "--chunk_seconds must not be longer than --max_duration",
        ),
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


def _reject(constant: str) -> None:
    raise AssertionError(f"{constant} in a JSON line: not JSON")


def _lines(text: str) -> list[dict]:
    """The JSON lines, strictly (NaN/Infinity, which Python's json accepts, fail)."""
    return [json.loads(line, parse_constant=_reject) for line in text.splitlines()]


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


def _pcm16_speech(path: Path, seconds: float, seed: int = 3) -> np.ndarray:
    import soundfile as sf

    from speechsent.asr.tiny_model import synthetic_speech

    pcm = (synthetic_speech(int(8000 * seconds), 8000, seed) * 32767).astype(np.int16)
    sf.write(path, pcm, 8000, subtype="PCM_16")
    return pcm


def test_float_wav_same_as_its_pcm16_copy(tiny, capsys, tmp_path):
    """Issue 12's acceptance check of float WAVs: float32 (and float64) copies of a PCM16 wav of speech,
    written by soundfile as samples / 32768, give the same probabilities (1e-4)."""
    import soundfile as sf

    pcm = _pcm16_speech(tmp_path / "pcm16.wav", 1.3)
    for subtype in ("FLOAT", "DOUBLE"):
        sf.write(tmp_path / f"{subtype}.wav", pcm / 32768.0, 8000, subtype=subtype)
    files = [str(tmp_path / name) for name in ("pcm16.wav", "FLOAT.wav", "DOUBLE.wav")]
    assert infer.main(["--model_dir", str(tiny["e2e"]), "--device", "cpu", *files]) == 0
    ref, *floats = _lines(capsys.readouterr().out)
    for line in floats:
        assert line["label"] == ref["label"]
        assert line["probabilities"] == pytest.approx(ref["probabilities"], abs=1e-4)


def test_nan_samples_are_an_error_line(tiny, capsys, tmp_path):
    """A float wav holding NaN or infinity: an error line for it (valid JSON), the others classified."""
    import soundfile as sf

    pcm = _pcm16_speech(tmp_path / "good.wav", 1.0)
    for name, bad in (("nan", np.nan), ("inf", np.inf)):
        x = pcm / 32768.0
        x[200] = bad
        sf.write(tmp_path / f"{name}.wav", x, 8000, subtype="FLOAT")
    files = [str(tmp_path / n) for n in ("nan.wav", "good.wav", "inf.wav")]
    scp = tmp_path / "wav.scp"
    scp.write_text(f"u1 {files[0]}\nu2 {files[1]}\n")
    argv = ["--model_dir", str(tiny["e2e"]), "--device", "cpu", *files, "--wav_scp", str(scp)]
    assert infer.main(argv) == 1
    lines = _lines(capsys.readouterr().out)
    assert [line["file"] for line in lines] == [*files, "u1", "u2"]
    for i in (0, 2, 3):
        assert set(lines[i]) == {"file", "error"} and "NaN or infinite" in lines[i]["error"]
    assert lines[1]["label"] in ("Negative", "Neutral", "Positive") and lines[4] == {**lines[1], "file": "u2"}
    # the same in chunk mode: the input is one error line
    assert infer.main([*argv[:4], files[0], "--chunk_seconds", "0.5"]) == 1
    (line,) = _lines(capsys.readouterr().out)
    assert set(line) == {"file", "error"} and "NaN or infinite" in line["error"]


def test_long_input_is_refused_with_what_to_do(tiny, capsys, tmp_path, caplog):
    _pcm16_speech(tmp_path / "long.wav", 61.0)
    _pcm16_speech(tmp_path / "short.wav", 1.0)
    files = [str(tmp_path / "long.wav"), str(tmp_path / "short.wav")]
    assert infer.main(["--model_dir", str(tiny["fbank"]), *files]) == 1
    long, short = _lines(capsys.readouterr().out)
    assert set(long) == {"file", "error"} and "label" in short
    assert long["error"].startswith(f"{files[0]}: 61.0 s is longer than max_duration 60 s")
    assert "--chunk_seconds" in long["error"] and "--segments" in long["error"]
    assert infer.main(["--model_dir", str(tiny["fbank"]), "--max_duration", "0.5", files[1]]) == 1
    assert "1.0 s is longer than max_duration 0.5 s" in _lines(capsys.readouterr().out)[0]["error"]
    # the default limit, 60 s, checked when the model is loaded
    caplog.set_level(logging.ERROR)
    assert infer.main(["--model_dir", str(tiny["fbank"]), "--chunk_seconds", "61", files[1]]) == 1
    assert "chunk_seconds 61 is longer than max_duration 60 s" in caplog.text


def test_chunk_seconds(tiny, capsys, tmp_path):
    """One line per window with start/end, for files and wav.scp + segments; each window's probabilities
    those of the API on the window; an unreadable input one line without start/end."""
    from speechsent import SentimentModel

    pcm = _pcm16_speech(tmp_path / "long.wav", 4.3)
    argv = ["--model_dir", str(tiny["e2e"]), "--device", "cpu", "--batch_size", "2", "--chunk_seconds", "1"]
    files = [str(tmp_path / "long.wav"), str(tiny["corrupt"]), str(tiny["short"])]
    scp = ["--wav_scp", str(tiny["wav_scp"]), "--segments", str(tiny["segments"])]
    assert infer.main([*argv, *files, *scp]) == 1
    lines = _lines(capsys.readouterr().out)
    model = SentimentModel.from_pretrained(tiny["e2e"], device="cpu", max_duration=0)
    long = [line for line in lines if line["file"] == files[0]]
    assert [(x["start"], x["end"]) for x in long] == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 4.3)]
    for line in long:
        assert list(line) == ["file", "start", "end", "label", "probabilities"]
        ref = model(pcm[round(line["start"] * 8000) : round(line["end"] * 8000)], fs=8000)
        assert line["probabilities"] == pytest.approx(ref.probabilities, abs=1e-5)
    (corrupt,) = [line for line in lines if line["file"] == files[1]]
    assert set(corrupt) == {"file", "error"}
    (short,) = [line for line in lines if line["file"] == files[2]]
    assert set(short) == {"file", "start", "end", "error"} and "too short" in short["error"]
    by_utt = {}
    for line in lines[len(long) + 2 :]:
        by_utt.setdefault(line["file"], []).append(line)
    assert list(by_utt) == ["reco1_a", "reco1_b", "reco2_a", "reco3_a"]
    # segments of 0.6, 0.7 and 0.7 s: each one window (shorter than one), seconds from the segment's start
    assert [(x["start"], x["end"]) for x in by_utt["reco1_b"]] == [(0.0, 0.7)]
    assert "missing.wav" in by_utt["reco3_a"][0]["error"] and "start" not in by_utt["reco3_a"][0]
    # the 2-step model: windows with their transcripts
    assert infer.main(["--model_dir", str(tiny["two_step"]), "--chunk_seconds", "2", files[0]]) == 0
    lines = _lines(capsys.readouterr().out)
    assert [(x["start"], x["end"]) for x in lines] == [(0.0, 2.0), (2.0, 4.3)]
    assert all(isinstance(x["transcript"], str) for x in lines)
