"""The inference API on exported tiny systems: the recipe's features and transcripts, every kind of input."""

from __future__ import annotations

import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("espnet2")
torch = pytest.importorskip("torch")

from speechsent import SentimentModel  # noqa: E402
from speechsent.inference.audio_inputs import iter_wav_scp, load_file  # noqa: E402
from speechsent.inference.export import export_system  # noqa: E402
from speechsent.inference.model import (  # noqa: E402
    E2ESentimentModel,
    InferenceError,
    Prediction,
    TwoStepSentimentModel,
)

REPO = Path(__file__).resolve().parents[2]


tiny_exp = runpy.run_path(str(Path(__file__).with_name("tiny_exp.py")))  # test dirs are not packages


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> dict[str, Path]:
    return tiny_exp["build_tiny_recipe"](tmp_path_factory.mktemp("recipe"))


@pytest.fixture(scope="module")
def audio(tmp_path_factory) -> dict[str, Path]:
    return tiny_exp["write_audio_inputs"](tmp_path_factory.mktemp("audio"))


@pytest.fixture(scope="module")
def models(recipe, tmp_path_factory) -> dict[str, Path]:
    """Exported models, each moved elsewhere after the export (relocation) and the recipe's copy removed."""
    exp = recipe["exp"]
    out = tmp_path_factory.mktemp("exported")
    moved = tmp_path_factory.mktemp("moved")
    dirs = {
        "e2e": export_system(exp / "e2e_blstm_all_s0", out / "e2e", exp / "asr_model"),
        "two_step": export_system(
            exp / "text_baseline_asr_s0", out / "ts", exp / "asr_model", {"mode": "ctc_greedy"}
        ),
        "lm": export_system(
            exp / "text_lm_asr_s0", out / "lm", exp / "asr_model", {"mode": "beam", "beam_size": 2}
        ),
        "fbank": export_system(exp / "e2e_cnn_fbank_s0", out / "fbank"),
    }
    return {name: Path(shutil.move(d, moved / f"{name}_moved")) for name, d in dirs.items()}


@pytest.fixture(scope="module")
def e2e(models) -> E2ESentimentModel:
    model = SentimentModel.from_pretrained(models["e2e"], device="cpu", batch_size=2)
    assert isinstance(model, E2ESentimentModel)
    return model


@pytest.fixture(scope="module")
def two_step(models) -> TwoStepSentimentModel:
    model = SentimentModel.from_pretrained(models["two_step"], device="auto", batch_size=3)
    assert isinstance(model, TwoStepSentimentModel)
    return model


def _close(a: Prediction, b: Prediction, atol: float = 1e-5) -> None:
    assert a.label == b.label and a.transcript == b.transcript
    np.testing.assert_allclose(list(a.probabilities.values()), list(b.probabilities.values()), atol=atol)


# -- E2E: the features and probabilities of the recipe -------------------------------------------------------


def test_e2e_features_and_probabilities_are_those_of_the_dump(e2e, recipe, tmp_path):
    """Stage 5's dump of a data dir (float storage) → the classifier, as stage 9 scores it; the exported
    model on the same utterances of wav.scp + segments gives the same features and probabilities."""
    import kaldiio

    from speechsent.asr.encoder_dump import DumpConfig, dump_job, merge_jobs
    from speechsent.asr.tiny_model import write_synthetic_data_dir

    data = write_synthetic_data_dir(tmp_path, [[0.7, 1.3], [0.9]], fs=8000, seed=3)
    dump = tmp_path / "dump"
    dump_job(
        DumpConfig(data_dir=data, out_dir=dump, asr_model_dir=recipe["exp"] / "asr_model", progress=False), 1
    )
    merge_jobs(data, dump, 1)
    dumped = dict(kaldiio.load_scp_sequential(str(dump / "feats.scp")))
    items = list(iter_wav_scp(data / "wav.scp", data / "segments", e2e.fs))
    assert [it.name for it in items] == sorted(dumped) and all(it.error is None for it in items)
    preds = e2e.predict_waveforms([it.samples for it in items])
    with torch.inference_mode():
        for item, pred in zip(items, preds, strict=True):
            ref = dumped[item.name]
            np.testing.assert_allclose(e2e.features(item.samples), ref, atol=1e-5)
            logits = e2e.classifier(torch.from_numpy(ref.copy())[None], torch.tensor([len(ref)]))
            probs = torch.softmax(logits, -1)[0].numpy()
            np.testing.assert_allclose(list(pred.probabilities.values()), probs, atol=1e-5)
            assert pred.label == e2e.labels[int(probs.argmax())] and pred.transcript is None


