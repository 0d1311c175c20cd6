"""The build folder: the back ends' files, the IR copy, design.json and the reports; verify a build.

`fpgaflow build` and `fpgaflow verify` are thin wrappers around the functions here:
build_design writes the back ends named in BuildOptions.backends (the RTL one always),
verify_backends checks the named back ends against the reference. design.json records what verification needs (top name, sources, the stream of every
layer, the board), so `fpgaflow verify DIR` works from the folder alone.
"""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fpgaflow.boards import Board, load_board
from fpgaflow.deploy.driver import write_driver, write_golden
from fpgaflow.deploy.vivado import write_vivado
from fpgaflow.inputs import load_batch
from fpgaflow.progress import step
from fpgaflow.ir.graph import Graph
from fpgaflow.ir.serialize import GRAPH_FILE, WEIGHTS_FILE, load_graph, save_graph
from fpgaflow.outdir import OutputDir
from fpgaflow.reference.fixed_exec import run_fixed
from fpgaflow.report.build_report import build_report, left_out_line
from fpgaflow.report.hardware import interface_entry, summary_lines, timing_entry
from fpgaflow.report.timing import engine_timing
from fpgaflow.report.resource_estimates import estimate_resources, model_summary, overflow_message
from fpgaflow.flow.design import Design
from fpgaflow.flow.dma import frame_words
from fpgaflow.backends.rtl.generate import generate_rtl, plan_design
from fpgaflow.backends.rtl.templates import Templates, check_overrides
from fpgaflow.hw.module_interface import module_interface
from fpgaflow.backends.rtl.netlist import Tap
from fpgaflow.backends.rtl.verify import VerifyResult, cycle_budget, run_verification
from fpgaflow.backends.hls.build import verify_hls, write_hls
from fpgaflow.build_folder import DESIGN_FILE, GOLDEN_FRAMES, IR_DIR, REPORT_FILE, verify_inputs, write_reports

BACKENDS = ("rtl", "hls")
"""The back ends a build can write. The RTL one always runs (the report, the driver and the
Vivado project describe its top); the others follow it from the same Design."""


@dataclass(frozen=True)
class BuildOptions:
    board: Board
    bits: int
    everywhere: int | None = None
    per_layer: dict[str, int] | None = None
    synthesize: bool = False
    store_zeros: bool = False
    timing: bool = False
    templates: Templates = Templates()
    backends: tuple[str, ...] = ("rtl",)
    """Back ends to write, from BACKENDS; "rtl" is always written."""


def build_design(graph: Graph, options: BuildOptions, out: OutputDir) -> Design:
    """Write rtl/, ir/, design.json, report.json, report.md and the plots for a quantized graph."""
    design = plan_design(graph, options.board, options.everywhere, options.per_layer, options.store_zeros)
    generated = generate_rtl(design, options.templates)
    for relpath, content in sorted(generated.files.items()):
        out.write_bytes(relpath, content)
    check_overrides(options.templates, generated.overrides, out.path("rtl"), [out.path(s) for s in generated.sources],
                    generated.top)
    design.overrides = generated.overrides
    design.measured_only = generated.measured_only
    out.file(f"{IR_DIR}/{WEIGHTS_FILE}")
    save_graph(graph, out.file(f"{IR_DIR}/{GRAPH_FILE}").parent)
    model = model_summary(options.board, generated.layer_resources, design.overflow_at_one)
    warning = overflow_message(options.board, model)
    if warning is not None:
        print(f"warning: {warning}", file=sys.stderr)
    with step("estimate resources (yosys synth_xilinx)") if options.synthesize else contextlib.nullcontext():
        design.resources = estimate_resources(
            options.board, model, out.path("rtl"), generated.top, generated.sources, run=options.synthesize
        )
    setup = {
        "board": options.board.name,
        "bits": options.bits,
        "top": generated.top,
        "sources": generated.sources,
        "taps": [tap.to_dict() for tap in generated.taps],
    }
    out.write_text(DESIGN_FILE, json.dumps(setup, indent=1, sort_keys=True) + "\n")
    report = build_report(design, options.bits)
    ports = module_interface([out.path(source) for source in generated.sources], generated.top)
    report["interface"] = interface_entry(graph, options.board, generated.top, ports)
    if options.timing:
        report["timing"] = engine_timing(out.path("rtl"), generated.sources, generated.engines, options.board.clock_mhz,
                                         report["totals"]["frames_per_second"])
    else:
        report["timing"] = timing_entry()
    for entry in report["left_out_of_hardware"]:
        print(f"note: {left_out_line(entry)}", file=sys.stderr)
    write_reports(out, report)
    write_driver(out, graph, options.board, generated.top)
    memories = sorted(relpath for relpath in generated.files if relpath.endswith(".mem"))
    write_vivado(out, graph, options.board, generated.top, generated.sources, memories)
    golden, _ = verify_inputs(graph, GOLDEN_FRAMES, None)
    write_golden(out, golden, run_fixed(graph, golden)[graph.hardware_outputs[0]], simulated=False)
    if "hls" in options.backends:
        write_hls(out, design, generated.top)
    return design


