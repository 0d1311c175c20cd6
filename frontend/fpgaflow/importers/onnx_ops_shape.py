"""ONNX handlers that only move or re-label data: Flatten, Reshape, Transpose, Identity,
Dropout, Shape, and constant folding of any node whose inputs are all constants.

Exporters compute Reshape targets with Shape/Gather/Unsqueeze/Concat chains; with static
per-sample shapes those chains are constants, folded here with ONNX's own reference
evaluator, so only their result (a Reshape to (N, -1), i.e. a Flatten) reaches the IR.
A channel shuffle as ShuffleNet exports it, Reshape (N, C, H, W) -> (N, g, C/g, H, W),
Transpose(0, 2, 1, 3, 4), Reshape back to (N, C, H, W), becomes one ChannelPermute: the
5-D values in between are ChannelGroups views in the context, never IR tensors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator

from fpgaflow.errors import UserError
from fpgaflow.importers.onnx_context import ChannelGroups, ImportContext, node_label
from fpgaflow.ir.layers import ChannelPermute, Flatten

SWAP_GROUP_AXES = [0, 2, 1, 3, 4]
"""The Transpose of a channel shuffle: (N, g, C/g, H, W) <-> (N, C/g, g, H, W)."""


def _flatten_to_vector(node: onnx.NodeProto, ctx: ImportContext, x: str) -> None:
    """(C, H, W) becomes a Flatten layer; a vector is already flat and only aliased."""
    if len(ctx.shape(x)) == 1:
        ctx.alias(node.output[0], x)
    else:
        ctx.emit(node, Flatten, [x])


def handle_flatten(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    x = ctx.activation(node)
    if int(attrs.get("axis", 1)) % ctx.rank(x) != 1:
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


def shuffle_order(channels: int, groups: int) -> tuple[int, ...]:
    """ChannelPermute order of a channel shuffle: output channel j*g + i is input channel i*(C/g) + j."""
    per_group = channels // groups
    return tuple(i * per_group + j for j in range(per_group) for i in range(groups))


def _view_shape(ctx: ImportContext, view: ChannelGroups) -> tuple[int, ...]:
    channels, *spatial = ctx.shape(view.source)
    axes = (view.groups, channels // view.groups)
    return (ctx.batch, *(axes[::-1] if view.swapped else axes), *spatial)


def _reshape_view(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """The last Reshape of a channel shuffle: back to (N, C, H, W) as a ChannelPermute."""
    view = ctx.views[node.input[0]]
    full = _view_shape(ctx, view)
    target = _resolve_target(node, attrs, full, [int(t) for t in ctx.const(node, 1).reshape(-1)])
    if tuple(target) != (ctx.batch, *ctx.shape(view.source)):
        raise UserError(f"{node_label(node)}: Reshape of channel groups {full} to {target} is not supported; "
                        "only back to (N, C, H, W) as a channel shuffle")
    if view.swapped:
        ctx.emit(node, ChannelPermute, [view.source], order=shuffle_order(ctx.shape(view.source)[0], view.groups))
    else:
        ctx.alias(node.output[0], view.source)


def _split_groups(target: list[int], shape: tuple[int, ...]) -> int | None:
    """g when a Reshape target is (N, g, C/g, H, W) of a (C, H, W) map, else None."""
    if len(shape) != 3 or len(target) != 5 or tuple(target[3:]) != shape[1:] or target[1] * target[2] != shape[0]:
        return None
    return target[1]


def handle_reshape(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """Reshapes that keep the batch axis and flatten (or keep) each sample, and the two
    Reshapes of a channel shuffle, are supported."""
    if node.input[0] in ctx.views:
        _reshape_view(node, attrs, ctx)
        return
    x = ctx.activation(node)
    full = (ctx.batch, *ctx.onnx_shape(x))
    target = _resolve_target(node, attrs, full, [int(t) for t in ctx.const(node, 1).reshape(-1)])
    groups = _split_groups(target, ctx.shape(x))
    if target[0] == ctx.batch and groups is not None:
        ctx.views[node.output[0]] = ChannelGroups(source=x, groups=groups, swapped=False)
        return
    if target[0] != ctx.batch:
        raise UserError(f"{node_label(node)}: Reshape to {target} changes the batch axis; only (N, -1) is supported")
    if tuple(target[1:]) == ctx.onnx_shape(x):
        ctx.alias(node.output[0], x)
    elif target[1:] == [math.prod(ctx.shape(x))]:
        _flatten_to_vector(node, ctx, x)
    else:
        raise UserError(f"{node_label(node)}: Reshape of {ctx.shape(x)} to {target[1:]} per sample is not supported; "
                        "only flattening to (N, -1) and a channel shuffle")


def handle_transpose(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """The identity, or the middle of a channel shuffle (swapping the group axes of a view)."""
    name = node.input[0]
    if name in ctx.views:
        view = ctx.views[name]
        if [int(p) for p in attrs.get("perm", [4, 3, 2, 1, 0])] != SWAP_GROUP_AXES:
            raise UserError(f"{node_label(node)}: Transpose of channel groups is only supported as {SWAP_GROUP_AXES}")
        ctx.views[node.output[0]] = ChannelGroups(source=view.source, groups=view.groups, swapped=not view.swapped)
        return
    x = ctx.activation(node)
    rank = ctx.rank(x)
    if [int(p) for p in attrs.get("perm", range(rank - 1, -1, -1))] != list(range(rank)):
        raise UserError(f"{node_label(node)}: Transpose of a feature map is not supported (only a channel shuffle's)")
    ctx.alias(node.output[0], x)


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
    full = np.array([ctx.batch, *ctx.onnx_shape(ctx.activation(node))], dtype=np.int64)
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
    "Transpose": handle_transpose,
    "Identity": handle_identity,
    "Dropout": handle_dropout,
    "Shape": handle_shape,
}
