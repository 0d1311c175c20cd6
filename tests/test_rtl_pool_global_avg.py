"""pool_global_avg: one beat of means per frame equal to run_fixed's GlobalAvgPool, one input pixel per cycle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fpgaflow.fixed import FixedType
from fpgaflow.hw.simulate import write_case
from fpgaflow.hw.streams import pack_beat, pixel_beats
from fpgaflow.ir import GlobalAvgPool
from fpgaflow.backends.rtl.division import division_parameters
from rtl_stream_cases import frame_period, random_codes, reciprocal_type, reference_frames, simulate

FRAMES = 8
S, U = True, False

# (IN_H, IN_W, C, input type, output type)
DEFAULT = [
    (4, 4, 3, FixedType(S, 8, 4), FixedType(S, 8, 3)),  # count 16: shift
    (3, 5, 2, FixedType(U, 8, 3), FixedType(U, 8, 4)),  # count 15: reciprocal
]
SLOW = [
    (1, 1, 2, FixedType(S, 8, 2), FixedType(S, 8, 4)),  # count 1: left shift, saturates
    (7, 7, 4, FixedType(S, 6, 3), FixedType(U, 8, 7)),
    (2, 4, 1, FixedType(U, 4, 0), FixedType(S, 10, 6)),
    (5, 6, 3, FixedType(S, 16, 12), FixedType(S, 12, 9)),
]


def run_global_case(tmp_path: Path, in_h, in_w, c, in_type, out_type) -> None:
    rng = np.random.default_rng(in_h * 83 + in_w * 3 + c)
    frames = [random_codes(rng, in_type, (c, in_h, in_w)) for _ in range(FRAMES)]
    frames[0] = np.full((c, in_h, in_w), in_type.max_code)
    frames[1] = np.full((c, in_h, in_w), in_type.min_code)
    count = in_h * in_w
    layer = GlobalAvgPool(name="pool", inputs=["x"], output="y", reciprocal=reciprocal_type(count))
    expected = reference_frames(layer, (c, in_h, in_w), in_type, (c, 1, 1), out_type, frames)
    write_case(tmp_path, [pixel_beats(f, in_type.width) for f in frames],
               [[pack_beat(e.ravel(), out_type.width)] for e in expected], out_elem_bits=out_type.width)
    params = dict(IN_H=in_h, IN_W=in_w, C=c, DW=in_type.width, IN_SIGNED=int(in_type.signed),
                  OUT_DW=out_type.width, OUT_SIGNED=int(out_type.signed),
                  **division_parameters(count, in_type.frac, out_type.frac, reciprocal_type(count)))
    times = simulate(tmp_path, "pool_global_avg", ("pool_global_avg", "requantize"), "tb_pool_global_avg", params)
    assert frame_period(times, FRAMES) == count, "an unpaused global pool must take one input pixel per cycle"


@pytest.mark.parametrize("case", DEFAULT)
def test_pool_global_avg(tmp_path: Path, case) -> None:
    run_global_case(tmp_path, *case)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW)
def test_pool_global_avg_sweep(tmp_path: Path, case) -> None:
    run_global_case(tmp_path, *case)
