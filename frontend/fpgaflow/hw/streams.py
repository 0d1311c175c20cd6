"""The stream convention of the RTL in Python: codes packed into AXI4-Stream beats.

A beat packs a vector of W-bit codes with element 0 in the low bits; a signed code is
stored in two's complement. A feature map (C, H, W) streams in raster order, one pixel
per beat with its C channels packed. Test benches and the generator's verification use
these helpers so that the bit layout is written down once.
"""

from __future__ import annotations

import numpy as np


def pack_beat(codes: np.ndarray, bits: int) -> int:
    """Pack a 1-D vector of integer codes into one beat, element 0 in the low bits."""
    mask = (1 << bits) - 1
    beat = 0
    for position, code in enumerate(np.asarray(codes, dtype=np.int64).ravel().tolist()):
        beat |= (int(code) & mask) << (position * bits)
    return beat


def unpack_beat(beat: int, count: int, bits: int, signed: bool) -> np.ndarray:
    """The inverse of pack_beat: `count` codes of `bits` bits, sign-extended when signed."""
    mask = (1 << bits) - 1
    codes = [(beat >> (i * bits)) & mask for i in range(count)]
    if signed:
        codes = [c - (1 << bits) if c >> (bits - 1) else c for c in codes]
    return np.array(codes, dtype=np.int64)


def pixel_beats(feature_map: np.ndarray, bits: int) -> list[int]:
    """A (C, H, W) map of codes as its raster-order pixel beats."""
    channels = feature_map.shape[0]
    pixels = np.asarray(feature_map).reshape(channels, -1).T
    return [pack_beat(pixel, bits) for pixel in pixels]


def window_beats(windows: np.ndarray, bits: int) -> list[int]:
    """Windows (C, OH, OW, KH, KW) as the window generator's beats.

    One beat per output position in raster order; element (kh * KW + kw) * C + c.
    """
    channels, out_h, out_w, kh, kw = windows.shape
    ordered = np.transpose(windows, (1, 2, 3, 4, 0)).reshape(out_h * out_w, kh * kw * channels)
    return [pack_beat(row, bits) for row in ordered]


def hex_beats(beats: list[int]) -> list[str]:
    """Beats as hex strings (JSON-safe at any width)."""
    return [format(beat, "x") for beat in beats]
