"""Tests for speechsent.kaldi.ark (verified compressed ark storage) and speechsent.kaldi.compress."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("kaldiio")

from speechsent.kaldi.ark import (
    ArkWriter,
    CompressionError,
    StorageSpec,
    compress_matrix,
    parse_compression_method,
)
from speechsent.kaldi.compress import compress_speech_feature


@pytest.mark.parametrize("method", [4, 6, 7, "6"])
def test_integer_compression_methods_are_refused(method):
    with pytest.raises(CompressionError, match="integer|0..1"):
        parse_compression_method(method)
    with pytest.raises(CompressionError):
        StorageSpec("compressed", method=int(method))


def test_guard_catches_lossy_matrices(tmp_path):
    rng = np.random.default_rng(0)
    mat = rng.standard_normal((50, 16)).astype(np.float32)
    # method 6 on floats: kaldiio's silent garbage, caught by the check
    _, max_err, _ = compress_matrix(mat, 6)
    assert max_err > 1.0
    # a limit method 2 cannot meet: stored as float32 with a warning, or an error
    with ArkWriter(tmp_path / "a.ark", StorageSpec("compressed", max_rel_error=1e-4)) as writer:
        offset = writer.write("utt1", mat)
    assert writer.stats.fallbacks == ["utt1"]
    import kaldiio

    assert np.array_equal(kaldiio.load_mat(f"{tmp_path / 'a.ark'}:{offset}"), mat)
    with (
        ArkWriter(
            tmp_path / "b.ark", StorageSpec("compressed", max_rel_error=1e-4, fallback="error")
        ) as writer,
        pytest.raises(CompressionError, match="utt1"),
    ):
        writer.write("utt1", mat)


def test_fast_compression_is_byte_identical_to_kaldiio():
    from kaldiio.matio import read_matrix_or_vector, write_array

    rng = np.random.default_rng(7)
    cases = []
    for k in range(300):
        rows, cols = int(rng.integers(1, 200)), int(rng.integers(1, 20))
        m = (rng.standard_normal((rows, cols)) * rng.uniform(0.01, 50)).astype(np.float32)
        if k % 5 == 1:
            m = np.round(m)  # ties
        elif k % 5 == 2:
            m[:, : cols // 2] = 1.5  # constant columns
        elif k % 5 == 3:
            m[:] = rng.uniform(-3, 3)  # constant matrix
        elif k % 5 == 4:
            m[rng.integers(0, rows)] *= 40  # outlier row
        cases.append(m)
    for m in cases:
        buf = io.BytesIO()
        write_array(buf, m, compression_method=2)
        data, max_err, sum_err = compress_speech_feature(m)
        assert data == buf.getvalue()
        buf.seek(0)
        err = np.abs(np.asarray(read_matrix_or_vector(buf), dtype=np.float64) - m)
        assert max_err == pytest.approx(err.max(), rel=1e-6, abs=1e-12)
        assert sum_err == pytest.approx(err.sum(), rel=1e-6, abs=1e-9)
