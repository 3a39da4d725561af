"""Stage 1 on a corpus synthesized with eSpeak NG, checked against the synthesizer's ground truth:
every majority-labeled row lands in exactly one split with its label, ties and unmatched rows nowhere,
splits conversation-disjoint, every usable Fisher segment present, audio through wav.scp + segments equal
to the SPHERE file's samples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from speechsent.audio.io import UtteranceReader
from speechsent.audio.sphere import read_sphere
from speechsent.data.prepare import prepare_data
from speechsent.data.prepare_common import PrepareConfig
from speechsent.kaldi.data_dir import DataDir
from speechsent.kaldi.validate import validate
from speechsent.synth.corpus import synthesize_corpus
from speechsent.synth.manifest import CorpusConfig

SETS = ("swbd_train", "swbd_test", "swbd_holdout")
LABELS = ("Negative", "Neutral", "Positive")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    config = CorpusConfig(
        seed=3, num_swbd_convs=6, num_fisher_convs=2, turns_per_conv=8, fisher_turns_per_conv=8
    )
    db = synthesize_corpus(root / "corpus", config).db
    out = root / "data"
    report = prepare_data(
        PrepareConfig(
            out_dir=out,
            swbd=db["SWBD"],
            swbd_ms98=db["SWBD_MS98"],
            swbd_sentiment=db["SWBD_SENTIMENT"],
            fisher=db["FISHER"].split(),
        )
    )
    truth = json.loads((root / "corpus" / "manifest.json").read_text(encoding="utf-8"))
    return truth, out, report


def _segment_index(out: Path) -> dict[tuple[str, int], tuple[str, str]]:
    """(recording, start in centiseconds) -> (set, utterance) over the labeled sets."""
    index = {}
    for name in SETS:
        for utt, seg in DataDir(out / name).segments.items():
            key = (seg.reco, round(seg.start * 100))
            assert key not in index, f"{utt} is in two sets"
            index[key] = (name, utt)
    return index


def test_labels_land_once_with_their_majority(prepared):
    manifest, out, report = prepared
    index = _segment_index(out)
    labels = {name: DataDir(out / name).utt2sentiment for name in SETS}
    segments = {s["segment_id"]: s for conv in manifest["swbd"] for s in conv["segments"]}
    found = 0
    for row in manifest["sentiment_rows"]:
        seg = segments.get(row["segment_id"])
        key = (f"{row['conversation']}-{row['side']}", round(seg["start"] * 100)) if seg else None
        if row["outcome"] in LABELS and seg["words"]:
            name, utt = index[key]
            assert labels[name][utt] == row["outcome"], row
            found += 1
        elif row["outcome"] in ("tie", "unmatched") and key in index:
            # the segment may be labeled by another row of the TSV, never by this one
            others = [
                r for r in manifest["sentiment_rows"] if r is not row and r["segment_id"] == row["segment_id"]
            ]
            assert any(r["outcome"] in LABELS for r in others), row
    assert found == sum(len(v) for v in labels.values()) > 0
    outcomes = [r["outcome"] for r in manifest["sentiment_rows"]]
    assert report.counts["rows_no_majority"] == outcomes.count("tie") > 0
    assert report.counts["rows_unmatched"] == outcomes.count("unmatched") > 0


def test_splits_are_conversation_disjoint_and_valid(prepared):
    _, out, _ = prepared
    convs = {name: {utt.split("-")[0] for utt in DataDir(out / name).utt_ids} for name in SETS}
    assert all(convs.values())
    assert not convs["swbd_train"] & convs["swbd_test"]
    assert not convs["swbd_train"] & convs["swbd_holdout"]
    assert not convs["swbd_test"] & convs["swbd_holdout"]
    asr_convs = {utt.split("-")[0] for utt in DataDir(out / "asr_train").utt_ids}
    assert asr_convs == convs["swbd_train"]
    for name in (*SETS, "asr_train", "fisher"):
        assert validate(out / name, no_feats=True) == []


def test_fisher_has_every_usable_segment(prepared):
    manifest, out, _ = prepared
    usable = [
        s
        for conv in manifest["fisher"]
        for s in conv["segments"]
        if s["words"].strip() and "((" not in s["transcript"]  # Kaldi's Fisher recipe drops (( )) lines
    ]
    assert len(DataDir(out / "fisher").utt_ids) == len(usable) > 0


def test_audio_through_wav_scp_equals_the_sphere_samples(prepared):
    _, out, _ = prepared
    data = DataDir(out / "swbd_test")
    reader = UtteranceReader(data)
    for utt, samples, rate in list(reader.iter_utterances())[:10]:
        seg = data.segments[utt]
        conv, side = seg.reco.split("-")
        path = next(Path(p) for p in data.wav_scp[seg.reco].command.split() if p.endswith(".sph"))
        assert path.stem == conv
        source, source_rate = read_sphere(path, channel="AB".index(side))
        expected = source[int(seg.start * source_rate) : int(seg.end * source_rate), 0] / 32768.0
        assert rate == source_rate == 8000
        np.testing.assert_array_equal(samples, expected.astype(np.float32))
