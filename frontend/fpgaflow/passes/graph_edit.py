"""Graph edits shared by the folding passes: absorbing a layer into the one before it.

Folding BatchNorm, an activation or a Pad all end the same way: one layer disappears and
the layer next to it takes over its output tensor, so downstream layers and graph outputs
keep their names. Keeping this in one place keeps the passes to their own arithmetic.
"""

from __future__ import annotations

from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import Layer


def sole_consumer(graph: Graph, tensor: str) -> Layer | None:
    """The only layer reading `tensor`, or None if it has several readers or is a graph output."""
    readers = graph.consumers(tensor)
    if len(readers) != 1 or tensor in graph.outputs:
        return None
    return readers[0]


def absorb_next(graph: Graph, layer: Layer, following: Layer) -> None:
    """Remove `following` (which reads only layer's output); `layer` now writes its output."""
    intermediate = layer.output
    layer.output = following.output
    graph.layers.remove(following)
    del graph.tensors[intermediate]


def absorb_previous(graph: Graph, previous: Layer, layer: Layer) -> None:
    """Remove `previous` (whose output only `layer` reads); `layer` now reads previous's input."""
    intermediate = previous.output
    layer.inputs = [previous.inputs[0] if name == intermediate else name for name in layer.inputs]
    graph.layers.remove(previous)
    del graph.tensors[intermediate]
