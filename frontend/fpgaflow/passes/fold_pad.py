"""Fold explicit zero Pad layers into the padding of the Conv2d or pool that reads them.

Zero padding is what Conv2d padding means, so a Pad before a conv always folds. Pools
differ: MaxPool padding never wins (it counts as -infinity), which equals zero padding
only when the input is known to be non-negative (it comes out of a ReLU) and no window
lies wholly in the padding. AvgPool padding equals zero padding only when it is counted
in the divisor (count_include_pad). ceil_mode pools are left alone: their extra windows
depend on where the padding starts. A Pad that cannot fold stays a Pad layer.
"""

from __future__ import annotations

from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import Activated, AvgPool, Conv2d, Layer, MaxPool, Pad
from fpgaflow.passes.base import GraphPass
from fpgaflow.passes.graph_edit import absorb_previous, sole_consumer

Padding = tuple[int, int, int, int]


def _sum(a: Padding, b: Padding) -> Padding:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3])


def _non_negative(graph: Graph, tensor: str) -> bool:
    """Whether a tensor is the output of a ReLU or ReLU6 (fused or stand-alone)."""
    producer = graph.producer(tensor)
    return isinstance(producer, Activated) and producer.clamps_negative


def _folded_padding(graph: Graph, pad: Pad, layer: Layer) -> Padding | None:
    """The padding `layer` would have with the Pad folded in, or None if that changes results."""
    if isinstance(layer, Conv2d):
        return _sum(layer.padding, pad.padding)
    if (
        isinstance(layer, MaxPool)
        and not layer.ceil_mode
        and layer.dilation == (1, 1)
        and _non_negative(graph, pad.inputs[0])
    ):
        total = _sum(layer.padding, pad.padding)
        kernel_h, kernel_w = layer.kernel
        if max(total[0], total[2]) < kernel_h and max(total[1], total[3]) < kernel_w:
            return total
    if isinstance(layer, AvgPool) and not layer.ceil_mode:
        if layer.count_include_pad or layer.padding == (0, 0, 0, 0):
            return _sum(layer.padding, pad.padding)
    return None


class FoldPad(GraphPass):
    name = "fold_pad"
    requires = ("fuse_activation",)

    def run(self, graph: Graph) -> None:
        for pad in [layer for layer in graph.layers if isinstance(layer, Pad)]:
            reader = sole_consumer(graph, pad.output)
            padding = _folded_padding(graph, pad, reader) if reader is not None else None
            if reader is None or padding is None:
                continue
            reader.padding = padding  # type: ignore[attr-defined]
            if isinstance(reader, AvgPool):
                reader.count_include_pad = True
            absorb_previous(graph, pad, reader)
