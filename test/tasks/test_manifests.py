"""speechsent.tasks.manifests: the typed system.json, pretrain.json and model.json files."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess

import pytest

from speechsent.tasks.manifests import (
    FORMAT_VERSION,
    E2EModelManifest,
    ManifestFormatError,
    PretrainManifest,
    SystemManifest,
    TextModelManifest,
    pseudo_fingerprint,
)

SYSTEM_V0 = {  # a system.json of an earlier release (no format_version)
    "system": "e2e_blstm",
    "family": "e2e",
    "architecture": "blstm",
    "input": "encoder",
    "train_set": "swbd_train",
    "train_hours": None,
    "lm": None,
    "pseudo_labeler": None,
    "pseudo_sets": None,
    "pseudo_transcript": None,
    "seed": 0,
    "select_set": "swbd_test",
    "best_epoch": 3,
    "init_from": None,
    "num_train_utts": 96,
    "train_skipped": {},
    "valid_skipped": {},
    "config": {"lr": 0.01},
}


def _with_pseudo_fields(data: dict, labels: dict | None = None, fingerprint: str | None = None) -> dict:
    """``data`` with the newer E2E fields where the manifest writes them: ``encoder`` before ``init_from``
    (``asr`` for a file without it), the pseudo labels' after it."""
    out = {}
    for key, value in data.items():
        if key == "init_from" and "encoder" not in data:
            out["encoder"] = "asr"
        out[key] = value
        if key == "init_from":
            out.update(pseudo_labels=labels, pseudo_fingerprint=fingerprint)
    return out


def test_system_manifest_round_trip_keeps_the_file():
    manifest = SystemManifest.from_dict(SYSTEM_V0, "exp/x/system.json")
    assert manifest.format_version == 0 and manifest.num_train_utts == 96
    assert manifest.pseudo_labels is None and manifest.pseudo_fingerprint is None  # not in the old file
    current = _with_pseudo_fields(SYSTEM_V0)  # the old file's fields, plus the newer ones at their default
    assert manifest.to_dict() == {"format_version": FORMAT_VERSION, **current}
    assert list(manifest.to_dict())[1:] == list(current)  # same keys, same order
    assert SystemManifest.from_dict(manifest.to_dict()).fields() == current


def test_two_step_has_no_e2e_fields_and_defaults(tmp_path):
    data = {"family": "two_step", "architecture": "lm", "input": "asr", "extra_field": [1]}
    manifest = SystemManifest.from_dict(data)
    out = manifest.to_dict()
    assert "init_from" not in out and "train_skipped" not in out
    assert out["config"] == {} and out["seed"] is None and out["extra_field"] == [1]
    manifest.write(tmp_path / "system.json")
    assert SystemManifest.read(tmp_path) == SystemManifest.from_dict(out)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"architecture": None}, "system.json: field 'architecture' missing"),
        ({"family": "x"}, "system.json: family 'x'"),
        ({"train_hours": -1}, "field 'train_hours' must be null or a positive number"),
        ({"pseudo_sets": "a b"}, "field 'pseudo_sets' must be null or a list"),
        ({"seed": "0"}, "field 'seed' must be null or an integer"),
        ({"pseudo_labels": ["a"]}, "field 'pseudo_labels' must be null or an object"),
        ({"pseudo_labels": {"data/a/utt2pseudo": 1}}, "field 'pseudo_labels' must be null or an object"),
        ({"pseudo_fingerprint": 5}, "field 'pseudo_fingerprint' must be null or a string"),
        ({"format_version": FORMAT_VERSION + 1}, "this speechsent reads up to"),
    ],
)
def test_bad_system_manifest_names_file_and_field(change, message):
    data = {k: v for k, v in {**SYSTEM_V0, **change}.items() if v is not None or k != "architecture"}
    with pytest.raises(ManifestFormatError, match=message):
        SystemManifest.from_dict(data, "exp/x/system.json")


def test_read_names_a_bad_json_file(tmp_path):
    (tmp_path / "system.json").write_text('{"family":\n')
    with pytest.raises(ValueError, match=r"system.json:2: not valid JSON"):
        SystemManifest.read(tmp_path / "system.json")


