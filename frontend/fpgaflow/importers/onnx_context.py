"""The state shared by the ONNX op handlers while one model is imported.

ONNX names two kinds of values: constants (initializers, Constant nodes, and anything
computed only from constants and static shapes) and activations (the per-sample feature
maps that become IR tensors). The context keeps them apart, hands out sanitized IR
names, derives every new tensor's shape with ir.shapes, and turns a handler's request
into a layer. Handlers stay small because they only read attributes and call this.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import onnx
from onnx import helper

from fpgaflow.errors import UserError
from fpgaflow.fixed import FixedType
from fpgaflow.ir.graph import Tensor
from fpgaflow.ir.layers import Layer, Weight
from fpgaflow.ir.shapes import infer_shape
from fpgaflow.names import sanitize_identifier

LayerT = TypeVar("LayerT", bound=Layer)


def node_label(node: onnx.NodeProto) -> str:
    """How a node is named in messages: its op type and its name (or first output)."""
    return f"{node.op_type} {node.name or node.output[0]!r}"


def node_attributes(node: onnx.NodeProto) -> dict[str, Any]:
    """A node's attributes as Python values (strings decoded, tensors as numpy)."""
    result: dict[str, Any] = {}
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, onnx.TensorProto):
            value = onnx.numpy_helper.to_array(value)
        result[attribute.name] = value
    return result


@dataclass(frozen=True)
class ChannelGroups:
    """A feature map viewed as (N, groups, C/groups, H, W), or with swapped group axes
    (N, C/groups, groups, H, W): the middle of a channel shuffle, which has no IR tensor."""

    source: str
    groups: int
    swapped: bool


@dataclass
class ImportContext:
    """Constants, activation tensors and emitted layers of one ONNX import in progress."""

    opset: int
    batch: int
    consumers: Counter[str]
    graph_outputs: set[str]
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    activations: dict[str, str] = field(default_factory=dict)
    views: dict[str, ChannelGroups] = field(default_factory=dict)
    line_maps: set[str] = field(default_factory=set)
    """IR tensors that are 1-D feature maps (N, C, L) in ONNX, held as (C, 1, L) in the IR."""
    tensors: dict[str, Tensor] = field(default_factory=dict)
    layers: list[Layer] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    given: dict[str, FixedType] = field(default_factory=dict)
    """Constants whose format a QONNX Quant node fixes (importers.onnx_ops_qonnx)."""
    approximate_rounding: bool = False
    """Accept activation Quant nodes that round half to even with the contract's half up (a warning each)."""

    # ---- reading a node's inputs -------------------------------------------------------
    @staticmethod
    def has_input(node: onnx.NodeProto, index: int) -> bool:
        return index < len(node.input) and node.input[index] != ""

    def is_const(self, name: str) -> bool:
        return name in self.consts

    def const(self, node: onnx.NodeProto, index: int) -> np.ndarray:
        """Input `index` of a node, which must be a constant."""
        name = node.input[index]
        if name not in self.consts:
            raise UserError(f"{node_label(node)}: input {index} must be a constant (weights, shape, bounds), not computed")
        return self.consts[name]

    def activation(self, node: onnx.NodeProto, index: int = 0) -> str:
        """The IR tensor name of input `index`, which must be a feature map."""
        name = node.input[index]
        if name in self.views:
            raise UserError(f"{node_label(node)}: input {index} is a feature map split into channel groups; only a "
                            "channel shuffle (Reshape to groups, Transpose(0, 2, 1, 3, 4), Reshape back) is supported")
        if name not in self.activations:
            raise UserError(f"{node_label(node)}: input {index} is a constant where a feature map is expected")
        return self.activations[name]

    def shape(self, ir_name: str) -> tuple[int, ...]:
        return self.tensors[ir_name].shape

    def rank(self, ir_name: str) -> int:
        """The ONNX rank of a feature map with its batch axis: 3 for a 1-D map held as (C, 1, L)."""
        return 3 if ir_name in self.line_maps else len(self.shape(ir_name)) + 1

    def onnx_shape(self, ir_name: str) -> tuple[int, ...]:
        """The per-sample shape as ONNX sees it: (C, L) for a 1-D map."""
        shape = self.shape(ir_name)
        return (shape[0], shape[2]) if ir_name in self.line_maps else shape

    def weight(self, node: onnx.NodeProto, index: int, values: np.ndarray | None = None) -> Weight:
        """A float32 Weight from a constant input (or from `values` derived from it)."""
        array = np.asarray(self.const(node, index) if values is None else values, dtype=np.float32)
        if not np.all(np.isfinite(array)):
            raise UserError(f"{node_label(node)}: weight {node.input[index]!r} contains NaN or Inf; fix or retrain the model")
        return Weight(values=np.ascontiguousarray(array), given=self.given.get(node.input[index]))

    def is_single_use(self, onnx_name: str) -> bool:
        """Whether exactly one node reads an ONNX value and it is not a graph output."""
        return self.consumers[onnx_name] == 1

    def producer(self, ir_name: str) -> Layer | None:
        for layer in self.layers:
            if layer.output == ir_name:
                return layer
        return None

    # ---- writing -------------------------------------------------------------------------
    def new_name(self, name: str) -> str:
        return sanitize_identifier(name, self.taken)

    def add_input(self, onnx_name: str, shape: tuple[int, ...]) -> str:
        ir_name = self.new_name(onnx_name)
        self.activations[onnx_name] = ir_name
        self.tensors[ir_name] = Tensor(name=ir_name, shape=shape)
        return ir_name

    def alias(self, onnx_name: str, ir_name: str) -> None:
        """Let an ONNX value stand for an existing IR tensor (Identity, Dropout, no-op Reshape)."""
        self.activations[onnx_name] = ir_name

    def emit(
        self, node: onnx.NodeProto, cls: type[LayerT], inputs: list[str], output: str | None = None, **fields: Any
    ) -> LayerT:
        """Append a layer of type `cls` computing the node's first output (or the ONNX-side
        name `output`, for a node that becomes several layers), shape inferred."""
        layer = cls(name=self.new_name(node.name or node.op_type), inputs=inputs, output="", **fields)
        shape = infer_shape(layer, [self.shape(name) for name in inputs])
        layer.output = self.add_input(output or node.output[0], shape)
        if len(shape) == 3 and any(name in self.line_maps for name in inputs):
            self.line_maps.add(layer.output)
        self.layers.append(layer)
        return layer

    def check_unused_outputs(self, node: onnx.NodeProto, first_unused: int = 1) -> None:
        """Raise if a node's secondary outputs (indices, masks, statistics) are read."""
        used = [name for name in node.output[first_unused:] if name and self.consumers[name]]
        if used:
            raise UserError(f"{node_label(node)}: its extra outputs {used} are used; only the first output is supported")
