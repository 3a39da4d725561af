"""G.711 companding: µ-law and A-law to and from 16-bit linear, with the tables sph2pipe uses.

The µ-law expansion gives what ``sph2pipe -p`` and libsndfile give (0xFF and 0x7F -> 0); the encoders are
Reese & Campbell's (µ-law) and the Sun / SoX one (A-law). Used by the SPHERE reader and writer
(:mod:`speechsent.audio.sphere`), the shorten codec's ``ULAW``/``ALAW`` file types
(:mod:`speechsent.audio.shorten`) and ``speechsent-sph2pipe``; it imports neither of them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["alaw_to_linear", "linear_to_alaw", "linear_to_ulaw", "ulaw_to_linear"]

_ULAW_SEGMENT_STARTS = np.array([2, 4, 8, 16, 32, 64, 128])  # exponent = floor(log2(magnitude >> 7))


def ulaw_to_linear(codes: np.ndarray) -> np.ndarray:
    """Expand G.711 µ-law bytes to 16-bit linear (0xFF and 0x7F -> 0, 0x00 -> -32124)."""
    u = ~np.asarray(codes, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    magnitude = ((((u & 0x0F) << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


def linear_to_ulaw(samples: np.ndarray) -> np.ndarray:
    """Compress 16-bit linear samples to G.711 µ-law bytes (Reese & Campbell's encoder)."""
    x = np.asarray(samples, dtype=np.int32)
    sign = np.where(x < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.searchsorted(_ULAW_SEGMENT_STARTS, magnitude >> 7, side="right")
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


def alaw_to_linear(codes: np.ndarray) -> np.ndarray:
    """Expand G.711 A-law bytes to 16-bit linear (0xD5 -> 8, 0x55 -> -8)."""
    a = np.asarray(codes, dtype=np.int32) ^ 0x55
    segment = (a & 0x70) >> 4
    mantissa = (a & 0x0F) << 4
    magnitude = np.where(
        segment == 0,
        mantissa + 8,
        (mantissa + 0x108) << np.maximum(segment - 1, 0),
    )
    return np.where(a & 0x80, magnitude, -magnitude).astype(np.int16)


def linear_to_alaw(samples: np.ndarray) -> np.ndarray:
    """Compress 16-bit linear samples to G.711 A-law bytes (the Sun / SoX encoder)."""
    x = np.asarray(samples, dtype=np.int32) >> 3
    mask = np.where(x >= 0, 0xD5, 0x55)
    magnitude = np.where(x >= 0, x, -x - 1)
    segment_ends = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])
    segment = np.searchsorted(segment_ends, magnitude)
    shift = np.where(segment < 2, 1, segment)
    code = (np.minimum(segment, 7) << 4) | ((magnitude >> shift) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    return ((code ^ mask) & 0xFF).astype(np.uint8)
