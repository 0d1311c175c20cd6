"""Pass that attaches a SparsityRecord to the weight of every Conv2d and Dense layer.

It reads integer codes when the layer is quantized (a small float weight can round to a
zero code, and the hardware stores codes), float values otherwise. Run it again after
any pass that changes weights or codes; the record describes the weight as it is now.
"""

from __future__ import annotations

from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import Conv2d, Dense
from fpgaflow.ir.sparsity import classify_sparsity
from fpgaflow.passes.base import GraphPass


class ClassifySparsity(GraphPass):
    """Set weight.sparsity on every Conv2d/Dense from its codes, or its floats before quantization."""

    name = "classify_sparsity"
    requires = ("remove_pruned_channels",)

    def run(self, graph: Graph) -> None:
        for layer in graph.layers:
            if isinstance(layer, (Conv2d, Dense)):
                weight = layer.weight
                source = weight.codes if weight.codes is not None else weight.values
                groups = layer.groups if isinstance(layer, Conv2d) else 1
                weight.sparsity = classify_sparsity(source, groups=groups)
