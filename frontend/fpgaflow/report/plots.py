"""Plots of the build report: cycles per layer (model and, after --verify, measured), weight memory per
layer (stored against plain dense) and resources per layer stacked against the board.

Layers run down the vertical axis in execution order, so long layer names stay readable
however many layers a model has; every axis says its unit.
"""

from __future__ import annotations

import io
from typing import Any

RESOURCE_KINDS = ("lut", "ff", "bram18", "dsp")


def _figure_bytes(figure: Any) -> bytes:
    """PNG bytes without a timestamp or software tag, so the same report gives the same file."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None}, bbox_inches="tight")
    return buffer.getvalue()


def _height(rows: int) -> float:
    return 1.6 + 0.38 * max(rows, 1)


def render_plots(report: dict[str, Any]) -> dict[str, bytes]:
    """PNG files by name: cycles_per_layer.png, weight_memory_per_layer.png, resources_per_layer.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = {
        "cycles_per_layer.png": _cycles(plt, report),
        "weight_memory_per_layer.png": _weight_memory(plt, report),
    }
    resources = (report.get("resources") or {}).get("model")
    if resources:
        plots["resources_per_layer.png"] = _resources(plt, report)
    return plots


def _cycles(plt: Any, report: dict[str, Any]) -> bytes:
    layers = report["layers"]
    names = [layer["name"] for layer in layers]
    rows = list(range(len(names)))
    measured = (report.get("verify") or {}).get("cycles_per_frame", {})
    figure, axes = plt.subplots(figsize=(8, _height(len(names))))
    height = 0.4 if measured else 0.8
    model = [0 if layer.get("measured_only") else layer["cycles_model"] for layer in layers]
    axes.barh([r - (height / 2 if measured else 0) for r in rows], model, height, label="model")
    if measured:
        axes.barh([r + height / 2 for r in rows], [measured.get(n, 0) for n in names], height,
                  label="measured (Verilator, engine busy)")
    for row, layer in zip(rows, layers):
        if layer.get("measured_only"):
            axes.text(0, row - (height / 2 if measured else 0), " model: measured only", va="center", fontsize=8)
    interval = report["totals"]["cycles_per_frame"]
    axes.axvline(interval, color="black", linestyle="--", linewidth=1, label=f"frame interval (model) {interval}")
    axes.set_yticks(rows, names)
    axes.invert_yaxis()
    axes.set_xlabel("cycles per frame")
    axes.set_title("Cycles per layer (a pipeline: the longest bar sets the frame rate)")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    data = _figure_bytes(figure)
    plt.close(figure)
    return data


def _weight_memory(plt: Any, report: dict[str, Any]) -> bytes:
    layers = [layer for layer in report["layers"] if layer["weight_bits"]["dense"]]
    names = [layer["name"] for layer in layers]
    rows = list(range(len(names)))
    figure, axes = plt.subplots(figsize=(8, _height(len(names))))
    axes.barh([r - 0.2 for r in rows], [layer["weight_bits"]["dense"] / 1000 for layer in layers], 0.4,
              label="plain dense (every weight at its width)")
    axes.barh([r + 0.2 for r in rows], [layer["weight_bits"]["stored"] / 1000 for layer in layers], 0.4,
              label="stored (nonzero weights with their index)")
    axes.set_yticks(rows, names)
    axes.invert_yaxis()
    axes.set_xlabel("weight memory (kbit)")
    axes.set_title("Weight memory per layer")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    data = _figure_bytes(figure)
    plt.close(figure)
    return data


def _resources(plt: Any, report: dict[str, Any]) -> bytes:
    """One bar per resource kind, stacked by layer, in percent of the board; Yosys's total beside it after --synth."""
    resources = report["resources"]
    available, per_layer = resources["available"], resources["model"]["layers"]
    synth = (resources.get("synth") or {}).get("used")
    kinds = [kind for kind in RESOURCE_KINDS if available.get(kind)]
    figure, axes = plt.subplots(figsize=(9, 1.8 + 0.7 * len(kinds) * (2 if synth else 1)))
    colors = plt.get_cmap("tab20").colors
    rows = [2 * i if synth else i for i in range(len(kinds))]
    left = [0.0] * len(kinds)
    order = [layer["name"] for layer in report["layers"] if layer["name"] in per_layer]
    order += sorted(set(per_layer) - set(order))
    for index, layer in enumerate(order):
        counts = per_layer[layer]
        share = [100.0 * counts.get(kind, 0) / available[kind] for kind in kinds]
        axes.barh(rows, share, 0.7, left=left, label=layer, color=colors[index % len(colors)])
        left = [a + b for a, b in zip(left, share)]
    labels = [f"{kind} (model)" if synth else kind for kind in kinds]
    if synth:
        axes.barh([r + 1 for r in rows], [100.0 * synth.get(kind, 0) / available[kind] for kind in kinds], 0.7,
                  color="grey", label="yosys synth_xilinx (total)")
        labels = [label for kind, model_label in zip(kinds, labels) for label in (model_label, f"{kind} (yosys)")]
    axes.axvline(100, color="red", linewidth=1.2, label="the board (100 %)")
    axes.axvline(85, color="red", linestyle=":", linewidth=1, label="balancer limit (85 %)")
    axes.set_yticks(sorted(rows + ([r + 1 for r in rows] if synth else [])), labels)
    axes.invert_yaxis()
    axes.set_xlabel(f"percent of {report['board']['name']}'s resources")
    axes.set_title("Resources per layer (model) against the board")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    data = _figure_bytes(figure)
    plt.close(figure)
    return data
