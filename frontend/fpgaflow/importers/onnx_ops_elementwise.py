"""ONNX handlers for activations and tensor combinations: Relu, LeakyRelu, Clip, Add, Sum, Concat, Softmax
(an Add with a constant is arithmetic with a constant: onnx_ops_affine)."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx

from fpgaflow.errors import UserError
from fpgaflow.importers.onnx_context import ImportContext, node_label
from fpgaflow.importers.onnx_ops_affine import add_constant
from fpgaflow.ir.layers import Activation, Add, Concat, Relu, Softmax

# Exporters write "no upper bound" as +inf or as the largest float32.
_NO_BOUND = float(np.finfo(np.float32).max)


def handle_relu(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    ctx.emit(node, Relu, [ctx.activation(node)], activation=Activation.RELU)


def handle_leaky_relu(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """LeakyRelu with 0 < alpha <= 1 (alpha 0 is a Relu); its fixed-point slope: fixed.leaky_slope."""
    alpha = float(attrs.get("alpha", 0.01))
    if alpha == 0.0:
        ctx.emit(node, Relu, [ctx.activation(node)], activation=Activation.RELU)
    elif 0.0 < alpha <= 1.0:
        ctx.emit(node, Relu, [ctx.activation(node)], activation=Activation.LEAKY, alpha=alpha)
    else:
        raise UserError(f"{node_label(node)}: LeakyRelu with alpha {alpha} is not supported; only 0 <= alpha <= 1")


def _clip_bounds(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> tuple[float, float]:
    """(min, max) of a Clip: attributes before opset 11, optional constant inputs after."""
    if ctx.opset < 11:
        return float(attrs.get("min", -np.inf)), float(attrs.get("max", np.inf))
    low = float(ctx.const(node, 1)) if ctx.has_input(node, 1) else -np.inf
    high = float(ctx.const(node, 2)) if ctx.has_input(node, 2) else np.inf
    return low, high


def handle_clip(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """Clip(0, 6) is ReLU6 and Clip(0, inf) is ReLU; other bounds have no hardware."""
    low, high = _clip_bounds(node, attrs, ctx)
    if low == 0.0 and high == 6.0:
        activation = Activation.RELU6
    elif low == 0.0 and high >= _NO_BOUND:
        activation = Activation.RELU
    else:
        raise UserError(f"{node_label(node)}: Clip({low}, {high}) is not supported; only Clip(0, 6) and Clip(0, inf)")
    ctx.emit(node, Relu, [ctx.activation(node)], activation=activation)


def handle_add(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """Two feature maps: a residual Add. A feature map plus a constant: a ScaleShift (a bias
    that the import pass fold_batchnorm folds into the layer before it where it can)."""
    if any(ctx.is_const(name) for name in node.input):
        add_constant(node, attrs, ctx)
    else:
        ctx.emit(node, Add, [ctx.activation(node, 0), ctx.activation(node, 1)])


def handle_sum(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    inputs = [ctx.activation(node, index) for index in range(len(node.input))]
    if len(inputs) == 1:
        ctx.alias(node.output[0], inputs[0])
    else:
        ctx.emit(node, Add, inputs)


def handle_concat(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    inputs = [ctx.activation(node, index) for index in range(len(node.input))]
    rank = ctx.rank(inputs[0])
    if int(attrs.get("axis", 1)) % rank != 1:
        raise UserError(f"{node_label(node)}: Concat is only supported along the channel axis (axis=1)")
    ctx.emit(node, Concat, inputs)


def handle_softmax(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """A final Softmax over the class vector: kept for the float reference, not for hardware.

    The classes are axis 1 of an (N, C) output, or of an (N, C, 1, 1) one (SqueezeNet
    ends in a global average pool): both are the same softmax over C.
    """
    x = ctx.activation(node)
    shape = ctx.shape(x)
    default_axis = 1 if ctx.opset < 13 else -1
    if any(extent != 1 for extent in shape[1:]) or int(attrs.get("axis", default_axis)) % (len(shape) + 1) != 1:
        raise UserError(
            f"{node_label(node)}: Softmax is only supported over the class axis of an (N, classes) or (N, classes, 1, 1) output"
        )
    if ctx.consumers[node.output[0]] != 1 or node.output[0] not in ctx.graph_outputs:
        raise UserError(f"{node_label(node)}: Softmax is only supported as the model's final operation")
    layer = ctx.emit(node, Softmax, [x])
    ctx.notes.append(f"{layer.name}: final Softmax left out of hardware (argmax does not change)")


HANDLERS = {
    "Relu": handle_relu,
    "LeakyRelu": handle_leaky_relu,
    "Clip": handle_clip,
    "Add": handle_add,
    "Sum": handle_sum,
    "Concat": handle_concat,
    "Softmax": handle_softmax,
}
