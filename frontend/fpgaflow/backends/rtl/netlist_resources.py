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


EngineAt = Callable[[str, int], Resources]
"""engine(layer name, P) -> the modelled resources of the layer's sparse engine with P lanes."""


BALANCE_LIMIT = 0.85
"""Share of each resource the balancer fills at most: the model is an estimate (docs/build.md
gives its error against Yosys) and a part filled beyond about 85 % of its LUTs rarely places and routes."""


Overflowing = Callable[[Mapping[str, int], float], list[str]]
"""overflowing(P per layer, limit) -> the resource kinds whose use exceeds `limit` of the board's."""


def fit_check(stages: list[Stage], capacity: Mapping[str, int], engine: EngineAt, family: str = "zynq7") -> Overflowing:
    """The overflow check of a design as a function of its lanes per layer.

    `stages` is a netlist of the design at any P: everything but the engines keeps its
    resources when P changes, so it is counted once, and the engines come from `engine`.
    """
    fixed = total([stage_resources(s, family) for s in stages if s.module != ENGINE_MODULE])

    def overflowing(lanes: Mapping[str, int], limit: float = 1.0) -> list[str]:
        allowed = {kind: int(count * limit) for kind, count in capacity.items()}
        return overflow(fixed + total([engine(name, p) for name, p in sorted(lanes.items())]), allowed)

    return overflowing
