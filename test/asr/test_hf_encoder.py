"""Hugging Face speech encoders as frozen front-ends (speechsent.asr.hf_encoder), on tiny random-weight
models of every supported family built from transformers' config classes and saved with save_pretrained (no
network): batch invariance, layer choice, agreement with transformers' own forward pass, Whisper's 30-s
windows, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from speechsent.asr.hf_encoder import (  # noqa: E402
    HFEncoder,
    HFEncoderError,
    hf_model_id,
    is_hf_encoder,
    parse_layers,
)
from speechsent.asr.tiny_model import TINY_HF_KINDS, write_tiny_hf_encoder  # noqa: E402
from speechsent.audio.io import resample  # noqa: E402

KINDS = list(TINY_HF_KINDS)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    return {kind: str(write_tiny_hf_encoder(root / kind, kind)) for kind in KINDS}


def _utterances(rate: int = 8000, seconds=(0.7, 1.3, 0.45)) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.normal(0, 0.1, int(s * rate)).astype(np.float32) for s in seconds]


@pytest.mark.parametrize("kind", KINDS)
def test_batched_equals_one_at_a_time(saved, kind):
    enc = HFEncoder(saved[kind])
    assert enc.info.batched == (kind in ("wav2vec2-layer", "wavlm", "whisper"))
    assert enc.info.sampling_rate == 16000 and enc.info.num_layers == 2 and enc.info.hidden_size == 32
    waves = _utterances()
    layers = parse_layers("all", enc.info.num_layers)
    batched = enc.encode(waves, layers, rate=8000)
    for wave, out in zip(waves, batched, strict=True):
        alone = enc.encode([wave], layers, rate=8000)[0]
        num = resample(wave, 8000, 16000).shape[0]
        assert out.shape == (enc.num_frames(num), 3, 32) and out.dtype == np.float32
        assert np.abs(out - alone).max() <= 1e-4


@pytest.mark.parametrize("kind", ["wav2vec2-layer", "wav2vec2-group", "wavlm"])
def test_equals_transformers_forward(saved, kind):
    """One utterance: the states are transformers' own (feature extractor + model) on the ±1.0 samples; the
    last one is the model's output (after the final layer norm of a pre-LN model)."""
    enc = HFEncoder(saved[kind])
    wave = _utterances()[1]
    x = resample(wave, 8000, 16000)
    extractor = transformers.AutoFeatureExtractor.from_pretrained(saved[kind])
    model = transformers.AutoModel.from_pretrained(saved[kind]).eval()
    with torch.inference_mode():
        ref = model(**extractor([x], sampling_rate=16000, return_tensors="pt"), output_hidden_states=True)
    ours = enc.encode([wave], [0, 2], rate=8000)[0]
    assert np.abs(ours[:, 0] - ref.hidden_states[0][0].numpy()).max() <= 1e-5
    assert np.abs(ours[:, 1] - ref.last_hidden_state[0].numpy()).max() <= 1e-5


def test_one_layer_is_that_layer_of_all(saved):
    enc = HFEncoder(saved["wavlm"])
    waves = _utterances()
    every = enc.encode(waves, parse_layers("all", 2), rate=8000)
    last = enc.encode(waves, parse_layers("last", 2), rate=8000)
    middle = enc.encode(waves, parse_layers("1", 2), rate=8000)
    for a, b, c in zip(every, last, middle, strict=True):
        assert np.array_equal(a[:, 2:3], b) and np.array_equal(a[:, 1:2], c)


def test_whisper_frames_and_30_second_windows(saved):
    enc = HFEncoder(saved["whisper"])
    assert enc.info.model_type == "whisper" and enc.info.samples_per_frame == 320
    rate = 16000
    long = np.random.default_rng(2).normal(0, 0.1, 31 * rate).astype(np.float32)
    out = enc.encode([long], [2], rate=rate)[0]
    assert out.shape == (math.ceil(31 * rate / 320), 1, 32)
    first = enc.encode([long[: 30 * rate]], [2], rate=rate)[0]
    rest = enc.encode([long[30 * rate :]], [2], rate=rate)[0]
    assert first.shape[0] == 1500 and rest.shape[0] == 50
    assert np.abs(out - np.concatenate([first, rest])).max() <= 1e-4
    # transformers' own feature extractor and encoder on the same (full-scale ±1.0) samples
    extractor = transformers.AutoFeatureExtractor.from_pretrained(saved["whisper"])
    encoder = transformers.AutoModel.from_pretrained(saved["whisper"]).get_encoder().eval()
    short = long[: 2 * rate]
    with torch.inference_mode():
        ref = encoder(extractor([short], sampling_rate=rate, return_tensors="pt")["input_features"])
    ours = enc.encode([short], [2], rate=rate)[0][:, 0]
    assert ours.shape[0] == 100 and np.abs(ours - ref.last_hidden_state[0, :100].numpy()).max() <= 1e-5


def test_min_samples_and_too_short(saved):
    enc = HFEncoder(saved["wav2vec2-layer"])
    # conv kernels (10, 3), strides (5, 2): one frame needs 3 first-layer frames, i.e. 20 samples
    assert enc.info.min_samples == 20
    assert enc.num_frames(19) == 0 and enc.num_frames(20) == 1
    with pytest.raises(HFEncoderError, match="fewer than the 20"):
        enc.encode([np.zeros(8, dtype=np.float32)], [2], rate=8000)  # 16 samples at 16 kHz


def test_layer_specs():
    assert parse_layers("all", 3) == [0, 1, 2, 3]
    assert parse_layers("last", 3) == [3]
    assert parse_layers("0 -1 2, 2", 3) == [0, 2, 3]
    assert parse_layers([1, -2], 3) == [1, 2]
    for bad, message in (
        ("4", "out of range"),
        ("-5", "out of range"),
        ("x", "expected 'all'"),
        ("", "no layers"),
    ):
        with pytest.raises(HFEncoderError, match=message):
            parse_layers(bad, 3)


def test_encoder_names():
    assert is_hf_encoder("hf:microsoft/wavlm-base-plus") and not is_hf_encoder("asr")
    assert hf_model_id("hf:microsoft/wavlm-base-plus") == "microsoft/wavlm-base-plus"
    for bad in ("asr", "hf:", "hf: "):
        with pytest.raises(HFEncoderError, match="not a Hugging Face encoder"):
            hf_model_id(bad)


def test_unusable_models_are_errors_naming_them(tmp_path):
    missing = tmp_path / "no_such_model"
    with pytest.raises(HFEncoderError, match=f"{missing}: cannot load a speech encoder"):
        HFEncoder(str(missing), local_files_only=True)
    text = tmp_path / "bert"
    config = transformers.BertConfig(
        vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    transformers.BertModel(config).save_pretrained(text)
    transformers.Wav2Vec2FeatureExtractor().save_pretrained(text)
    with pytest.raises(HFEncoderError, match="is not a waveform speech encoder"):
        HFEncoder(str(text))
