"""A generated design: the plans of its layers with the engine choices made for them.

The generator fills one Design; the report, the top-level template and the verification
all read it, so P, the modelled cycles and the weight-memory sizes are decided once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fpgaflow.boards import Board
from fpgaflow.ir.graph import Graph
from fpgaflow.flow.layer_plan import LayerPlan

if TYPE_CHECKING:  # the RTL back end's record of override files; the flow never imports a back end at run time
    from fpgaflow.backends.rtl.templates import Override


@dataclass(frozen=True)
class EngineChoice:
    """What the generator decided for one hardware layer."""

    parallelism: int
    """MAC lanes P (1 for layers without weights)."""
    cycles_model: int
    """Cycles per frame the cycle model predicts for this stage."""
    weight_bits_dense: int = 0
    """Bits a ROM holding every weight (zeros included) would need."""
    weight_bits_stored: int = 0
    """Bits the generated ROM actually holds (nonzero weights with their indices, bias)."""
    lut_lanes: int = 0
    """Lanes of P whose multiplier is built from LUTs (rtl/lut_multiplier.sv); the other P - lut_lanes use a DSP each."""


@dataclass
class Design:
    """Everything decided about one network's hardware."""

    graph: Graph
    board: Board
    plans: list[LayerPlan]
    engines: dict[str, EngineChoice]
    store_zeros: bool = False
    """The ROMs keep zero weights (a dense engine: the benchmark's baseline)."""
    window_memory: str = "auto"
    """Where the engines' per-lane window memories go (fpgaflow.backends.rtl.resource_model.WINDOW_MEMORY_POLICIES)."""
    resources: dict[str, object] = field(default_factory=dict)
    """Resource estimates: the model's and, after --synth, Yosys's (filled by fpgaflow.report.resource_estimates)."""
    overflow: list[str] = field(default_factory=list)
    """Resource kinds the model says the chosen P overflow on the board (empty: it fits)."""
    overflow_at_one: list[str] = field(default_factory=list)
    """Resource kinds that overflow even with P = 1 everywhere (the network cannot fit this board)."""
    overrides: list[Override] = field(default_factory=list)
    """Files the build took from a template override folder (fpgaflow.backends.rtl.templates)."""
    measured_only: list[str] = field(default_factory=list)
    """Layers whose modules an override changed without keeping the cycle and resource models' contract."""

    @property
    def frame_interval(self) -> int:
        """Cycles between frames in steady state: the slowest stage's cycles per frame."""
        return max((choice.cycles_model for choice in self.engines.values()), default=0)

    @property
    def latency_bound(self) -> int:
        """Cycles from first input word to last output word, bounded by every stage's frame time in a row."""
        return sum(choice.cycles_model for choice in self.engines.values())

    @property
    def bottleneck(self) -> str:
        return max(sorted(self.engines), key=lambda name: self.engines[name].cycles_model)

    def frames_per_second(self) -> float:
        interval = self.frame_interval
        return self.board.clock_mhz * 1e6 / interval if interval else 0.0
