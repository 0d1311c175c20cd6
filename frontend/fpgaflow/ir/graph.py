"""The IR graph: tensors with shapes and formats, and layers in topological order.

Shapes are per sample (batch is 1 in hardware): (C, H, W) for feature maps, (N,) for
vectors, ONNX's NCHW order without the batch axis. Every backend reads this graph and
nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fpgaflow.fixed import FixedType
from fpgaflow.ir.given import GivenRounding
from fpgaflow.ir.layers import Layer


@dataclass(kw_only=True)
class Tensor:
    """A feature-map tensor between layers: its per-sample shape and, once quantized, its format."""

    name: str
    shape: tuple[int, ...]
    ftype: FixedType | None = None
    given: FixedType | None = None
    """The format the model file fixes for this tensor (a QONNX Quant node); quantize keeps it
    instead of calibrating (docs/quantization.md, QONNX / Brevitas models)."""
    given_rounding: GivenRounding | None = None
    """How the model rounds into `given` (set with it)."""

    @property
    def size(self) -> int:
        total = 1
        for dim in self.shape:
            total *= dim
        return total


@dataclass(kw_only=True)
class Graph:
    """A network: named inputs and outputs, tensors, and layers in execution order."""

    name: str
    inputs: list[str]
    outputs: list[str]
    tensors: dict[str, Tensor]
    layers: list[Layer]
    notes: list[str] = field(default_factory=list)

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer named {name!r}")

    def producer(self, tensor: str) -> Layer | None:
        """The layer that writes a tensor, or None for a graph input."""
        for layer in self.layers:
            if layer.output == tensor:
                return layer
        return None

    def consumers(self, tensor: str) -> list[Layer]:
        """The layers that read a tensor, in execution order."""
        return [layer for layer in self.layers if tensor in layer.inputs]

    def input_shape(self, layer: Layer) -> tuple[int, ...]:
        """Shape of a layer's first input."""
        return self.tensors[layer.inputs[0]].shape

    def output_shape(self, layer: Layer) -> tuple[int, ...]:
        return self.tensors[layer.output].shape

    @property
    def hardware_layers(self) -> list[Layer]:
        """Layers that go into hardware (a final Softmax stays in the float reference only)."""
        return [layer for layer in self.layers if layer.HARDWARE]

    @property
    def hardware_outputs(self) -> list[str]:
        """The outputs the hardware produces: a dropped final layer's input stands in for it."""
        result = []
        for name in self.outputs:
            layer = self.producer(name)
            while layer is not None and not layer.HARDWARE:
                name = layer.inputs[0]
                layer = self.producer(name)
            result.append(name)
        return result

    @property
    def is_quantized(self) -> bool:
        return all(self.tensors[name].ftype is not None for name in self.tensors)

    def check(self) -> None:
        """Raise ValueError if names are not unique or the order is not topological."""
        seen = set(self.inputs)
        names = set()
        for layer in self.layers:
            if layer.name in names:
                raise ValueError(f"duplicate layer name {layer.name!r}")
            names.add(layer.name)
            missing = [t for t in layer.inputs if t not in seen]
            if missing:
                raise ValueError(f"layer {layer.name!r} reads {missing} before they are written")
            if layer.output in seen:
                raise ValueError(f"tensor {layer.output!r} is written twice")
            seen.add(layer.output)
        unknown = seen - set(self.tensors)
        if unknown:
            raise ValueError(f"tensors without shape: {sorted(unknown)}")
