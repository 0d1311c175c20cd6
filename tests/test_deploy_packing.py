"""The driver's packing module is the simulation's packing: checked against the bit layout written out
beat by beat (fpgaflow.hw.streams), on many random shapes, code widths and DMA widths."""

from __future__ import annotations

import numpy as np
import pytest

from fpgaflow.deploy.pynq_driver import packing
from fpgaflow.fixed import FixedType
from fpgaflow.hw.streams import pack_beat
from fpgaflow.flow import dma


def words_by_beats(frame: np.ndarray, bits: int, dma_width: int) -> list[int]:
    """The documented layout, spelled out: pixel beats (channel 0 low) cut into DMA words, low bits first."""
    pixels = frame[None, :] if frame.ndim == 1 else frame.reshape(frame.shape[0], -1).T
    count = -(-pixels.shape[1] * bits // dma_width)
    mask = (1 << dma_width) - 1
    return [(pack_beat(p, bits) >> (i * dma_width)) & mask for p in pixels for i in range(count)]


def test_driver_and_simulation_pack_identically_on_random_cases():
    rng = np.random.default_rng(11)
    for _ in range(300):
        bits = int(rng.integers(2, 33))
        signed = bool(rng.integers(0, 2))
        dma_width = int(rng.choice([8, 16, 32, 64, 128, 256]))
        shape = (int(rng.integers(1, 40)),) if rng.random() < 0.3 else tuple(int(v) for v in rng.integers(1, 7, size=3))
        ftype = FixedType(signed, bits, 0)
        frame = rng.integers(ftype.min_code, ftype.max_code + 1, size=shape, dtype=np.int64)
        words = dma.pack_frame(frame, bits, dma_width)
        assert words == words_by_beats(frame, bits, dma_width)
        data = packing.pack_frame_bytes(frame, bits, dma_width)
        assert data.size == packing.frame_bytes(shape, bits, dma_width)
        assert data.tobytes() == b"".join(w.to_bytes(dma_width // 8, "little") for w in words)
        assert np.array_equal(packing.unpack_frame_bytes(data, shape, bits, signed, dma_width), frame)


def test_unpack_ignores_the_unused_high_bits():
    frame = np.array([3, -2, 1], dtype=np.int64)
    data = packing.pack_frame_bytes(frame, 8, 64)
    data[3:] = 0xA5
    assert np.array_equal(packing.unpack_frame_bytes(data, (3,), 8, True, 64), frame)


def test_quantize_is_the_reference_rule():
    """The driver's quantize is FixedType.quantize: round half up, then saturate."""
    ftype = FixedType(True, 8, 4)
    x = np.array([0.03125, -0.03125, 7.96875, 100.0, -100.0, 0.0])
    assert packing.quantize_codes(x, True, 8, 4).tolist() == [1, 0, 127, 127, -128, 0]
    rng = np.random.default_rng(2)
    values = rng.normal(0, 20, size=1000)
    assert np.array_equal(packing.quantize_codes(values, True, 8, 4), ftype.quantize(values))


@pytest.mark.parametrize("size", [0, 31, 33])
def test_a_frame_of_the_wrong_size_is_refused(size):
    """(2, 2, 2) codes of 8 bits in 64-bit words: 4 pixels of one word, 32 bytes."""
    with pytest.raises(ValueError, match="needs 32 bytes"):
        packing.unpack_frame_bytes(np.zeros(size, dtype=np.uint8), (2, 2, 2), 8, False, 64)


def test_packing_needs_numpy_only():
    """The module is copied onto the board, where fpgaflow is not installed."""
    source = packing.__file__
    imports = [line for line in open(source).read().splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["from __future__ import annotations", "import numpy as np"]
