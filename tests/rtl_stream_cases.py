"""Helpers shared by the RTL tests of the stream modules (pools, add, concat, width converter).

Expected codes come from the bit-accurate reference: a one-layer quantized IR graph run
by run_fixed, so the RTL is held to the same code that defines the contract. The
average pools' division parameters come from fpgaflow.backends.rtl.division, as the generator's do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fpgaflow.fixed import FixedType, divides_by_shift
from fpgaflow.flow.cycles import window_gen_cycles
from fpgaflow.hw.simulate import read_measured, rtl_sources, run_cocotb
from fpgaflow.hw.streams import pixel_beats
from fpgaflow.ir import Graph, Layer, Tensor
from fpgaflow.quant.formats import reciprocal_format
from fpgaflow.reference.fixed_exec import run_fixed

BUILD_ROOT = Path(__file__).resolve().parents[1] / "sim_build"


def random_codes(rng: np.random.Generator, ftype: FixedType, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform codes over a type's whole range, extremes included."""
    return rng.integers(ftype.min_code, ftype.max_code + 1, size=shape, dtype=np.int64)


def reference_frames(layer: Layer, in_shape: tuple[int, ...], in_type: FixedType, out_shape: tuple[int, ...],
                     out_type: FixedType, frames: list[np.ndarray]) -> list[np.ndarray]:
    """Output codes of a one-layer quantized graph (input "x") for every frame, by run_fixed."""
    tensors = {"x": Tensor(name="x", shape=in_shape, ftype=in_type),
               layer.output: Tensor(name=layer.output, shape=out_shape, ftype=out_type)}
    graph = Graph(name=layer.name, inputs=["x"], outputs=[layer.output], tensors=tensors, layers=[layer])
    graph.check()
    return list(run_fixed(graph, np.stack(frames))[layer.output])


def reciprocal_type(count: int) -> FixedType | None:
    """The IR's reciprocal format of an average over `count` codes (None for a power of two)."""
    return None if divides_by_shift(count) else reciprocal_format(count)[0]


def simulate(tmp_path: Path, top: str, modules: tuple[str, ...], bench: str, parameters: dict[str, int]) -> list[int]:
    """Build and run a bench on the case already written to tmp_path; output beat cycles at full rate."""
    result = run_cocotb(top, rtl_sources(*modules), bench, parameters, BUILD_ROOT, tmp_path)
    assert result.passed, f"{result.failed} of {result.tests} cocotb tests failed; see {tmp_path / 'sim.log'}"
    return read_measured(tmp_path)["full_rate"]


def frame_period(times: list[int], frames: int) -> int:
    """Steady-state cycles from the end of frame 1 to the end of frame 2 (beats split evenly by frame)."""
    per_frame = len(times) // frames
    return times[2 * per_frame - 1] - times[per_frame - 1]


def assert_window_rate(times: list[int], frames: int, in_h: int, in_w: int, padding: tuple[int, int, int, int]) -> None:
    """A pool over window_gen keeps window_gen's modelled cycles per frame (within 2 %)."""
    model = window_gen_cycles(in_h, in_w, padding)
    measured = frame_period(times, frames)
    assert abs(measured - model) <= 0.02 * model, f"measured {measured} cycles per frame, model {model}"


def joined_beats(frame_a: np.ndarray, bits_a: int, frame_b: np.ndarray, bits_b: int) -> list[int]:
    """Pixel beats of two (C, H, W) maps, A's beat low and B's above it (sim/axis_tb_join.py splits them)."""
    a_bits = frame_a.shape[0] * bits_a
    return [a | (b << a_bits) for a, b in zip(pixel_beats(frame_a, bits_a), pixel_beats(frame_b, bits_b))]