def print_summary(folder: Path) -> None:
    """The build at a glance on the terminal (fpgaflow.report.hardware.summary_lines of its report.json)."""
    for line in summary_lines(json.loads((folder / REPORT_FILE).read_text()), str(folder)):
        print(line)


def _dma_words_per_frame(graph: Graph, dma_width: int) -> int:
    """DMA words of the larger of an input and an output frame (the bench moves one word per cycle at best)."""
    words = []
    for tensor in (graph.inputs[0], graph.hardware_outputs[0]):
        shape, ftype = graph.tensors[tensor].shape, graph.tensors[tensor].ftype
        assert ftype is not None
        words.append(frame_words(tuple(shape), ftype.width, dma_width))
    return max(words)


def verify_build(out: OutputDir, frames: int, calibration: np.ndarray | None, calib_path: Path | None = None) -> VerifyResult:
    """Simulate the build in `out` on `frames` frames, write verify/*.npy and the `verify` report entry."""
    setup = json.loads(out.path(DESIGN_FILE).read_text())
    graph = load_graph(out.path(IR_DIR))
    if calib_path is not None:
        calibration = load_batch(calib_path, graph, "calibration")
    codes, input_saturated = verify_inputs(graph, frames, calibration)
    taps = [Tap(t["layer"], t["tensor"], t["out"], t["work"]) for t in setup["taps"]]
    board = load_board(setup["board"])
    sources = [out.path(relpath) for relpath in setup["sources"]]
    work = out.work_dir("verify/sim")
    report = json.loads(out.path(REPORT_FILE).read_text())
    budget = cycle_budget(len(codes), report["totals"]["cycles_per_frame"], report["totals"]["latency_cycles"],
                          _dma_words_per_frame(graph, board.dma_data_width))
    with step(f"simulate {len(codes)} frames in Verilator"):
        result = run_verification(
            graph, setup["top"], sources, taps, board.dma_data_width, codes, work, budget, input_saturated=input_saturated
        )
    warning = result.saturation.warning()
    if warning is not None:
        advice = (
            "the verify inputs are seeded random codes over the whole input format; pass --calib to verify on your data"
            if calibration is None
            else "quantize on calibration data that covers these inputs"
        )
        print(f"warning: {warning}; {advice}", file=sys.stderr)
    np.save(out.file("verify/inputs.npy"), codes)
    np.save(out.file("verify/expected.npy"), result.expected_codes)
    np.save(out.file("verify/rtl.npy"), result.rtl_codes)
    write_golden(out, codes, result.expected_codes, simulated=result.mismatches == 0)
    report["verify"] = result.report()
    write_reports(out, report)
    status = "bit-exact" if result.mismatches == 0 else f"{result.mismatches} mismatching frames; {result.first_mismatch}"
    print(f"verify: {result.frames} frames, {status}")
    return result


def verify_backends(out: OutputDir, frames: int, calibration: np.ndarray | None, backends: tuple[str, ...],
                    calib_path: Path | None = None) -> int:
    """Check each named back end of the build in `out` against the reference on `frames` frames (the RTL in
    Verilator, the HLS C++ in its g++ C simulation); the number of mismatching frames over all of them."""
    verifiers = {"rtl": verify_build, "hls": verify_hls}
    return sum(verifiers[name](out, frames, calibration, calib_path).mismatches for name in backends)
