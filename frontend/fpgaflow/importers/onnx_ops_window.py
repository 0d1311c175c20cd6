"""ONNX handlers for window operations without weights: MaxPool, AveragePool,
GlobalAveragePool (and a spatial ReduceMean), and the explicit zero Pad that a pass later folds into the next window."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx

from fpgaflow.errors import UserError
from fpgaflow.importers.onnx_context import ImportContext, node_label
from fpgaflow.importers.onnx_geometry import kernel_of, line_attributes, window_geometry
from fpgaflow.ir.layers import AvgPool, Flatten, GlobalAvgPool, MaxPool, Pad


def _feature_map(node: onnx.NodeProto, ctx: ImportContext) -> str:
    x = ctx.activation(node)
    if len(ctx.shape(x)) != 3:
        raise UserError(f"{node_label(node)}: needs an (N, C, L) or (N, C, H, W) input, got per-sample shape {ctx.shape(x)}")
    return x


def _window_attributes(x: str, attrs: dict[str, Any], ctx: ImportContext) -> dict[str, Any]:
    """A pool over a 1-D map is the 2-D pool with kernel (1, K) over (C, 1, L)."""
    return line_attributes(attrs) if x in ctx.line_maps else attrs


def handle_max_pool(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    x = _feature_map(node, ctx)
    ctx.check_unused_outputs(node)
    attrs = _window_attributes(x, attrs, ctx)
    kernel = kernel_of(node, attrs)
    stride, padding, dilation = window_geometry(node, attrs, ctx.shape(x)[1:], kernel)
    ctx.emit(node, MaxPool, [x], kernel=kernel, stride=stride, padding=padding, dilation=dilation,
             ceil_mode=bool(attrs.get("ceil_mode", 0)))


def handle_average_pool(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    x = _feature_map(node, ctx)
    attrs = _window_attributes(x, attrs, ctx)
    kernel = kernel_of(node, attrs)
    stride, padding, dilation = window_geometry(node, attrs, ctx.shape(x)[1:], kernel)
    if dilation != (1, 1):
        raise UserError(f"{node_label(node)}: dilated AveragePool is not supported")
    ctx.emit(node, AvgPool, [x], kernel=kernel, stride=stride, padding=padding,
             count_include_pad=bool(attrs.get("count_include_pad", 0)), ceil_mode=bool(attrs.get("ceil_mode", 0)))


def handle_global_average_pool(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    ctx.emit(node, GlobalAvgPool, [_feature_map(node, ctx)])


def handle_reduce_mean(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """A mean over height and width (torch.export's adaptive_avg_pool2d(1)) is a global average pool;
    without keepdims the (C, 1, 1) result is flattened to (C,)."""
    x = _feature_map(node, ctx)
    axes = ctx.const(node, 1).reshape(-1) if ctx.has_input(node, 1) else np.asarray(attrs.get("axes", []))
    if sorted(int(a) % 4 for a in axes) != [2, 3]:
        raise UserError(f"{node_label(node)}: ReduceMean is only supported over height and width (axes 2, 3)")
    if attrs.get("keepdims", 1):
        ctx.emit(node, GlobalAvgPool, [x])
    else:
        pooled = ctx.emit(node, GlobalAvgPool, [x], output=f"{node.output[0]}_pooled")
        ctx.emit(node, Flatten, [pooled.output])


def _pad_settings(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> tuple[list[int], list[int], float]:
    """(pads, axes, value) of a Pad: attributes before opset 11, constant inputs after."""
    if ctx.opset < 11:
        pads = [int(p) for p in attrs.get("pads", [])]
        value = float(attrs.get("value", 0.0))
    else:
        pads = [int(p) for p in ctx.const(node, 1).reshape(-1)]
        value = float(ctx.const(node, 2).reshape(-1)[0]) if ctx.has_input(node, 2) else 0.0
    axes = [int(a) % 4 for a in ctx.const(node, 3).reshape(-1)] if ctx.has_input(node, 3) else list(range(4))
    return pads, axes, value


def handle_pad(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """Constant zero padding of height and width only becomes an ir Pad layer."""
    x = _feature_map(node, ctx)
    pads, axes, value = _pad_settings(node, attrs, ctx)
    if attrs.get("mode", "constant") != "constant" or value != 0.0 or len(pads) != 2 * len(axes):
        raise UserError(f"{node_label(node)}: only constant zero padding is supported")
    begin, end = np.zeros(4, int), np.zeros(4, int)
    begin[axes], end[axes] = pads[: len(axes)], pads[len(axes):]
    if begin[:2].any() or end[:2].any() or (begin < 0).any() or (end < 0).any():
        raise UserError(f"{node_label(node)}: only non-negative padding of height and width is supported, got {pads}")
    ctx.emit(node, Pad, [x], padding=(int(begin[2]), int(begin[3]), int(end[2]), int(end[3])))


HANDLERS = {
    "MaxPool": handle_max_pool,
    "AveragePool": handle_average_pool,
    "GlobalAveragePool": handle_global_average_pool,
    "Pad": handle_pad,
    "ReduceMean": handle_reduce_mean,
}
