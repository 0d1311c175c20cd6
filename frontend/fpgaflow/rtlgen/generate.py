"""The generator: a quantized IR graph to a Design (P, cycles, memory) and the files of OUT/rtl/.

plan_design decides; generate_rtl writes. The netlist walks the hardware layers in
order: the DMA words become the input's pixel beats, each layer becomes its stages
(fpgaflow.rtlgen.stages), a tensor read by several layers is split by a broadcast with a
FIFO per branch, and the output's pixel beats become DMA words again. Everything is
iterated in graph order or sorted, and no path or time is written, so the same graph
gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fpgaflow.boards import Board
from fpgaflow.ir.graph import Graph
from fpgaflow.names import sanitize_identifier
from fpgaflow.rtlgen import stages
from fpgaflow.rtlgen.design import Design, EngineChoice
from fpgaflow.rtlgen.layer_plan import plan_graph
from fpgaflow.rtlgen.library import required_files
from fpgaflow.rtlgen.netlist import Netlist, render_top
from fpgaflow.rtlgen.parallelism import resolve_parallelism
from fpgaflow.rtlgen.verify import Tap

RTL_DIR = "rtl"


@dataclass
class GeneratedRtl:
    """The files of OUT/rtl/ (relative path -> bytes), the top's name, compile order and layer taps."""

    top: str
    files: dict[str, bytes]
    sources: list[str]
    taps: list[Tap]


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

    store_zeros keeps zero weights in the ROMs (a dense engine, the benchmark's baseline).
    """
    plans = plan_graph(graph)
    compute = {plan.name: plan for plan in plans if plan.is_compute}
    lanes = resolve_parallelism(
        {name: stages.useful_lanes(plan, store_zeros) for name, plan in compute.items()},
        lambda name, p: stages.stage_cycles(compute[name], p, store_zeros),
        board.resources["dsp"],
        everywhere,
        per_layer,
    )
    engines = {}
    for plan in plans:
        p = lanes.get(plan.name, 1)
        dense_bits, stored_bits = stages.weight_memory_bits(plan, p, store_zeros)
        engines[plan.name] = EngineChoice(
            parallelism=p,
            cycles_model=stages.stage_cycles(plan, p, store_zeros),
            weight_bits_dense=dense_bits,
            weight_bits_stored=stored_bits,
        )
    return Design(graph=graph, board=board, plans=plans, engines=engines, store_zeros=store_zeros)


def build_netlist(design: Design) -> tuple[Netlist, dict[str, bytes], list[Tap]]:
    """The netlist of the top, the generated memory files (name -> bytes) and one tap per layer stage."""
    graph = design.graph
    netlist = Netlist(top=top_name(graph), model=top_name(graph), dma_width=design.board.dma_data_width)
    builder = stages.StageBuilder(netlist, design)
    builder.dma_input(graph.inputs[0])
    for plan in design.plans:
        builder.layer(plan)
    builder.dma_output(graph.hardware_outputs[0])
    return netlist, builder.memory_files, builder.taps


def generate_rtl(design: Design) -> GeneratedRtl:
    """Render the top, the memory files and copies of the library modules it needs."""
    netlist, memory_files, taps = build_netlist(design)
    files: dict[str, bytes] = {}
    library = required_files(netlist.modules)
    for path in library:
        files[f"{RTL_DIR}/{path.name}"] = path.read_bytes()
    for name, content in sorted(memory_files.items()):
        files[f"{RTL_DIR}/{name}"] = content
    top_file = f"{RTL_DIR}/{netlist.top}.sv"
    files[top_file] = render_top(netlist).encode()
    sources = [f"{RTL_DIR}/{path.name}" for path in library] + [top_file]
    return GeneratedRtl(top=netlist.top, files=files, sources=sources, taps=taps)

