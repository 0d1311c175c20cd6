"""report.md's section on the HLS C++ design, rendered from report.json's `hls` entry.

The entry is written by the HLS back end (fpgaflow.backends.hls.estimate); the report only
reads the dict, so report/ imports no back end.
"""

from __future__ import annotations

from typing import Any


def hls_markdown(entry: dict[str, Any], verify: dict[str, Any] | None) -> list[str]:
    """report.md's HLS section: the estimates next to the RTL's model, marked as estimates."""
    totals = entry["totals"]
    lines = ["## HLS C++ (OUT/hls/)", "", f"Figures are {entry['status']}.", "",
             f"- frame interval {totals['cycles_per_frame']} cycles (RTL model {totals['rtl_cycles_per_frame']}), "
             f"{totals['frames_per_second']:.1f} frames/s; {totals['dsp']} multipliers, {totals['rom_bits']} weight-array "
             f"bits in {totals['bram18']} BRAM18", ""]
    lines += ["| function | kind | P | cycles (HLS estimate) | cycles (RTL model) | array bits |", "|---|---|---|---|---|---|"]
    for layer in entry["layers"]:
        rtl = layer["rtl_cycles_model"] if layer["rtl_cycles_model"] is not None else "-"
        lines.append(f"| {layer['function']} | {layer['kind']} | {layer['parallelism']} | {layer['cycles_estimate']} | {rtl} | "
                     f"{layer['rom_bits']} |")
    if verify is not None:
        lines += ["", f"C simulation (g++): {verify['frames']} frames, "
                      f"{'bit-exact' if verify['mismatches'] == 0 else str(verify['mismatches']) + ' mismatching frames'}."]
    return lines + [""]
