"""sparse_conv_engine: bit-exact against run_fixed on one-layer graphs, cycles as modelled, both index encodings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reference_graphs import chain, single
from rtl_stream_cases import simulate
from test_lint_synth import check_synth

from fpgaflow.fixed import FixedType
from fpgaflow.flow.cycles import engine_cycles_per_position
from fpgaflow.hw.simulate import rtl_sources, write_case
from fpgaflow.hw.streams import pack_beat, pixel_beats, window_beats
from fpgaflow.hw.toolchain import run_verilator_lint
from fpgaflow.flow.weight_rom import EngineImage, IndexMode, pack_engine
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


def quantized_conv(rng: np.random.Generator, codes: np.ndarray, bias: np.ndarray, stride: int, pad: int, groups: int,
                   activation: Activation, in_signed: bool, weight_bits: int = 6):
    """A quantized one-layer conv graph on 5x5 inputs: the layer, its types, FRAMES random inputs and run_fixed's outputs."""
    in_type = FixedType(in_signed, 8, 4)
    w_type = FixedType(True, weight_bits, weight_bits - 1)
    out_type = FixedType(activation is Activation.NONE, 8, 3)
    acc = FixedType(True, 24, in_type.frac + w_type.frac)
    out_ch, in_ch, k = codes.shape[0], codes.shape[1] * groups, codes.shape[2]
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


