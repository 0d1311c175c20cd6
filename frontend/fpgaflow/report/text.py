"""report.md: the build report as tables a hardware engineer reads, rendered from report.json's dict.

Reading the dict (not the design) keeps the two reports from ever disagreeing.
"""

from __future__ import annotations

from typing import Any

from fpgaflow.report.hls_section import hls_markdown
from fpgaflow.report.build_report import left_out_line
from fpgaflow.report.timing import timing_lines
from fpgaflow.report.hardware import summary_lines

MEASURED_ONLY = "measured only"
"""Shown instead of a model figure for a layer whose modules an override changed without keeping the contract."""


def _fmt(fmt: dict[str, Any] | None) -> str:
    if fmt is None:
        return "-"
    if "channel_frac" in fmt:  # per-channel formats: the range of F over the channels
        return f"{'s' if fmt['signed'] else 'u'}{fmt['width']}.{min(fmt['channel_frac'])}..{max(fmt['channel_frac'])}/ch"
    return f"{'s' if fmt['signed'] else 'u'}{fmt['width']}.{fmt['frac']}"


def _row(cells: list[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def render_markdown(report: dict[str, Any]) -> str:
    board = report["board"]
    totals = report["totals"]
    lines = [
        f"# fpgaflow build report: {report['model']}",
        "",
        f"Board {board['name']} ({board['part']}), clock {board['clock_mhz']:g} MHz, "
        f"DMA stream {board['dma_data_width']} bits; {report['bits']}-bit quantization.",
        "",
        "## Summary",
        "",
        *(line if line.startswith("  ") else f"- {line}" for line in summary_lines(report, ".")),
        "",
        "## Layers",
        "",
        "Formats are s|u width.frac (input / weights / bias / accumulator / output). "
        "Cycles are per frame, from the cycle model. P is the MAC lanes (with LUT multipliers: how many of them).",
        "",
        _row(["layer", "op", "in -> out", "formats", "P", "nonzero MACs", "density", "cycles (model)", "weight bits stored / dense"]),
        _row(["---"] * 9),
    ]
    for layer in report["layers"]:
        formats = " / ".join(_fmt(layer["formats"][k]) for k in ("input", "weights", "bias", "accumulator", "output"))
        density = f"{layer['density']:.1%}" if "density" in layer else "-"
        shapes = f"{'x'.join(map(str, layer['input_shape']))} -> {'x'.join(map(str, layer['output_shape']))}"
        bits = layer["weight_bits"]
        lines.append(
            _row([layer["name"], layer["op"], shapes, formats, _lanes(layer), layer.get("nonzero_macs", "-"),
                  density, MEASURED_ONLY if layer.get("measured_only") else layer["cycles_model"],
                  f"{bits['stored']} / {bits['dense']}" if bits["dense"] else "-"])
        )
    lines += [
        "",
        "## Totals",
        "",
        f"- frame interval: {totals['cycles_per_frame']} cycles (slowest stage: {totals['bottleneck']}), "
        f"{totals['frames_per_second']:.1f} frames/s at the board clock"
        + ("" if (report.get("timing") or {}).get("engines") else " (not checked by place and route; see Timing)")
        + ("" if not (report.get("timing") or {}).get("engines") or report["timing"]["meets_board_clock"]
           else f" (**not reached**: the slowest engine routes at {report['timing']['fmax_mhz']:.1f} MHz)"),
        f"- latency (bound, every stage's frame time in a row): {totals['latency_cycles']} cycles = {totals['latency_us']:.1f} us",
        f"- MAC lanes: {totals['lanes']}; nonzero MACs per frame {totals['nonzero_macs']} of {totals['dense_macs']} dense",
        f"- weight memory: {totals['weight_bits_stored']} bits stored, {totals['weight_bits_dense']} bits if dense",
    ]
    left_out = report.get("left_out_of_hardware", [])  # absent from reports of older builds
    if left_out:
        lines += ["", "## Left out of the hardware", ""]
        lines += [f"- {left_out_line(entry)}" for entry in left_out]
    lines += timing_lines(report.get("timing"), board["clock_mhz"])
    lines += _templates(report)
    lines += _resources(report.get("resources") or {}, board["name"], _measured_only(report))
    if "frames" in report.get("verify", {}):  # an RTL simulation ran (`verify` may hold only the HLS C simulation)
        lines += _verify(report["verify"])
    if "hls" in report:
        lines += ["", *hls_markdown(report["hls"], report.get("verify", {}).get("hls"))]
    return "\n".join(lines) + "\n"


def _measured_only(report: dict[str, Any]) -> set[str]:
    return {layer["name"] for layer in report["layers"] if layer.get("measured_only")}


def _templates(report: dict[str, Any]) -> list[str]:
    """The files taken from a --templates folder, with their hashes and whether the models still apply."""
    overrides = report.get("templates", {}).get("overrides", [])
    if not overrides:
        return []
    lines = ["", "## Templates from your folder", "", _row(["file", "sha256", "keeps the contract"]), _row(["---"] * 3)]
    lines += [_row([o["file"], o["sha256"][:16], "yes" if o["keeps_contract"] else "no"]) for o in overrides]
    measured = sorted(_measured_only(report))
    if measured:
        lines += ["", f"Cycles and resources of {', '.join(measured)} are {MEASURED_ONLY}: an override they use does not "
                  "declare that it keeps the contract, so take their cycles from --verify and their resources from --synth."]
    return lines


def _resources(resources: dict[str, Any], board_name: str, measured_only: set[str] = frozenset()) -> list[str]:
    """Totals by the model (and Yosys after --synth) against the board, the overflow line, and the model per layer."""
    if not resources:
        return []
    model, synth, available = resources["model"], resources.get("synth"), resources["available"]
    lines = ["", "## Resources", "", f"- {model['method']}"]
    lines.append(f"- {synth['method']}" if synth else "- yosys: not run (fpgaflow build --synth adds a synth_xilinx count)")
    if model["overflow"]:
        at_one = " even with P = 1 on every layer" if model["overflow_at_p1"] else " with the chosen P"
        lines += ["", f"**Does not fit {board_name}{at_one}**: the model's {', '.join(model['overflow'])} exceed the board."]
    header = ["resource", "model", "model use"] + (["yosys", "yosys use"] if synth else []) + ["available"]
    lines += ["", _row(header), _row(["---"] * len(header))]
    for kind in sorted(available):
        cells: list[object] = [kind, model["used"][kind], _use(model["used"][kind], available[kind])]
        if synth:
            cells += [synth["used"].get(kind, 0), _use(synth["used"].get(kind, 0), available[kind])]
        lines.append(_row([*cells, available[kind]]))
    kinds = sorted(available)
    lines += ["", "Model per layer:", "", _row(["layer", *kinds]), _row(["---"] * (len(kinds) + 1))]
    lines += [_row([name, *((MEASURED_ONLY if name in measured_only else counts[k]) for k in kinds)])
              for name, counts in model["layers"].items()]
    return lines


def _use(used: int, available: int) -> str:
    return f"{used / available:.1%}" if available else "-"


def _verify(verify: dict[str, Any]) -> list[str]:
    lines = ["", "## Verification (Verilator)", "", f"- frames: {verify['frames']}, mismatches: {verify['mismatches']}"]
    if verify.get("first_mismatch"):
        lines.append(f"- first mismatch: {verify['first_mismatch']}")
    saturated = verify.get("saturated")  # absent from reports of older builds
    if saturated and (saturated["input"] or saturated["layers"]):
        where = ([f"input {saturated['input']}"] if saturated["input"] else []) + [
            f"{name} {count}" for name, count in saturated["layers"].items()
        ]
        lines.append(f"- saturated values (beyond the calibrated range): {', '.join(where)}")
    measured = verify.get("cycles_per_frame", {})
    if measured:
        lines += ["", _row(["layer", "cycles per frame (measured)"]), _row(["---"] * 2)]
        lines += [_row([name, cycles]) for name, cycles in measured.items()]
    return lines


def _lanes(layer: dict) -> str:
    """P, and how many of its lanes multiply in LUTs when any do (the others on DSPs)."""
    lut = layer.get("lut_lanes", 0)
    return f"{layer['parallelism']} ({lut} LUT)" if lut else str(layer["parallelism"])
