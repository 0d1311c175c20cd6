"""window_gen: windows equal the reference's sliding windows, bit for bit, one pixel per cycle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rtl_stream_cases import frame_period, simulate

from fpgaflow.flow.cycles import window_gen_cycles
from fpgaflow.hw.simulate import write_case
from fpgaflow.hw.streams import pixel_beats, window_beats
from fpgaflow.reference.kernels import sliding_windows

# (IN_H, IN_W, C, DW, KH, KW, STRIDE_H, STRIDE_W, (PAD_T, PAD_L, PAD_B, PAD_R))
DEFAULT = [
    (6, 7, 2, 8, 3, 3, 1, 1, (1, 1, 1, 1)),
    (7, 6, 3, 5, 3, 3, 2, 2, (1, 1, 0, 1)),
    (5, 5, 1, 8, 1, 1, 1, 1, (0, 0, 0, 0)),
]
SLOW = [
    (9, 9, 2, 8, 5, 5, 2, 1, (2, 2, 2, 2)),
    (4, 1, 2, 8, 3, 1, 1, 1, (1, 0, 1, 0)),
    (8, 8, 4, 4, 2, 2, 2, 2, (0, 0, 0, 0)),
    (6, 5, 1, 16, 5, 3, 1, 2, (0, 1, 2, 1)),
]


def run_window_case(tmp_path: Path, in_h, in_w, c, dw, kh, kw, sh, sw, pad) -> None:
    rng = np.random.default_rng(in_h * 31 + kh)
    frames = [rng.integers(0, 1 << dw, size=(c, in_h, in_w)) for _ in range(3)]
    windows = [sliding_windows(f[None], (kh, kw), (sh, sw), pad)[0] for f in frames]
    write_case(tmp_path, [pixel_beats(f, dw) for f in frames], [window_beats(w, dw) for w in windows], out_elem_bits=dw)
    params = dict(IN_H=in_h, IN_W=in_w, C=c, DW=dw, KH=kh, KW=kw, STRIDE_H=sh, STRIDE_W=sw, PAD_T=pad[0], PAD_L=pad[1], PAD_B=pad[2], PAD_R=pad[3])
    times = simulate(tmp_path, "window_gen", ("window_gen",), "tb_window_gen", params)
    measured = frame_period(times, len(frames))
    model = window_gen_cycles(in_h, in_w, pad)
    assert abs(measured - model) <= 0.02 * model, f"measured {measured} cycles per frame, model {model}"


@pytest.mark.parametrize("case", DEFAULT)
def test_window_gen(tmp_path: Path, case) -> None:
    run_window_case(tmp_path, *case)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW)
def test_window_gen_sweep(tmp_path: Path, case) -> None:
    run_window_case(tmp_path, *case)
