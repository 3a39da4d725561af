"""FeatsDataset: scp + label files, several pairs, utterance lists, counted skips, errors, padding collate."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pytest
import torch

from speechsent.data.feats_dataset import NON_FINITE, FeatsDataset, collate_feats, read_utt_list
from speechsent.data.labels import PSEUDO_LABELS, SENTIMENT_LABELS
from speechsent.kaldi.ark import ArkWriter, StorageSpec
from speechsent.kaldi.table import KaldiDataError, write_table


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


# ---------------------------------------------------------------- non-finite matrices


@pytest.fixture
def poisoned(tmp_path):
    """Five good matrices (a0..a4, first: the one read for the dim is good) and two bad ones (a NaN in
    b_nan, an inf in c_inf), written by kaldiio as any Kaldi tool would; labels for all seven."""
    import kaldiio

    rng = np.random.default_rng(1)
    mats = {f"a{i}": rng.standard_normal((3 + i, 4)).astype(np.float32) for i in range(5)}
    mats["b_nan"] = rng.standard_normal((4, 4)).astype(np.float32)
    mats["b_nan"][2, 1] = np.nan
    mats["c_inf"] = rng.standard_normal((5, 4)).astype(np.float32)
    mats["c_inf"][0, 3] = -np.inf
    dump = tmp_path / "dump"
    dump.mkdir()
    with kaldiio.WriteHelper(f"ark,scp:{dump / 'feats.ark'},{dump / 'feats.scp'}") as writer:
        for utt in sorted(mats):
            writer(utt, mats[utt])
    labels = {u: SENTIMENT_LABELS[i % 3] for i, u in enumerate(sorted(mats))}
    labels["b_nan"] = labels["c_inf"] = "Positive"
    write_table(tmp_path / "utt2sentiment", labels)
    return tmp_path, dump / "feats.scp", mats


def test_non_finite_matrix_found_on_reading_is_dropped_named_and_not_read_again(poisoned, caplog):
    tmp, scp, _ = poisoned
    write_table(scp.parent / "utt2num_frames", {u: len(m) for u, m in poisoned[2].items()})
    ds = FeatsDataset([(scp, tmp / "utt2sentiment")], SENTIMENT_LABELS, name="train")
    assert len(ds) == 7 and ds.left_out() == {}  # indexing read only one matrix (the dim)
    items = [ds[i] for i in range(len(ds))]
    bad = {it["id"]: it for it in items if it["feats"] is None}
    assert sorted(bad) == ["b_nan", "c_inf"]
    assert bad["b_nan"]["dropped"] == "1 NaN and 0 infinite of 16 values, first at frame 2 dim 1"
    assert bad["c_inf"]["dropped"] == "0 NaN and 1 infinite of 20 values, first at frame 0 dim 3"
    batch = collate_feats(items)
    assert sorted(batch["dropped"]) == ["b_nan", "c_inf"] and len(batch["ids"]) == 5
    assert torch.isfinite(batch["inputs"]["feats"]).all() and len(batch["targets"]) == 5
    # the main process is told (the Trainer does this): named once, with the scp and the ark entry
    with caplog.at_level(logging.WARNING):
        ds.note_dropped(batch["dropped"])
        ds.note_dropped(batch["dropped"])
    warnings = [r.getMessage() for r in caplog.records if "non-finite" in r.getMessage()]
    assert len(warnings) == 2
    assert "train: b_nan: non-finite features: 1 NaN" in warnings[0] and str(scp) in warnings[0]
    assert "feats.ark:" in warnings[0] and warnings[0].endswith("left out")
    assert ds.left_out() == {"b_nan": NON_FINITE, "c_inf": NON_FINITE}
    assert ds.skip_counts() == {NON_FINITE: 2}
    assert ds.class_counts() == [2, 2, 1]  # the two Positive ones are not trainable
    # not read again
    reads = []
    original = ds._load
    ds._load = lambda i: reads.append(i) or original(i)
    assert ds[ds.ids.index("b_nan")]["feats"] is None and reads == []
    # a held-out share knows it too
    held = ds.subset([ds.ids.index("c_inf"), 0], "held")
    assert held.left_out() == {"c_inf": NON_FINITE} and held[0]["feats"] is None


def test_non_finite_matrix_found_while_indexing(poisoned, caplog):
    tmp, scp, _ = poisoned  # no utt2num_frames: every matrix is read for its length
    with caplog.at_level(logging.WARNING):
        ds = FeatsDataset([(scp, tmp / "utt2sentiment")], SENTIMENT_LABELS, name="valid")
    assert ds.left_out() == {"b_nan": NON_FINITE, "c_inf": NON_FINITE}
    assert "valid: c_inf: non-finite features: 0 NaN and 1 infinite" in caplog.text
    assert ds.lengths == [3, 4, 5, 6, 7, 4, 5]  # still indexed (the sampler's positions do not move)


def test_batch_of_dropped_items_only(poisoned):
    tmp, scp, _ = poisoned
    ds = FeatsDataset([(scp, tmp / "utt2sentiment")], SENTIMENT_LABELS)
    batch = collate_feats([ds[ds.ids.index("b_nan")], ds[ds.ids.index("c_inf")]])
    assert batch["ids"] == [] and batch["targets"].shape == (0,)
    assert batch["inputs"]["feats"].shape == (1, 1, 4) and batch["inputs"]["lengths"].tolist() == [1]
    assert set(batch["dropped"]) == {"b_nan", "c_inf"}