def test_e2e_inputs(e2e, audio):
    """Paths (str, Path), arrays (float, int16, tensor), flac, SPHERE (shorten µ-law), resampling."""
    import soundfile as sf

    from speechsent.audio.sphere import read_sphere

    assert e2e.fs == 8000 and e2e.labels == ["Negative", "Neutral", "Positive"] and e2e.type == "e2e"
    by_path = e2e(str(audio["wav"]))
    assert isinstance(by_path, Prediction) and abs(sum(by_path.probabilities.values()) - 1) < 1e-5
    pcm, fs = sf.read(audio["wav"], dtype="int16")
    _close(e2e(audio["wav"]), by_path)
    _close(e2e(pcm, fs=fs), by_path)
    _close(e2e(pcm.astype(np.float32) / 32768), by_path)
    _close(e2e(torch.from_numpy(pcm.astype(np.float32) / 32768)[:, None], fs=8000), by_path)
    flac, _ = sf.read(audio["flac"], dtype="int16")
    _close(e2e(audio["flac"]), e2e(flac, fs=8000))
    sph, rate = read_sphere(audio["sph"])
    _close(e2e(audio["sph"]), e2e(sph, fs=rate))
    wav16k, rate16k = sf.read(audio["wav16k"], dtype="int16")
    assert rate16k == 16000
    _close(e2e(audio["wav16k"]), e2e(wav16k, fs=16000))
    # the 16 kHz copy of the 8 kHz SPHERE audio, resampled back, is classified alike
    _close(e2e(audio["wav16k"]), e2e(audio["sph"]), atol=0.05)


def test_channels(e2e, audio):
    import soundfile as sf

    with pytest.raises(InferenceError, match="2 channels; choose one"):
        e2e(audio["stereo"])
    stereo, _ = sf.read(audio["stereo"], dtype="int16")
    _close(e2e(audio["stereo"], channel=1), e2e(stereo[:, 1], fs=8000))
    _close(e2e(stereo, fs=8000, channel=0), e2e(audio["wav"]))
    with pytest.raises(InferenceError, match="channel 2 out of range"):
        e2e(stereo, fs=8000, channel=2)
    with pytest.raises(InferenceError, match="not \\(channels, samples\\)"):
        e2e(stereo.T, fs=8000, channel=0)


def test_batches_equal_single_inputs(e2e, audio):
    inputs = [audio["wav"], audio["flac"], audio["sph"]]
    batched = e2e.predict(inputs)
    for x, pred in zip(inputs, batched, strict=True):
        _close(pred, e2e(x))


def test_gpu_batching_path_equals_single_inputs(models, audio):
    """The batched encoder (what a GPU uses; exercised here on the CPU) gives the one-at-a-time results."""
    model = SentimentModel.from_pretrained(models["e2e"], device="cpu", batch_size=3)
    inputs = [audio["wav"], audio["flac"], audio["sph"]]
    single = [model(x) for x in inputs]
    model.batched_encoder = True
    for pred, ref in zip(model.predict(inputs), single, strict=True):
        _close(pred, ref, atol=1e-4)
    assert model._invariance_checked and model.batched_encoder


def test_bad_inputs(e2e, audio, tmp_path):
    with pytest.raises(InferenceError, match="not readable audio"):
        e2e(audio["corrupt"])
    with pytest.raises(InferenceError, match="no such file"):
        e2e(tmp_path / "none.wav")
    with pytest.raises(InferenceError, match="too short"):
        e2e(audio["short"])
    waves = [e2e.load(audio["wav"]), e2e.load(audio["short"]), e2e.load(audio["flac"])]
    results = e2e.predict_waveforms(waves, errors="return", names=["a", "short", "c"])
    assert isinstance(results[1], InferenceError) and str(results[1]).startswith("short: too short")
    _close(results[0], e2e(audio["wav"]))
    _close(results[2], e2e(audio["flac"]))


