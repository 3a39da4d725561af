"""The libespeak-ng ctypes binding: voices, audio, determinism, errors, lazy loading."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("espeakng_loader")

from speechsent.synth import espeak
from speechsent.synth.espeak import EspeakError, get_espeak, list_english_voices, list_variants

TEXT = "well i really love going to the lake with my kids"


def test_voices_and_variants():
    variants = list_variants()
    for name in ("m1", "m3", "f1", "f2", "croak", "whisper"):
        assert name in variants
    voices = list_english_voices()
    assert voices[0] == "en-us"
    assert {"en", "en-gb-x-rp", "en-us+m3", "en+f1", "en-us+croak"} <= set(voices)
    assert len(voices) > 50
    assert len(list_english_voices(variants=None)) > len(voices)
    assert espeak.voice_gender("en-us+f1") == "f" and espeak.voice_gender("en+linda") == "f"
    assert espeak.voice_gender("en-us+m3") == "m" and espeak.voice_gender("en-us") == "m"
    genders = {espeak.voice_gender(v) for v in voices}
    assert genders == {"f", "m"}


def test_synthesize_gives_speech():
    engine = get_espeak()
    assert engine.sample_rate == 22050
    assert engine is get_espeak()
    audio = engine.synthesize(TEXT, "en-us+m3")
    assert audio.dtype == np.int16 and audio.ndim == 1
    seconds = audio.size / engine.sample_rate
    assert 1.5 < seconds < 6.0
    assert np.abs(audio).max() > 5000
    assert np.sqrt(np.mean(audio.astype(np.float64) ** 2)) > 500


def test_synthesize_is_deterministic_whatever_came_before():
    engine = get_espeak()
    first = engine.synthesize(TEXT, "en-us+m3", rate=180, pitch=60)
    engine.synthesize("something else entirely", "en-gb-x-rp+f2", pitch=80, pitch_range=90)
    engine.synthesize(TEXT, "en-us+whisper", seed=7)
    again = engine.synthesize(TEXT, "en-us+m3", rate=180, pitch=60)
    assert np.array_equal(first, again)


def test_default_voices_are_reproducible():
    engine = get_espeak()
    voices = list_english_voices()
    assert all(espeak.is_reproducible(v) for v in voices)
    assert not espeak.is_reproducible("en-us+f2") and not espeak.is_reproducible("en+whisper")
    assert "whisper" not in list_variants(breathy=False) and "m3" in list_variants(breathy=False)
    rng = random.Random(0)
    sample = rng.sample(voices, 6)
    refs = {v: engine.synthesize(TEXT, v, seed=3) for v in sample}
    for _ in range(30):
        engine.synthesize("other text " * rng.randint(1, 3), rng.choice(voices), pitch=rng.randint(0, 100))
        voice = rng.choice(sample)
        assert np.array_equal(engine.synthesize(TEXT, voice, seed=3), refs[voice]), voice


def test_parameters_change_the_audio():
    engine = get_espeak()
    slow = engine.synthesize(TEXT, "en-us", rate=120)
    fast = engine.synthesize(TEXT, "en-us", rate=260)
    assert slow.size > 1.5 * fast.size
    low = engine.synthesize(TEXT, "en-us", pitch=20)
    high = engine.synthesize(TEXT, "en-us", pitch=90)
    assert not np.array_equal(low[: min(low.size, high.size)], high[: min(low.size, high.size)])


def test_errors():
    engine = get_espeak()
    with pytest.raises(EspeakError, match="unknown eSpeak voice"):
        engine.synthesize("hello", "xx-nonexistent")
    with pytest.raises(ValueError):
        engine.synthesize("hello", "en-us", pitch=150)
    with pytest.raises(TypeError):
        espeak.Espeak()


def test_missing_library_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("SPEECHSENT_ESPEAK_LIBRARY", str(tmp_path / "libespeak-ng.so"))
    monkeypatch.setenv("SPEECHSENT_ESPEAK_DATA", str(tmp_path))
    with pytest.raises(EspeakError, match="libespeak-ng not found"):
        espeak.find_espeak()
    (tmp_path / "libespeak-ng.so").write_bytes(b"")
    with pytest.raises(EspeakError, match="espeak-ng-data not found"):
        espeak.find_espeak()


def test_import_is_lazy():
    code = (
        "import sys, speechsent.synth, speechsent.synth.espeak, speechsent.synth.corpus; "
        "print(any('espeak' in n.lower() and n != 'speechsent.synth.espeak' for n in sys.modules), "
        "'numpy' in sys.modules, speechsent.synth.espeak._INSTANCE is None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "True"]
