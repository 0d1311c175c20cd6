"""LUT lanes: with narrow weights the balancer goes past the board's DSPs on LUT multipliers, and the build stays bit-exact."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest
from test_generator import conv_net

from fpgaflow.backends.rtl.generate import plan_design
from fpgaflow.backends.rtl.netlist_resources import BALANCE_LIMIT
from fpgaflow.backends.rtl.resource_model import LUT_MULTIPLIER_MAX_WEIGHT_BITS
from fpgaflow.boards import load_board
from fpgaflow.outdir import OutputDir
from fpgaflow.pipeline import BuildOptions, build_design, verify_build
from fpgaflow.quant import quantize

PYNQ = load_board("pynq")
SMALL = dataclasses.replace(PYNQ, resources={**PYNQ.resources, "dsp": 4, "lut": 4000})
"""A board with the PYNQ-Z2's name (verification reads its DMA width by name) and 4 DSPs, 4,000 LUTs:
the DSPs run out at 3 lanes (BALANCE_LIMIT), and the LUTs allow a few dozen narrow LUT lanes."""


@pytest.fixture(scope="module")
def conv_graph():
    rng = np.random.default_rng(7)
    return conv_net(rng), rng.normal(size=(64, 8, 6, 6))


def compute_lanes(design) -> dict[str, tuple[int, int]]:
    """(P, LUT lanes) of every compute layer."""
    return {name: (c.parallelism, c.lut_lanes) for name, c in design.engines.items()
            if next(p for p in design.plans if p.name == name).is_compute}


def test_wide_weights_stay_on_the_dsps(conv_graph):
    """8-bit weights take no LUT lanes: P stops where the DSPs run out."""
    graph, calib = conv_graph
    lanes = compute_lanes(plan_design(quantize(graph, calib, 8), SMALL))
    assert all(lut == 0 for _, lut in lanes.values())
    assert sum(p for p, _ in lanes.values()) <= int(SMALL.resources["dsp"] * BALANCE_LIMIT)


def test_narrow_weights_go_past_the_dsps_bit_exact(conv_graph, tmp_path: Path):
    """4-bit weights: more lanes than the board has DSPs, the DSP lanes within the balancer's DSP share,
    recorded in the report and the top, and the whole network bit-exact in Verilator (2 frames)."""
    graph, calib = conv_graph
    quantized = quantize(graph, calib, LUT_MULTIPLIER_MAX_WEIGHT_BITS)
    design = plan_design(quantized, SMALL)
    lanes = compute_lanes(design)
    total, on_luts = sum(p for p, _ in lanes.values()), sum(lut for _, lut in lanes.values())
    assert total > SMALL.resources["dsp"] and total - on_luts <= int(SMALL.resources["dsp"] * BALANCE_LIMIT), lanes
    assert not design.overflow
    out = OutputDir(tmp_path / "out")
    build_design(quantized, BuildOptions(SMALL, LUT_MULTIPLIER_MAX_WEIGHT_BITS), out)
    report = json.loads(out.path("report.json").read_text())
    assert {layer["name"]: (layer["parallelism"], layer["lut_lanes"]) for layer in report["layers"] if layer["name"] in lanes} == lanes
    top = next(p for p in out.path("rtl").iterdir() if p.name.endswith("_top.sv")).read_text()
    assert sorted(int(n) for n in re.findall(r"\.LUT_LANES\((\d+)\)", top)) == sorted(lut for _, lut in lanes.values() if lut)
    assert report["resources"]["model"]["used"]["dsp"] == total - on_luts
    result = verify_build(out, 2, None)
    assert result.mismatches == 0, result.first_mismatch
