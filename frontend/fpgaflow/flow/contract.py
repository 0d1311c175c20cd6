"""The hardware contract of an op kind: what every back end's implementation of it keeps.

In the spirit of FINN's HWCustomOp, one object per op kind answers, from a layer's plan
alone: how many MAC lanes can still shorten it, its steady-state cycles per frame at P
lanes, the bits of its weight memory, and the widths of the pixel streams it reads and
writes. The balancer (fpgaflow.flow.parallelism through a back end's planner), the
report (fpgaflow.flow.design records what the contract says) and prune's hardware cost
(fpgaflow.prune.cost) all call the contract, so each of these numbers is computed once.
A back end implements the op (fpgaflow.backends.rtl.stages: the library modules and
their parameters) and must keep its contract; the modules of fpgaflow.flow.ops hold one
contract per op kind and fpgaflow.flow.ops.contract_of finds a layer's.
"""

from __future__ import annotations

from fpgaflow.ir.graph import Graph
from fpgaflow.flow.layer_plan import LayerPlan


def pixel_bits(graph: Graph, tensor: str, shape: tuple[int, ...] | None = None) -> int:
    """Bits of one beat of a tensor's pixel stream: every channel's code side by side (a vector is one beat).

    `shape` overrides the tensor's own shape (the map a flattened vector streams as).
    """
    ftype = graph.tensors[tensor].ftype
    assert ftype is not None, f"tensor {tensor} has no format; quantize first"
    return (shape or graph.tensors[tensor].shape)[0] * ftype.width


class OpContract:
    """The contract of one op kind; a subclass lists its ops and overrides what differs from these defaults."""

    ops: tuple[str, ...] = ()
    """The IR op names (fpgaflow.ir.layers OP) this contract holds for."""

    def cycles(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> int:
        """Steady-state cycles per frame with `lanes` MAC lanes (an upstream that always has data, a downstream always ready)."""
        raise NotImplementedError

    def beat_cycles(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> tuple[float, ...] | None:
        """Steady-state cycles per output beat where the op does not spend its frame evenly over
        its beats (None: it does; the branch FIFOs' rate rule then takes cycles / beats)."""
        return None

    def useful_lanes(self, plan: LayerPlan, store_zeros: bool = False) -> int:
        """The most MAC lanes that can still shorten the layer (1: it has none)."""
        return 1

    def weight_bits(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> tuple[int, int]:
        """(bits of a weight memory holding every weight, bits of the memory as built) at `lanes` lanes."""
        return 0, 0

    def stream_widths(self, graph: Graph, plan: LayerPlan) -> tuple[tuple[int, ...], int]:
        """(bits of a beat of each input stream, bits of a beat of the output stream); the first input
        streams as plan.stream_shape (a dense layer reads the map before a flatten)."""
        first, *rest = plan.inputs
        inputs = (pixel_bits(graph, first, plan.stream_shape), *(pixel_bits(graph, tensor) for tensor in rest))
        return inputs, pixel_bits(graph, plan.output)
