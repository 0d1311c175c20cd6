"""`build --hls` and `verify --hls`: write OUT/hls/, and check its C simulation against the reference.

The HLS top has the RTL top's name (design.json's `top`) and uses the design record's P per
layer, so the two back ends of one build describe the same pipeline. OUT/hls/tb_data/ holds
the golden frames (the build's seeded random codes and the reference's outputs) that
build_prj.tcl's C simulation and co-simulation compare against.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fpgaflow.backends.hls.csim import compile_testbench, run_testbench, write_frames
from fpgaflow.backends.hls.estimate import hls_estimate
from fpgaflow.backends.hls.generate import generate_hls
from fpgaflow.errors import UserError
from fpgaflow.inputs import load_batch
from fpgaflow.ir.serialize import load_graph
from fpgaflow.outdir import OutputDir
from fpgaflow.progress import step
from fpgaflow.reference.fixed_exec import run_fixed
from fpgaflow.build_folder import DESIGN_FILE, GOLDEN_FRAMES, IR_DIR, REPORT_FILE, verify_inputs, write_reports
from fpgaflow.flow.design import Design

HLS_DIR = "hls"
CSIM_DIR = "verify/hls_csim"


def write_hls(out: OutputDir, design: Design, top: str) -> None:
    """OUT/hls/ for a planned design, tb_data/ with golden frames, and report.json's `hls` estimates."""
    lanes = {name: choice.parallelism for name, choice in design.engines.items()}
    generated = generate_hls(design.graph, design.board, top, lanes, design.store_zeros)
    for relpath, text in sorted(generated.files.items()):
        out.write_text(f"{HLS_DIR}/{relpath}", text)
    golden, _ = verify_inputs(design.graph, GOLDEN_FRAMES, None)
    write_frames(out.file(f"{HLS_DIR}/tb_data/inputs.txt"), golden)
    write_frames(out.file(f"{HLS_DIR}/tb_data/expected.txt"), run_fixed(design.graph, golden)[design.graph.hardware_outputs[0]])
    report = json.loads(out.path(REPORT_FILE).read_text())
    report["hls"] = hls_estimate(generated.layers, report, design.board.clock_mhz)
    write_reports(out, report)


@dataclass(frozen=True)
class HlsVerifyResult:
    frames: int
    mismatches: int
    first_mismatch: str | None
    compile_seconds: float
    run_seconds: float

    def report(self) -> dict[str, Any]:
        """report.json's `verify.hls` entry."""
        return {"frames": self.frames, "mismatches": self.mismatches, "first_mismatch": self.first_mismatch,
                "compiler": "g++ with hls4ml's ap_types", "compile_seconds": round(self.compile_seconds, 2),
                "csim_frames_per_second": round(self.frames / self.run_seconds, 1) if self.run_seconds else None}


def _first_mismatch(got: np.ndarray, want: np.ndarray) -> tuple[int, str | None]:
    flat_got, flat_want = got.reshape(len(got), -1), want.reshape(len(want), -1)
    bad = np.flatnonzero((flat_got != flat_want).any(axis=1))
    if bad.size == 0:
        return 0, None
    frame = int(bad[0])
    code = int(np.flatnonzero(flat_got[frame] != flat_want[frame])[0])
    index = np.unravel_index(code, want.shape[1:])
    return int(bad.size), (f"frame {frame}, output {tuple(int(i) for i in index)}: C simulation {int(flat_got[frame, code])}, "
                           f"reference {int(flat_want[frame, code])}")


def verify_hls(out: OutputDir, frames: int, calibration: np.ndarray | None, calib_path: Path | None = None) -> HlsVerifyResult:
    """Compile OUT/hls/ with g++, run its test bench on `frames` frames, compare with run_fixed bit for bit."""
    setup = json.loads(out.path(DESIGN_FILE).read_text())
    top = setup["top"]
    hls_dir = out.path(HLS_DIR)
    if not (hls_dir / f"{top}.cpp").is_file():
        raise UserError(f"{out.root} has no HLS code ({HLS_DIR}/{top}.cpp); build it with `fpgaflow build ... --hls`")
    graph = load_graph(out.path(IR_DIR))
    if calib_path is not None:
        calibration = load_batch(calib_path, graph, "calibration")
    codes, _ = verify_inputs(graph, frames, calibration)
    expected = run_fixed(graph, codes)[graph.hardware_outputs[0]]
    work = out.work_dir(CSIM_DIR)
    with step("compile the HLS C test bench (g++)"):
        compile_seconds = compile_testbench(hls_dir, top, work / "csim")
    with step(f"run {len(codes)} frames in the HLS C simulation"):
        run = run_testbench(work / "csim", codes, tuple(expected.shape[1:]), work)
    mismatches, first = _first_mismatch(run.codes, expected)
    result = HlsVerifyResult(len(codes), mismatches, first, compile_seconds, run.seconds)
    np.save(out.file("verify/inputs.npy"), codes)
    np.save(out.file("verify/expected.npy"), expected)
    np.save(out.file("verify/hls.npy"), run.codes)
    report = json.loads(out.path(REPORT_FILE).read_text())
    report.setdefault("verify", {})["hls"] = result.report()
    write_reports(out, report)
    status = "bit-exact" if mismatches == 0 else f"{mismatches} mismatching frames; {first}"
    print(f"verify hls: {result.frames} frames, {status}", file=sys.stdout)
    return result
