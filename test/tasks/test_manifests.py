"""speechsent.tasks.manifests: the typed system.json, pretrain.json and model.json files."""

from __future__ import annotations

import json

import pytest

from speechsent.tasks.manifests import (
    FORMAT_VERSION,
    E2EModelManifest,
    ManifestFormatError,
    PretrainManifest,
    SystemManifest,
    TextModelManifest,
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


def test_system_manifest_round_trip_keeps_the_file():
    manifest = SystemManifest.from_dict(SYSTEM_V0, "exp/x/system.json")
    assert manifest.format_version == 0 and manifest.num_train_utts == 96
    assert manifest.to_dict() == {"format_version": FORMAT_VERSION, **SYSTEM_V0}
    assert list(manifest.to_dict())[1:] == list(SYSTEM_V0)  # same keys, same order
    assert SystemManifest.from_dict(manifest.to_dict()).fields() == SYSTEM_V0


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
