"""DMA word packing round-trips and puts channel 0 of pixel 0 in the low bits of the first word."""

import numpy as np
import pytest

from fpgaflow.flow.dma import pack_frame, unpack_frame, words_per_pixel


@pytest.mark.parametrize("shape,bits,signed", [((1, 8, 8), 8, False), ((16, 3, 5), 8, True), ((10,), 12, True), ((3, 2, 2), 30, False)])
def test_round_trip(shape, bits, signed):
    rng = np.random.default_rng(0)
    lo, hi = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
    frame = rng.integers(lo, hi, size=shape)
    words = pack_frame(frame, bits, 64)
    pixels = 1 if len(shape) == 1 else shape[1] * shape[2]
    assert len(words) == pixels * words_per_pixel(shape[0], bits, 64)
    assert all(0 <= w < 1 << 64 for w in words)
    assert np.array_equal(unpack_frame(words, shape, bits, signed, 64), frame)


def test_layout():
    frame = np.zeros((9, 1, 2), dtype=np.int64)
    frame[0, 0, 0], frame[8, 0, 0], frame[1, 0, 1] = 1, -1, 2
    words = pack_frame(frame, 8, 64)
    assert words == [1, 0xFF, 2 << 8, 0]
