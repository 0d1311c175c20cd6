"""Per-channel layers (ScaleShift, a stand-alone Relu) as depthwise 1x1 convolutions for the sparse engine.

Under docs/fixed-point.md a ScaleShift computes acc = x * scale + shift at F_in + F_scale
and requantizes it like a conv: that is exactly a depthwise 1x1 conv (groups = C) with the
scale codes as weights and the shift codes as bias. A stand-alone Relu keeps its input's
format and only clamps; as a depthwise conv with weight code 1 (F_w = 0) its accumulator
is the input code at F_in, requantized to the same format (an identity) and clamped by the
engine's activation. Reusing the engine gives these layers bit-exact hardware, a cycle
model and zero skipping without another library module.
"""

from __future__ import annotations

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.fixed import FixedType
from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import Conv2d, Layer, Relu, ScaleShift, Weight

DEPTHWISE_OPS = ("ScaleShift", "Relu")
"""Ops the generator runs on the sparse engine as a depthwise 1x1 conv."""

UNIT_WEIGHT = FixedType(True, 2, 0)
"""The format of a Relu's weight code 1: the smallest signed type that holds it, no fraction."""


def as_depthwise_conv(graph: Graph, layer: Layer) -> Conv2d:
    """The depthwise 1x1 conv that computes the same codes as a quantized ScaleShift or Relu."""
    shape = graph.tensors[layer.inputs[0]].shape
    if len(shape) != 3:
        raise UserError(f"layer {layer.name} ({layer.OP}) reads a vector of shape {shape}; the RTL generator "
                        "supports it only on (C, H, W) maps: fold it into the preceding dense layer")
    channels = int(shape[0])
    if isinstance(layer, ScaleShift):
        if layer.scale.codes is None or layer.shift.codes is None or layer.acc is None:
            raise UserError(f"layer {layer.name} is not quantized; run quantize before generating hardware")
        weight = Weight(values=np.asarray(layer.scale.values, dtype=np.float64).reshape(channels, 1, 1, 1),
                        ftype=layer.scale.ftype, codes=np.asarray(layer.scale.codes).reshape(channels, 1, 1, 1),
                        channel_frac=layer.scale.channel_frac)
        return Conv2d(name=layer.name, inputs=list(layer.inputs), output=layer.output, weight=weight, bias=layer.shift,
                      groups=channels, activation=layer.activation, alpha=layer.alpha, acc=layer.acc)
    if isinstance(layer, Relu):
        in_type, out_type = graph.tensors[layer.inputs[0]].ftype, graph.tensors[layer.output].ftype
        if in_type is None or in_type != out_type:
            raise UserError(f"relu {layer.name} changes the format {in_type} to {out_type}; quantize the graph again")
        ones = np.ones((channels, 1, 1, 1))
        weight = Weight(values=ones, ftype=UNIT_WEIGHT, codes=ones.astype(np.int64))
        acc = FixedType(True, in_type.width + UNIT_WEIGHT.width, in_type.frac)
        return Conv2d(name=layer.name, inputs=list(layer.inputs), output=layer.output, weight=weight,
                      groups=channels, activation=layer.activation, alpha=layer.alpha, acc=acc)
    raise ValueError(f"layer {layer.name} ({layer.OP}) is not one of {DEPTHWISE_OPS}")
