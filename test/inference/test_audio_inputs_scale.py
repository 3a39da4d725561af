"""The inputs of an exported model on one scale: float files and arrays at ±1.0, integers as 16-bit PCM; NaN,
inf and out-of-scale values are an InputError naming the input (issue 12, items 1 and 2)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from speechsent.inference.audio_inputs import InputError, array_to_mono, load_file

RATE = 8000


def _speech(seconds: float = 0.5) -> np.ndarray:
    rng = np.random.default_rng(3)
    t = np.arange(int(seconds * RATE)) / RATE
    x = 0.4 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 4 * t)) / 2 + rng.normal(0, 0.02, t.size)
    return np.rint(x * 32768).astype(np.int16)


def test_float_file_gives_the_samples_of_its_pcm16_copy(tmp_path):
    pcm = _speech()
    soundfile.write(tmp_path / "pcm.wav", pcm, RATE, subtype="PCM_16")
    soundfile.write(tmp_path / "float.wav", pcm / 32768.0, RATE, subtype="FLOAT")
    for target in (RATE, 16000):
        a = load_file(tmp_path / "pcm.wav", target)
        b = load_file(tmp_path / "float.wav", target)
        np.testing.assert_array_equal(a, b)
        assert np.max(np.abs(b)) > 0.3  # not silence


def test_arrays_on_the_scale_of_files(tmp_path):
    pcm = _speech()
    path = tmp_path / "x.wav"
    soundfile.write(path, pcm, RATE, subtype="PCM_16")
    from_file = load_file(path, 16000)
    as_float, _ = soundfile.read(path, dtype="float32")
    as_int, _ = soundfile.read(path, dtype="int16")
    for x in (as_float, as_float.astype(np.float64), as_int, as_int.astype(np.int64), pcm.tolist()):
        np.testing.assert_array_equal(array_to_mono(x, RATE, 16000), from_file)
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(array_to_mono(torch.from_numpy(as_float), RATE, 16000), from_file)
    half = array_to_mono(torch.from_numpy(as_float).to(torch.bfloat16), RATE, RATE)
    assert np.max(np.abs(half - as_float)) < 0.01


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_an_array_or_a_file(tmp_path, bad):
    x = _speech().astype(np.float32) / 32768
    x[100] = bad
    with pytest.raises(
        InputError, match=r"call 7: 1 of 4000 samples are NaN or infinite \(the first at sample 100"
    ):
        array_to_mono(x, RATE, RATE, what="call 7")
    path = tmp_path / "nan.wav"
    soundfile.write(path, x, RATE, subtype="FLOAT")
    with pytest.raises(InputError, match=r"nan\.wav: 1 of 4000 samples are NaN or infinite"):
        load_file(path, RATE)


def test_values_off_the_scale_are_errors_not_garbage():
    pcm = _speech()
    with pytest.raises(InputError, match="float samples reach .* integer-scale values"):
        array_to_mono(pcm.astype(np.float32), RATE, RATE)  # int16 values in a float array
    with pytest.raises(InputError, match="do not fit in 16 bits"):
        array_to_mono(pcm.astype(np.int32) << 16, RATE, RATE)  # 32-bit PCM
    with pytest.raises(InputError, match="8-bit values are not 16-bit PCM"):
        array_to_mono((pcm >> 8).astype(np.int8), RATE, RATE)
    with pytest.raises(InputError, match="not audio samples"):
        array_to_mono(pcm > 0, RATE, RATE)
    for empty in (pcm[:0], pcm[:0, None].astype(np.float32)):
        with pytest.raises(InputError, match=r"array: no samples \(an empty array\)"):
            array_to_mono(empty, RATE, RATE)


def test_float_overs_in_an_array_are_clipped_and_counted(caplog):
    x = _speech().astype(np.float64) / 32768
    x[:3] = [1.1, -1.2, 1.0]
    with caplog.at_level("WARNING", logger="speechsent.audio.io"):
        got = array_to_mono(x, RATE, RATE, what="loud array")
    np.testing.assert_array_equal(got[:3], np.array([32767, -32768, 32767], np.float32) / 32768)
    assert "loud array: 2 of 4000 samples beyond full scale" in caplog.text
