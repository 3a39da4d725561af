"""An E2E system on a Hugging Face encoder's features, from stage 5's dump to speechsent-infer: the export
packs the encoder (a local dir) and its layers, and the exported model of every family (wav2vec2 with and
without an attention mask, HuBERT, WavLM, data2vec-audio, Whisper) reproduces the system's utt2prob; models
by Hub id from the cache, and the upload with its card."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("torch")

from speechsent.asr.dump_jobs import merge_jobs
from speechsent.asr.encoder_dump import DumpConfig, dump_job
from speechsent.asr.tiny_model import TINY_HF_KINDS, write_synthetic_data_dir, write_tiny_hf_encoder
from speechsent.audio.io import UtteranceReader
from speechsent.bin import train_e2e
from speechsent.data.labels import SENTIMENT_LABELS
from speechsent.inference.export import export_system
from speechsent.inference.model import InferenceError, SentimentModel
from speechsent.kaldi.table import read_table, write_table


def _set(root, name, recordings, seed):
    data = write_synthetic_data_dir(root / "data" / name, recordings, fs=8000, seed=seed)
    rng = random.Random(seed)
    utts = UtteranceReader(data).utt_ids()
    write_table(data / "utt2sentiment", {u: rng.choice(SENTIMENT_LABELS) for u in utts})
    return data


def _build_system(root, kind: str):
    """Dump -> train -> export of an E2E system on a tiny ``kind`` encoder (every hidden state)."""
    encoder = write_tiny_hf_encoder(root / kind, kind)
    sets = {
        "swbd_train": _set(root, "swbd_train", [[1.1, 0.7, 1.6, 0.9], [1.2, 0.5, 0.8], [1.4, 1.0]], 1),
        "swbd_test": _set(root, "swbd_test", [[0.9, 1.3, 0.6], [1.5, 0.7]], 2),
    }
    feats = {}
    for name, data in sets.items():
        out = root / "dump" / "hf" / name
        cfg = DumpConfig(data_dir=data, out_dir=out, encoder=f"hf:{encoder}", hf_layers="all", progress=False)
        dump_job(cfg, 1)
        merge_jobs(data, out, 1)
        feats[name] = out / "feats.scp"
    exp = root / "exp" / "e2e_hf"
    train, test = sets["swbd_train"] / "utt2sentiment", sets["swbd_test"] / "utt2sentiment"
    argv = [
        "--train_feats", str(feats["swbd_train"]), "--train_labels", str(train),
        "--valid_feats", str(feats["swbd_test"]), "--valid_labels", str(test),
        "--score_sets", f"swbd_test:{feats['swbd_test']}:{test}",
        "--fc_dim", "16", "--lstm_dim", "8", "--batch_size", "4", "--max_epochs", "2", "--patience", "0",
        "--progress", "false", "--num_threads", "1", "--allow_missing_classes", "true", "--exp_dir", str(exp),
    ]  # fmt: skip
    assert train_e2e.main(argv) == 0
    exported = export_system(exp, root / "export" / "e2e")
    return root, sets, exp, exported


@pytest.fixture(scope="module", params=TINY_HF_KINDS)
def every_family(request, tmp_path_factory):
    return _build_system(tmp_path_factory.mktemp(f"hf_{request.param}"), request.param)


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    return _build_system(tmp_path_factory.mktemp("hf_system"), "wavlm")


def test_export_packs_the_encoder_and_its_layers(system):
    _, _, _, exported = system
    info = json.loads((exported / "speechsent_model.json").read_text())
    assert info["asr"] is None and info["fs"] == 16000
    assert info["features"]["kind"] == "hf"
    assert info["features"]["hf"] == {
        "model": "hf_encoder",
        "local": True,
        "revision": None,
        "layers": [0, 1, 2],
    }
    assert (exported / "hf_encoder" / "config.json").is_file()
    assert "Hugging Face `hf_encoder` (packed in `hf_encoder/`)" in (exported / "README.md").read_text()


def test_exported_model_reproduces_utt2prob(every_family):
    """Every family: the exported model's probabilities are the system's utt2prob (stage 5 -> 9 -> 11)."""
    _, sets, exp, exported = every_family
    model = SentimentModel.from_pretrained(exported, device="cpu")
    reader = UtteranceReader(sets["swbd_test"], target_rate=16000)
    utts = reader.utt_ids()
    predictions = model.predict_waveforms([reader.load(u)[0] for u in utts])
    probs = read_table(exp / "score_swbd_test" / "utt2prob")
    for utt, prediction in zip(utts, predictions, strict=True):
        ours = [prediction.probabilities[label] for label in SENTIMENT_LABELS]
        assert np.abs(np.array(ours) - np.array([float(p) for p in probs[utt].split()])).max() <= 1e-4


def test_a_broken_encoder_dir_is_an_error_naming_it(system, tmp_path):
    import shutil

    _, _, _, exported = system
    broken = tmp_path / "e2e"
    shutil.copytree(exported, broken)
    (broken / "hf_encoder" / "config.json").unlink()
    with pytest.raises(InferenceError, match=f"{broken / 'hf_encoder'}: no config.json"):
        SentimentModel.from_pretrained(broken, device="cpu")


# -- the Hugging Face Hub: a model by its id, from a populated local cache; the upload with its card

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub_cache(system, tmp_path, monkeypatch):
    """The Hub cache holding the exported model as org/tiny-sentiment at COMMIT (main), offline."""
    import shutil

    import huggingface_hub

    _, _, _, exported = system
    repo = tmp_path / "hub" / "models--org--tiny-sentiment"
    shutil.copytree(exported, repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return repo


def test_a_model_by_its_hub_id_from_the_cache(system, hub_cache):
    from speechsent.inference.hub import is_hub_id

    _, sets, _, exported = system
    assert is_hub_id("org/tiny-sentiment") and not is_hub_id(str(exported)) and not is_hub_id("a/b/c")
    reader = UtteranceReader(sets["swbd_test"], target_rate=16000)
    waves = [reader.load(u)[0] for u in reader.utt_ids()[:3]]
    local = SentimentModel.from_pretrained(exported, device="cpu").predict_waveforms(waves)
    for revision in (None, COMMIT):
        hub = SentimentModel.from_pretrained("org/tiny-sentiment", device="cpu", revision=revision)
        assert [p.probabilities for p in hub.predict_waveforms(waves)] == [p.probabilities for p in local]
    with pytest.raises(InferenceError, match="org/no-such-model: cannot download .*HF_HUB_OFFLINE is set"):
        SentimentModel.from_pretrained("org/no-such-model", device="cpu")


def test_infer_command_line_with_a_hub_id(system, hub_cache, tmp_path, capsys):
    import soundfile

    from speechsent.bin import infer

    _, sets, _, _ = system
    reader = UtteranceReader(sets["swbd_test"], target_rate=16000)
    wav = tmp_path / "one.wav"
    soundfile.write(wav, reader.load(reader.utt_ids()[0])[0], 16000)
    assert (
        infer.main(["--model_dir", "org/tiny-sentiment", "--revision", COMMIT, "--device", "cpu", str(wav)])
        == 0
    )
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    assert line["file"] == str(wav) and line["label"] in SENTIMENT_LABELS


def test_push_to_hub_uploads_the_dir_with_its_card(system, tmp_path, monkeypatch):
    import huggingface_hub

    from speechsent.bin import export_model

    _, _, exp, _ = system
    calls = {}

    class FakeApi:
        def __init__(self, token=None):
            calls["token"] = token

        def create_repo(self, repo_id, private, exist_ok, repo_type):
            calls["create"] = (repo_id, private, exist_ok, repo_type)

        def upload_folder(self, folder_path, repo_id, repo_type, commit_message):
            folder = Path(folder_path)
            calls["files"] = sorted(p.name for p in folder.iterdir())
            calls["card"] = (folder / "README.md").read_text()
            calls["upload"] = (repo_id, commit_message)
            return "https://huggingface.co/org/tiny-sentiment/commit/1"

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    out = tmp_path / "pushed"
    argv = ["--system_dir", str(exp), "--out_dir", str(out), "--push_to_hub", "org/tiny-sentiment"]
    assert export_model.main(argv) == 0
    assert calls["create"] == ("org/tiny-sentiment", True, True, "model")
    assert "speechsent_model.json" in calls["files"] and "hf_encoder" in calls["files"]
    card = calls["card"]
    assert card.startswith("---\nlibrary_name: speechsent\nlicense: other\n") and "## Licence" in card
    assert "# speechsent model:" in card and "LDC" in card
    assert not (out / "README.md").read_text().startswith("---")  # the export itself is unchanged
