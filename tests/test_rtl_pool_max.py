"""pool_max: pooled frames equal run_fixed's MaxPool bit for bit (signed padding never wins), at window_gen's rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fpgaflow.fixed import FixedType
from fpgaflow.hw.simulate import write_case
from fpgaflow.hw.streams import pixel_beats
from fpgaflow.ir import MaxPool
from fpgaflow.reference.kernels import pool_output_size
from rtl_stream_cases import assert_window_rate, random_codes, reference_frames, simulate

FRAMES = 6

# (IN_H, IN_W, C, DW, SIGNED, KH, KW, STRIDE_H, STRIDE_W, (PAD_T, PAD_L, PAD_B, PAD_R))
DEFAULT = [
    (6, 7, 2, 8, True, 3, 3, 1, 1, (1, 1, 1, 1)),
    (8, 6, 3, 5, False, 2, 2, 2, 2, (0, 0, 0, 0)),
]
SLOW = [
    (7, 7, 2, 6, True, 3, 3, 2, 2, (1, 1, 1, 1)),
    (5, 8, 1, 8, True, 2, 2, 2, 2, (0, 1, 1, 0)),
    (6, 6, 4, 4, False, 3, 3, 2, 1, (1, 0, 1, 1)),
    (4, 5, 2, 16, True, 2, 3, 1, 1, (1, 1, 0, 1)),
]


def run_max_case(tmp_path: Path, in_h, in_w, c, dw, signed, kh, kw, sh, sw, pad) -> None:
    rng = np.random.default_rng(in_h * 97 + c * 7 + kh)
    ftype = FixedType(signed, dw, 3)
    out_h = pool_output_size(in_h, kh, sh, pad[0], pad[2], 1, False)
    out_w = pool_output_size(in_w, kw, sw, pad[1], pad[3], 1, False)
    frames = [random_codes(rng, ftype, (c, in_h, in_w)) for _ in range(FRAMES)]
    if signed:  # an all-negative frame: a padded minimum of 0 would win every border window
        frames[0] = rng.integers(ftype.min_code, 0, size=(c, in_h, in_w))
    layer = MaxPool(name="pool", inputs=["x"], output="y", kernel=(kh, kw), stride=(sh, sw), padding=pad)
    expected = reference_frames(layer, (c, in_h, in_w), ftype, (c, out_h, out_w), ftype, frames)
    write_case(tmp_path, [pixel_beats(f, dw) for f in frames], [pixel_beats(e, dw) for e in expected], out_elem_bits=dw)
    params = dict(IN_H=in_h, IN_W=in_w, C=c, DW=dw, SIGNED=int(signed), KH=kh, KW=kw, STRIDE_H=sh, STRIDE_W=sw,
                  PAD_T=pad[0], PAD_L=pad[1], PAD_B=pad[2], PAD_R=pad[3])
    times = simulate(tmp_path, "pool_max", ("pool_max", "window_gen"), "tb_pool_max", params)
    assert_window_rate(times, FRAMES, in_h, in_w, pad)


@pytest.mark.parametrize("case", DEFAULT)
def test_pool_max(tmp_path: Path, case) -> None:
    run_max_case(tmp_path, *case)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW)
def test_pool_max_sweep(tmp_path: Path, case) -> None:
    run_max_case(tmp_path, *case)
