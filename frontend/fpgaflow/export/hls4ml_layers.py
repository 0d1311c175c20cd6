"""Each fpgaflow layer as the torch calls hls4ml's PyTorch converter turns into hls4ml layers.

One function per layer kind gives the calls (`Step`s) and the ap_fixed precision of each,
so that hls4ml's C++ computes the contract of docs/fixed-point.md: every format is
fpgaflow's, every intermediate hls4ml keeps is exact (never rounded), and the one rounding
happens where fpgaflow's happens. `refusal` says why a layer cannot be expressed that way.
docs/hls4ml.md lists the layers, their precisions and the one measured difference (the
average's division).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from hls4ml.utils.torch import HLS4MLModule

from fpgaflow import fixed
from fpgaflow.fixed import FixedType
from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import (
    Activated,
    Activation,
    Add,
    AvgPool,
    Concat,
    Conv2d,
    Dense,
    Flatten,
    GlobalAvgPool,
    Layer,
    MaxPool,
    Relu,
    ScaleShift,
    Weight,
)

ADD, CAT = "add", "cat"
"""The torch functions a step may call instead of a submodule (hls4ml's Merge/add and Concatenate)."""
ACTIVATION_SUFFIXES = {Activation.RELU: "_relu", Activation.RELU6: "_relu6", Activation.LEAKY: "_leaky"}
"""Name suffix of the activation module that follows a layer with that fused activation."""


def ap_type(ftype: FixedType, *, modes: bool = True) -> str:
    """The ap_fixed spelling of a format; with modes, the contract's rounding and saturation."""
    base = "ap_fixed" if ftype.signed else "ap_ufixed"
    suffix = ",AP_RND,AP_SAT" if modes else ""
    return f"{base}<{ftype.width},{ftype.int_bits}{suffix}>"


@dataclass
class Step:
    """One call in the torch module's forward: submodule `name` (or the function ADD/CAT when
    module is None) maps value keys `inputs` to `output`; `precision` is its hls4ml layer's."""

    name: str
    inputs: tuple[str, ...]
    output: str
    precision: dict[str, str]
    module: torch.nn.Module | None = field(default=None, compare=False)


def _pooled(layer: MaxPool | AvgPool) -> bool:
    """Whether a pool tiles its input (stride = kernel, no padding, no ceil_mode, no dilation)."""
    dilated = isinstance(layer, MaxPool) and layer.dilation != (1, 1)
    return not (any(layer.padding) or layer.ceil_mode or dilated or layer.kernel != layer.stride)


def refusal(layer: Layer, io_type: str) -> str | None:
    """Why hls4ml cannot compute this layer as fpgaflow does with hls4ml's `io_type` ("stream" or
    "parallel"), or None when it can."""
    if isinstance(layer, Activated) and layer.activation is Activation.RELU6 and io_type != "parallel":
        return "ReLU6: hls4ml's io_stream library has no relu6; export with --io parallel"
    if isinstance(layer, Conv2d):
        top, left, bottom, right = layer.padding
        out_channels, group_channels = layer.weight.values.shape[:2]
        if layer.groups != 1 and group_channels != 1:
            return f"groups={layer.groups}: hls4ml has no grouped convolution (groups 1 or depthwise only)"
        if layer.groups != 1 and out_channels != layer.groups:
            return (f"depthwise with depth multiplier {out_channels // layer.groups}: "
                    "hls4ml's depthwise kernels compute multiplier 1 only")
        if layer.dilation != (1, 1):
            return "dilated"
        if (top, left) != (bottom, right):
            return "asymmetric padding"
        return None
    if isinstance(layer, (MaxPool, AvgPool)):
        return None if _pooled(layer) else "only pools with stride = kernel, no padding, no ceil_mode are exported"
    if type(layer) in LAYER_STEPS:
        return None
    return f"{layer.OP or type(layer).__name__} is not exported to hls4ml"


def tensor_format(graph: Graph, tensor: str) -> FixedType:
    """A tensor's fixed-point format (the graph is quantized)."""
    ftype = graph.tensors[tensor].ftype
    assert ftype is not None, f"tensor {tensor} has no format"
    return ftype


def _real(weight: Weight, frac: int) -> torch.Tensor:
    """A weight's codes as exact float64 values, code * 2^-frac (channel c at its own F when per channel)."""
    assert weight.codes is not None, "the graph is not quantized"
    codes = weight.codes.astype(np.float64)
    fracs = weight.channel_fracs() if weight.channel_frac is not None else np.full(len(codes), frac)
    return torch.from_numpy(np.ldexp(codes, -fracs.reshape(-1, *([1] * (codes.ndim - 1)))))


def _widened(ftype: FixedType, spread: int) -> FixedType:
    """The format that holds ftype's codes shifted left by `spread` bits (F + spread, as many more bits)."""
    return FixedType(ftype.signed, ftype.width + spread, ftype.frac + spread)


def _channel_spread(weight: Weight) -> int:
    """How many more fractional bits the finest channel of a per-channel weight has than ftype's."""
    assert weight.ftype is not None
    return int(weight.channel_fracs().max()) - weight.ftype.frac


def _activated(graph: Graph, layer: Activated, name: str, main: Step, exact: FixedType) -> list[Step]:
    """The layer's step, then its fused activation's.

    ReLU, ReLU6: the layer rounds and saturates to the output format (unsigned: the clamp at 0
    already), the activation after it clamps those codes as fpgaflow's `activate` does. LeakyRelu: the layer's result is its exact
    sum `exact`, and hls4ml's LeakyReLU multiplies it by the slope code (its `param`
    type holds it exactly) and rounds once to the output format, as fixed.leaky_requantize.
    """
    out = tensor_format(graph, layer.output)
    if layer.activation is Activation.NONE:
        main.precision["result"] = ap_type(out)
        return [main]
    pre = main.output
    main.output = f"{layer.output}#pre"
    act_name = name + ACTIVATION_SUFFIXES[layer.activation]
    if layer.activation is not Activation.LEAKY:
        main.precision["result"] = ap_type(out)
        return [main, Step(act_name, (main.output,), pre, {"result": ap_type(out)}, _clamp(layer.activation))]
    main.precision["result"] = ap_type(exact, modes=False)
    return [main, _leaky(act_name, layer.alpha, main.output, pre, out)]


class Relu6(torch.nn.ReLU6, HLS4MLModule):
    """torch's ReLU6 under a class name of the bridge's own, which `register_handlers` maps to
    hls4ml's Activation `relu6` (hls4ml's converter has no ReLU6; its io_parallel library has
    `nnet::relu6`, a clamp of the result at 0 and at 6 converted to the result type)."""


def parse_relu6(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    """hls4ml's Activation layer computing `nnet::relu6`."""
    return {"class_name": "Activation", "activation": "relu6", "name": layer_name, "inputs": input_names}, input_shapes[0]


def _clamp(activation: Activation) -> torch.nn.Module:
    """The module of a ReLU or ReLU6: on the layer's output codes it changes nothing but the clamps
    (the clamp at 6 converts 6.0 to the output format, saturated: fixed.relu6_ceiling)."""
    return torch.nn.ReLU() if activation is Activation.RELU else Relu6()


def _leaky(name: str, alpha: float, source: str, output: str, out: FixedType) -> Step:
    """hls4ml's LeakyReLU with fpgaflow's slope code as its exact `param` (fixed.leaky_slope)."""
    code, slope_frac = fixed.leaky_slope(alpha)
    slope = FixedType(False, max(1, code.bit_length()), slope_frac)
    module = torch.nn.LeakyReLU(negative_slope=float(np.ldexp(code, -slope_frac)))
    return Step(name, (source,), output, {"result": ap_type(out), "param": ap_type(slope)}, module)


class Depthwise2d(torch.nn.Conv2d, HLS4MLModule):
    """A depthwise torch Conv2d under a class name hls4ml's converter parses as its DepthwiseConv2D.

    hls4ml's PyTorch converter refuses every Conv2d with groups != 1, though hls4ml has a
    depthwise layer; a class whose name lacks "Conv" skips that check and reaches the
    handler `parse_depthwise`, which `register_depthwise` adds to hls4ml's converter
    (HLS4MLModule: hls4ml's marker for a custom module torch.fx keeps as one call).
    """


def parse_depthwise(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    """hls4ml's Conv2d parse, as a DepthwiseConv2D: torch's weight (C, 1, KH, KW) is the
    depthwise kernel hls4ml's channels-last pass transposes to (KH, KW, 1, C), the order of
    Keras's (KH, KW, C, 1) (depth multiplier 1: `refusal` turns away the others)."""
    from hls4ml.converters.pytorch.convolution import parse_conv2d_layer

    layer, shape = parse_conv2d_layer("Conv2d", layer_name, input_names, input_shapes, node, class_object,
                                      data_reader, config)
    layer["class_name"] = "DepthwiseConv2D"
    layer["depthwise_data"] = layer.pop("weight_data")
    return layer, shape


def register_handlers() -> None:
    """Add the bridge's own classes (Depthwise2d, Relu6) to hls4ml's PyTorch converter, once per process."""
    from hls4ml.converters import get_supported_pytorch_layers, register_pytorch_layer_handler

    for module, handler in ((Depthwise2d, parse_depthwise), (Relu6, parse_relu6)):
        if module.__name__ not in get_supported_pytorch_layers():
            register_pytorch_layer_handler(module.__name__, handler)


def _conv_dense(graph: Graph, layer: Conv2d | Dense, name: str) -> list[Step]:
    """Conv2d (hls4ml's Conv2D, or DepthwiseConv2D when groups = input channels) and Dense:
    every product and the bias sum exactly in the accumulator, which rounds once to the result."""
    assert layer.acc is not None and layer.weight.ftype is not None and layer.weight.codes is not None
    weight = _real(layer.weight, layer.weight.ftype.frac)
    module: torch.nn.Conv2d | torch.nn.Linear
    if isinstance(layer, Conv2d):
        out_c, in_c, kh, kw = layer.weight.codes.shape
        conv = torch.nn.Conv2d if layer.groups == 1 else Depthwise2d
        module = conv(in_c * layer.groups, out_c, (kh, kw), stride=layer.stride, padding=layer.padding[:2],
                      groups=layer.groups, bias=layer.bias is not None, dtype=torch.float64)
    else:
        module = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=layer.bias is not None, dtype=torch.float64)
    # no rounding or saturation mode: the accumulator is as wide as every sum needs
    precision = {"weight": ap_type(layer.weight.ftype), "accum": ap_type(layer.acc, modes=False)}
    with torch.no_grad():
        module.weight.copy_(weight)
        if layer.bias is not None:
            assert layer.bias.ftype is not None
            module.bias.copy_(_real(layer.bias, layer.bias.ftype.frac))
            precision["bias"] = ap_type(layer.bias.ftype)
    return _activated(graph, layer, name, Step(name, tuple(layer.inputs), layer.output, precision, module), layer.acc)


def _scale_shift(graph: Graph, layer: ScaleShift, name: str) -> list[Step]:
    """hls4ml's BatchNormalization computes x * scale + bias exactly and rounds once to its result.

    The torch BatchNorm has mean 0, variance 1 and epsilon 0, so hls4ml's scale
    gamma / sqrt(var + eps) and bias beta - scale * mean are gamma and beta exactly. Per-channel
    formats become one format as fine as the finest channel (every code shifted left, exact).
    """
    assert layer.acc is not None and layer.scale.ftype is not None and layer.shift.ftype is not None
    spread = _channel_spread(layer.scale)
    channels = len(layer.scale.codes)
    batchnorm = torch.nn.BatchNorm2d if len(graph.tensors[layer.output].shape) == 3 else torch.nn.BatchNorm1d
    module = batchnorm(channels, eps=0.0, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(_real(layer.scale, layer.scale.ftype.frac))
        module.bias.copy_(_real(layer.shift, layer.shift.ftype.frac))
        module.running_mean.zero_()
        module.running_var.fill_(1.0)
    precision = {"scale": ap_type(_widened(layer.scale.ftype, spread)),
                 "bias": ap_type(_widened(layer.shift.ftype, _channel_spread(layer.shift)))}
    main = Step(name, tuple(layer.inputs), layer.output, precision, module)
    return _activated(graph, layer, name, main, _widened(layer.acc, spread))


def _add(graph: Graph, layer: Add, name: str) -> list[Step]:
    """hls4ml's Merge add of two inputs, chained for more; every partial sum is exact (aligned to
    the finest input, as wide as the sum's range needs), the last one rounds to the output."""
    types = [tensor_format(graph, tensor) for tensor in layer.inputs]
    frac = max(t.frac for t in types)
    lows = [t.min_code << (frac - t.frac) for t in types]
    highs = [t.max_code << (frac - t.frac) for t in types]
    steps: list[Step] = []
    partial = layer.inputs[0]
    for index in range(1, len(layer.inputs)):
        signed, width = fixed.bits_for_range(sum(lows[:index + 1]), sum(highs[:index + 1]))
        exact = FixedType(signed, max(width, 2 if signed else 1), frac)
        steps.append(Step(ADD, (partial, layer.inputs[index]), f"{layer.output}#sum{index}",
                          {"result": ap_type(exact, modes=False)}))
        partial = steps[-1].output
    steps[-1].output = layer.output
    return steps[:-1] + _activated(graph, layer, name, steps[-1], exact)


def _concat(graph: Graph, layer: Concat, name: str) -> list[Step]:
    """hls4ml's Concatenate of two inputs on channels, chained for more: each input is converted to
    the output format (round half up, saturate), fpgaflow's requantize of every input."""
    result = {"result": ap_type(tensor_format(graph, layer.output))}
    steps: list[Step] = []
    partial = layer.inputs[0]
    for index in range(1, len(layer.inputs)):
        steps.append(Step(CAT, (partial, layer.inputs[index]), f"{layer.output}#cat{index}", dict(result)))
        partial = steps[-1].output
    steps[-1].output = layer.output
    return steps


def average_accum(graph: Graph, layer: AvgPool | GlobalAvgPool, count: int) -> FixedType:
    """hls4ml's accumulator for an average over `count` values: exact for their sum, with the
    fractional bits fpgaflow's division adds (log2(count), or the reciprocal's F)."""
    source = tensor_format(graph, layer.inputs[0])
    extra = fixed.average_division(count, layer.reciprocal)[1]
    signed, width = fixed.bits_for_range((source.min_code * count) << extra, (source.max_code * count) << extra)
    return FixedType(signed, max(width, 2 if signed else 1), source.frac + extra)


def _pool(graph: Graph, layer: MaxPool | AvgPool | GlobalAvgPool, name: str) -> list[Step]:
    """Max pools take the max of codes; average pools are hls4ml's AveragePooling2D (a global
    one with the whole map as its window), whose division docs/hls4ml.md compares with fpgaflow's."""
    result = ap_type(tensor_format(graph, layer.output))
    if isinstance(layer, MaxPool):
        precision = {"result": result, "accum": ap_type(tensor_format(graph, layer.inputs[0]))}
        return [Step(name, tuple(layer.inputs), layer.output, precision, torch.nn.MaxPool2d(layer.kernel, layer.stride))]
    kernel = layer.kernel if isinstance(layer, AvgPool) else tuple(graph.tensors[layer.inputs[0]].shape[1:])
    precision = {"result": result, "accum": ap_type(average_accum(graph, layer, int(np.prod(kernel))), modes=False)}
    return [Step(name, tuple(layer.inputs), layer.output, precision, torch.nn.AvgPool2d(kernel, kernel))]


def _flatten(graph: Graph, layer: Flatten, name: str) -> list[Step]:
    result = {"result": ap_type(tensor_format(graph, layer.output))}
    return [Step(name, tuple(layer.inputs), layer.output, result, torch.nn.Flatten())]


def _relu(graph: Graph, layer: Relu, name: str) -> list[Step]:
    """A stand-alone ReLU clamps codes; a stand-alone LeakyRelu scales its input (exact at its own
    format) by the slope and rounds once to the output format."""
    out = tensor_format(graph, layer.output)
    if layer.activation is not Activation.LEAKY:
        return [Step(name, tuple(layer.inputs), layer.output, {"result": ap_type(out)}, _clamp(layer.activation))]
    return [_leaky(name, layer.alpha, layer.inputs[0], layer.output, out)]


LAYER_STEPS: dict[type[Layer], Callable[[Graph, Layer, str], list[Step]]] = {
    Conv2d: _conv_dense, Dense: _conv_dense, ScaleShift: _scale_shift, Add: _add, Concat: _concat,
    MaxPool: _pool, AvgPool: _pool, GlobalAvgPool: _pool, Flatten: _flatten, Relu: _relu,
}  # type: ignore[dict-item]
"""The steps of each layer kind the bridge exports (called with the layer's module name)."""