def test_pretrain_manifest_is_a_system_manifest_in_its_own_file(tmp_path):
    pretrain = PretrainManifest.from_dict({**SYSTEM_V0, "pseudo_labeler": "pseudo_labeler_bert_sst2"})
    pretrain.write(tmp_path)
    assert (tmp_path / "pretrain.json").is_file() and not (tmp_path / "system.json").exists()
    assert PretrainManifest.read(tmp_path).pseudo_labeler == "pseudo_labeler_bert_sst2"


def test_old_pretrain_json_without_the_label_fields_still_reads(tmp_path):
    old = {**SYSTEM_V0, "format_version": 1, "pseudo_labeler": "bert_sst2", "pseudo_sets": ["swbd_train"]}
    (tmp_path / "pretrain.json").write_text(json.dumps(old))
    pretrain = PretrainManifest.read(tmp_path)
    assert pretrain.pseudo_labeler == "bert_sst2" and pretrain.extra == {}
    assert pretrain.pseudo_labels is None and pretrain.pseudo_fingerprint is None
    labels = {"data/swbd_train/utt2pseudo_x": "ab" * 32}
    new = PretrainManifest.from_dict({**old, "pseudo_labels": labels, "pseudo_fingerprint": "cd" * 32})
    new.write(tmp_path)
    back = json.loads((tmp_path / "pretrain.json").read_text())
    assert back["pseudo_labels"] == labels and back["pseudo_fingerprint"] == "cd" * 32
    assert PretrainManifest.read(tmp_path) == new


def test_pseudo_fingerprint_recipe_is_path_independent_and_the_shell_one():
    a, b = "1" * 64, "f" * 64
    labels = {"/x/data/swbd_train/utt2pseudo_bert_sst2": b, "data/fisher_asr/utt2pseudo_bert_sst2": a}
    text = f"fisher_asr/utt2pseudo_bert_sst2 {a}\nswbd_train/utt2pseudo_bert_sst2 {b}\n"
    assert pseudo_fingerprint(labels) == hashlib.sha256(text.encode()).hexdigest()
    moved = {"elsewhere/swbd_train/utt2pseudo_bert_sst2": b, "fisher_asr/utt2pseudo_bert_sst2": a}
    assert pseudo_fingerprint(moved) == pseudo_fingerprint(labels)  # the set dir and file name only
    fingerprint = pseudo_fingerprint(labels)
    assert pseudo_fingerprint({**labels, "data/fisher/utt2pseudo_bert_sst2": a}) != fingerprint  # one more
    assert pseudo_fingerprint({**labels, "data/fisher_asr/utt2pseudo_bert_sst2": b}) != fingerprint  # changed
    if shutil.which("sha256sum") and shutil.which("sort"):  # the documented shell recipe agrees
        shell = subprocess.run(
            "printf '%s %s\\n' swbd_train/utt2pseudo_bert_sst2 $B fisher_asr/utt2pseudo_bert_sst2 $A "
            "| LC_ALL=C sort | sha256sum",
            shell=True, capture_output=True, text=True, check=True, env={**os.environ, "A": a, "B": b},
        )  # fmt: skip
        assert shell.stdout.split()[0] == fingerprint


def test_model_manifests():
    e2e = {"architecture": "cnn", "config": {"input_dim": 80}, "labels": ["a", "b"], "task": "pseudo"}
    manifest = E2EModelManifest.from_dict(e2e)
    assert (manifest.input, manifest.weights) == ("encoder", "best.pth")  # the documented defaults
    assert list(manifest.to_dict()) == ["format_version", "architecture", "config", "labels", "task", "input",
                                        "weights"]  # fmt: skip
    with pytest.raises(ManifestFormatError, match="m.json: field 'config' missing"):
        E2EModelManifest.from_dict({"architecture": "cnn"}, "m.json")
    text = {
        "classifier": {"arch": "baseline"},
        "tokenizer": {"kind": "sentencepiece", "model": "bpe.model", "max_tokens": 5},
        "labels": ["Negative", "Neutral", "Positive"],
        "weights": "best.pth",
    }
    assert TextModelManifest.from_dict(json.loads(json.dumps(text))).to_dict() == {
        "format_version": 1,
        **text,
    }
    with pytest.raises(ManifestFormatError, match="field 'tokenizer' kind must be"):
        TextModelManifest.from_dict({**text, "tokenizer": {"kind": "words"}})
