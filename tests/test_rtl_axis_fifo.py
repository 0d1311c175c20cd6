"""axis_fifo: frames of random beats pass unchanged, at full rate when unpaused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rtl_stream_cases import simulate

from fpgaflow.hw.simulate import write_case


@pytest.mark.parametrize("width, depth", [(8, 16), (37, 5)])
def test_fifo_passes_frames(tmp_path: Path, width: int, depth: int) -> None:
    rng = np.random.default_rng(width * 100 + depth)
    frames = [[int(v) for v in rng.integers(0, 1 << width, size=int(n), dtype=np.uint64)] for n in rng.integers(1, 40, 6)]
    write_case(tmp_path, frames, frames, out_elem_bits=width)
    times = simulate(tmp_path, "axis_fifo", ("axis_fifo",), "tb_axis_fifo", {"DW": width, "DEPTH": depth})
    total = sum(len(f) for f in frames)
    assert len(times) == total
    assert times[-1] - times[0] == total - 1, "an unpaused FIFO must pass one beat per cycle"
