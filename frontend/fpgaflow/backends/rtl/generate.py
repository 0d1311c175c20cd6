"""The generator: a quantized IR graph to a Design (P, cycles, memory) and the files of OUT/rtl/.

plan_design decides; generate_rtl writes. The netlist walks the hardware layers in
order: the DMA words become the input's pixel beats, each layer becomes its stages
(fpgaflow.backends.rtl.stages), a tensor read by several layers is split by a broadcast with a
FIFO per branch, and the output's pixel beats become DMA words again. Everything is
iterated in graph order or sorted, and no path or time is written, so the same graph
gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fpgaflow.boards import Board
from fpgaflow.backends.rtl.resource_model import WINDOW_MEMORY_POLICIES, engine_styles, lut_multiplier_allowed, module_resources
from fpgaflow.flow.resources import Resources
from fpgaflow.ir.graph import Graph
from fpgaflow.names import sanitize_identifier
from fpgaflow.backends.rtl import stages
from fpgaflow.flow.design import Design, EngineChoice
from fpgaflow.flow.layer_plan import LayerPlan, plan_graph
from fpgaflow.flow.ops import contract_of
from fpgaflow.flow.ops.sparse_engine import engine_image
from fpgaflow.backends.rtl.library import required_files
from fpgaflow.backends.rtl.netlist import TOP_TEMPLATE, Netlist, render_top
from fpgaflow.flow.parallelism import resolve_parallelism
from fpgaflow.backends.rtl.netlist_resources import (BALANCE_LIMIT, ENGINE_MODULE, LaneSplit, Overflowing, fit_check, group_resources,
                                                     stage_parameters)
from fpgaflow.backends.rtl.templates import Override, Templates
from fpgaflow.backends.rtl.netlist import Tap

RTL_DIR = "rtl"


@dataclass
class GeneratedRtl:
    """The files of OUT/rtl/ (relative path -> bytes), the top's name, compile order, layer taps and
    the modelled resources per layer (fpgaflow.backends.rtl.netlist_resources.TOP_GROUP for the DMA converters),
    the files taken from a template override folder and the layers whose modules an override
    changed without keeping the models' contract (their cycles and resources are measured only)."""

    top: str
    files: dict[str, bytes]
    sources: list[str]
    taps: list[Tap]
    layer_resources: dict[str, Resources]
    engines: dict[str, dict[str, int | str]]
    """Layer name -> the parameters of its sparse_conv_engine instance (what --timing places and routes)."""
    overrides: list[Override]
    measured_only: list[str]


def top_name(graph: Graph) -> str:
    """The top module's name: the sanitized model name with _top (never a raw model string)."""
    return sanitize_identifier(f"{graph.name}_top", set(stages.reserved_names()))


def plan_design(
    graph: Graph,
    board: Board,
    everywhere: int | None = None,
    per_layer: Mapping[str, int] | None = None,
    store_zeros: bool = False,
) -> Design:
    """Choose P for every compute layer and record each stage's modelled cycles and weight memory.

    The balancer grows P only while the resource model (fpgaflow.backends.rtl.resource_model) says the whole
    design still fits the board; lanes beyond the DSPs multiply in LUTs where the operands
    are narrow (fit_check's split, recorded per layer as EngineChoice.lut_lanes). The design
    records what overflows with the chosen P and with P = 1 everywhere. store_zeros keeps zero weights in the ROMs (a dense engine, the
    benchmark's baseline).
    """
    plans = plan_graph(graph)
    candidates = [_balanced(graph, board, plans, everywhere, per_layer, store_zeros, policy) for policy in WINDOW_MEMORY_POLICIES]
    # the faster design; on a tie the first policy (window memories by shape)
    return min(candidates, key=lambda design: (bool(design.overflow), design.frame_interval))


def _balanced(graph: Graph, board: Board, plans: list[LayerPlan], everywhere: int | None,
              per_layer: Mapping[str, int] | None, store_zeros: bool, window_memory: str) -> Design:
    """The balanced design with the engines' window memories placed by one policy."""
    compute = {plan.name: plan for plan in plans if plan.is_compute}
    overflowing, lut_lanes = _fit_check(graph, board, plans, store_zeros, window_memory)
    lanes = resolve_parallelism(
        {name: contract_of(plan).useful_lanes(plan, store_zeros) for name, plan in compute.items()},
        lambda name, p: contract_of(compute[name]).cycles(compute[name], p, store_zeros),
        lambda chosen: not overflowing(chosen, BALANCE_LIMIT),
        everywhere,
        per_layer,
    )
    all_lanes = {name: lanes.get(name, 1) for name in compute}
    design = _design(graph, board, plans, lanes, store_zeros, window_memory, lut_lanes(all_lanes))
    design.overflow = overflowing(all_lanes, 1.0)
    design.overflow_at_one = overflowing({name: 1 for name in compute}, 1.0)
    return design


