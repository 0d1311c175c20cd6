"""ONNX handlers that only move or re-label data: Flatten, Reshape, Identity, Dropout, Shape,
and constant folding of any node whose inputs are all constants.

Exporters compute Reshape targets with Shape/Gather/Unsqueeze/Concat chains; with static
per-sample shapes those chains are constants, folded here with ONNX's own reference
evaluator, so only their result (a Reshape to (N, -1), i.e. a Flatten) reaches the IR.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator

from fpgaflow.errors import UserError
from fpgaflow.importers.onnx_context import ImportContext, node_label
from fpgaflow.ir.layers import Flatten


def _flatten_to_vector(node: onnx.NodeProto, ctx: ImportContext, x: str) -> None:
    """(C, H, W) becomes a Flatten layer; a vector is already flat and only aliased."""
    if len(ctx.shape(x)) == 1:
        ctx.alias(node.output[0], x)
    else:
        ctx.emit(node, Flatten, [x])


def handle_flatten(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    x = ctx.activation(node)
    if int(attrs.get("axis", 1)) % (len(ctx.shape(x)) + 1) != 1:
        raise UserError(f"{node_label(node)}: Flatten is only supported with axis=1 (keep the batch axis)")
    _flatten_to_vector(node, ctx, x)


def _resolve_target(node: onnx.NodeProto, attrs: dict[str, Any], full: tuple[int, ...], target: list[int]) -> list[int]:
    """A Reshape target with 0 (copy) and -1 (infer) replaced by sizes, as ONNX defines them."""
    if not attrs.get("allowzero", 0):
        target = [full[i] if t == 0 and i < len(full) else t for i, t in enumerate(target)]
    known = math.prod(t for t in target if t != -1)
    if target.count(-1) > 1 or known == 0 or math.prod(full) % known:
        raise UserError(f"{node_label(node)}: cannot reshape {full} to {target}")
    return [math.prod(full) // known if t == -1 else t for t in target]


def handle_reshape(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """Only reshapes that keep the batch axis and flatten (or keep) each sample are supported."""
    x = ctx.activation(node)
    full = (ctx.batch, *ctx.shape(x))
    target = _resolve_target(node, attrs, full, [int(t) for t in ctx.const(node, 1).reshape(-1)])
    if target[0] != ctx.batch:
        raise UserError(f"{node_label(node)}: Reshape to {target} changes the batch axis; only (N, -1) is supported")
    if tuple(target[1:]) == ctx.shape(x):
        ctx.alias(node.output[0], x)
    elif target[1:] == [math.prod(ctx.shape(x))]:
        _flatten_to_vector(node, ctx, x)
    else:
        raise UserError(f"{node_label(node)}: Reshape of {ctx.shape(x)} to {target[1:]} per sample is not supported; "
                        "only flattening to (N, -1)")


def handle_identity(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """Identity and inference-time Dropout pass their input through."""
    ctx.check_unused_outputs(node)
    ctx.alias(node.output[0], ctx.activation(node))


def handle_dropout(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """Dropout is the identity at inference; a constant training_mode=True is refused."""
    if ctx.has_input(node, 2) and bool(ctx.const(node, 2)):
        raise UserError(f"{node_label(node)}: Dropout in training mode is not supported; export the model in eval mode")
    handle_identity(node, attrs, ctx)


def handle_shape(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """The shape of a feature map is static apart from the batch, which counts as ctx.batch."""
    full = np.array([ctx.batch, *ctx.shape(ctx.activation(node))], dtype=np.int64)
    start, end = int(attrs.get("start", 0)), attrs.get("end")
    ctx.consts[node.output[0]] = full[start: None if end is None else int(end)]


def fold_constant_node(node: onnx.NodeProto, ctx: ImportContext) -> None:
    """Evaluate a node whose inputs are all constants and record its outputs as constants."""
    evaluator = ReferenceEvaluator(node, opsets={"": ctx.opset})
    feeds = {name: ctx.consts[name] for name in node.input if name}
    try:
        results = evaluator.run(None, feeds)
    except Exception as error:  # the reference evaluator raises many types for bad nodes
        raise UserError(f"{node_label(node)}: cannot evaluate this constant expression ({error})") from error
    for name, value in zip(node.output, results, strict=False):
        if name:
            ctx.consts[name] = np.asarray(value)


HANDLERS = {
    "Flatten": handle_flatten,
    "Reshape": handle_reshape,
    "Identity": handle_identity,
    "Dropout": handle_dropout,
    "Shape": handle_shape,
}
