"""Per-layer stages of the generated top: which library modules a layer becomes, with which parameters.

The only module that knows the library's module names and parameters (docs/hardware.md).
Each supported op has an EngineKind: its stages in the netlist, its modelled cycles per
frame (fpgaflow.hw.cycles), its useful lane count and its weight memory
(fpgaflow.hw.weight_rom). StageBuilder walks the layers, gives every tensor a stream,
splits a tensor read by several layers with a broadcast and a FIFO per branch, and
converts between DMA words and pixel beats at the two ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fpgaflow.errors import UserError
from fpgaflow.ir.graph import Graph
from fpgaflow.rtlgen.design import Design
from fpgaflow.rtlgen.layer_plan import LayerPlan
from fpgaflow.rtlgen.netlist import Netlist
from fpgaflow.rtlgen.verify import Tap

StageFn = Callable[["StageBuilder", LayerPlan, str, str], None]
"""Adds a layer's stages reading stream `src` (its first input) and writing stream `dst`."""


@dataclass(frozen=True)
class EngineKind:
    """How one op becomes hardware."""

    stages: StageFn
    cycles: Callable[[LayerPlan, int, bool], int]
    """(plan, P, store_zeros) -> cycles per frame."""
    weight_bits: Callable[[LayerPlan, int, bool], tuple[int, int]] = lambda plan, p, zeros: (0, 0)
    """(plan, P, store_zeros) -> (dense bits, stored bits)."""


ENGINES: dict[str, EngineKind] = {}
"""Op name -> EngineKind, filled below for every op the library implements."""

PASS_THROUGH_OPS = ("Flatten",)
"""Ops that only re-interpret the stream (a flatten keeps the pixel order); they get no stage."""


def reserved_names() -> list[str]:
    """Names a generated top must not take (the library's modules)."""
    from fpgaflow.rtlgen.library import library_modules

    return sorted(library_modules())


def _engine(plan: LayerPlan) -> EngineKind:
    if plan.op not in ENGINES:
        supported = ", ".join(sorted([*ENGINES, *PASS_THROUGH_OPS]))
        raise UserError(f"layer {plan.name} ({plan.op}) has no RTL engine; the RTL generator supports {supported}")
    return ENGINES[plan.op]


def stage_cycles(plan: LayerPlan, parallelism: int, store_zeros: bool = False) -> int:
    """Modelled cycles per frame of a layer's stage (0 for a pass-through)."""
    if plan.op in PASS_THROUGH_OPS:
        return 0
    return _engine(plan).cycles(plan, parallelism, store_zeros)


def useful_lanes(plan: LayerPlan, store_zeros: bool = False) -> int:
    """The most lanes that can still shorten the layer (its longest run of stored weights)."""
    if store_zeros:
        return max(plan.dense_weights // max(len(plan.run_lengths), 1), 1)
    return plan.max_useful_lanes


def weight_memory_bits(plan: LayerPlan, parallelism: int, store_zeros: bool = False) -> tuple[int, int]:
    if plan.op in PASS_THROUGH_OPS:
        return 0, 0
    return _engine(plan).weight_bits(plan, parallelism, store_zeros)


class StageBuilder:
    """Adds the stages of one design to a netlist, layer by layer."""

    def __init__(self, netlist: Netlist, design: Design) -> None:
        self.netlist = netlist
        self.design = design
        self.graph: Graph = design.graph
        self.memory_files: dict[str, bytes] = {}
        self.taps: list[Tap] = []
        self._sources: dict[str, list[str]] = {}
        """tensor -> streams still to be read, one per remaining consumer."""

    def pixel_width(self, tensor: str) -> int:
        shape = self.graph.tensors[tensor].shape
        ftype = self.graph.tensors[tensor].ftype
        assert ftype is not None
        return shape[0] * ftype.width

    def _publish(self, tensor: str, stream: str) -> None:
        """Make a tensor's stream available to its consumers, splitting it when several read it."""
        readers = len(self.graph.consumers(tensor)) + int(tensor in self.graph.hardware_outputs)
        if readers <= 1:
            self._sources[tensor] = [stream]
            return
        self._sources[tensor] = self.broadcast(tensor, stream, readers)

    def take(self, tensor: str) -> str:
        """The next unread stream of a tensor."""
        return self._sources[tensor].pop(0)

    def dma_input(self, tensor: str) -> None:
        dma = self.netlist.dma_width
        self.netlist.input_stream = self.netlist.stream("dma_in", dma)
        pixels = self.netlist.stream("input_pixels", self.pixel_width(tensor))
        self.width_converter("input_words", "dma_in", pixels)
        self._publish(tensor, pixels)

    def dma_output(self, tensor: str) -> None:
        self.netlist.output_stream = self.netlist.stream("dma_out", self.netlist.dma_width)
        self.width_converter("output_words", self.take(tensor), "dma_out")

    def layer(self, plan: LayerPlan) -> None:
        if plan.op in PASS_THROUGH_OPS:
            self._publish(plan.output, self.take(plan.inputs[0]))
            return
        src = self.take(plan.inputs[0])
        dst = self.netlist.stream(f"{plan.name}_out", self.pixel_width(plan.output))
        _engine(plan).stages(self, plan, src, dst)
        self.taps.append(Tap(layer=plan.name, tensor=plan.output, stream_in=src, stream_out=dst))
        self._publish(plan.output, dst)

    def parallelism(self, plan: LayerPlan) -> int:
        return self.design.engines[plan.name].parallelism

    # Library modules shared by every design: filled in with the library's names (docs/hardware.md).
    def width_converter(self, instance: str, src: str, dst: str) -> None:
        raise UserError("the RTL library has no DMA width converter yet")

    def broadcast(self, tensor: str, stream: str, readers: int) -> list[str]:
        raise UserError(f"tensor {tensor} is read by {readers} layers; the RTL library has no stream broadcast yet")
