"""The demo recipe on a corpus whose SPHERE files libsndfile wrote (µ-law, 2 channels, libsndfile's own
header: ``sample_n_bytes -s1 1``, no checksum, no shorten), named through the db.sh variables: stages 1-5
read every utterance (nothing in any ``failed`` list), and the audio that reaches the data dirs is the audio
of the files as libsndfile decodes them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from speechsent.audio.io import UtteranceReader
from speechsent.kaldi.table import read_table

pytest.importorskip("espeakng_loader")
pytest.importorskip("espnet2")
soundfile = pytest.importorskip("soundfile")

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def outside_run(tmp_path_factory, egs_module):
    stages = egs_module("test_stages_2_5")
    tmp = tmp_path_factory.mktemp("outside")
    (tmp / "synth.yaml").write_text(yaml.safe_dump(stages.SYNTH))
    subprocess.run(
        [sys.executable, "-m", "speechsent.bin.synth_corpus", "--config", str(tmp / "synth.yaml"),
         "--out_dir", str(tmp / "ours"), "--seed", "3", "--nj", "2"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    corpus = tmp / "theirs"
    count = egs_module("rewrite_corpus_sphere").rewrite_corpus(tmp / "ours", corpus, "ULAW")
    assert count > 0
    recipe = stages._recipe(tmp)
    (recipe / "conf" / "tiny.yaml").write_text(yaml.safe_dump(stages.TINY_ASR))
    fisher = " ".join(str(p) for p in sorted((corpus / "fisher").iterdir()))
    env = {k: v for k, v in os.environ.items()}
    env.update(
        SWBD=str(corpus / "swbd"),
        SWBD_MS98=str(corpus / "swb_ms98_transcriptions"),
        SWBD_SENTIMENT=str(corpus / "swbd_sentiment"),
        FISHER=fisher,
        SPEECHSENT_ROOT=str(ROOT),
    )
    proc = subprocess.run(
        ["bash", "./run.sh", "--stage", "1", "--stop_stage", "5", *stages.TINY_RECIPE_ARGS],
        cwd=recipe, env=env, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    return corpus, recipe, log


def test_the_fixture_is_libsndfile_sphere(outside_run):
    corpus, _, _ = outside_run
    sph = sorted(corpus.rglob("*.sph"))
    header = sph[0].read_bytes()[:1024]
    assert b"sample_n_bytes -s1 1" in header and b"shorten" not in header  # libsndfile's own header
    info = soundfile.info(sph[0])
    assert info.format == "NIST" and info.subtype == "ULAW" and info.channels == 2


def test_every_utterance_is_read(outside_run):
    _, recipe, log = outside_run
    assert "unreadable" not in log.lower() or " 0 unreadable" in log.lower()
    for failed in [*recipe.glob("dump/raw/*/failed"), *recipe.glob("exp/*/decode_*/*/failed")]:
        assert read_table(failed) == {}, failed
    for s in ("swbd_train", "swbd_test", "swbd_holdout", "asr_train", "fisher"):
        utts = read_table(recipe / "data" / s / "utt2spk")
        assert utts, s
        if s != "asr_train":
            feats = read_table(recipe / "dump/encoder" / s / "feats.scp")
            skipped = read_table(recipe / "dump/encoder" / s / "skipped_utts")
            assert len(feats) + len(skipped) == len(utts)
            assert all("short" in reason for reason in skipped.values()), skipped  # only too-short ones


def test_data_dir_audio_is_the_files_audio(outside_run):
    """Each utterance of the data dirs equals its span of the file as libsndfile decodes it."""
    corpus, recipe, _ = outside_run
    data = recipe / "data" / "swbd_test"
    reader = UtteranceReader(data)
    segments = {u: v.split() for u, v in read_table(data / "segments").items()}
    by_side = {p.stem: p for p in corpus.rglob("sw0*.sph")}
    checked = 0
    for utt in reader.utt_ids()[:12]:
        reco, start, end = segments[utt]
        samples, rate = reader.load(utt)
        ref, ref_rate = soundfile.read(by_side[reco[:-2]], dtype="int16", always_2d=True)
        channel = "AB".index(reco[-1])
        a, b = int(float(start) * ref_rate), int(float(end) * ref_rate)
        assert rate == ref_rate == 8000
        np.testing.assert_array_equal(np.asarray(samples).reshape(-1), ref[a:b, channel] / 32768.0)
        checked += 1
    assert checked
