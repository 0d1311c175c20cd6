"""Timing of a build's engines (`fpgaflow build --timing`): each engine placed and routed on ECP5.

The report states a frame rate at the board clock; this is what checks that clock. Every
sparse_conv_engine of the generated top is synthesized and placed and routed on its own,
out of context (fpgaflow.hw.timing explains the ECP5 proxy); the smallest fmax bounds the
design's clock, and the report flags the frame rate when it is below the board clock.
Window generators, pools and the stream modules are not placed here: their paths are
bounded by the logic-depth test on the mapped netlist (tests/test_lint_synth.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpgaflow.hw.timing import ECP5_PART, place_and_route
from fpgaflow.progress import step

METHOD = (f"nextpnr-ecp5 on {ECP5_PART}, each sparse_conv_engine out of context (an open proxy for the Xilinx part: "
          "see docs/build.md, 'Timing')")


def engine_timing(rtl_dir: Path, sources: list[str], engines: dict[str, dict[str, int | str]], clock_mhz: float,
                  frames_per_second: float) -> dict[str, Any]:
    """report.json's `timing` entry: fmax and critical path per engine, the slowest, and frames/s at it."""
    results: dict[str, Any] = {}
    for layer, parameters in sorted(engines.items()):
        with step(f"place and route {layer} (nextpnr-ecp5)"):
            results[layer] = place_and_route(rtl_dir, sources, "sparse_conv_engine", parameters, clock_mhz).as_dict()
    slowest = min((r["fmax_mhz"] for r in results.values()), default=None)
    return {
        "method": METHOD,
        "target_mhz": clock_mhz,
        "engines": results,
        "fmax_mhz": slowest,
        "meets_board_clock": slowest is None or slowest >= clock_mhz,
        "frames_per_second_at_fmax": None if slowest is None else frames_per_second * min(1.0, slowest / clock_mhz),
    }


def timing_lines(timing: dict[str, Any] | None, clock_mhz: float) -> list[str]:
    """report.md's Timing section."""
    lines = ["", "## Timing", ""]
    if not timing or not timing.get("engines"):
        return lines + [f"- not checked: the frame rate above assumes the board clock ({clock_mhz:g} MHz); "
                        "`fpgaflow build --timing` places and routes every engine and reports its fmax"]
    lines.append(f"- {timing['method']}")
    verdict = "meets" if timing["meets_board_clock"] else "**misses**"
    if timing["fmax_mhz"] is not None:
        lines.append(f"- slowest engine {timing['fmax_mhz']:.1f} MHz: {verdict} the board clock of {clock_mhz:g} MHz; "
                     f"{timing['frames_per_second_at_fmax']:.1f} frames/s at that clock")
    lines += ["", "| engine | fmax (MHz) | logic / routing (ns) | critical path |", "|---|---|---|---|"]
    for layer, result in timing["engines"].items():
        path = " -> ".join(result["critical_path"][:2] + (["..."] if len(result["critical_path"]) > 3 else [])
                           + result["critical_path"][-1:])
        lines.append(f"| {layer} | {result['fmax_mhz']:.1f} | {result['logic_ns']:.2f} / {result['routing_ns']:.2f} | {path} |")
    return lines
