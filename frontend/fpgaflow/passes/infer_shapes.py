"""Re-derive every tensor shape from the graph inputs after the structural passes.

The folding passes change geometry attributes (padding) and remove tensors; recomputing
shapes with ir.shapes at the end of a flow proves the result is still consistent and
raises a UserError at import time rather than a wrong shape in a backend.
"""

from __future__ import annotations

from fpgaflow.ir.graph import Graph
from fpgaflow.ir.shapes import infer_graph_shapes
from fpgaflow.passes.base import GraphPass


class InferShapes(GraphPass):
    name = "infer_shapes"

    def run(self, graph: Graph) -> None:
        infer_graph_shapes(graph)
