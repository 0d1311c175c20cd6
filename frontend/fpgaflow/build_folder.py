"""The facts of a build folder every back end shares: its file names, the frames it checks, its reports.

The pipeline writes the folder and each back end adds to it (the HLS back end its hls/
folder and report entries), so these live below both rather than in the pipeline.
"""

from __future__ import annotations

import numpy as np

from fpgaflow.ir.graph import Graph
from fpgaflow.outdir import OutputDir
from fpgaflow.reference.fixed_exec import quantize_input_counted
from fpgaflow.report.build_report import report_json
from fpgaflow.report.plots import render_plots
from fpgaflow.report.text import render_markdown

DESIGN_FILE = "design.json"
REPORT_FILE = "report.json"
IR_DIR = "ir"
VERIFY_SEED = 2024
GOLDEN_FRAMES = 4
"""Frames the driver's --selftest runs when the build did not simulate any (seeded random codes)."""


def write_reports(out: OutputDir, report: dict) -> None:
    """report.json, report.md and the plots, all from the one report dictionary."""
    out.write_text(REPORT_FILE, report_json(report))
    out.write_text("report.md", render_markdown(report))
    for name, data in render_plots(report).items():
        out.write_bytes(name, data)


def verify_inputs(graph: Graph, frames: int, calibration: np.ndarray | None) -> tuple[np.ndarray, int]:
    """Input codes and how many saturated: the first frames of the calibration data, else seeded random codes."""
    if calibration is not None:
        return quantize_input_counted(graph, calibration[:frames])
    ftype = graph.tensors[graph.inputs[0]].ftype
    assert ftype is not None
    shape = graph.tensors[graph.inputs[0]].shape
    rng = np.random.default_rng(VERIFY_SEED)
    return rng.integers(ftype.min_code, ftype.max_code + 1, size=(frames, *shape), dtype=np.int64), 0
