"""What a hardware engineer needs from a build besides the per-layer tables: the top's interface,
the words a frame takes on the DMA, the timing result, and a summary with the next steps.

The interface is read from the generated top with Verilator's parser (a template override
may change it); the summary is rendered from report.json's dict, so the terminal and
report.md say the same thing.
"""

from __future__ import annotations

from typing import Any

from fpgaflow.boards import Board
from fpgaflow.ir.graph import Graph
from fpgaflow.report.build_report import left_out_line
from fpgaflow.flow.dma import frame_words
from fpgaflow.hw.module_interface import Interface

NOT_MEASURED = "not measured"
"""What the report shows for a figure no step of this build measured."""


def _stream(graph: Graph, tensor: str, dma_width: int) -> dict[str, Any]:
    """One side of the top: the tensor, its shape and code format, its pixel beat and its DMA words per frame."""
    info = graph.tensors[tensor]
    assert info.ftype is not None
    shape = tuple(info.shape)
    return {
        "tensor": tensor,
        "shape": list(shape),
        "format": {"signed": info.ftype.signed, "width": info.ftype.width, "frac": info.ftype.frac},
        "pixel_bits": shape[0] * info.ftype.width,
        "dma_words_per_frame": frame_words(shape, info.ftype.width, dma_width),
    }


def interface_entry(graph: Graph, board: Board, top: str, ports: Interface) -> dict[str, Any]:
    """report.json's `interface`: the top module, its ports as elaborated, and both streams."""
    return {
        "top": top,
        "ports": [{"name": name, "direction": direction, "width": ports.widths[name]} for name, direction in ports.ports.items()],
        "dma_data_width": board.dma_data_width,
        "input": _stream(graph, graph.inputs[0], board.dma_data_width),
        "output": _stream(graph, graph.hardware_outputs[0], board.dma_data_width),
    }


def timing_entry() -> dict[str, Any]:
    """report.json's `timing`: the maximum clock of the placed and routed top, where a timing run measured it.

    No step of fpgaflow measures it yet, so fmax is null; the frames per second at fmax
    follow from it and the modelled frame interval once it exists.
    """
    return {"fmax_mhz": None, "frames_per_second_at_fmax": None, "method": NOT_MEASURED}


def _fmt(fmt: dict[str, Any]) -> str:
    return f"{'s' if fmt['signed'] else 'u'}{fmt['width']}.{fmt['frac']}"


def _ports_line(ports: list[dict[str, Any]]) -> str:
    return ", ".join(f"{p['direction']} {p['name']}" + (f"[{p['width'] - 1}:0]" if p["width"] > 1 else "") for p in ports)


def _side(name: str, side: dict[str, Any], dma_width: int) -> str:
    shape = "x".join(map(str, side["shape"]))
    return (f"{name}: {side['tensor']} {shape} codes {_fmt(side['format'])}, {side['pixel_bits']}-bit pixel beats, "
            f"{side['dma_words_per_frame']} DMA words of {dma_width} bits per frame")


def summary_lines(report: dict[str, Any], folder: str = "OUT") -> list[str]:
    """The build at a glance: interface, rates, resources, what is left out, what to do next (no markup)."""
    board, totals = report["board"], report["totals"]
    clock = board["clock_mhz"]
    lines = []
    interface = report.get("interface")
    if interface:
        lines += [
            f"top module {interface['top']} (rtl/{interface['top']}.sv): {_ports_line(interface['ports'])}",
            _side("input", interface["input"], interface["dma_data_width"]),
            _side("output", interface["output"], interface["dma_data_width"]),
        ]
    verify = report.get("verify") or {}
    measured = verify.get("frame_interval_measured")
    interval = f"frame interval {totals['cycles_per_frame']} cycles modelled (bottleneck {totals['bottleneck']})"
    interval += f", {measured:g} measured in simulation" if measured else f", {NOT_MEASURED} (add --verify N)"
    lines.append(interval)
    lines.append(f"latency at most {totals['latency_cycles']} cycles = {totals['latency_us']:.1f} us at {clock:g} MHz")
    rate = f"frames/s at the board clock {clock:g} MHz: {totals['frames_per_second']:.0f} modelled"
    if measured:
        rate += f", {clock * 1e6 / measured:.0f} measured"
    lines.append(rate)
    timing = report.get("timing") or {}
    if timing.get("fmax_mhz"):
        lines.append(f"fmax {timing['fmax_mhz']:.1f} MHz ({timing['method']}): {timing['frames_per_second_at_fmax']:.0f} frames/s")
    else:
        lines.append(f"fmax: {NOT_MEASURED}")
    lines += _resource_lines(report.get("resources") or {})
    measured_only = [layer["name"] for layer in report["layers"] if layer.get("measured_only")]
    if measured_only:
        lines.append(f"the modelled figures count the shipped modules; {len(measured_only)} layers use an edited module "
                     "without the keeps-contract mark, so trust the measured interval (--verify) and Yosys (--synth)")
    lines += [left_out_line(entry) for entry in report.get("left_out_of_hardware", [])]
    lines += _next_steps(report, folder)
    return lines


def _resource_lines(resources: dict[str, Any]) -> list[str]:
    if not resources:
        return []
    available = resources["available"]
    lines = []
    for label, counts in (("model", resources["model"]["used"]), ("yosys", (resources.get("synth") or {}).get("used"))):
        if counts is None:
            continue
        used = ", ".join(f"{kind} {counts.get(kind, 0)}/{available[kind]} ({counts.get(kind, 0) / available[kind]:.0%})"
                         for kind in sorted(available) if available[kind])
        lines.append(f"resources ({label}): {used}")
    if resources.get("synth") is None:
        lines.append("resources (yosys): not run (add --synth)")
    return lines


def _next_steps(report: dict[str, Any], folder: str) -> list[str]:
    steps = []
    if not report.get("verify"):
        steps.append(f"fpgaflow verify {folder} --frames 16   (bit-exact check in Verilator)")
    steps += [
        f"source <Vivado 2022.1>/settings64.sh && bash {folder}/vivado/build_bitstream.sh   (bitstream, timing report)",
        f"scp -r {folder}/driver xilinx@<board>:   then on the board: cd driver && sudo python3 -m fpgaflow_driver --selftest",
        "the driver: driver/fpgaflow_driver (Accelerator().predict(x)); the steps: docs/deploy.md",
    ]
    return ["next:"] + [f"  {n}. {step}" for n, step in enumerate(steps, 1)]
