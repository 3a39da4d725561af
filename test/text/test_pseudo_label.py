"""Stage 7: utt2pseudo of data dirs in jobs: split/merge = one job, resume after a failure or kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_labelers_fixtures import make_data_dir, make_tiny_bert

from speechsent.bin import pseudo_label as stage7
from speechsent.text.labelers import HFLabeler, VaderLabeler, load_labeler


def _vader_dir(tmp_path: Path) -> Path:
    out = tmp_path / "exp" / "pseudo_labeler_vader"
    VaderLabeler().save(out)
    return out


def _hf_dir(tmp_path: Path) -> Path:
    out = tmp_path / "exp" / "pseudo_labeler_tiny"
    HFLabeler(make_tiny_bert(tmp_path / "tiny", initializer_range=1.0), device="cpu").save(
        out, copy_model=True
    )
    return out


def _run(labeler: Path, data: Path, *extra: str) -> int:
    return stage7.main(["--labeler_dir", str(labeler), "--data_dir", str(data), "--cmd", "local", *extra])


def _outputs(data: Path) -> tuple[str, str]:
    return (data / "utt2pseudo").read_text(), (data / "utt2pseudo_prob").read_text()


def test_vader_labels_skips_empty_and_splits(tmp_path):
    labeler = _vader_dir(tmp_path)
    make_data_dir(tmp_path / "one" / "swbd_train", num_utts=40, empty=3)
    make_data_dir(tmp_path / "many" / "swbd_train", num_utts=40, empty=3)
    assert _run(labeler, tmp_path / "one" / "swbd_train") == 0
    assert _run(labeler, tmp_path / "many" / "swbd_train", "--nj", "3", "--chunk_size", "4") == 0
    one = _outputs(tmp_path / "one" / "swbd_train")
    assert one == _outputs(tmp_path / "many" / "swbd_train")
    labels = dict(line.split() for line in one[0].splitlines())
    probs = dict(line.split() for line in one[1].splitlines())
    texts = dict(
        [*line.split(" ", 1), ""][:2] for line in (tmp_path / "one/swbd_train/text").read_text().splitlines()
    )
    empty = {u for u, t in texts.items() if not t.strip()}
    assert len(empty) == 3 and not empty & set(labels) and len(labels) == 37 and set(labels) == set(probs)
    expected = VaderLabeler().predict_proba([texts[u] for u in labels])
    np.testing.assert_allclose([float(probs[u]) for u in labels], expected[:, 1], atol=1e-6)
    assert {labels[u] for u in labels} == {"Negative", "Positive"}
    assert all((labels[u] == "Positive") == (float(probs[u]) > 0.5) for u in labels)
    skipped = (labeler / "label" / "swbd_train" / "skipped").read_text().split("\n")
    assert {line.split()[0] for line in skipped if line} == empty
    # --empty_text label: the empty ones get labels too (VADER: 0.5, a tie -> Negative)
    assert _run(labeler, tmp_path / "one" / "swbd_train", "--empty_text", "label") == 0
    labels = dict(line.split() for line in _outputs(tmp_path / "one" / "swbd_train")[0].splitlines())
    assert len(labels) == 40 and all(labels[u] == "Negative" for u in empty)


def test_hf_split_merge_equals_one_job(tmp_path):
    labeler = _hf_dir(tmp_path)
    make_data_dir(tmp_path / "a" / "fisher", num_utts=48, sentiment=False)
    make_data_dir(tmp_path / "b" / "fisher", num_utts=48, sentiment=False)
    assert _run(labeler, tmp_path / "a" / "fisher") == 0
    assert (
        _run(labeler, tmp_path / "b" / "fisher", "--nj", "4", "--chunk_size", "5", "--batch_tokens", "30")
        == 0
    )
    a, b = _outputs(tmp_path / "a" / "fisher"), _outputs(tmp_path / "b" / "fisher")
    assert a[0] == b[0]
    pa = np.array([float(line.split()[1]) for line in a[1].splitlines()])
    pb = np.array([float(line.split()[1]) for line in b[1].splitlines()])
    np.testing.assert_allclose(pa, pb, atol=2e-6)  # batch composition: float rounding only
    assert len(set(a[0].split()[1::2])) == 2, "the fixture should give both labels"


def test_resume_after_a_failed_chunk_and_rerun_is_idempotent(tmp_path, monkeypatch, caplog):
    labeler = _vader_dir(tmp_path)
    make_data_dir(tmp_path / "ref" / "swbd_train", num_utts=30)
    make_data_dir(tmp_path / "run" / "swbd_train", num_utts=30)
    assert _run(labeler, tmp_path / "ref" / "swbd_train", "--work_dir", str(tmp_path / "ref_work")) == 0

    real = VaderLabeler.predict_proba
    calls: list[int] = []
    fail = [True]

    def dies_on_the_third_chunk(self, texts):
        calls.append(len(texts))
        if fail[0] and len(calls) == 3:
            raise RuntimeError("killed")
        return real(self, texts)

    monkeypatch.setattr(VaderLabeler, "predict_proba", dies_on_the_third_chunk)
    data = tmp_path / "run" / "swbd_train"
    assert _run(labeler, data, "--nj", "2", "--chunk_size", "4") == 1  # the error is logged
    assert not (data / "utt2pseudo").exists()
    parts = sorted(p.relative_to(labeler) for p in labeler.rglob("chunk.*"))
    assert len(parts) == 2
    calls.clear()
    fail[0] = False
    assert _run(labeler, data, "--nj", "2", "--chunk_size", "4") == 0
    assert sum(calls) == 30 - 8, "the two finished chunks are not labeled again"
    assert _outputs(data) == _outputs(tmp_path / "ref" / "swbd_train")

    # a rerun does nothing; a changed text is labeled afresh
    mtimes = [(data / f).stat().st_mtime_ns for f in ("utt2pseudo", "utt2pseudo_prob")]
    calls.clear()
    caplog.set_level("INFO")
    assert _run(labeler, data, "--nj", "2", "--chunk_size", "4") == 0
    assert not calls and "up to date" in caplog.text
    assert [(data / f).stat().st_mtime_ns for f in ("utt2pseudo", "utt2pseudo_prob")] == mtimes
    lines = (data / "text").read_text().splitlines()
    lines[0] = lines[0].split()[0] + " i love it it is wonderful"
    (data / "text").write_text("\n".join(lines) + "\n")
    assert _run(labeler, data, "--nj", "2", "--chunk_size", "4") == 0
    assert sum(calls) == 30
    assert (data / "utt2pseudo").read_text().splitlines()[0].endswith("Positive")


def test_errors(tmp_path):
    labeler = _vader_dir(tmp_path)
    assert (
        stage7.main(
            ["--labeler_dir", str(labeler), "--data_dir", str(tmp_path / "missing"), "--cmd", "local"]
        )
        == 1
    )
    make_data_dir(tmp_path / "x" / "swbd_train", num_utts=4)
    # a spec that is not a dir needs --work_dir
    assert stage7.main(["--labeler_dir", "vader", "--data_dir", str(tmp_path / "x" / "swbd_train")]) == 1
    assert (
        stage7.main(
            [
                "--labeler_dir",
                "vader",
                "--work_dir",
                str(tmp_path / "w"),
                "--data_dir",
                str(tmp_path / "x" / "swbd_train"),
                "--cmd",
                "local",
            ]
        )
        == 0
    )
    with pytest.raises(SystemExit):
        stage7.main(["--data_dir", str(tmp_path / "x" / "swbd_train")])


@pytest.mark.slow
def test_run_pl_jobs_killed_then_rerun(tmp_path):
    """Real jobs through utils/run.pl: the whole stage is killed after its first parts, a rerun finishes."""
    labeler = _hf_dir(tmp_path)
    make_data_dir(tmp_path / "ref" / "fisher", num_utts=40, sentiment=False)
    make_data_dir(tmp_path / "run" / "fisher", num_utts=40, sentiment=False)
    assert _run(labeler, tmp_path / "ref" / "fisher", "--work_dir", str(tmp_path / "ref_work")) == 0
    data = tmp_path / "run" / "fisher"
    argv = ["--labeler_dir", str(labeler), "--data_dir", str(data), "--nj", "2", "--chunk_size", "1"]
    argv += ["--cmd", "run.pl", "--batch_tokens", "8"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "speechsent.bin.pseudo_label", *argv],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 240
    try:
        while time.time() < deadline and len(list(labeler.rglob("chunk.*"))) < 2 and proc.poll() is None:
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the stage, run.pl and the jobs
        proc.wait()
    killed_with = len(list(labeler.rglob("chunk.*")))
    assert killed_with >= 2
    assert stage7.main(argv) == 0
    assert _outputs(data)[0] == _outputs(tmp_path / "ref" / "fisher")[0]
    logs = sorted((labeler / "label" / "pseudo_logdir").glob("label.*.log"))
    assert len(logs) == 2 and all("Ended (code 0)" in p.read_text() for p in logs)
    if killed_with < 40:  # the rerun redid nothing finished: a finished job skipped, or finished chunks
        texts = [p.read_text() for p in logs]
        assert any("already done" in t or ("done before" in t and ", 0 done before" not in t) for t in texts)
    assert isinstance(load_labeler(labeler, device="cpu"), HFLabeler)


def test_two_labelers_side_by_side_and_done_json(tmp_path, caplog):
    """Per-labeler files (--labels_name), the default copy, done.json's labels_file/labels_sha256 contract."""
    from speechsent.utils.digest import file_digest
    from speechsent.utils.fileio import read_json

    vader = _vader_dir(tmp_path)
    hf = _hf_dir(tmp_path)
    data = tmp_path / "data" / "swbd_train"
    make_data_dir(data, num_utts=24, empty=2)
    for labeler, tag, default in ((vader, "vader", "false"), (hf, "tiny", "true")):
        argv = ["--labels_name", f"utt2pseudo_{tag}", "--default_copy", default]
        assert _run(labeler, data, "--work_dir", str(labeler / "label"), *argv) == 0
    for tag, labeler in (("vader", vader), ("tiny", hf)):
        done = read_json(labeler / "label" / "swbd_train" / "done.json")
        assert done["labels_file"] == f"utt2pseudo_{tag}" and done["prob_file"] == f"utt2pseudo_prob_{tag}"
        assert done["labels_sha256"] == file_digest(data / f"utt2pseudo_{tag}")
        assert done["labeler"] == ("vader" if tag == "vader" else "tiny")
        assert done["num_labeled"] == 22 and done["num_skipped"] == 2
    assert (data / "utt2pseudo").read_bytes() == (data / "utt2pseudo_tiny").read_bytes()
    assert (data / "utt2pseudo_prob").read_bytes() == (data / "utt2pseudo_prob_tiny").read_bytes()
    # each labeler's file is its own: the VADER file holds VADER's probabilities, not the default's
    texts = dict(line.split(" ", 1) for line in (data / "text").read_text().splitlines() if " " in line)
    vader_probs = dict(line.split() for line in (data / "utt2pseudo_prob_vader").read_text().splitlines())
    expected = VaderLabeler().predict_proba([texts[u] for u in vader_probs])[:, 1]
    np.testing.assert_allclose([float(p) for p in vader_probs.values()], expected, atol=1e-6)
    assert (data / "utt2pseudo_prob_vader").read_bytes() != (data / "utt2pseudo_prob").read_bytes()
    done = read_json(hf / "label" / "swbd_train" / "done.json")
    assert done["utt2pseudo_sha256"] == done["labels_sha256"] and set(done["files"]) == {
        "utt2pseudo_tiny",
        "utt2pseudo_prob_tiny",
        "utt2pseudo",
        "utt2pseudo_prob",
    }
    from speechsent.kaldi.validate import validate

    assert validate(data, no_feats=True, no_wav=True) == []

    # a rerun is a no-op; a changed output file (e.g. the default copy overwritten) is written again
    tiny_default = ("--work_dir", str(hf / "label"), "--labels_name", "utt2pseudo_tiny")
    tiny_default += ("--default_copy", "true")
    mtimes = {p.name: p.stat().st_mtime_ns for p in data.iterdir()}
    caplog.set_level("INFO")
    assert _run(hf, data, *tiny_default) == 0
    assert "up to date" in caplog.text and {p.name: p.stat().st_mtime_ns for p in data.iterdir()} == mtimes
    (data / "utt2pseudo").write_bytes((data / "utt2pseudo_vader").read_bytes())
    assert _run(hf, data, *tiny_default) == 0
    assert (data / "utt2pseudo").read_bytes() == (data / "utt2pseudo_tiny").read_bytes()
    # another name: done.json follows it
    assert _run(vader, data, "--work_dir", str(vader / "label"), "--labels_name", "utt2pseudo_v2") == 0
    done = read_json(vader / "label" / "swbd_train" / "done.json")
    assert done["labels_file"] == "utt2pseudo_v2" and "utt2pseudo_sha256" not in done
    assert (data / "utt2pseudo_v2").read_bytes() == (data / "utt2pseudo_vader").read_bytes()


@pytest.mark.parametrize("name", ["utt2pseudo_prob_x", "pseudo", "utt2pseudo_", "utt2pseudo_a/b"])
def test_bad_labels_name(tmp_path, name):
    make_data_dir(tmp_path / "d", num_utts=4)
    assert _run(_vader_dir(tmp_path), tmp_path / "d", "--labels_name", name) == 1
    assert not [p for p in (tmp_path / "d").iterdir() if p.name.startswith("utt2pseudo")]
