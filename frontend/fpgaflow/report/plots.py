"""Plots of the build report: cycles per layer (model and, after --verify, measured) and weight memory per layer."""

from __future__ import annotations

import io
from typing import Any


def _figure_bytes(figure: Any) -> bytes:
    """PNG bytes without a timestamp or software tag, so the same report gives the same file."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def render_plots(report: dict[str, Any]) -> dict[str, bytes]:
    """PNG files by name: cycles_per_layer.png and weight_memory_per_layer.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [layer["name"] for layer in report["layers"]]
    positions = list(range(len(names)))
    measured = report.get("verify", {}).get("cycles_per_frame", {})
    plots = {}

    figure, axes = plt.subplots(figsize=(max(6, len(names) * 0.8), 4))
    width = 0.4 if measured else 0.8
    axes.bar([p - (width / 2 if measured else 0) for p in positions], [l["cycles_model"] for l in report["layers"]], width, label="model")
    if measured:
        axes.bar([p + width / 2 for p in positions], [measured.get(n, 0) for n in names], width, label="measured")
    axes.set_xticks(positions, names, rotation=45, ha="right")
    axes.set_ylabel("cycles per frame")
    axes.set_title("Cycles per layer")
    axes.legend()
    figure.tight_layout()
    plots["cycles_per_layer.png"] = _figure_bytes(figure)
    plt.close(figure)

    figure, axes = plt.subplots(figsize=(max(6, len(names) * 0.8), 4))
    axes.bar([p - 0.2 for p in positions], [l["weight_bits"]["dense"] for l in report["layers"]], 0.4, label="dense")
    axes.bar([p + 0.2 for p in positions], [l["weight_bits"]["stored"] for l in report["layers"]], 0.4, label="stored")
    axes.set_xticks(positions, names, rotation=45, ha="right")
    axes.set_ylabel("weight memory (bits)")
    axes.set_title("Weight memory per layer")
    axes.legend()
    figure.tight_layout()
    plots["weight_memory_per_layer.png"] = _figure_bytes(figure)
    plt.close(figure)
    return plots
