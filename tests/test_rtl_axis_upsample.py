"""axis_upsample: frames equal run_fixed's Upsample (nearest, integer factors), one output pixel per cycle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fpgaflow.fixed import FixedType
from fpgaflow.hw.simulate import write_case
from fpgaflow.hw.streams import pixel_beats
from fpgaflow.ir import Upsample
from rtl_stream_cases import frame_period, random_codes, reference_frames, simulate

FRAMES = 5

# (C, IN_H, IN_W, (SH, SW), code type)
DEFAULT = [
    (3, 3, 4, (2, 2), FixedType(True, 8, 4)),  # the U-Net's factor
    (2, 2, 3, (3, 1), FixedType(False, 6, 2)),  # rows only, factor 3
]
SLOW = [
    (1, 4, 1, (1, 4), FixedType(True, 8, 0)),  # pixels only, a one-pixel row
    (4, 1, 5, (2, 3), FixedType(True, 12, 6)),  # one input row
]


def run_upsample_case(tmp_path: Path, c, in_h, in_w, scale, ftype) -> None:
    rng = np.random.default_rng(c * 31 + in_h * 7 + in_w + scale[0])
    frames = [random_codes(rng, ftype, (c, in_h, in_w)) for _ in range(FRAMES)]
    out_shape = (c, in_h * scale[0], in_w * scale[1])
    layer = Upsample(name="up", inputs=["x"], output="y", scale=scale)
    expected = reference_frames(layer, (c, in_h, in_w), ftype, out_shape, ftype, frames)
    write_case(tmp_path, [pixel_beats(f, ftype.width) for f in frames], [pixel_beats(e, ftype.width) for e in expected],
               out_elem_bits=ftype.width)
    params = dict(PW=c * ftype.width, IN_H=in_h, IN_W=in_w, SH=scale[0], SW=scale[1])
    times = simulate(tmp_path, "axis_upsample", ("axis_upsample",), "tb_axis_upsample", params)
    assert frame_period(times, FRAMES) == out_shape[1] * out_shape[2], "an unpaused upsample must emit one pixel per cycle"


@pytest.mark.parametrize("case", DEFAULT)
def test_axis_upsample(tmp_path: Path, case) -> None:
    run_upsample_case(tmp_path, *case)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW)
def test_axis_upsample_sweep(tmp_path: Path, case) -> None:
    run_upsample_case(tmp_path, *case)
