"""The hardware figures a word-length choice is judged by, taken from the generator and the resource model.

Nothing here re-derives a size: weight-memory bits are the generator's
(the op contract's `weight_bits`, the number report.json shows as
`weight_bits_stored`), cycles the cycle model's, LUTs the resource model's on the
generated netlist (`fpgaflow.report.resource_estimates.model_summary`, the report's `resources.model`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fpgaflow.boards import Board
from fpgaflow.ir.graph import Graph
from fpgaflow.backends.rtl.generate import build_layered_netlist, plan_design
from fpgaflow.backends.rtl.netlist_resources import group_resources
from fpgaflow.flow.layer_plan import LayerPlan, plan_graph
from fpgaflow.flow.ops import contract_of
from fpgaflow.report.resource_estimates import model_summary

COSTS = ("weight-bits", "luts", "cycles")
"""What the word-length search minimises (`fpgaflow quantize --cost`)."""


@dataclass(frozen=True)
class HardwareFigures:
    """A quantized graph's hardware as a build would report it."""

    weight_bits: int
    """Weight-memory bits stored (report.json totals.weight_bits_stored)."""
    lut: int
    ff: int
    dsp: int
    bram18: int
    frame_interval: int
    """Modelled cycles per frame (report.json totals.cycles_per_frame)."""
    lanes: dict[str, int]


def design_figures(graph: Graph, board: Board, lanes: Mapping[str, int] | None = None) -> HardwareFigures:
    """The figures of the design `build` makes: P balanced for the board, or the given P per compute layer."""
    design = plan_design(graph, board, everywhere=1 if lanes else None, per_layer=lanes)
    built = build_layered_netlist(design)
    used = model_summary(board, group_resources(built.netlist.stages, built.owner, board.family), design.overflow_at_one)["used"]
    return HardwareFigures(
        weight_bits=sum(choice.weight_bits_stored for choice in design.engines.values()),
        lut=used.get("lut", 0), ff=used.get("ff", 0), dsp=used.get("dsp", 0), bram18=used.get("bram18", 0),
        frame_interval=design.frame_interval,
        lanes={plan.name: design.engines[plan.name].parallelism for plan in design.plans if plan.is_compute},
    )


CostFn = Callable[[Graph], float]
"""cost(quantized graph) -> the number the search minimises."""


class WeightBitsCost:
    """Stored weight-memory bits at fixed P per layer, cached by each layer's formats (its ROM depends on nothing else)."""

    def __init__(self, lanes: Mapping[str, int]) -> None:
        self.lanes = dict(lanes)
        self._cache: dict[tuple[str, str], int] = {}

    def layer_bits(self, plan: LayerPlan) -> int:
        key = (plan.name, repr(sorted(plan.format_dict().items(), key=lambda item: item[0])))
        if key not in self._cache:
            self._cache[key] = contract_of(plan).weight_bits(plan, self.lanes.get(plan.name, 1))[1]
        return self._cache[key]

    def __call__(self, graph: Graph) -> float:
        return float(sum(self.layer_bits(plan) for plan in plan_graph(graph) if plan.is_compute))


class CyclesCost:
    """Modelled frame interval at fixed P per layer (narrow weights round more of them to zero, which the engine skips)."""

    def __init__(self, lanes: Mapping[str, int]) -> None:
        self.lanes = dict(lanes)

    def __call__(self, graph: Graph) -> float:
        return float(max(contract_of(plan).cycles(plan, self.lanes.get(plan.name, 1)) for plan in plan_graph(graph)))


class LutCost:
    """Modelled LUTs of the design at fixed P per layer (seconds per call: the whole netlist is built)."""

    def __init__(self, board: Board, lanes: Mapping[str, int]) -> None:
        self.board = board
        self.lanes = dict(lanes)

    def __call__(self, graph: Graph) -> float:
        return float(design_figures(graph, self.board, self.lanes).lut)


def cost_function(name: str, board: Board, lanes: Mapping[str, int]) -> CostFn:
    """The cost `name` (one of COSTS) of a graph with the compute layers at `lanes`."""
    if name == "weight-bits":
        return WeightBitsCost(lanes)
    if name == "cycles":
        return CyclesCost(lanes)
    if name == "luts":
        return LutCost(board, lanes)
    raise ValueError(f"unknown cost {name!r}; one of {', '.join(COSTS)}")
