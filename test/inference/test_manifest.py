"""speechsent_model.json's schema (ModelManifest) and the torch-free checkpoint check: no torch, no ESPnet."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from speechsent.inference.manifest import (
    FORMAT_VERSION,
    MODEL_JSON,
    AsrFiles,
    Features,
    ManifestError,
    ModelManifest,
    check_checkpoint,
    read_manifest,
)

DROP = object()  # a field left out
E2E = {
    "format_version": 1,
    "type": "e2e",
    "labels": ["Negative", "Neutral", "Positive"],
    "fs": 8000,
    "system": "e2e_blstm_all_s0",
    "system_json": {"family": "e2e"},
    "scores": {"swbd_test": {"unweighted_f1": 55.0}},
    "asr": {"config": "asr/config.yaml", "model_file": "asr/model.pth"},
    "classifier": "classifier",
    "speechsent_version": "0.1",
    "features": {"kind": "encoder"},
}
TWO_STEP = {
    **{k: v for k, v in E2E.items() if k != "features"},
    "type": "two_step",
    "decode": {"mode": "beam", "beam_size": 2},
    "lm": "lm",
}
FBANK = {
    **E2E,
    "asr": None,
    "features": {"kind": "fbank", "fbank": {"num_mel_bins": 80, "frame_shift": 10.0}, "fs": 8000},
}


@pytest.mark.parametrize("data", [E2E, TWO_STEP, FBANK], ids=["e2e", "two_step", "fbank"])
def test_round_trip(data):
    manifest = ModelManifest.from_dict(data)
    assert manifest.to_dict() == data
    assert list(manifest.to_dict()) == list(data)  # the writer's key order
    assert ModelManifest.from_dict(manifest.to_dict()) == manifest


def test_typed_fields_and_defaults():
    e2e = ModelManifest.from_dict(E2E)
    assert e2e.asr == AsrFiles("asr/config.yaml", "asr/model.pth") and e2e.features == Features("encoder")
    assert e2e.needs_asr and e2e.decode is None and e2e.format_version == FORMAT_VERSION
    fbank = ModelManifest.from_dict(FBANK)
    assert not fbank.needs_asr and fbank.features.fbank["num_mel_bins"] == 80
    # the optional fields absent: their documented defaults
    minimal = {k: E2E[k] for k in ("format_version", "type", "labels", "fs", "asr")}
    m = ModelManifest.from_dict(minimal)
    assert (m.classifier, m.features, m.system, m.system_json, m.scores) == (
        "classifier",
        Features("encoder"),
        "",
        {},
        {},
    )
    assert m.lm is None and m.speechsent_version is None
    two = ModelManifest.from_dict({**minimal, "type": "two_step"})
    assert two.decode == {"mode": "beam"} and two.features is None
    # a key this version does not know is kept and written back; an integral float rate is an int
    m = ModelManifest.from_dict({**E2E, "fs": 8000.0, "note": {"x": 1}})
    assert m.fs == 8000 and isinstance(m.fs, int) and m.to_dict()["note"] == {"x": 1}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"format_version": DROP}, "no format_version (a required field)"),
        ({"format_version": 2}, "format_version 2 (this speechsent reads 1)"),
        ({"format_version": "1"}, "format_version must be an integer, not the string '1'"),
        ({"type": "e3e"}, "type must be one of e2e, two_step, not 'e3e'"),
        ({"type": DROP}, "no type (a required field)"),
        ({"type": 3}, "type must be a non-empty string, not the number 3"),
        ({"labels": DROP}, "no labels (a required field)"),
        ({"labels": "Negative Positive"}, "labels must be a list of at least 2 class names"),
        ({"labels": ["Negative"]}, "labels must be a list of at least 2 class names"),
        ({"labels": ["Negative", 1]}, "labels must be a list of at least 2 class names"),
        ({"labels": ["A", "B", "A"]}, "name a class twice"),
        ({"fs": "8k"}, "fs must be a positive integer, not the string '8k'"),
        ({"fs": -8000}, "fs must be a positive integer, not the number -8000"),
        ({"fs": 8000.5}, "fs must be a positive integer, not the number 8000.5"),
        ({"fs": True}, "fs must be a positive integer, not a boolean"),
        ({"fs": DROP}, "no fs (a required field)"),
        ({"asr": None}, "no asr (the ASR model's config and model_file)"),
        ({"asr": ["asr/config.yaml"]}, "asr must be a JSON object, not a list"),
        ({"asr": {"config": "asr/config.yaml"}}, "no asr.model_file (a required field)"),
        ({"asr": {"config": 1, "model_file": "m"}}, "asr.config must be a non-empty string"),
        ({"classifier": ""}, "classifier must be a non-empty string"),
        ({"features": {"kind": "mfcc"}}, "features.kind must be one of encoder, fbank, hf, not 'mfcc'"),
        ({"features": {"kind": "fbank"}}, "no features.fbank (a required field)"),
        ({"features": {"kind": "fbank", "fbank": {"bins": 3}}}, "features.fbank: unknown option(s) bins"),
        ({"features": {"kind": "hf"}}, "no features.hf (a required field)"),
        ({"features": {"kind": "hf", "hf": {"layers": [0]}}}, "features.hf.model must be a non-empty string"),
        (
            {"features": {"kind": "hf", "hf": {"model": "m", "layers": [-1]}}},
            "features.hf.layers must be a list of hidden-state indices, not [-1]",
        ),
        (
            {"features": {"kind": "hf", "hf": {"model": "m", "layers": [1], "revision": 3}}},
            "features.hf.revision must be a string or null",
        ),
        ({"features": "encoder"}, "features must be a JSON object, not the string 'encoder'"),
        ({"system_json": []}, "system_json must be a JSON object, not a list"),
        ({"scores": 3}, "scores must be a JSON object"),
    ],
)
def test_field_errors_name_the_file_and_field(change, message):
    data = {k: v for k, v in {**E2E, **change}.items() if v is not DROP}
    with pytest.raises(ManifestError) as info:
        ModelManifest.from_dict(data, "m/speechsent_model.json")
    assert str(info.value).startswith("m/speechsent_model.json: ") and message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"decode": {"mode": "greedy"}}, "decode.mode must be one of beam, ctc_greedy"),
        ({"decode": {"beam": 3}}, "decode: unknown option(s) beam"),
        ({"decode": [1]}, "decode must be a JSON object"),
        ({"asr": None}, "a two_step model needs one"),
    ],
)
def test_two_step_field_errors(change, message):
    with pytest.raises(ManifestError) as info:
        ModelManifest.from_dict({**TWO_STEP, **change}, "x.json")
    assert str(info.value).startswith("x.json: ") and message in str(info.value)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"[1, 2]", "expected a JSON object, got a list"),
        (b'{"type": "e2e",', "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"a": "\xff"}', "not UTF-8 text"),
        (b"null", "expected a JSON object, got null"),
    ],
)
def test_read_manifest_errors(tmp_path, content, message):
    (tmp_path / MODEL_JSON).write_bytes(content)
    with pytest.raises(ManifestError) as info:
        read_manifest(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / MODEL_JSON}: ") and message in str(info.value)
    with pytest.raises(ManifestError, match="not an exported speechsent model"):
        read_manifest(tmp_path / "nothing")
    (tmp_path / MODEL_JSON).unlink()
    with pytest.raises(ManifestError, match=f"no {MODEL_JSON} \\(not an exported speechsent model\\)"):
        read_manifest(tmp_path)


def test_read_manifest(tmp_path):
    (tmp_path / MODEL_JSON).write_text(json.dumps(TWO_STEP), encoding="utf-8")
    assert read_manifest(tmp_path) == ModelManifest.from_dict(TWO_STEP)


def _zip_checkpoint(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_check_checkpoint(tmp_path):
    """A zip as torch.save writes it (``<name>/data.pkl``, tensors in ``<name>/data/``) is accepted; cut
    short, damaged, empty, not a zip, or a zip of something else: one line naming the file."""
    good = _zip_checkpoint(
        tmp_path / "model.pth", {"model/data.pkl": b"\x80\x02}q\x00.", "model/data/0": b"\0" * 4096}
    )
    check_checkpoint(good)
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03.")
    check_checkpoint(legacy)
    data = good.read_bytes()
    cases = {
        "truncated.pth": (data[: len(data) // 2], "not a PyTorch checkpoint (truncated?"),
        "tail_cut.pth": (data[:-10], "not a PyTorch checkpoint (truncated?"),
        "garbage.pth": (
            b"this is not a checkpoint\n" * 10,
            "not a PyTorch checkpoint (not written by torch.save)",
        ),
        "empty.pth": (b"", "an empty file, not a PyTorch checkpoint"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ManifestError) as info:
            check_checkpoint(tmp_path / name)
        assert str(info.value).startswith(f"{tmp_path / name}: ") and message in str(info.value), name
    other = _zip_checkpoint(tmp_path / "other.pth", {"readme.txt": b"hello"})
    with pytest.raises(ManifestError, match="a zip archive without data.pkl, not a PyTorch checkpoint"):
        check_checkpoint(other)
    with pytest.raises(ManifestError, match="no such file"):
        check_checkpoint(tmp_path / "none.pth")


def test_not_a_directory_and_one_line(tmp_path):
    (tmp_path / "model.pth").write_bytes(b"x")
    with pytest.raises(ManifestError, match="a file, not a directory"):
        read_manifest(tmp_path / "model.pth")
    # a library's multi-line message (PyYAML's) becomes one line
    assert str(ManifestError("a.yaml: bad\n  in 'a.yaml', line 1\n")) == "a.yaml: bad in 'a.yaml', line 1"
