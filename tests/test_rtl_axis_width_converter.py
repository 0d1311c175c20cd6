"""axis_width_converter: up- and downsizing regroup beats exactly and keep TLAST."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rtl_stream_cases import simulate

from fpgaflow.hw.simulate import write_case
from fpgaflow.hw.streams import pack_beat


def regroup(frame: list[int], in_dw: int, out_dw: int) -> list[int]:
    """The expected output frame: the same bit string cut into out_dw pieces, low first."""
    if out_dw > in_dw:
        ratio = out_dw // in_dw
        return [pack_beat(np.array(frame[i:i + ratio]), in_dw) for i in range(0, len(frame), ratio)]
    ratio = in_dw // out_dw
    mask = (1 << out_dw) - 1
    return [(beat >> (k * out_dw)) & mask for beat in frame for k in range(ratio)]


@pytest.mark.parametrize("in_dw, out_dw", [(8, 32), (24, 8), (12, 12)])
def test_width_converter(tmp_path: Path, in_dw: int, out_dw: int) -> None:
    rng = np.random.default_rng(in_dw + out_dw)
    ratio = max(in_dw, out_dw) // min(in_dw, out_dw)
    lengths = [int(n) * (ratio if out_dw > in_dw else 1) for n in rng.integers(1, 12, 5)]
    lengths.append(ratio + 1 if out_dw > in_dw else 3)  # an upsized frame that ends early
    frames = [[int(v) for v in rng.integers(0, 1 << in_dw, size=n)] for n in lengths]
    write_case(tmp_path, frames, [regroup(f, in_dw, out_dw) for f in frames], out_elem_bits=min(in_dw, out_dw))
    times = simulate(tmp_path, "axis_width_converter", ("axis_width_converter",), "tb_axis_width_converter",
                     {"IN_DW": in_dw, "OUT_DW": out_dw})
    assert len(times) == sum(len(regroup(f, in_dw, out_dw)) for f in frames)
