"""The bit-accurate executor: exact float GEMM vs int64, worst-case accumulators, hand-computed layers."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

import models

from fpgaflow import fixed
from fpgaflow.api import load_model
from fpgaflow.errors import UserError
from fpgaflow.fixed import FixedType
from fpgaflow.ir import Activation, Add, AvgPool, ChannelPermute, Concat, Conv2d, Dense, Flatten, GlobalAvgPool, MaxPool, Softmax, Weight
from fpgaflow.quant import quantize
from fpgaflow.reference.fixed_exec import (
    exact_float_type,
    finish,
    quantize_input,
    quantize_input_counted,
    run_fixed,
    run_fixed_counted,
    saturated_count,
)
from fpgaflow.reference.float_exec import run_float
from fpgaflow.reference.kernels import conv2d
from fpgaflow.reference.trace import dump_trace
from reference_graphs import chain, random_weight, single

RNG = np.random.default_rng(7)


def small_cnn(rng: np.random.Generator, density: float = 0.6):
    """conv-relu, depthwise conv-relu6, maxpool, avgpool(3x3, count 9), residual add, concat, GAP, dense, softmax."""
    steps = [
        (Conv2d(name="c1", inputs=["x"], output="t1", weight=Weight(values=random_weight(rng, (4, 3, 3, 3), density)),
                bias=Weight(values=rng.normal(size=4)), padding=(1, 1, 1, 1), activation=Activation.RELU), (4, 8, 8)),
        (Conv2d(name="c2", inputs=["t1"], output="t2", weight=Weight(values=random_weight(rng, (4, 1, 3, 3))),
                padding=(1, 1, 1, 1), groups=4, activation=Activation.RELU6), (4, 8, 8)),
        (Add(name="add", inputs=["t1", "t2"], output="t3"), (4, 8, 8)),
        (MaxPool(name="mp", inputs=["t3"], output="t4", kernel=(2, 2), stride=(2, 2)), (4, 4, 4)),
        (AvgPool(name="ap", inputs=["t1"], output="t5", kernel=(3, 3), stride=(2, 2), padding=(1, 1, 1, 1),
                 count_include_pad=True), (4, 4, 4)),
        (Concat(name="cat", inputs=["t4", "t5"], output="t6"), (8, 4, 4)),
        (GlobalAvgPool(name="gap", inputs=["t6"], output="t7"), (8, 1, 1)),
        (Flatten(name="fl", inputs=["t7"], output="t8"), (8,)),
        (Dense(name="fc", inputs=["t8"], output="t9", weight=Weight(values=random_weight(rng, (5, 8), density)),
               bias=Weight(values=rng.normal(size=5))), (5,)),
        (Softmax(name="sm", inputs=["t9"], output="t10"), (5,)),
    ]
    return chain("small_cnn", (3, 8, 8), steps)


def test_quantize_gives_every_format_and_leaves_input_alone() -> None:
    graph = small_cnn(RNG)
    q = quantize(graph, RNG.normal(size=(16, 3, 8, 8)), bits=8)
    assert q.is_quantized and not graph.is_quantized
    assert graph.layers[0].weight.codes is None and q.layers[0].weight.codes.dtype == np.int64
    assert not q.tensors["t1"].ftype.signed and q.tensors["x"].ftype.signed
    assert q.tensors["t4"].ftype == q.tensors["t3"].ftype
    assert q.layer("ap").reciprocal is not None and q.layer("gap").reciprocal is None  # count 9, count 16
    conv = q.layer("c1")
    assert conv.acc.frac == q.tensors["x"].ftype.frac + conv.weight.ftype.frac == conv.bias.ftype.frac
    assert conv.weight.sparsity is not None and conv.weight.sparsity.nnz == int(np.count_nonzero(conv.weight.codes))


def test_run_fixed_tracks_the_float_reference() -> None:
    graph = small_cnn(RNG)
    x = RNG.normal(size=(32, 3, 8, 8))
    q = quantize(graph, x, bits=12)
    codes = run_fixed(q, quantize_input(q, x))
    floats = run_float(graph, x)
    assert "t10" not in codes and q.hardware_outputs == ["t9"]
    for name in ("t1", "t3", "t6", "t9"):
        fmt = q.tensors[name].ftype
        error = np.abs(fmt.to_real(codes[name]) - floats[name]).max()
        assert error < 64 * fmt.step, (name, error / fmt.step)


@pytest.mark.parametrize("bits", [4, 8, 16])
def test_exact_float_gemm_equals_int64(bits: int) -> None:
    graph = small_cnn(np.random.default_rng(bits), density=0.5)
    x = np.random.default_rng(bits + 1).normal(size=(6, 3, 8, 8))
    q = quantize(graph, x, bits=bits)
    fmt = q.tensors["x"].ftype
    codes = np.random.default_rng(2).integers(fmt.min_code, fmt.max_code + 1, size=(6, 3, 8, 8))
    codes[0] = fmt.min_code
    codes[1] = fmt.max_code
    fast, slow = run_fixed(q, codes), run_fixed(q, codes, exact_float=False)
    assert fast.keys() == slow.keys()
    for name in fast:
        assert np.array_equal(fast[name], slow[name]), name


def test_float_gemm_exact_at_the_2_53_limit() -> None:
    """Products near 2^52 and sums that reach exactly 2^53: float64 still gives the exact integer."""
    in_type = FixedType(True, 27, 0)
    weight = np.full((2, 2, 1, 1), (1 << 26) - 1, dtype=np.int64)
    weight[1, 1] = -(1 << 26) + 1
    assert exact_float_type(weight, in_type) is np.float64
    x = np.full((1, 2, 2, 2), in_type.min_code, dtype=np.int64)
    x[0, 1, 0, 0] = in_type.max_code
    exact = conv2d(x, weight, (1, 1), (0, 0, 0, 0), (1, 1), 1)
    fast = conv2d(x.astype(np.float64), weight.astype(np.float64), (1, 1), (0, 0, 0, 0), (1, 1), 1).astype(np.int64)
    assert np.array_equal(fast, exact)
    assert exact_float_type(weight * 2, in_type) is None
    assert exact_float_type(np.full((1, 4), 1 << 14), FixedType(False, 8, 0)) is np.float32  # 4 * 2^14 * 255 < 2^24


def test_wide_layers_fall_back_to_int64() -> None:
    """At 28 bits the L1 bound passes 2^53: the result must still be exact (checked with Python ints)."""
    rng = np.random.default_rng(3)
    w = rng.normal(size=(3, 6))
    graph = single(Dense(name="d", inputs=["x"], output="y", weight=Weight(values=w)), (6,), (3,))
    q = quantize(graph, rng.normal(size=(4, 6)), bits=28)
    layer = q.layer("d")
    assert exact_float_type(layer.weight.codes, q.tensors["x"].ftype) is None
    fmt = q.tensors["x"].ftype
    codes = np.array([[fmt.max_code, fmt.min_code, fmt.max_code, 3, -7, fmt.min_code]], dtype=np.int64)
    acc = [sum(int(a) * int(b) for a, b in zip(codes[0], row)) for row in layer.weight.codes]
    shift = layer.acc.frac - q.tensors["y"].ftype.frac
    expected = [min(max((a + (1 << (shift - 1))) >> shift, q.tensors["y"].ftype.min_code), q.tensors["y"].ftype.max_code)
                for a in acc]
    assert run_fixed(q, codes)["y"][0].tolist() == expected


@pytest.mark.parametrize("signed_input", [True, False])
def test_accumulator_holds_adversarial_inputs(signed_input: bool) -> None:
    """Inputs that drive each output channel to its largest and smallest sum stay inside acc, and reach its bounds."""
    rng = np.random.default_rng(11)
    w = random_weight(rng, (5, 3, 3, 3), density=0.7)
    steps = [(Conv2d(name="c", inputs=["x" if signed_input else "r"], output="y", weight=Weight(values=w),
                     bias=Weight(values=rng.normal(size=5))), (5, 1, 1))]
    if not signed_input:
        relu = Conv2d(name="r", inputs=["x"], output="r", weight=Weight(values=np.eye(3)[:, :, None, None]),
                      activation=Activation.RELU)
        steps.insert(0, (relu, (3, 3, 3)))
    q = quantize(chain("acc", (3, 3, 3), steps), rng.normal(size=(8, 3, 3, 3)), bits=8)
    layer = q.layer("c")
    in_type = q.tensors[layer.inputs[0]].ftype
    assert in_type.signed == signed_input
    codes = layer.weight.codes
    worst_high = np.where(codes > 0, in_type.max_code, in_type.min_code)
    worst_low = np.where(codes > 0, in_type.min_code, in_type.max_code)
    sums = []
    for o in range(codes.shape[0]):
        for worst in (worst_high[o], worst_low[o]):
            acc = conv2d(worst[None], codes, (1, 1), (0, 0, 0, 0), (1, 1), 1)[0, o, 0, 0] + layer.bias.codes[o]
            sums.append(int(acc))
    assert layer.acc.contains(np.array(sums))
    assert max(sums) > layer.acc.max_code // 2 or min(sums) < layer.acc.min_code // 2  # the width is tight


def test_hand_computed_add_avgpool_concat() -> None:
    """Add aligns F by left shifts, AvgPool multiplies by the reciprocal of 9, Concat requantizes: by hand."""
    steps = [
        (AvgPool(name="ap", inputs=["x"], output="a", kernel=(3, 3), stride=(3, 3)), (1, 1, 1)),
        (MaxPool(name="mp", inputs=["x"], output="m", kernel=(3, 3), stride=(3, 3)), (1, 1, 1)),
        (Add(name="add", inputs=["a", "m"], output="s", activation=Activation.RELU), (1, 1, 1)),
        (Concat(name="cat", inputs=["s", "a"], output="c"), (2, 1, 1)),
    ]
    graph = chain("hand", (1, 3, 3), steps)
    q = quantize(graph, RNG.normal(size=(16, 1, 3, 3)), bits=8)
    q.tensors["a"].ftype = FixedType(True, 8, 9)
    q.tensors["s"].ftype = FixedType(False, 8, 5)
    q.tensors["c"].ftype = FixedType(True, 6, 3)
    x_type = q.tensors["x"].ftype
    codes = RNG.integers(x_type.min_code, x_type.max_code + 1, size=(40, 1, 3, 3))
    out = run_fixed(q, codes)
    recip = q.layer("ap").reciprocal
    rcode = round(2**recip.frac / 9)
    for n in range(codes.shape[0]):
        window = [int(v) for v in codes[n].ravel()]
        shift = recip.frac + x_type.frac - 9
        a = min(max((sum(window) * rcode + (1 << (shift - 1))) >> shift, -128), 127)
        m = max(window)
        common = max(9, x_type.frac)
        total = (a << (common - 9)) + (m << (common - x_type.frac))
        s = max(0, min(max((total + (1 << (common - 6))) >> (common - 5), 0), 255))
        c = [min(max((v + (1 << (f - 4))) >> (f - 3), -32), 31) for v, f in ((s, 5), (a, 9))]
        assert out["a"][n].item() == a and out["m"][n].item() == m and out["s"][n].item() == s
        assert out["c"][n].ravel().tolist() == c


def test_relu6_clamps_at_the_code_of_six() -> None:
    layer = Dense(name="d", inputs=["x"], output="y", weight=Weight(values=np.array([[4.0]])), activation=Activation.RELU6)
    q = quantize(single(layer, (1,), (1,)), np.array([[-3.0], [3.0]]), bits=8)
    fmt = q.tensors["y"].ftype
    out = run_fixed(q, quantize_input(q, np.array([[-3.0], [1.0], [3.0]])))["y"][:, 0]
    assert out.tolist() == [0, int(fmt.quantize(np.array(4.0))), fixed.relu6_ceiling(fmt)]


def test_bad_inputs_are_user_errors() -> None:
    graph = small_cnn(RNG)
    with pytest.raises(UserError, match="bits"):
        quantize(graph, RNG.normal(size=(2, 3, 8, 8)), bits=1)
    with pytest.raises(UserError, match="calibration"):
        quantize(graph, RNG.normal(size=(2, 8, 8, 3)))
    with pytest.raises(UserError, match="not quantized"):
        run_fixed(graph, np.zeros((1, 3, 8, 8), dtype=np.int64))
    q = quantize(graph, RNG.normal(size=(2, 3, 8, 8)))
    with pytest.raises(UserError, match="input codes"):
        run_fixed(q, np.full((1, 3, 8, 8), 1000, dtype=np.int64))
    pool = AvgPool(name="p", inputs=["x"], output="y", kernel=(3, 3), stride=(1, 1), padding=(1, 1, 1, 1))
    with pytest.raises(UserError, match="count_include_pad=1"):
        quantize(single(pool, (1, 4, 4), (1, 4, 4)), RNG.normal(size=(2, 1, 4, 4)))


def test_dump_trace(tmp_path) -> None:
    graph = small_cnn(RNG)
    x = RNG.normal(size=(2, 3, 8, 8))
    q = quantize(graph, x)
    tensors = run_fixed(q, quantize_input(q, x))
    formats = json.loads(dump_trace(q, tensors, tmp_path / "trace").read_text())
    assert set(formats) == set(tensors)
    entry = formats["t1"]
    assert (entry["signed"], entry["width"], entry["frac"]) == (False, 8, q.tensors["t1"].ftype.frac)
    assert np.array_equal(np.load(tmp_path / "trace" / entry["file"]), tensors["t1"])


def test_saturation_is_counted_at_the_input_and_per_layer():
    """Inputs beyond the calibration range saturate at the input and in the layers; both are counted."""
    rng = np.random.default_rng(11)
    dense = Dense(name="fc", inputs=["x"], output="y", weight=Weight(values=rng.normal(size=(6, 10))),
                  bias=Weight(values=rng.normal(size=6)))
    graph = quantize(single(dense, (10,), (6,)), rng.uniform(0.0, 1.0, size=(64, 10)), 8)
    inside = rng.uniform(0.0, 1.0, size=(32, 10))
    codes, count = quantize_input_counted(graph, inside)
    assert count == 0 and not any(run_fixed_counted(graph, codes).saturated.values())
    beyond = rng.uniform(-2.5, 2.5, size=inside.shape)  # the input format holds about [-2, 2)
    codes, count = quantize_input_counted(graph, beyond)
    in_type, out_type, layer = graph.tensors["x"].ftype, graph.tensors["y"].ftype, graph.layer("fc")
    exact_in = [int(np.floor(v * 2.0**in_type.frac + 0.5)) for v in beyond.ravel()]
    assert count == sum(not in_type.min_code <= q <= in_type.max_code for q in exact_in) > 0
    assert np.array_equal(codes, quantize_input(graph, beyond))
    shift = layer.acc.frac - out_type.frac
    acc = [[sum(int(a) * int(w) for a, w in zip(row, ws)) + int(b) for ws, b in zip(layer.weight.codes, layer.bias.codes)]
           for row in codes]
    exact_out = [(v + (1 << (shift - 1))) >> shift for row in acc for v in row]
    expected = sum(not out_type.min_code <= q <= out_type.max_code for q in exact_out)
    assert run_fixed_counted(graph, codes).saturated == {"fc": expected}
    assert expected > 0


def test_relu_clamps_are_not_counted_as_saturation():
    """A negative value that a fused ReLU zeroes, or one above 6.0 under ReLU6, is what the layer means, not a clip."""
    out = FixedType(False, 8, 4)  # 0 .. 15.9375, code of 6.0 is 96
    acc = np.array([-5000, -1, 0, 255, 256, 4000])
    assert saturated_count(acc, 4, out, Activation.NONE) == 4  # -5000, -1, 256, 4000
    assert saturated_count(acc, 4, out, Activation.RELU) == 2  # 256, 4000
    assert saturated_count(acc, 4, out, Activation.RELU6) == 0


def test_leaky_relu_saturation_counts_the_scaled_value():
    """LeakyRelu scales a negative accumulator before rounding (one rounding), and only what then lies outside counts."""
    out = FixedType(True, 8, 4)  # codes -128 .. 127
    acc = np.array([-5000, -600, -1, 0, 4000])  # negative ones times 1/8: (-5000 + 4) >> 3, (-600 + 4) >> 3, (-1 + 4) >> 3
    assert list(finish(acc, 4, out, Activation.LEAKY, 0.125)) == [-128, -75, 0, 0, 127]
    assert saturated_count(acc, 4, out, Activation.LEAKY, 0.125) == 2  # -5000 and 4000, not -600
    assert saturated_count(acc, 4, out, Activation.NONE) == 3


def test_leaky_net_fixed_tracks_the_float_reference(tmp_path) -> None:
    """16-bit codes of a LeakyRelu network stay within a few output steps of the float reference (true alpha,
    as onnxruntime: test_import_onnx checks that)."""
    model = models.leaky_net(13)
    x = models.random_input(model, batch=16)
    onnx.save(model, tmp_path / "leaky.onnx")
    graph = load_model(tmp_path / "leaky.onnx")
    q = quantize(graph, x, bits=16)
    out = q.tensors[q.hardware_outputs[0]].ftype
    got = out.to_real(run_fixed(q, quantize_input(q, x))[q.hardware_outputs[0]])
    floats = run_float(graph, x)[graph.outputs[0]]
    assert np.abs(got - floats).max() < 16 * out.step
    assert any(layer.activation is Activation.LEAKY for layer in q.layers if hasattr(layer, "activation"))


def test_arithmetic_batchnorm_scaleshift_by_hand(tmp_path) -> None:
    """The imported Mul/Add/Sub/Div chain runs as ScaleShift layers: each output code is
    requantize(x * scale + shift) (round half up, saturate) then the activation, by hand."""
    model = models.arithmetic_bn_net(13)
    onnx.save(model, tmp_path / "arith.onnx")
    graph = load_model(tmp_path / "arith.onnx")
    x = models.random_input(model, batch=16)
    q = quantize(graph, x, bits=8)
    codes = run_fixed(q, quantize_input(q, x))
    for layer in (layer for layer in q.layers if layer.OP == "ScaleShift"):
        out_type = q.tensors[layer.output].ftype
        shift = layer.acc.frac - out_type.frac
        x_codes = codes[layer.inputs[0]]
        for n, c, h, w in np.ndindex(*x_codes.shape):
            acc = int(x_codes[n, c, h, w]) * int(layer.scale.codes[c]) + int(layer.shift.codes[c])
            y = (acc + (1 << (shift - 1))) >> shift if shift > 0 else acc << -shift
            y = min(max(y, out_type.min_code), out_type.max_code)
            if layer.activation == Activation.RELU:
                y = max(y, 0)
            assert codes[layer.output][n, c, h, w] == y
    floats = run_float(graph, x)[graph.outputs[0]]
    out_type = q.tensors[graph.outputs[0]].ftype
    assert np.abs(out_type.to_real(codes[graph.outputs[0]]) - floats).max() < 0.1 * np.abs(floats).max()


def test_channel_permute_moves_codes_and_keeps_the_format() -> None:
    steps = [
        (Conv2d(name="c", inputs=["x"], output="t", weight=Weight(values=random_weight(RNG, (4, 2, 1, 1))),
                activation=Activation.RELU), (4, 3, 3)),
        (ChannelPermute(name="p", inputs=["t"], output="y", order=(2, 0, 3, 1)), (4, 3, 3)),
    ]
    q = quantize(chain("permute", (2, 3, 3), steps), RNG.normal(size=(8, 2, 3, 3)), bits=8)
    assert q.tensors["y"].ftype == q.tensors["t"].ftype and not q.tensors["y"].ftype.signed
    codes = run_fixed(q, quantize_input(q, RNG.normal(size=(5, 2, 3, 3))))
    for k, source in enumerate((2, 0, 3, 1)):
        assert np.array_equal(codes["y"][:, k], codes["t"][:, source])


def test_1d_conv_codes_by_hand(tmp_path) -> None:
    """A Conv1d imported as a (1, K) conv over (C, 1, L): its codes are the 1-D correlation of the
    input codes with the weight codes plus bias, requantized and clamped per the contract."""
    onnx.save(models.line_net(13), tmp_path / "line.onnx")
    graph = load_model(tmp_path / "line.onnx")
    x = RNG.normal(size=(6, 2, 1, 16))
    q = quantize(graph, x, bits=8)
    conv = q.layers[0]
    codes = run_fixed(q, quantize_input(q, x))
    inp = np.pad(codes[q.inputs[0]][:, :, 0, :], ((0, 0), (0, 0), (2, 2)))
    w = conv.weight.codes[:, :, 0, :]
    acc = np.stack([np.einsum("nck,ock->no", inp[:, :, i:i + 5], w) for i in range(16)], axis=-1)
    acc = acc + conv.bias.codes[None, :, None]
    expected = np.maximum(fixed.requantize(acc, conv.acc.frac, q.tensors[conv.output].ftype), 0)
    assert np.array_equal(codes[conv.output][:, :, 0, :], expected)


def test_leaky_relu_on_a_too_wide_accumulator_is_refused(tmp_path) -> None:
    """The slope multiply widens the accumulator by 16 bits; past 62 bits quantize says so instead of overflowing."""
    model = models.leaky_net(13)
    onnx.save(model, tmp_path / "leaky.onnx")
    graph = load_model(tmp_path / "leaky.onnx")
    with pytest.raises(UserError, match="LeakyRelu slope"):
        quantize(graph, models.random_input(model), bits=24)


def test_conv_transpose_codes_by_hand(tmp_path) -> None:
    """Each output pixel (2y + i, 2x + j) of a 2x2 stride-2 ConvTranspose is one dot product over the input
    pixel (y, x) with w[:, o, i, j], plus the bias, requantized as a conv's accumulator."""
    model = models.unet_transposed(13)
    onnx.save(model, tmp_path / "unet.onnx")
    graph = load_model(tmp_path / "unet.onnx")
    x = models.random_input(model, batch=4)
    q = quantize(graph, x, bits=8)
    layer = next(layer for layer in q.layers if layer.OP == "ConvTranspose2d")
    codes = run_fixed(q, quantize_input(q, x))
    source = codes[layer.inputs[0]]
    acc = np.einsum("ncyx,coij->noyixj", source, layer.weight.codes) + layer.bias.codes[None, :, None, None, None, None]
    n, o, h, _, w, _ = acc.shape
    expected = finish(acc.reshape(n, o, 2 * h, 2 * w), layer.acc.frac, q.tensors[layer.output].ftype, layer.activation)
    assert np.array_equal(codes[layer.output], expected)
    assert layer.acc.frac == q.tensors[layer.inputs[0]].ftype.frac + layer.weight.ftype.frac
