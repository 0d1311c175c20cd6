"""The resource model applied to a design: per layer from its netlist stages, and the fit check of the balancer.

fpgaflow.backends.rtl.resource_model models one library module from its parameters; this module reads
those parameters off the generated netlist (so the model sees exactly the instances and
memory styles the top has) and adds them up by layer. Stages that belong to no layer (the
DMA converters) are grouped under TOP_GROUP.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fpgaflow.backends.rtl.resource_model import module_resources
from fpgaflow.flow.resources import Resources, overflow, total
from fpgaflow.backends.rtl.netlist import Stage

TOP_GROUP = "(top)"
"""Group of the stages outside every layer: DMA word / pixel converters."""

ENGINE_MODULE = "sparse_conv_engine"


def stage_parameters(stage: Stage) -> dict[str, int | str]:
    """A stage's parameters as values again: quoted literals are strings, the rest integers."""
    return {name: value[1:-1] if value.startswith('"') else int(value) for name, value in stage.parameters}


def stage_resources(stage: Stage, family: str = "zynq7") -> Resources:
    return module_resources(stage.module, stage_parameters(stage), family)


def group_resources(stages: list[Stage], owner: Mapping[str, str], family: str = "zynq7") -> dict[str, Resources]:
    """Modelled resources per layer (stage instance -> layer in `owner`), TOP_GROUP for the rest."""
    groups: dict[str, list[Resources]] = {}
    for stage in stages:
        groups.setdefault(owner.get(stage.instance, TOP_GROUP), []).append(stage_resources(stage, family))
    return {name: total(items) for name, items in groups.items()}


EngineAt = Callable[[str, int, int], Resources]
"""engine(layer name, P, LUT lanes) -> the modelled resources of the layer's sparse engine with P lanes,
the last `LUT lanes` of them multiplying in LUTs (rtl/lut_multiplier.sv)."""


BALANCE_LIMIT = 0.85
"""Share of each resource the balancer fills at most: the model is an estimate (docs/build.md
gives its error against Yosys) and a part filled beyond about 85 % of its LUTs rarely places and routes."""


Overflowing = Callable[[Mapping[str, int], float], list[str]]
"""overflowing(P per layer, limit) -> the resource kinds whose use exceeds `limit` of the board's."""
LaneSplit = Callable[[Mapping[str, int]], dict[str, int]]
"""lut_lanes(P per layer) -> LUT lanes per layer (fit_check's split of the lanes between DSPs and LUTs)."""


def fit_check(stages: list[Stage], capacity: Mapping[str, int], engine: EngineAt, family: str = "zynq7",
              lut_capable: frozenset[str] = frozenset()) -> tuple[Overflowing, LaneSplit]:
    """The overflow check of a design as a function of its lanes per layer, and the split of those lanes.

    `stages` is a netlist of the design at any P: everything but the engines keeps its
    resources when P changes, so it is counted once, and the engines come from `engine`.
    Lanes multiply on DSPs while BALANCE_LIMIT of the board's DSPs last; the lanes beyond go
    to LUT multipliers in the layers of `lut_capable` (narrow operands: the resource model's
    lut_multiplier_allowed). The layers that cannot take LUT lanes get their DSPs first, then
    the others in the order of what a LUT lane costs them (the dearest first, so the DSPs
    save the most LUTs). The split depends on the lanes only, never on the limit, so the
    balancer's check and the design's report see the same engines.
    """
    fixed = total([stage_resources(s, family) for s in stages if s.module != ENGINE_MODULE])
    dsp_budget = int(capacity.get("dsp", 0) * BALANCE_LIMIT) - fixed.dsp

    def lut_lanes(lanes: Mapping[str, int]) -> dict[str, int]:
        def lut_lane_cost(name: str) -> int:
            return engine(name, 1, 1).lut - engine(name, 1, 0).lut

        order = sorted(lanes, key=lambda name: (name in lut_capable, -lut_lane_cost(name) if name in lut_capable else 0, name))
        left = dsp_budget
        split: dict[str, int] = {}
        for name in order:
            p, per_lane = lanes[name], max(1, engine(name, 1, 0).dsp)
            on_dsps = p if name not in lut_capable else min(p, max(0, left) // per_lane)
            split[name] = p - on_dsps
            left -= on_dsps * per_lane
        return split

    def overflowing(lanes: Mapping[str, int], limit: float = 1.0) -> list[str]:
        allowed = {kind: int(count * limit) for kind, count in capacity.items()}
        split = lut_lanes(lanes)
        return overflow(fixed + total([engine(name, p, split[name]) for name, p in sorted(lanes.items())]), allowed)

    return overflowing, lut_lanes
