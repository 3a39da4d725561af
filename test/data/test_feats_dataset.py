"""FeatsDataset: scp + label files, several pairs, utterance lists, counted skips, errors, padding collate."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pytest
import torch

from speechsent.asr.feat_storage import ArkWriter, StorageSpec
from speechsent.data.feats_dataset import FeatsDataset, collate_feats, read_utt_list
from speechsent.data.kaldi_dir import KaldiDataError, write_table
from speechsent.data.labels import PSEUDO_LABELS, SENTIMENT_LABELS


def _dump(dir_, mats: dict[str, np.ndarray], num_frames: bool = True):
    dir_.mkdir(parents=True, exist_ok=True)
    scp = {}
    with ArkWriter(dir_ / "feats.1.ark", StorageSpec()) as writer:
        for utt, mat in mats.items():
            scp[utt] = f"{dir_ / 'feats.1.ark'}:{writer.write(utt, mat)}"
    write_table(dir_ / "feats.scp", scp)
    if num_frames:
        write_table(dir_ / "utt2num_frames", {u: m.shape[0] for u, m in mats.items()})
    return dir_ / "feats.scp"


@pytest.fixture
def two_sets(tmp_path):
    rng = np.random.default_rng(0)
    a = {f"a{i}": rng.standard_normal((3 + i, 4)).astype(np.float32) for i in range(5)}
    b = {f"b{i}": rng.standard_normal((2 + i, 4)).astype(np.float32) for i in range(3)}
    scp_a = _dump(tmp_path / "dump_a", a)
    scp_b = _dump(tmp_path / "dump_b", b, num_frames=False)
    # a4 has features but no label; a9 has a label but no features
    write_table(
        tmp_path / "lab_a",
        {"a0": "Negative", "a1": "Neutral", "a2": "Positive", "a3": "Neutral", "a9": "Positive"},
    )
    write_table(tmp_path / "lab_b", {"b0": "Positive", "b1": "Negative", "b2": "Negative"})
    return tmp_path, a, b, scp_a, scp_b


def test_joins_sources_and_counts_skips(two_sets, caplog):
    tmp, _, b, scp_a, scp_b = two_sets
    with caplog.at_level(logging.WARNING):
        ds = FeatsDataset([(scp_a, tmp / "lab_a"), (scp_b, tmp / "lab_b")], SENTIMENT_LABELS, name="train")
    assert ds.ids == ["a0", "a1", "a2", "a3", "b0", "b1", "b2"]
    assert ds.targets == [0, 1, 2, 1, 2, 0, 0]
    assert ds.lengths == [3, 4, 5, 6, 2, 3, 4]  # from utt2num_frames, and read for dump_b
    assert ds.skipped == {"labelled, no features": 1} and ds.num_skipped == 1
    assert "skipped 1 utterances (labelled, no features), e.g. a9" in caplog.text
    assert ds.dim == 4 and ds.class_counts() == [3, 2, 2]
    item = ds[5]
    assert item["id"] == "b1" and np.array_equal(item["feats"], b["b1"])


def test_utt_list_subset_and_its_skips(two_sets, tmp_path):
    tmp, _, _, scp_a, _ = two_sets
    (tmp_path / "utt2spk").write_text("a1 s\na2 s\na4 s\na9 s\nzz s\n")
    ds = FeatsDataset(
        [(scp_a, tmp / "lab_a")], SENTIMENT_LABELS, utt_list=read_utt_list(tmp_path / "utt2spk")
    )
    assert ds.ids == ["a1", "a2"]
    assert ds.skipped == {
        "labelled, no features": 1,  # a9
        "in the utterance list with features, no label": 1,  # a4
        "in the utterance list, neither labelled nor featured": 1,  # zz
    }


def test_pseudo_labels_and_wrong_label_set(two_sets):
    tmp, _, _, scp_a, _ = two_sets
    write_table(tmp / "utt2pseudo", {"a0": "Negative", "a1": "Positive"})
    ds = FeatsDataset([(scp_a, tmp / "utt2pseudo")], PSEUDO_LABELS)
    assert ds.targets == [0, 1]
    with pytest.raises(KaldiDataError, match=r"lab_a:2: label 'Neutral' is not one of Negative, Positive"):
        FeatsDataset([(scp_a, tmp / "lab_a")], PSEUDO_LABELS)


def test_bad_scp_line_is_an_error_naming_file_and_line(two_sets):
    tmp, _, _, scp_a, _ = two_sets
    lines = scp_a.read_text().splitlines()
    lines[2] = lines[2].split()[0] + " not_an_ark_entry"
    scp_a.write_text("\n".join(lines) + "\n")
    with pytest.raises(KaldiDataError, match=r"feats.scp:3: a2: expected ark_path:offset"):
        FeatsDataset([(scp_a, tmp / "lab_a")], SENTIMENT_LABELS)
    scp_a.write_text("a0\n")
    with pytest.raises(KaldiDataError, match=r"feats.scp:1"):
        FeatsDataset([(scp_a, tmp / "lab_a")], SENTIMENT_LABELS)


def test_unreadable_matrix_names_utterance(two_sets):
    tmp, _, _, scp_a, _ = two_sets
    write_table(scp_a, {"a0": f"{tmp / 'missing.ark'}:5"})
    with pytest.raises(KaldiDataError, match=r"a0: cannot read .*missing.ark:5"):
        FeatsDataset([(scp_a, tmp / "lab_a")], SENTIMENT_LABELS)[0]


def test_same_utterance_in_two_sources_is_an_error(two_sets):
    tmp, _, _, scp_a, _ = two_sets
    with pytest.raises(KaldiDataError, match="a0 is also labelled in"):
        FeatsDataset([(scp_a, tmp / "lab_a"), (scp_a, tmp / "lab_a")], SENTIMENT_LABELS)


def test_open_file_cache_is_bounded_and_dropped_on_pickle(two_sets):
    tmp, _, _, scp_a, scp_b = two_sets
    ds = FeatsDataset([(scp_a, tmp / "lab_a"), (scp_b, tmp / "lab_b")], SENTIMENT_LABELS, max_open_files=1)
    for i in range(len(ds)):
        ds[i]
    assert len(ds._fds) == 1
    copy = pickle.loads(pickle.dumps(ds))
    assert copy._fds is None and np.array_equal(copy[0]["feats"], ds[0]["feats"])


def test_collate_pads_and_masks(two_sets):
    tmp, a, _, scp_a, _ = two_sets
    ds = FeatsDataset([(scp_a, tmp / "lab_a")], SENTIMENT_LABELS)
    batch = collate_feats([ds[0], ds[3]])
    feats, lengths = batch["inputs"]["feats"], batch["inputs"]["lengths"]
    assert feats.shape == (2, 6, 4) and lengths.tolist() == [3, 6]
    assert torch.equal(feats[0, :3], torch.from_numpy(a["a0"])) and torch.all(feats[0, 3:] == 0)
    assert batch["ids"] == ["a0", "a3"] and batch["targets"].tolist() == [0, 1]


def test_subset_keeps_items_and_reads_them(two_sets):
    tmp, _, b, scp_a, scp_b = two_sets
    ds = FeatsDataset([(scp_a, tmp / "lab_a"), (scp_b, tmp / "lab_b")], SENTIMENT_LABELS)
    sub = ds.subset([6, 1], "held")
    assert sub.ids == ["b2", "a1"] and sub.targets == [0, 1] and sub.lengths == [4, 4] and len(sub) == 2
    assert np.array_equal(sub[0]["feats"], b["b2"]) and sub.num_skipped == 0 and ds.num_skipped == 1
