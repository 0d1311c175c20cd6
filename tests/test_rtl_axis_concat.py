"""axis_concat: channel concatenation equal to run_fixed's Concat (each input requantized), one pixel per cycle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fpgaflow import fixed
from fpgaflow.fixed import FixedType
from fpgaflow.hw.simulate import write_case
from fpgaflow.hw.streams import pixel_beats
from rtl_stream_cases import joined_beats, random_codes, simulate

FRAMES = 6
H, W = 4, 5
S, U = True, False

# (channels of A, type of A, channels of B, type of B, output type)
DEFAULT = [
    (2, FixedType(S, 8, 4), 3, FixedType(U, 8, 6), FixedType(S, 8, 5)),  # A shifts left, B rounds
    (1, FixedType(U, 4, 1), 2, FixedType(S, 8, 3), FixedType(S, 10, 2)),
]
SLOW = [
    (3, FixedType(S, 8, 4), 3, FixedType(S, 8, 4), FixedType(S, 8, 4)),
    (2, FixedType(S, 16, 10), 1, FixedType(U, 8, 0), FixedType(U, 8, 3)),  # saturation at both ends
    (4, FixedType(U, 6, 6), 2, FixedType(U, 6, 2), FixedType(U, 6, 4)),
]


def run_concat_case(tmp_path: Path, c_a, a_type, c_b, b_type, out_type) -> None:
    rng = np.random.default_rng(c_a * 61 + c_b * 7 + a_type.width)
    frames_a = [random_codes(rng, a_type, (c_a, H, W)) for _ in range(FRAMES)]
    frames_b = [random_codes(rng, b_type, (c_b, H, W)) for _ in range(FRAMES)]
    expected = [np.concatenate([fixed.requantize(a, a_type.frac, out_type), fixed.requantize(b, b_type.frac, out_type)])
                for a, b in zip(frames_a, frames_b)]
    write_case(tmp_path, [joined_beats(a, a_type.width, b, b_type.width) for a, b in zip(frames_a, frames_b)],
               [pixel_beats(e, out_type.width) for e in expected], out_elem_bits=out_type.width, a_bits=c_a * a_type.width)
    params = dict(C_A=c_a, A_DW=a_type.width, A_SIGNED=int(a_type.signed), A_SHIFT=a_type.frac - out_type.frac,
                  C_B=c_b, B_DW=b_type.width, B_SIGNED=int(b_type.signed), B_SHIFT=b_type.frac - out_type.frac,
                  OUT_DW=out_type.width, OUT_SIGNED=int(out_type.signed))
    times = simulate(tmp_path, "axis_concat", ("axis_concat", "axis_join", "requantize"), "tb_axis_concat", params)
    assert times[-1] - times[0] == FRAMES * H * W - 1, "an unpaused concat must pass one pixel per cycle"


@pytest.mark.parametrize("case", DEFAULT)
def test_axis_concat(tmp_path: Path, case) -> None:
    run_concat_case(tmp_path, *case)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW)
def test_axis_concat_sweep(tmp_path: Path, case) -> None:
    run_concat_case(tmp_path, *case)