def test_wav_scp_with_segments_and_pipes(audio):
    items = {it.name: it for it in iter_wav_scp(audio["wav_scp"], audio["segments"], 8000)}
    assert sorted(items) == ["reco1_a", "reco1_b", "reco2_a", "reco3_a"]
    assert "missing.wav" in items["reco3_a"].error and items["reco3_a"].samples is None
    whole = load_file(audio["wav"], 8000)
    np.testing.assert_array_equal(items["reco1_b"].samples, whole[4000:9600])
    sph = load_file(audio["sph"], 8000)  # the sph2pipe pipe decodes to the same samples
    np.testing.assert_array_equal(items["reco2_a"].samples, sph[800:6400])
    # without segments: one utterance per recording (a segments file beside wav.scp is not read)
    whole_items = {it.name: it for it in iter_wav_scp(audio["wav_scp"], None, 16000)}
    assert sorted(whole_items) == ["reco1", "reco2", "reco3"] and whole_items["reco3"].error
    np.testing.assert_array_equal(whole_items["reco1"].samples, load_file(audio["wav"], 16000))


def test_fbank_model(models, audio):
    from speechsent.features.fbank import compute_fbank

    model = SentimentModel.from_pretrained(models["fbank"], device="cpu")
    wave = model.load(audio["flac"])
    np.testing.assert_array_equal(model.features(wave), compute_fbank(wave, 8000))
    assert model(audio["flac"]).label in model.labels
    with pytest.raises(InferenceError, match="too short"):
        model(np.zeros(100, dtype=np.float32))


# -- 2-step --------------------------------------------------------------------------------------------------


def test_two_step_transcribes_as_stage_4_and_classifies_as_stage_8(two_step, recipe, audio):
    from speechsent.asr.decode import Decoder
    from speechsent.asr.model_dir import resolve_model_dir, write_resolved_config
    from speechsent.models.text_classifier import TextSentimentPredictor

    files = resolve_model_dir(recipe["exp"] / "asr_model")
    config = write_resolved_config(files, recipe["root"] / "asr_config.yaml")
    spec = {"config": str(config), "model_file": str(files.model_file), "bpemodel": str(files.bpemodel)}
    decoder = Decoder({**spec, "fs": 8000, "options": {"mode": "ctc_greedy"}})
    inputs = [audio["wav"], audio["sph"], audio["flac"]]
    preds = two_step.predict(inputs)
    texts = [
        text for _, text, _ in decoder.decode([(str(i), load_file(p, 8000)) for i, p in enumerate(inputs)])
    ]
    assert [p.transcript for p in preds] == texts and any(texts)
    probs = TextSentimentPredictor(recipe["exp"] / "text_baseline_asr_s0").predict(texts)
    np.testing.assert_allclose([list(p.probabilities.values()) for p in preds], probs, atol=1e-6)
    assert preds[0].to_dict() == {
        "label": preds[0].label,
        "probabilities": preds[0].probabilities,
        "transcript": preds[0].transcript,
    }
    with pytest.raises(InferenceError, match="too short"):
        two_step(audio["short"])


def test_two_step_lm_beam_search(models, audio):
    model = SentimentModel.from_pretrained(models["lm"], device="cpu")
    assert model.decode_options["mode"] == "beam" and model.decode_options["beam_size"] == 2
    pred = model(audio["wav"])
    assert isinstance(pred.transcript, str) and pred.label in model.labels
    with pytest.raises(InferenceError, match="too short"):
        model(audio["short"])


# -- loading -------------------------------------------------------------------------------------------------


def test_loading_errors(tmp_path, models):
    with pytest.raises(InferenceError, match="not an exported speechsent model"):
        SentimentModel.from_pretrained(tmp_path)
    with pytest.raises(InferenceError, match="device must be"):
        SentimentModel.from_pretrained(models["fbank"], device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InferenceError, match="CUDA is not available"):
            SentimentModel.from_pretrained(models["fbank"], device="cuda")


def test_package_import_stays_light():
    code = "import sys, speechsent; print('torch' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.split() == ["False", "False"]
    with pytest.raises(AttributeError):
        import speechsent

        _ = speechsent.NoSuchThing
