"""Import an ONNX model into the IR: per-sample tensors, typed layers, float weights.

Every node is handled by a small function from the op-type registry `HANDLERS`; nodes
whose inputs are all constants are folded instead. Unsupported op types are collected
first and reported together in one UserError, so a user sees every missing op at once.
All IR names are sanitized (fpgaflow.names); nothing is written to disk.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx

from fpgaflow.errors import UserError
from fpgaflow.importers import (
    onnx_ops_affine,
    onnx_ops_compute,
    onnx_ops_elementwise,
    onnx_ops_qonnx,
    onnx_ops_resize,
    onnx_ops_shape,
    onnx_ops_window,
)
from fpgaflow.importers.onnx_context import ImportContext, node_attributes, node_label
from fpgaflow.importers.onnx_load import ModelSource, load_onnx_model
from fpgaflow.importers.onnx_ops_shape import fold_constant_node
from fpgaflow.ir.graph import Graph

Handler = Callable[[onnx.NodeProto, dict[str, Any], ImportContext], None]
HANDLERS: dict[str, Handler] = {
    **onnx_ops_compute.HANDLERS,
    **onnx_ops_affine.HANDLERS,
    **onnx_ops_elementwise.HANDLERS,
    **onnx_ops_window.HANDLERS,
    **onnx_ops_shape.HANDLERS,
    **onnx_ops_resize.HANDLERS,
    **onnx_ops_qonnx.HANDLERS,
}
NO_EXACT_FORM = {
    "Sigmoid": "a transcendental function has no exact fixed-point form under docs/fixed-point.md",
    "HardSigmoid": "the engines clamp only at 0 and at 6.0, not at 1",
    "HardSwish": "x times HardSigmoid(x) multiplies two feature maps, which no engine does",
    **onnx_ops_qonnx.REFUSED,
}
"""Activations refused on purpose, with the reason the unsupported-ops message gives (docs/fixed-point.md)."""
# Ops with a handler that must never be folded even when their inputs are constants.
_NOT_FOLDED = {"Shape"}
# Folded ops that only rearrange a constant: a format fixed on their input holds for their output.
_REARRANGING = {"Identity", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze"}


def _initializers(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    return {init.name: onnx.numpy_helper.to_array(init) for init in model.graph.initializer}


def _foldable(node: onnx.NodeProto, constants: set[str]) -> bool:
    return node.op_type not in _NOT_FOLDED and all(name in constants for name in node.input if name)


def _check_supported(model: onnx.ModelProto, constants: set[str]) -> None:
    """Raise one UserError naming every node that is neither foldable nor handled."""
    known = set(constants)
    unsupported = []
    for node in model.graph.node:
        if onnx_ops_qonnx.is_qonnx(node) and node.op_type != "Quant":
            unsupported.append(node)
        elif node.domain not in ("", "ai.onnx") and not onnx_ops_qonnx.is_qonnx(node):
            unsupported.append(node)
        elif node.op_type == "Shape" or _foldable(node, known):
            known.update(node.output)
        elif node.op_type not in HANDLERS:
            unsupported.append(node)
    if unsupported:
        listing = ", ".join(node_label(node) + (f" ({NO_EXACT_FORM[node.op_type]})" if node.op_type in NO_EXACT_FORM else "")
                            for node in unsupported)
        raise UserError(f"unsupported ONNX operations ({len(unsupported)}): {listing}; supported: {', '.join(sorted(HANDLERS))}")


def _input_shape(value: onnx.ValueInfoProto) -> tuple[int | None, tuple[int, ...]]:
    """(fixed batch or None, per-sample shape) of a graph input; UserError if not static."""
    tensor_type = value.type.tensor_type
    if not tensor_type.HasField("shape") or len(tensor_type.shape.dim) not in (2, 3, 4):
        raise UserError(f"input {value.name!r}: expected shape (N, features), (N, C, L) or (N, C, H, W)")
    dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in tensor_type.shape.dim]
    if any(d is None for d in dims[1:]):
        raise UserError(f"input {value.name!r} has dynamic non-batch dimensions; export with a fixed input size")
    return dims[0], tuple(int(d) for d in dims[1:])  # type: ignore[arg-type]


def _ir_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A 1-D map (C, L) is held as (C, 1, L), so every 2-D engine runs it with H = 1."""
    return (shape[0], 1, shape[1]) if len(shape) == 2 else shape


def _consumers(model: onnx.ModelProto) -> Counter[str]:
    """How many times each value is read, a graph output counting as one reader."""
    counts: Counter[str] = Counter(name for node in model.graph.node for name in node.input if name)
    counts.update(output.name for output in model.graph.output)
    return counts


def _start_context(model: onnx.ModelProto, opset: int, consts: dict[str, np.ndarray]) -> tuple[ImportContext, list[str]]:
    inputs = [value for value in model.graph.input if value.name not in consts]
    if not inputs:
        raise UserError("the ONNX model has no non-constant input")
    shapes = [_input_shape(value) for value in inputs]
    batches = {batch for batch, _ in shapes if batch is not None}
    if len(batches) > 1:
        raise UserError(f"the model's inputs disagree on the batch size: {sorted(batches)}")
    ctx = ImportContext(
        opset=opset, batch=batches.pop() if batches else 1, consumers=_consumers(model),
        graph_outputs={output.name for output in model.graph.output}, consts=dict(consts),
    )
    names = [ctx.add_input(value.name, _ir_shape(shape)) for value, (_, shape) in zip(inputs, shapes, strict=True)]
    ctx.line_maps.update(name for name, (_, shape) in zip(names, shapes, strict=True) if len(shape) == 2)
    return ctx, names


def _fold(node: onnx.NodeProto, ctx: ImportContext) -> None:
    """Evaluate a constant node; a format that a QONNX Quant fixed follows a rearranged constant."""
    if onnx_ops_qonnx.is_qonnx(node):
        onnx_ops_qonnx.fold_quant_constant(node, ctx)
        return
    fold_constant_node(node, ctx)
    if node.op_type in _REARRANGING and node.input[0] in ctx.given:
        ctx.given[node.output[0]] = ctx.given[node.input[0]]


def import_onnx(source: ModelSource, approximate_rounding: bool = False) -> Graph:
    """Import an ONNX model (path, bytes or ModelProto) into an IR Graph with float weights.

    `approximate_rounding` accepts QONNX activation quantizers that round otherwise than
    the contract can (half to even) with its round half up, and a warning each.
    """
    model, opset = load_onnx_model(source)
    consts = _initializers(model)
    _check_supported(model, set(consts))
    ctx, input_names = _start_context(model, opset, consts)
    ctx.approximate_rounding = approximate_rounding
    graph_name = ctx.new_name(model.graph.name or "model")
    for node in model.graph.node:
        if _foldable(node, set(ctx.consts)):
            _fold(node, ctx)
        else:
            HANDLERS[node.op_type](node, node_attributes(node), ctx)
    outputs = []
    for output in model.graph.output:
        if output.name not in ctx.activations:
            raise UserError(f"output {output.name!r} is a constant, not computed from the input")
        outputs.append(ctx.activations[output.name])
    graph = Graph(name=graph_name, inputs=input_names, outputs=outputs, tensors=ctx.tensors, layers=ctx.layers,
                  notes=ctx.notes)
    graph.check()
    return graph
