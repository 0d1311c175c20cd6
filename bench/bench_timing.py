"""Benchmark of the engines' timing: nextpnr-ecp5 fmax and the Yosys longest path per engine of a build.

The digits CNN is planned and generated as `fpgaflow build examples/digits_cnn.onnx --board
pynq --calib examples/digits_train.npz` does (8 bits, the default balanced P, the planner's
window memories); then every sparse_conv_engine of the generated top, one at a time and out of
context:

- is placed and routed with nextpnr-ecp5 on LFE5U-85F-6 at the board clock
  (fpgaflow.report.timing.engine_timing, the code behind `fpgaflow build --timing`), which
  gives its fmax and critical path;
- or, with `--measure placed`, is only placed (fpgaflow.hw.timing.place_and_route with
  route=False) and its fmax is nextpnr's estimate after placement, with the longest path
  of the SDF nextpnr writes after placement (fpgaflow.hw.sdf_paths): a few minutes less
  than routing, and an estimate (12 % and 23 % above the routed fmax of the digits conv2
  and conv3 on 2026-12-01);
- is synthesized with Yosys `synth_xilinx` and its longest register-to-register
  path counted in logic levels (fpgaflow.hw.logic_depth, the measure the lint/synth tests
  bound).

Each engine's row is printed as soon as it is measured (a 1- or 4-lane engine takes a few
minutes, the 61- and 116-lane ones far longer), so a partial run still reports what it
finished.

Rerun:  nice -n 10 python bench/bench_timing.py [--layers NAME ...] [--measure fmax placed depth]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fpgaflow.api import load_model
from fpgaflow.boards import load_board
from fpgaflow.hw.logic_depth import level_counts, longest_path
from fpgaflow.hw.timing import place_and_route
from fpgaflow.hw.toolchain import run_yosys, verilog_literal
from fpgaflow.quant import quantize
from fpgaflow.report.timing import engine_timing
from fpgaflow.backends.rtl.generate import generate_rtl, plan_design

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "digits_cnn.onnx"
ENGINE = "sparse_conv_engine"


def xilinx_depth(rtl_dir: Path, sources: list[str], parameters: dict[str, int | str]) -> str:
    """The engine's longest path on the synth_xilinx netlist, in levels with the cells it crosses."""
    with tempfile.TemporaryDirectory(prefix="fpgaflow_depth_") as scratch:
        work = Path(scratch)
        for path in sorted(rtl_dir.iterdir()):
            if path.is_file():
                (work / path.name).write_bytes(path.read_bytes())
        settings = " ".join(f"-set {name} {verilog_literal(value)}" for name, value in sorted(parameters.items()))
        names = " ".join(Path(s).name for s in sources)
        run_yosys(f"read_verilog -defer -sv {names}\nchparam {settings} {ENGINE}\nhierarchy -top {ENGINE}\n"
                  f"synth_xilinx -family xc7 -top {ENGINE} -flatten -noiopad\nwrite_json mapped.json\n", work)
        depth = longest_path(work / "mapped.json", ENGINE)
    counts = ", ".join(f"{count} {kind}" for kind, count in level_counts(depth).items())
    return f"{depth.levels:g} ({counts})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", nargs="+", help="engines to measure (default: every engine of the build)")
    parser.add_argument("--measure", nargs="+", choices=["fmax", "placed", "depth"], default=["fmax", "depth"],
                        help="fmax: nextpnr-ecp5 place and route; placed: nextpnr's estimate after placement only; "
                             "depth: the synth_xilinx longest path")
    parser.add_argument("--board", default="pynq")
    args = parser.parse_args()
    board = load_board(args.board)
    graph = quantize(load_model(MODEL), np.load(ROOT / "examples" / "digits_train.npz")["x"], 8)
    design = plan_design(graph, board)
    generated = generate_rtl(design)
    engines = generated.engines
    unknown = sorted(set(args.layers or []) - set(engines))
    if unknown:
        raise SystemExit(f"no engine named {', '.join(unknown)}; the engines are {', '.join(sorted(engines))}")
    chosen = sorted(args.layers or engines)
    print(f"digits CNN on {board.name}, window memories {design.window_memory}, frame interval "
          f"{design.frame_interval} cycles (model)\n")
    print("| engine | P | WIN_N / WR_N | K_FIN | fmax (MHz) | logic / routing (ns) | critical path | fmax after placement (MHz) "
          "| longest path (synth_xilinx levels) |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="fpgaflow_timing_") as scratch:
        folder = Path(scratch)
        for relpath, content in generated.files.items():
            (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
            (folder / relpath).write_bytes(content)
        rtl_dir = folder / "rtl"
        for layer in chosen:
            parameters = engines[layer]
            started = time.perf_counter()
            timing = (engine_timing(rtl_dir, generated.sources, {layer: parameters}, board.clock_mhz, 1.0)["engines"][layer]
                      if "fmax" in args.measure else None)
            estimate = (place_and_route(rtl_dir, generated.sources, ENGINE, parameters, board.clock_mhz, route=False)
                        if "placed" in args.measure else None)
            placed = f"{estimate.fmax_mhz:.1f}" if estimate else "-"
            depth = xilinx_depth(rtl_dir, generated.sources, parameters) if "depth" in args.measure else "-"
            window = int(parameters["BEAT_N"]) * int(parameters.get("BEATS", 1))
            # the routed path where there is one, else the longest path after placement
            cells = timing["critical_path"] if timing else (estimate.critical_path if estimate else [])
            path = " -> ".join(cells[:2] + (["..."] if len(cells) > 3 else []) + cells[-1:]) or "-"
            fmax = f"{timing['fmax_mhz']:.1f} | {timing['logic_ns']:.2f} / {timing['routing_ns']:.2f}" if timing else "- | -"
            print(f"| {layer} | {parameters['P']} | {window} / {parameters.get('WR_N', 1)} | {parameters.get('K_FIN', 1)} "
                  f"| {fmax} | {path} | {placed} | {depth} |", flush=True)
            print(f"  ({layer}: {time.perf_counter() - started:.0f} s; critical path {' -> '.join(cells)}; "
                  f"parameters {json.dumps(parameters, sort_keys=True)})",
                  file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
