"""Where a compute layer's work is counted: its engine positions per frame.

A conv computes one output position per output pixel and a dense layer one; a
ConvTranspose2d is computed as its 1x1 conv (fpgaflow.ir.transposed), one position per
input pixel. The statistics, the layer plans and so the reports read this one count.
"""

from __future__ import annotations

import numpy as np

from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import ConvTranspose2d, Layer


def engine_positions(graph: Graph, layer: Layer) -> int:
    """Positions per frame of a compute layer: H*W of its output map (1 for a vector), of its input map for a ConvTranspose2d."""
    tensor = layer.inputs[0] if isinstance(layer, ConvTranspose2d) else layer.output
    return int(np.prod(graph.tensors[tensor].shape[1:]))
