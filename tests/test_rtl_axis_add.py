"""axis_add: residual sums equal the contract's Add (align, sum, round, saturate, activation), one pixel per cycle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fpgaflow import fixed
from fpgaflow.fixed import FixedType
from fpgaflow.hw.simulate import write_case
from fpgaflow.hw.streams import pixel_beats
from fpgaflow.flow.weight_rom import activation_parameters
from fpgaflow.ir import Activation
from fpgaflow.ir.layers import Add
from fpgaflow.reference.fixed_exec import finish
from rtl_stream_cases import joined_beats, random_codes, simulate

FRAMES = 6
H, W = 4, 5
S, U = True, False

# (C, type of A, type of B, output type, activation[, LeakyRelu alpha])
DEFAULT = [
    (3, FixedType(S, 8, 4), FixedType(S, 8, 6), FixedType(S, 8, 5), Activation.NONE),  # align A, round
    (2, FixedType(U, 8, 3), FixedType(S, 6, 2), FixedType(U, 8, 5), Activation.RELU6),  # left shift, saturate, ReLU6
    (3, FixedType(S, 8, 4), FixedType(S, 8, 6), FixedType(S, 8, 5), Activation.LEAKY, 0.1),  # slope 52429 * 2^-19
    (2, FixedType(S, 8, 2), FixedType(S, 6, 2), FixedType(S, 10, 6), Activation.LEAKY, 0.125),  # slope 1 * 2^-3, left shift
]
SLOW = [
    (4, FixedType(S, 8, 4), FixedType(S, 8, 4), FixedType(S, 8, 4), Activation.RELU),
    (1, FixedType(S, 16, 12), FixedType(U, 8, 2), FixedType(S, 12, 6), Activation.NONE),
    (3, FixedType(S, 6, 0), FixedType(S, 6, 5), FixedType(U, 6, 3), Activation.RELU),
    (2, FixedType(S, 8, 2), FixedType(S, 8, 3), FixedType(S, 8, 6), Activation.RELU6),
]


def reference_add(a: np.ndarray, a_type: FixedType, b: np.ndarray, b_type: FixedType, out: FixedType,
                  activation: Activation, alpha: float) -> np.ndarray:
    """The contract's Add: align to the larger F by exact left shifts, sum, requantize, activation."""
    common = max(a_type.frac, b_type.frac)
    total = fixed.shift_round(a, a_type.frac - common) + fixed.shift_round(b, b_type.frac - common)
    return finish(total, common, out, activation, alpha)


def run_add_case(tmp_path: Path, c, a_type, b_type, out_type, activation, alpha: float = 0.0) -> None:
    rng = np.random.default_rng(c * 71 + a_type.width + b_type.frac)
    frames_a = [random_codes(rng, a_type, (c, H, W)) for _ in range(FRAMES)]
    frames_b = [random_codes(rng, b_type, (c, H, W)) for _ in range(FRAMES)]
    frames_a[0], frames_b[0] = np.full((c, H, W), a_type.max_code), np.full((c, H, W), b_type.max_code)
    frames_a[1], frames_b[1] = np.full((c, H, W), a_type.min_code), np.full((c, H, W), b_type.min_code)
    expected = [reference_add(a, a_type, b, b_type, out_type, activation, alpha) for a, b in zip(frames_a, frames_b)]
    write_case(tmp_path, [joined_beats(a, a_type.width, b, b_type.width) for a, b in zip(frames_a, frames_b)],
               [pixel_beats(e, out_type.width) for e in expected], out_elem_bits=out_type.width, a_bits=c * a_type.width)
    common = max(a_type.frac, b_type.frac)
    params = dict(C=c, A_DW=a_type.width, A_SIGNED=int(a_type.signed), A_SHIFT=common - a_type.frac,
                  B_DW=b_type.width, B_SIGNED=int(b_type.signed), B_SHIFT=common - b_type.frac,
                  SHIFT=common - out_type.frac, OUT_DW=out_type.width, OUT_SIGNED=int(out_type.signed),
                  **activation_parameters(Add(name="add", inputs=[], output="", activation=activation, alpha=alpha), out_type))
    times = simulate(tmp_path, "axis_add", ("axis_add", "axis_join", "requantize"), "tb_axis_add", params)
    assert times[-1] - times[0] == FRAMES * H * W - 1, "an unpaused add must pass one pixel per cycle"


@pytest.mark.parametrize("case", DEFAULT)
def test_axis_add(tmp_path: Path, case) -> None:
    run_add_case(tmp_path, *case)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW)
def test_axis_add_sweep(tmp_path: Path, case) -> None:
    run_add_case(tmp_path, *case)
