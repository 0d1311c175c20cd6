"""sparse_conv_engine: bit-exact against run_fixed on one-layer graphs, cycles as modelled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reference_graphs import chain, single
from rtl_stream_cases import simulate

from fpgaflow.fixed import FixedType
from fpgaflow.hw.cycles import engine_cycles_per_position
from fpgaflow.hw.simulate import write_case
from fpgaflow.hw.streams import pack_beat, pixel_beats, window_beats
from fpgaflow.hw.weight_rom import pack_engine
from fpgaflow.ir.layers import Activation, Conv2d, Dense, Flatten, Weight
from fpgaflow.reference.fixed_exec import run_fixed
from fpgaflow.reference.kernels import pool_output_size, sliding_windows

FRAMES = 3


def sparse_codes(rng: np.random.Generator, shape: tuple[int, ...], density: str, bits: int) -> np.ndarray:
    """Weight codes with a given kind of sparsity (element density, removed channels, zero kernels, all zero)."""
    codes = rng.integers(-(1 << (bits - 1)), 1 << (bits - 1), size=shape)
    if density == "zero":
        return np.zeros(shape, dtype=np.int64)
    if density == "channels":
        codes[::2] = 0
    elif density == "kernels":
        codes *= rng.random(shape[:2])[:, :, None, None] < 0.4
    else:
        codes *= rng.random(shape) < float(density)
    return codes


def conv_case(in_ch, out_ch, k, stride, pad, groups, density, lanes, activation, in_signed, seed=0):
    rng = np.random.default_rng(seed)
    in_type = FixedType(in_signed, 8, 4)
    w_type = FixedType(True, 6, 5)
    out_type = FixedType(activation is Activation.NONE, 8, 3)
    acc = FixedType(True, 24, in_type.frac + w_type.frac)
    codes = sparse_codes(rng, (out_ch, in_ch // groups, k, k), density, w_type.width)
    bias = rng.integers(-2000, 2000, size=out_ch)
    layer = Conv2d(
        name="conv", inputs=["x"], output="y",
        weight=Weight(values=codes.astype(float), ftype=w_type, codes=codes),
        bias=Weight(values=bias.astype(float), ftype=acc, codes=bias),
        stride=(stride, stride), padding=(pad,) * 4, groups=groups, activation=activation, acc=acc,
    )
    h = w = 5
    oh = pool_output_size(h, k, stride, pad, pad, 1, False)
    graph = single(layer, (in_ch, h, w), (out_ch, oh, oh))
    graph.tensors["x"].ftype = in_type
    graph.tensors["y"].ftype = out_type
    x = rng.integers(in_type.min_code, in_type.max_code + 1, size=(FRAMES, in_ch, h, w))
    y = run_fixed(graph, x)["y"]
    return layer, in_type, out_type, x, y


CASES = [
    # in_ch, out_ch, k, stride, pad, groups, density, P, activation, input signed
    (3, 6, 3, 1, 1, 1, "0.5", 4, Activation.RELU, False),
    (4, 4, 3, 2, 1, 4, "1.0", 2, Activation.NONE, True),
    (2, 5, 1, 1, 0, 1, "channels", 8, Activation.RELU6, False),
]
SLOW_CASES = [
    (3, 4, 5, 1, 2, 1, "0.1", 1, Activation.RELU, False),
    (4, 8, 3, 1, 1, 2, "kernels", 4, Activation.NONE, True),
    (3, 4, 3, 1, 0, 1, "zero", 2, Activation.RELU, False),
    (8, 8, 3, 2, 1, 1, "0.25", 8, Activation.RELU6, False),
]


def run_engine_case(tmp_path: Path, case) -> None:
    in_ch, out_ch, k, stride, pad, groups, density, lanes, activation, in_signed = case
    layer, in_type, out_type, x, y = conv_case(in_ch, out_ch, k, stride, pad, groups, density, lanes, activation, in_signed)
    image = pack_engine(layer, in_type, out_type, (in_ch, 5, 5), lanes)
    names = image.write(tmp_path, "conv")
    windows = [sliding_windows(f[None], (k, k), (stride, stride), (pad,) * 4)[0] for f in x]
    write_case(tmp_path, [window_beats(wd, in_type.width) for wd in windows], [pixel_beats(f, out_type.width) for f in y],
               out_elem_bits=out_type.width)
    params = {**image.parameters, **names}
    times = simulate(tmp_path, "sparse_conv_engine", ("sparse_conv_engine", "weight_rom"), "tb_sparse_conv_engine", params)
    positions = y.shape[2] * y.shape[3]
    measured = (times[-1] - times[positions - 1]) / (len(times) - positions)
    model = engine_cycles_per_position(image)
    assert abs(measured - model) <= 0.02 * model, f"measured {measured} cycles per position, model {model}"


@pytest.mark.parametrize("case", CASES)
def test_sparse_conv_engine(tmp_path: Path, case) -> None:
    run_engine_case(tmp_path, case)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW_CASES)
def test_sparse_conv_engine_sweep(tmp_path: Path, case) -> None:
    run_engine_case(tmp_path, case)


def test_dense_engine_on_collected_pixels(tmp_path: Path) -> None:
    """Flatten + Dense: the engine on one vector beat of H*W pixels (pixel-major), indices absorb the C-major flatten."""
    rng = np.random.default_rng(7)
    in_type, w_type, out_type = FixedType(False, 6, 3), FixedType(True, 5, 4), FixedType(True, 8, 2)
    acc = FixedType(True, 20, in_type.frac + w_type.frac)
    channels, height, width, outputs = 3, 2, 3, 5
    codes = sparse_codes(rng, (outputs, channels * height * width, 1, 1), "0.5", w_type.width)[:, :, 0, 0]
    bias = rng.integers(-300, 300, size=outputs)
    flatten = Flatten(name="flat", inputs=["x"], output="v")
    dense = Dense(name="fc", inputs=["v"], output="y", weight=Weight(values=codes.astype(float), ftype=w_type, codes=codes),
                  bias=Weight(values=bias.astype(float), ftype=acc, codes=bias), acc=acc)
    graph = chain("fc", (channels, height, width), [(flatten, (channels * height * width,)), (dense, (outputs,))])
    graph.tensors["x"].ftype = graph.tensors["v"].ftype = in_type
    graph.tensors["y"].ftype = out_type
    x = rng.integers(0, in_type.max_code + 1, size=(FRAMES, channels, height, width))
    y = run_fixed(graph, x)["y"]
    image = pack_engine(dense, in_type, out_type, (channels, height, width), lanes=4)
    names = image.write(tmp_path, "fc")
    vectors = [[pack_beat(np.transpose(f, (1, 2, 0)).ravel(), in_type.width)] for f in x]
    write_case(tmp_path, vectors, [[pack_beat(v, out_type.width)] for v in y], out_elem_bits=out_type.width)
    times = simulate(tmp_path, "sparse_conv_engine", ("sparse_conv_engine", "weight_rom"), "tb_sparse_conv_engine",
                     {**image.parameters, **names})
    assert len(times) == FRAMES
