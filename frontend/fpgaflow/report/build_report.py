"""The content of report.json: per-layer formats, P, work, cycles and memory; totals; resources.

Plain JSON types only, keys sorted when written, no timestamps or absolute paths, so
the same build writes the same bytes. docs/build.md describes every field.
"""

from __future__ import annotations

import json
from typing import Any

from fpgaflow.flow.design import Design

REPORT_VERSION = 1


def layer_entry(design: Design, name: str) -> dict[str, Any]:
    plan = next(p for p in design.plans if p.name == name)
    choice = design.engines[name]
    entry: dict[str, Any] = {
        "name": plan.name,
        "op": plan.op,
        "input_shape": list(plan.input_shape),
        "output_shape": list(plan.output_shape),
        "formats": plan.format_dict(),
        "parallelism": choice.parallelism,
        "lut_lanes": choice.lut_lanes,
        "cycles_model": choice.cycles_model,
        "weight_bits": {"dense": choice.weight_bits_dense, "stored": choice.weight_bits_stored},
        "measured_only": name in design.measured_only,
    }
    if plan.is_compute:
        entry.update(
            nonzero_macs=plan.nonzero_macs,
            dense_macs=plan.dense_macs,
            density=plan.nonzero_weights / plan.dense_weights if plan.dense_weights else 0.0,
            zero_skip_bound=plan.zero_skip_bound(choice.parallelism),
        )
    return entry


def left_out_of_hardware(design: Design) -> list[dict[str, str]]:
    """The model's layers the hardware does not compute (a final Softmax) and the tensor it outputs instead.

    Only a final layer is left out (the importer allows nothing else), so the hardware's
    output is that layer's input.
    """
    return [
        {"layer": layer.name, "op": layer.OP, "hardware_output": layer.inputs[0]}
        for layer in design.graph.layers
        if not layer.HARDWARE
    ]


def left_out_line(entry: dict[str, str]) -> str:
    """One sentence for the terminal and report.md about a layer the hardware leaves out."""
    return (
        f"the hardware leaves out {entry['layer']} ({entry['op']}): it outputs {entry['hardware_output']}, "
        f"the {entry['op']}'s input (the argmax is the same); apply {entry['op']} on the host if you need its values"
    )


def build_report(design: Design, bits: int, verify: dict[str, Any] | None = None) -> dict[str, Any]:
    """report.json as a dict."""
    clock_hz = design.board.clock_mhz * 1e6
    interval = design.frame_interval
    latency = design.latency_bound
    report: dict[str, Any] = {
        "version": REPORT_VERSION,
        "model": design.graph.name,
        "bits": bits,
        "board": design.board.to_dict(),
        "layers": [layer_entry(design, plan.name) for plan in design.plans],
        "left_out_of_hardware": left_out_of_hardware(design),
        "totals": {
            "cycles_per_frame": interval,
            "bottleneck": design.bottleneck,
            "latency_cycles": latency,
            "latency_us": latency / clock_hz * 1e6,
            "frames_per_second": design.frames_per_second(),
            "lanes": sum(c.parallelism for n, c in design.engines.items() if _is_compute(design, n)),
            "window_memory": design.window_memory,
            "nonzero_macs": sum(p.nonzero_macs for p in design.plans),
            "dense_macs": sum(p.dense_macs for p in design.plans),
            "weight_bits_dense": sum(c.weight_bits_dense for c in design.engines.values()),
            "weight_bits_stored": sum(c.weight_bits_stored for c in design.engines.values()),
        },
        "resources": design.resources,
        "templates": {"overrides": [override.to_dict() for override in design.overrides]},
    }
    if verify is not None:
        report["verify"] = verify
    return report


def _is_compute(design: Design, name: str) -> bool:
    return any(p.name == name and p.is_compute for p in design.plans)


def report_json(report: dict[str, Any]) -> str:
    """The report as deterministic JSON text."""
    return json.dumps(report, indent=1, sort_keys=True) + "\n"