def conv_case(in_ch, out_ch, k, stride, pad, groups, density, lanes, activation, in_signed, seed=0, weight_bits=6):
    rng = np.random.default_rng(seed)
    codes = sparse_codes(rng, (out_ch, in_ch // groups, k, k), density, weight_bits)
    bias = rng.integers(-2000, 2000, size=out_ch)
    return quantized_conv(rng, codes, bias, stride, pad, groups, activation, in_signed, weight_bits)


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


def simulate_conv(tmp_path: Path, conv, stride: int, pad: int, lanes: int, index_mode: IndexMode = "auto",
                  lut_lanes: int = 0) -> EngineImage:
    """Run the engine on a quantized_conv case: bit-exact under pauses, cycles per position as modelled.
    lut_lanes: the engine's LUT_LANES (lanes multiplying in rtl/lut_multiplier.sv)."""
    layer, in_type, out_type, x, y = conv
    k = layer.weight.codes.shape[2]
    image = pack_engine(layer, in_type, out_type, x.shape[1:], lanes, index_mode=index_mode)
    tmp_path.mkdir(parents=True, exist_ok=True)
    names = image.write(tmp_path, "conv")
    windows = [sliding_windows(f[None], (k, k), (stride, stride), (pad,) * 4)[0] for f in x]
    write_case(tmp_path, [window_beats(wd, in_type.width) for wd in windows], [pixel_beats(f, out_type.width) for f in y],
               out_elem_bits=out_type.width)
    params = {**image.parameters, **names, **({"LUT_LANES": lut_lanes} if lut_lanes else {})}
    times = simulate(tmp_path, "sparse_conv_engine", ("sparse_conv_engine", "weight_rom", "requantize"), "tb_sparse_conv_engine", params)
    positions = y.shape[2] * y.shape[3]
    measured = (times[-1] - times[positions - 1]) / (len(times) - positions)
    model = engine_cycles_per_position(image)
    assert abs(measured - model) <= 0.02 * model, f"measured {measured} cycles per position, model {model}"
    return image


def run_engine_case(tmp_path: Path, case) -> None:
    in_ch, out_ch, k, stride, pad, groups, density, lanes, activation, in_signed = case
    conv = conv_case(in_ch, out_ch, k, stride, pad, groups, density, lanes, activation, in_signed)
    simulate_conv(tmp_path, conv, stride, pad, lanes, index_mode="element")


@pytest.mark.parametrize("case", CASES)
def test_sparse_conv_engine(tmp_path: Path, case) -> None:
    run_engine_case(tmp_path, case)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW_CASES)
def test_sparse_conv_engine_sweep(tmp_path: Path, case) -> None:
    run_engine_case(tmp_path, case)


# (case as in CASES, weight bits, LUT lanes): lanes that multiply in LUTs give the same codes at the same pace
LUT_LANE_CASES = [
    ((3, 6, 3, 1, 1, 1, "0.5", 4, Activation.RELU, False), 4, 3),  # 1 DSP lane, 3 LUT lanes, 4-bit weights
    ((4, 4, 3, 2, 1, 4, "1.0", 2, Activation.NONE, True), 6, 2),  # every lane in LUTs, signed input
]


@pytest.mark.parametrize("case, weight_bits, lut_lanes", LUT_LANE_CASES, ids=["mixed_w4", "all_lut_signed_w6"])
def test_sparse_conv_engine_lut_lanes(tmp_path: Path, case, weight_bits: int, lut_lanes: int) -> None:
    in_ch, out_ch, k, stride, pad, groups, density, lanes, activation, in_signed = case
    conv = conv_case(in_ch, out_ch, k, stride, pad, groups, density, lanes, activation, in_signed, weight_bits=weight_bits)
    simulate_conv(tmp_path, conv, stride, pad, lanes, index_mode="element", lut_lanes=lut_lanes)


# (in_ch, out_ch, k, pad, groups, P, activation, per-channel weight F): channel c's codes are at F[c], so its
# accumulator is at F_in + F[c] and its requantize shift differs per channel (left shifts included).
CHANNEL_SHIFT_CASES = [
    (6, 6, 1, 0, 6, 2, Activation.NONE, (0, 5, 2, 7, 3, 5)),  # a ScaleShift as the generator lowers it
    (3, 4, 3, 1, 1, 4, Activation.RELU6, (6, 1, 4, 1)),
]


@pytest.mark.parametrize("case", CHANNEL_SHIFT_CASES, ids=["depthwise_1x1", "conv_3x3"])
def test_sparse_conv_engine_per_channel_shifts(tmp_path: Path, case) -> None:
    """SHIFT_SPREAD > 0: each channel's sum is aligned to the largest F_acc, bit-exact with run_fixed's per-channel requantize."""
    in_ch, out_ch, k, pad, groups, lanes, activation, fracs = case
    rng = np.random.default_rng(11)
    codes = sparse_codes(rng, (out_ch, in_ch // groups, k, k), "1.0", 6)
    codes[out_ch - 1] = 0  # an empty channel: its constant comes from its own F_acc
    bias = rng.integers(-2000, 2000, size=out_ch)
    channel_frac = np.array(fracs, dtype=np.int64)
    in_type = FixedType(activation is Activation.NONE, 8, 4)
    w_type = FixedType(True, 6, int(channel_frac.min()))
    out_type = FixedType(activation is Activation.NONE, 8, 6)
    acc = FixedType(True, 24, in_type.frac + w_type.frac)
    layer = Conv2d(
        name="conv", inputs=["x"], output="y",
        weight=Weight(values=codes.astype(float), ftype=w_type, codes=codes, channel_frac=channel_frac),
        bias=Weight(values=bias.astype(float), ftype=acc, codes=bias, channel_frac=acc.frac + channel_frac - w_type.frac),
        padding=(pad,) * 4, groups=groups, activation=activation, acc=acc,
    )
    graph = single(layer, (in_ch, 5, 5), (out_ch, 5, 5))
    graph.tensors["x"].ftype, graph.tensors["y"].ftype = in_type, out_type
    x = rng.integers(in_type.min_code, in_type.max_code + 1, size=(FRAMES, in_ch, 5, 5))
    y = run_fixed(graph, x)["y"]
    image = simulate_conv(tmp_path, (layer, in_type, out_type, x, y), 1, pad, lanes, index_mode="element")
    assert image.parameters["SHIFT_SPREAD"] == channel_frac.max() - channel_frac.min()
    assert image.parameters["SHIFT"] == acc.frac + image.parameters["SHIFT_SPREAD"] - out_type.frac


def test_dense_engine_on_pixels(tmp_path: Path) -> None:
    """Flatten + Dense: the engine takes the H*W pixels as the beats of one window, addresses absorb the C-major flatten."""
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
    write_case(tmp_path, [pixel_beats(f, in_type.width) for f in x], [[pack_beat(v, out_type.width)] for v in y],
               out_elem_bits=out_type.width)
    times = simulate(tmp_path, "sparse_conv_engine", ("sparse_conv_engine", "weight_rom", "requantize"), "tb_sparse_conv_engine",
                     {**image.parameters, **names})
    assert len(times) == FRAMES


def pattern_codes(rng: np.random.Generator, shape: tuple[int, int, int, int], k: int, patterns: int, kernels: int,
                  empty_out: tuple[int, ...], removed_cols: tuple[int, ...]) -> np.ndarray:
    """Kernel-pattern pruned codes (KEP style): `kernels` nonzero kernels, each with one of `patterns` masks of k nonzeros.

    Output channels in empty_out and weight columns in removed_cols stay all zero; every other
    output channel gets at least one kernel, so the counts (hence the engine parameters) are
    fixed by the arguments and several random cases share one Verilator build.
    """
    out_ch, per_group, kh, kw = shape
    masks: set[tuple[int, ...]] = set()
    while len(masks) < patterns:
        masks.add(tuple(sorted(rng.choice(kh * kw, size=k, replace=False).tolist())))
    library = sorted(masks)
    allowed = [(o, j) for o in range(out_ch) if o not in empty_out for j in range(per_group) if j not in removed_cols]
    first = {o: (o, int(rng.choice([j for oo, j in allowed if oo == o]))) for o in {o for o, _ in allowed}}
    rest = [a for a in allowed if a not in first.values()]
    chosen = list(first.values()) + [rest[i] for i in rng.permutation(len(rest))[: kernels - len(first)]]
    assert len(chosen) == kernels, "not enough free kernels for this case"
    ids = np.concatenate([np.arange(patterns), rng.integers(0, patterns, size=kernels - patterns)])
    codes = np.zeros(shape, dtype=np.int64)
    for (o, j), pid in zip(chosen, rng.permutation(ids)):
        values = rng.integers(1, 32, size=k) * rng.choice([-1, 1], size=k)
        codes[o, j].reshape(-1)[list(library[pid])] = values
    return codes


# One build each: cases of a build differ in weights, groups, stride and padding but share every parameter.
# (k, P, in_ch, out_ch, patterns, kernels, empty_out, activation, input signed,
#  [(groups, removed weight columns, stride, pad, seed)])
PATTERN_BUILDS = [
    (4, 8, 4, 6, 3, 10, (1,), Activation.RELU, False, [(1, (2,), 1, 1, 1), (2, (), 1, 1, 2), (1, (), 2, 0, 3)]),
    (2, 6, 4, 4, 4, 6, (3,), Activation.NONE, True, [(1, (0,), 1, 1, 4), (2, (), 2, 1, 5), (1, (3,), 1, 0, 6)]),
]
SLOW_PATTERN_BUILDS = [
    (4, 4, 3, 5, 6, 10, (), Activation.RELU6, False, [(1, (), 1, 1, 7), (1, (1,), 2, 1, 8)]),
    (1, 3, 4, 8, 5, 7, (0,), Activation.RELU, True, [(2, (), 1, 1, 9), (4, (), 1, 1, 10)]),
    (9, 9, 2, 3, 1, 5, (), Activation.NONE, False, [(1, (), 1, 1, 11)]),
]


def run_pattern_build(tmp_path: Path, build) -> None:
    k, lanes, in_ch, out_ch, patterns, kernels, empty_out, activation, in_signed, cases = build
    built: list[dict[str, int]] = []
    for n, (groups, removed_cols, stride, pad, seed) in enumerate(cases):
        rng = np.random.default_rng(seed)
        codes = pattern_codes(rng, (out_ch, in_ch // groups, 3, 3), k, patterns, kernels, empty_out, removed_cols)
        bias = rng.integers(-2000, 2000, size=out_ch)
        conv = quantized_conv(rng, codes, bias, stride, pad, groups, activation, in_signed)
        image = simulate_conv(tmp_path / f"case{n}", conv, stride, pad, lanes, index_mode="pattern")
        assert image.depth == -(-kernels // (lanes // k))
        built.append(image.parameters)
    assert len({tuple(sorted(p.items())) for p in built}) <= 2, "cases of one build should share most Verilator builds"


@pytest.mark.parametrize("build", PATTERN_BUILDS, ids=lambda b: f"k{b[0]}_P{b[1]}")
def test_pattern_mode_engine(tmp_path: Path, build) -> None:
    run_pattern_build(tmp_path, build)


@pytest.mark.slow
@pytest.mark.parametrize("build", SLOW_PATTERN_BUILDS, ids=lambda b: f"k{b[0]}_P{b[1]}")
def test_pattern_mode_engine_sweep(tmp_path: Path, build) -> None:
    run_pattern_build(tmp_path, build)


PATTERN_RTL = {"BEAT_N": 72, "IN_W": 8, "C_OUT": 16, "P": 8, "WW": 8, "IDX_W": 7, "DEPTH": 300, "NZ_OC": 16, "OC_W": 4,
               "ACC_W": 24, "INDEX_MODE": 1, "K_NZ": 4, "NP": 6, "IC_W": 3, "PID_W": 3}


@pytest.mark.parametrize("params", [PATTERN_RTL, {**PATTERN_RTL, "SHIFT_SPREAD": 9, "K_FIN": 2}, {**PATTERN_RTL, "K_NZ": 1, "P": 3, "NP": 1, "PID_W": 1, "DEPTH": 1, "NZ_OC": 1},
                                    {**PATTERN_RTL, "K_NZ": 9, "P": 9, "NP": 2, "PID_W": 1, "ACT": 2, "RELU6_MAX": 96}])
def test_pattern_mode_is_lint_clean(params: dict[str, int]) -> None:
    result = run_verilator_lint(rtl_sources("sparse_conv_engine", "weight_rom", "requantize"), "sparse_conv_engine", params)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_pattern_mode_synthesizes_without_latches(tmp_path: Path) -> None:
    files = {"WEIGHT_FILE": "w.mem", "CHAN_FILE": "c.mem", "CONST_FILE": "k.mem", "PATTERN_FILE": "p.mem"}
    slot_bits = 4 * 8 + 3 + 3 + 1
    check_synth(tmp_path, "sparse_conv_engine", ["sparse_conv_engine", "weight_rom", "requantize"], {**PATTERN_RTL, **files},
                {"WEIGHT_FILE": (300, 2 * slot_bits + 1), "CHAN_FILE": (16, 28), "CONST_FILE": (16, 8), "PATTERN_FILE": (6, 28)},
                want_bram=True)
