"""axis_depth_to_space: the blocks of a transposed conv's beats in raster order, as kernels.depth_to_space, one pixel per cycle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fpgaflow.fixed import FixedType
from fpgaflow.hw.simulate import write_case
from fpgaflow.hw.streams import pixel_beats
from fpgaflow.reference.kernels import depth_to_space
from rtl_stream_cases import frame_period, random_codes, simulate

FRAMES = 5

# (C, IN_H, IN_W, (BH, BW), code type)
DEFAULT = [
    (3, 3, 4, (2, 2), FixedType(True, 8, 4)),  # a 2x2 stride-2 transposed conv
    (2, 2, 3, (3, 2), FixedType(False, 6, 2)),
]
SLOW = [
    (1, 4, 1, (1, 4), FixedType(True, 8, 0)),
    (4, 1, 5, (2, 1), FixedType(True, 12, 6)),
]


def run_depth_to_space_case(tmp_path: Path, c, in_h, in_w, block, ftype) -> None:
    rng = np.random.default_rng(c * 37 + in_h * 5 + in_w + block[0])
    frames = [random_codes(rng, ftype, (block[0] * block[1] * c, in_h, in_w)) for _ in range(FRAMES)]
    expected = list(depth_to_space(np.stack(frames), block))
    write_case(tmp_path, [pixel_beats(f, ftype.width) for f in frames], [pixel_beats(e, ftype.width) for e in expected],
               out_elem_bits=ftype.width)
    params = dict(PW=c * ftype.width, IN_H=in_h, IN_W=in_w, BH=block[0], BW=block[1])
    times = simulate(tmp_path, "axis_depth_to_space", ("axis_depth_to_space",), "tb_axis_depth_to_space", params)
    assert frame_period(times, FRAMES) == in_h * block[0] * in_w * block[1], "an unpaused reorder must emit one pixel per cycle"


@pytest.mark.parametrize("case", DEFAULT)
def test_axis_depth_to_space(tmp_path: Path, case) -> None:
    run_depth_to_space_case(tmp_path, *case)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW)
def test_axis_depth_to_space_sweep(tmp_path: Path, case) -> None:
    run_depth_to_space_case(tmp_path, *case)
