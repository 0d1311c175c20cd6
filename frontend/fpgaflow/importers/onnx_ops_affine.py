"""ONNX handlers for arithmetic with a constant: Mul, Div, Sub and Add of a feature map and a
per-channel (or scalar) constant.

Exporters write a BatchNormalization as such arithmetic (DenseNet-121 and Inception-v2 in
ONNX's model zoo: Mul by a (C, 1, 1) constant, then Add), and a conv bias as a separate Add.
Each node becomes a ScaleShift layer (y = scale * x + shift per channel); the import pass
fold_batchnorm folds it into the Conv2d/Dense before it or merges it with the ScaleShift
before it, so a Mul-Add pair costs at most one depthwise 1x1 pass in hardware.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx

from fpgaflow.errors import UserError
from fpgaflow.importers.onnx_context import ImportContext, node_label
from fpgaflow.ir.layers import ScaleShift


def _legacy_broadcast_shape(node: onnx.NodeProto, attrs: dict[str, Any], constant: np.ndarray, rank: int) -> tuple[int, ...]:
    """Opsets before 7 broadcast only with broadcast=1, B's axes starting at `axis` (default:
    aligned to the end); the constant's shape written out to the full rank."""
    if not attrs.get("broadcast", 0):
        return (1,) * (rank - constant.ndim) + constant.shape
    axis = int(attrs.get("axis", rank - constant.ndim)) % rank
    if axis + constant.ndim > rank:
        raise UserError(f"{node_label(node)}: constant of shape {constant.shape} does not fit axis {axis}")
    return (1,) * axis + constant.shape + (1,) * (rank - axis - constant.ndim)


def per_channel_constant(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext, x: str,
                         const_index: int) -> np.ndarray:
    """The constant input as one float64 value per channel of feature map `x`, or a UserError
    if it varies along any other axis (batch, height, width) or would broadcast `x` up."""
    constant = np.asarray(ctx.const(node, const_index), dtype=np.float64)
    shape = ctx.onnx_shape(x)
    rank = ctx.rank(x)
    if constant.ndim > rank:
        raise UserError(f"{node_label(node)}: constant of shape {constant.shape} has more axes than the input")
    if ctx.opset < 7:
        full = _legacy_broadcast_shape(node, attrs, constant, rank)
    else:
        full = (1,) * (rank - constant.ndim) + constant.shape
    channels = shape[0]
    if full[0] != 1 or full[1] not in (1, channels) or any(d != 1 for d in full[2:]):
        raise UserError(f"{node_label(node)}: constant of shape {constant.shape} is not one value per channel on an "
                        f"input of shape {shape}; only per-channel and scalar constants are supported")
    if not np.all(np.isfinite(constant)):
        raise UserError(f"{node_label(node)}: constant {node.input[const_index]!r} contains NaN or Inf")
    return np.broadcast_to(constant.reshape(-1), (channels,)).astype(np.float64)


def _operands(node: onnx.NodeProto, ctx: ImportContext) -> tuple[int, int]:
    """(feature-map index, constant index) of a binary node with exactly one constant input."""
    constant = [ctx.is_const(name) for name in node.input]
    if constant.count(True) != 1 or len(constant) != 2:
        raise UserError(f"{node_label(node)}: {node.op_type} of two feature maps is not supported; "
                        "only a feature map and a per-channel or scalar constant")
    return constant.index(False), constant.index(True)


def _emit(node: onnx.NodeProto, ctx: ImportContext, x: str, const_index: int, scale: np.ndarray,
          shift: np.ndarray) -> None:
    ctx.emit(node, ScaleShift, [x], scale=ctx.weight(node, const_index, scale),
             shift=ctx.weight(node, const_index, shift))


def add_constant(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """x + c: a ScaleShift with scale 1 and shift c."""
    act_index, const_index = _operands(node, ctx)
    x = ctx.activation(node, act_index)
    values = per_channel_constant(node, attrs, ctx, x, const_index)
    _emit(node, ctx, x, const_index, np.ones_like(values), values)


def handle_mul(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    act_index, const_index = _operands(node, ctx)
    x = ctx.activation(node, act_index)
    values = per_channel_constant(node, attrs, ctx, x, const_index)
    _emit(node, ctx, x, const_index, values, np.zeros_like(values))


def handle_sub(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """x - c is a shift by -c; c - x is a scale by -1 and a shift by c."""
    act_index, const_index = _operands(node, ctx)
    x = ctx.activation(node, act_index)
    values = per_channel_constant(node, attrs, ctx, x, const_index)
    if act_index == 0:
        _emit(node, ctx, x, const_index, np.ones_like(values), -values)
    else:
        _emit(node, ctx, x, const_index, -np.ones_like(values), values)


def handle_div(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """x / c is a scale by 1 / c (computed in float64); c / x is not affine and is refused."""
    act_index, const_index = _operands(node, ctx)
    if act_index != 0:
        raise UserError(f"{node_label(node)}: dividing a constant by a feature map is not supported")
    x = ctx.activation(node, act_index)
    values = per_channel_constant(node, attrs, ctx, x, const_index)
    if np.any(values == 0):
        raise UserError(f"{node_label(node)}: division by a constant that is zero in some channel")
    _emit(node, ctx, x, const_index, 1.0 / values, np.zeros_like(values))


HANDLERS = {
    "Mul": handle_mul,
    "Sub": handle_sub,
    "Div": handle_div,
}
