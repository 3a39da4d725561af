"""Tests for speechsent.audio.g711: the G.711 µ-law and A-law tables and encoders."""

from __future__ import annotations

import numpy as np

from speechsent.audio.g711 import alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear


def test_ulaw_table_known_values():
    table = ulaw_to_linear(np.arange(256))
    assert table.dtype == np.int16
    assert table[0x00] == -32124 and table[0x80] == 32124
    assert table[0x7F] == 0 and table[0xFF] == 0
    assert table[0x7E] == -8 and table[0xFE] == 8
    assert table[0x0F] == -16764 and table[0x70] == -120
    assert np.all(np.diff(table[:128].astype(int)) > 0) and np.all(np.diff(table[128:].astype(int)) < 0)
    assert int(table.astype(np.int64).sum()) == 0  # odd symmetry


def test_alaw_table_known_values():
    table = alaw_to_linear(np.arange(256))
    assert table[0xD5] == 8 and table[0x55] == -8
    assert table[0xAA] == 32256 and table[0x2A] == -32256
    assert table[0x80] == 5504 and table[0x00] == -5504
    assert sorted(set(np.abs(table.astype(int)))) == sorted(set(np.abs(table[128:].astype(int))))


def test_g711_round_trips_and_encoders():
    codes = np.arange(256)
    back = linear_to_ulaw(ulaw_to_linear(codes))
    assert np.array_equal(back[codes != 0x7F], codes[codes != 0x7F]) and back[0x7F] == 0xFF
    assert np.array_equal(linear_to_alaw(alaw_to_linear(codes)), codes)
    linear = np.arange(-32768, 32768)
    ulaw = linear_to_ulaw(linear)
    assert ulaw.dtype == np.uint8 and len(np.unique(ulaw)) == 256
    assert ulaw[32768] == 0xFF and ulaw[0] == 0x00 and ulaw[-1] == 0x80
    # The encoders pick the nearest code (within the segment's step).
    error = np.abs(ulaw_to_linear(ulaw).astype(int) - linear)
    assert error.max() <= 1024 and error[32768 - 100 : 32768 + 100].max() <= 4
    alaw = linear_to_alaw(linear)
    assert np.abs(alaw_to_linear(alaw).astype(int) - linear).max() <= 1024
