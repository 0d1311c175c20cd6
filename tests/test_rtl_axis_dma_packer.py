"""axis_dma_packer: both directions implement fpgaflow/flow/dma.py's packing exactly, one DMA word per cycle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fpgaflow.fixed import FixedType
from fpgaflow.hw.simulate import write_case
from fpgaflow.hw.streams import pixel_beats
from fpgaflow.flow.dma import pack_frame, words_per_pixel
from rtl_stream_cases import random_codes, simulate

SHAPES = [(1, 3, 4), (1, 1, 1), (1, 2, 5), (1,), (1, 4, 2), (1, 1, 3)]
"""Frame shapes with the channel count replaced per case: maps of several sizes and a vector."""

# (channels, code type, DMA width, TO_PIXELS)
DEFAULT = [
    (5, FixedType(True, 8, 4), 16, True),   # 40-bit pixels in 3 words, 8 bits of the last used
    (3, FixedType(False, 6, 2), 8, False),  # 18-bit pixels out in 3 words, 2 bits of the last used
]
SLOW = [
    (3, FixedType(False, 8, 0), 64, True),   # one word per pixel, high bits dropped
    (3, FixedType(False, 8, 0), 64, False),  # one word per pixel, high bits zero
    (4, FixedType(True, 8, 3), 8, True),     # exact multiple
    (4, FixedType(True, 8, 3), 8, False),
    (2, FixedType(True, 16, 8), 32, False),  # equal widths
    (7, FixedType(True, 5, 1), 32, True),
]


def run_converter_case(tmp_path: Path, channels, ftype, dma_width, to_pixels) -> None:
    rng = np.random.default_rng(channels * 53 + dma_width + int(to_pixels))
    frames = [random_codes(rng, ftype, (channels, *shape[1:])) for shape in SHAPES]
    words = [pack_frame(f, ftype.width, dma_width) for f in frames]
    pixels = [pixel_beats(f.reshape(channels, -1, 1), ftype.width) for f in frames]
    frames_in, frames_out = (words, pixels) if to_pixels else (pixels, words)
    pixel_width = channels * ftype.width
    write_case(tmp_path, frames_in, frames_out, out_elem_bits=pixel_width if to_pixels else dma_width)
    params = dict(PIXEL_W=pixel_width, DMA_W=dma_width, TO_PIXELS=int(to_pixels))
    times = simulate(tmp_path, "axis_dma_packer", ("axis_dma_packer",), "tb_axis_dma_packer", params)
    n = words_per_pixel(channels, ftype.width, dma_width)
    total = sum(len(p) for p in pixels)
    spacing = n if to_pixels else 1  # a pixel every N cycles, or a word every cycle
    assert times[-1] - times[0] == spacing * (len(times) - 1), f"the DMA side must move one word per cycle ({n} per pixel)"
    assert len(times) == (total if to_pixels else total * n)


@pytest.mark.parametrize("case", DEFAULT)
def test_axis_dma_packer(tmp_path: Path, case) -> None:
    run_converter_case(tmp_path, *case)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW)
def test_axis_dma_packer_sweep(tmp_path: Path, case) -> None:
    run_converter_case(tmp_path, *case)
