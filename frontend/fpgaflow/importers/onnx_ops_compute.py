"""ONNX handlers for the layers with weights: Conv, Gemm, MatMul, BatchNormalization.

A constant added after a MatMul (or a Conv/Gemm) becomes a ScaleShift (onnx_ops_affine) that
the import pass fold_batchnorm folds into that layer's bias.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx

from fpgaflow.errors import UserError
from fpgaflow.importers.onnx_context import ImportContext, node_label
from fpgaflow.importers.onnx_geometry import line_attributes, window_geometry
from fpgaflow.ir.layers import BatchNorm, Conv2d, ConvTranspose2d, Dense


def handle_conv(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """A 2-D conv, or a 1-D conv on (N, C, L) as the 2-D conv with kernel (1, K) over (C, 1, L)."""
    x = ctx.activation(node)
    weight = ctx.weight(node, 1)
    if weight.values.ndim == 3 and x in ctx.line_maps:
        weight = ctx.weight(node, 1, weight.values[:, :, None, :])
        attrs = line_attributes(attrs)
    if weight.values.ndim != 4 or len(ctx.shape(x)) != 3:
        raise UserError(f"{node_label(node)}: only 1-D and 2-D convolutions on (N, C, L) and (N, C, H, W) inputs "
                        "are supported")
    kernel = (int(weight.values.shape[2]), int(weight.values.shape[3]))
    stride, padding, dilation = window_geometry(node, attrs, ctx.shape(x)[1:], kernel)
    bias = ctx.weight(node, 2) if ctx.has_input(node, 2) else None
    ctx.emit(
        node, Conv2d, [x], weight=weight, bias=bias, stride=stride, padding=padding, dilation=dilation,
        groups=int(attrs.get("group", 1)),
    )


def handle_conv_transpose(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """ConvTranspose whose stride equals its kernel, without padding, groups 1: each input pixel its own block."""
    x = ctx.activation(node)
    weight = ctx.weight(node, 1)
    if weight.values.ndim != 4 or len(ctx.shape(x)) != 3 or x in ctx.line_maps:
        raise UserError(f"{node_label(node)}: ConvTranspose is supported only on (N, C, H, W) inputs")
    kernel = [int(k) for k in weight.values.shape[2:]]
    plain = (
        [int(s) for s in attrs.get("strides", [1, 1])] == kernel
        and not any(attrs.get("pads", [0, 0, 0, 0])) and not any(attrs.get("output_padding", [0, 0]))
        and int(attrs.get("group", 1)) == 1 and all(int(d) == 1 for d in attrs.get("dilations", [1, 1]))
        and attrs.get("auto_pad", "NOTSET") in ("NOTSET", "VALID") and "output_shape" not in attrs
    )
    if not plain:
        raise UserError(f"{node_label(node)}: ConvTranspose is supported only with strides equal to the kernel "
                        f"{kernel}, no padding or output_padding, groups 1 and dilation 1")
    bias = ctx.weight(node, 2) if ctx.has_input(node, 2) else None
    ctx.emit(node, ConvTranspose2d, [x], weight=weight, bias=bias)


def _flat_input(node: onnx.NodeProto, ctx: ImportContext) -> str:
    x = ctx.activation(node)
    if len(ctx.shape(x)) != 1:
        raise UserError(f"{node_label(node)}: dense input must be (N, features), got per-sample shape {ctx.shape(x)}; "
                        "flatten it first")
    return x


def handle_gemm(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """Y = alpha * A @ B' + beta * C with A the activations: Dense(weight = alpha * B' as (O, I))."""
    if attrs.get("transA", 0):
        raise UserError(f"{node_label(node)}: transA=1 (transposed activations) is not supported")
    x = _flat_input(node, ctx)
    b = ctx.const(node, 1)
    matrix = b if attrs.get("transB", 0) else b.T
    weight = ctx.weight(node, 1, float(attrs.get("alpha", 1.0)) * matrix)
    bias = None
    if ctx.has_input(node, 2):
        c = ctx.const(node, 2)
        if c.size not in (1, matrix.shape[0]):
            raise UserError(f"{node_label(node)}: Gemm bias C of shape {c.shape} is not one value per output")
        c = np.broadcast_to(c.reshape(-1), (matrix.shape[0],))
        bias = ctx.weight(node, 2, float(attrs.get("beta", 1.0)) * c)
    ctx.emit(node, Dense, [x], weight=weight, bias=bias)


def handle_matmul(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """A @ B with A the activations and B a constant (I, O): Dense without bias (yet)."""
    x = _flat_input(node, ctx)
    b = ctx.const(node, 1)
    if b.ndim != 2:
        raise UserError(f"{node_label(node)}: MatMul with a {b.ndim}-D constant is not supported")
    ctx.emit(node, Dense, [x], weight=ctx.weight(node, 1, b.T))


def handle_batchnorm(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    if attrs.get("spatial", 1) != 1 or attrs.get("training_mode", 0) != 0:
        raise UserError(f"{node_label(node)}: only inference BatchNormalization with per-channel statistics is supported")
    ctx.check_unused_outputs(node)
    x = ctx.activation(node)
    params = [ctx.weight(node, index) for index in range(1, 5)]
    if any(p.values.ndim != 1 for p in params):
        raise UserError(f"{node_label(node)}: BatchNormalization parameters must be one value per channel")
    scale, bias, mean, var = params
    ctx.emit(node, BatchNorm, [x], scale=scale, bias=bias, mean=mean, var=var,
             epsilon=float(attrs.get("epsilon", 1e-5)))


HANDLERS = {
    "Conv": handle_conv,
    "ConvTranspose": handle_conv_transpose,
    "Gemm": handle_gemm,
    "MatMul": handle_matmul,
    "BatchNormalization": handle_batchnorm,
}
