"""pool_avg: averaged frames equal run_fixed's AvgPool bit for bit (shift or reciprocal), at window_gen's rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fpgaflow.fixed import FixedType
from fpgaflow.hw.simulate import write_case
from fpgaflow.hw.streams import pixel_beats
from fpgaflow.ir import AvgPool
from fpgaflow.reference.kernels import pool_output_size
from fpgaflow.backends.rtl.division import division_parameters
from rtl_stream_cases import assert_window_rate, random_codes, reciprocal_type, reference_frames, simulate

FRAMES = 6
S, U = True, False

# (IN_H, IN_W, C, input type, output type, KH, KW, STRIDE_H, STRIDE_W, (PAD_T, PAD_L, PAD_B, PAD_R))
DEFAULT = [
    (6, 7, 2, FixedType(S, 8, 4), FixedType(S, 8, 5), 3, 3, 1, 1, (1, 1, 1, 1)),  # count 9: reciprocal
    (8, 6, 3, FixedType(U, 6, 2), FixedType(U, 8, 6), 2, 2, 2, 2, (0, 0, 0, 0)),  # count 4: left shift, saturates
]
SLOW = [
    (7, 7, 2, FixedType(S, 6, 3), FixedType(S, 6, 3), 3, 3, 2, 2, (1, 1, 1, 1)),
    (5, 8, 1, FixedType(S, 8, 0), FixedType(U, 8, 1), 2, 2, 2, 2, (0, 1, 1, 0)),
    (6, 6, 4, FixedType(U, 4, 2), FixedType(S, 5, 1), 3, 2, 2, 1, (1, 0, 1, 1)),  # count 6
    (4, 5, 2, FixedType(S, 16, 10), FixedType(S, 12, 8), 2, 3, 1, 1, (1, 1, 0, 1)),
    (6, 5, 3, FixedType(U, 8, 8), FixedType(U, 8, 12), 1, 1, 1, 1, (0, 0, 0, 0)),  # count 1
]


def run_avg_case(tmp_path: Path, in_h, in_w, c, in_type, out_type, kh, kw, sh, sw, pad) -> None:
    rng = np.random.default_rng(in_h * 89 + c * 5 + kh)
    out_h = pool_output_size(in_h, kh, sh, pad[0], pad[2], 1, False)
    out_w = pool_output_size(in_w, kw, sw, pad[1], pad[3], 1, False)
    frames = [random_codes(rng, in_type, (c, in_h, in_w)) for _ in range(FRAMES)]
    frames[0] = np.full((c, in_h, in_w), in_type.max_code)  # the largest sums: saturation, no overflow
    frames[1] = np.full((c, in_h, in_w), in_type.min_code)
    count = kh * kw
    layer = AvgPool(name="pool", inputs=["x"], output="y", kernel=(kh, kw), stride=(sh, sw), padding=pad,
                    count_include_pad=True, reciprocal=reciprocal_type(count))
    expected = reference_frames(layer, (c, in_h, in_w), in_type, (c, out_h, out_w), out_type, frames)
    write_case(tmp_path, [pixel_beats(f, in_type.width) for f in frames],
               [pixel_beats(e, out_type.width) for e in expected], out_elem_bits=out_type.width)
    params = dict(IN_H=in_h, IN_W=in_w, C=c, DW=in_type.width, IN_SIGNED=int(in_type.signed), KH=kh, KW=kw,
                  STRIDE_H=sh, STRIDE_W=sw, PAD_T=pad[0], PAD_L=pad[1], PAD_B=pad[2], PAD_R=pad[3],
                  OUT_DW=out_type.width, OUT_SIGNED=int(out_type.signed),
                  **division_parameters(count, in_type.frac, out_type.frac, reciprocal_type(count)))
    times = simulate(tmp_path, "pool_avg", ("pool_avg", "window_gen", "requantize"), "tb_pool_avg", params)
    assert_window_rate(times, FRAMES, in_h, in_w, pad)


@pytest.mark.parametrize("case", DEFAULT)
def test_pool_avg(tmp_path: Path, case) -> None:
    run_avg_case(tmp_path, *case)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW)
def test_pool_avg_sweep(tmp_path: Path, case) -> None:
    run_avg_case(tmp_path, *case)