def _design(graph: Graph, board: Board, plans: list[LayerPlan], lanes: Mapping[str, int], store_zeros: bool,
            window_memory: str = "auto", lut_lanes: Mapping[str, int] | None = None) -> Design:
    engines = {}
    for plan in plans:
        p = lanes.get(plan.name, 1)
        contract = contract_of(plan)
        dense_bits, stored_bits = contract.weight_bits(plan, p, store_zeros)
        engines[plan.name] = EngineChoice(
            parallelism=p,
            lut_lanes=(lut_lanes or {}).get(plan.name, 0),
            cycles_model=contract.cycles(plan, p, store_zeros),
            weight_bits_dense=dense_bits,
            weight_bits_stored=stored_bits,
        )
    return Design(graph=graph, board=board, plans=plans, engines=engines, store_zeros=store_zeros, window_memory=window_memory)


def _fit_check(graph: Graph, board: Board, plans: list[LayerPlan], store_zeros: bool,
               window_memory: str) -> tuple[Overflowing, LaneSplit]:
    """The overflow check of the design by lanes and the split of its lanes between DSPs and LUT multipliers:
    a netlist at P = 1 (all but the engines) and the engine model."""
    compute = {plan.name: plan for plan in plans if plan.is_compute}
    stages_at_one = build_layered_netlist(_design(graph, board, plans, {}, store_zeros, window_memory)).netlist.stages

    def params_at(name: str, p: int) -> dict[str, int | str]:
        params: dict[str, int | str] = dict(engine_image(compute[name], p, store_zeros).parameters)
        params.update(engine_styles(params, board.resources, window_memory))
        return params

    def engine(name: str, p: int, lut_lanes: int) -> Resources:
        return module_resources(ENGINE_MODULE, {**params_at(name, p), "LUT_LANES": lut_lanes}, board.family)

    narrow = frozenset(name for name in compute
                       if lut_multiplier_allowed(params_at(name, 1), board.resources, board.family))
    return fit_check(stages_at_one, board.resources, engine, board.family, narrow)


@dataclass
class LayeredNetlist:
    """A design's netlist, its memory files, its layer taps and the layer each stage instance belongs to."""

    netlist: Netlist
    memory_files: dict[str, bytes]
    taps: list[Tap]
    owner: dict[str, str]


def build_layered_netlist(design: Design) -> LayeredNetlist:
    """The netlist of the top, walking the layers in order and noting which layer added each stage."""
    graph = design.graph
    netlist = Netlist(top=top_name(graph), model=top_name(graph), dma_width=design.board.dma_data_width)
    builder = stages.StageBuilder(netlist, design)
    builder.dma_input(graph.inputs[0])
    owner: dict[str, str] = {}
    for plan in design.plans:
        first = len(netlist.stages)
        builder.layer(plan)
        owner.update((stage.instance, plan.name) for stage in netlist.stages[first:])
    builder.dma_output(graph.hardware_outputs[0])
    return LayeredNetlist(netlist, builder.memory_files, builder.taps, owner)


def build_netlist(design: Design) -> tuple[Netlist, dict[str, bytes], list[Tap]]:
    """The netlist of the top, the generated memory files (name -> bytes) and one tap per layer stage."""
    built = build_layered_netlist(design)
    return built.netlist, built.memory_files, built.taps


def generate_rtl(design: Design, templates: Templates = Templates()) -> GeneratedRtl:
    """Render the top, the memory files and copies of the library modules it needs.

    `templates` says where each file comes from: a user's override folder first, then
    the shipped rtl/ (fpgaflow.backends.rtl.templates).
    """
    built = build_layered_netlist(design)
    netlist, memory_files, taps = built.netlist, built.memory_files, built.taps
    rtl_dirs = templates.rtl_dirs()
    files: dict[str, bytes] = {}
    library = required_files(netlist.modules, rtl_dirs)
    for path in library:
        files[f"{RTL_DIR}/{path.name}"] = path.read_bytes()
    for name, content in sorted(memory_files.items()):
        files[f"{RTL_DIR}/{name}"] = content
    top_file = f"{RTL_DIR}/{netlist.top}.sv"
    files[top_file] = render_top(netlist, rtl_dirs).encode()
    sources = [f"{RTL_DIR}/{path.name}" for path in library] + [top_file]
    # The shipped closure too: an override that lost a module's name drops out of its own closure.
    used = sorted({path.name for path in [*library, *required_files(netlist.modules)]} | {TOP_TEMPLATE})
    overrides = [found for name in used if (found := templates.override_of(f"{RTL_DIR}/{name}")) is not None]
    engines = {built.owner[stage.instance]: stage_parameters(stage) for stage in netlist.stages if stage.module == ENGINE_MODULE}
    layer_resources = group_resources(netlist.stages, built.owner, design.board.family)
    return GeneratedRtl(top=netlist.top, files=files, sources=sources, taps=taps,
                        layer_resources=layer_resources, engines=engines, overrides=overrides,
                        measured_only=_measured_only(netlist, built.owner, overrides, rtl_dirs))


def _measured_only(netlist: Netlist, owner: dict[str, str], overrides: list[Override], rtl_dirs: list[Path]) -> list[str]:
    """Layers that use (directly or through another module) an override that does not declare it keeps the contract."""
    changed = {Path(o.relpath).name for o in overrides if not o.keeps_contract}
    if not changed:
        return []
    modules_of: dict[str, set[str]] = {}
    for stage in netlist.stages:
        if stage.instance in owner:
            modules_of.setdefault(owner[stage.instance], set()).add(stage.module)
    return sorted(
        layer for layer, modules in modules_of.items()
        if changed & {path.name for path in required_files(sorted(modules), rtl_dirs)}
    )

