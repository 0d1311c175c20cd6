"""Weight storage: an hls4ml project (dense arrays) against fpgaflow's generated weight memory (nonzero only).

For the digits CNN (examples/digits_cnn.onnx) and the CIFAR-sized VGG-style net of
bench/bench_engine_v2.py (random weights), each pruned to 100 / 50 / 25 % weight density and
quantized at 8 bits with the same calibration on both sides:

- hls4ml: the project `fpgaflow export-hls4ml` writes (fpgaflow.export.hls4ml_bridge,
  io_stream). hls4ml stores every conv and dense weight as one element of a constant array
  `weight_t wN[...]`, zeros included, each at the weight format's width; biases likewise
  (`bias_t bN[...]`). Counted: elements x width of every weight array, and of every bias array
  apart.
- fpgaflow: `fpgaflow build --board pynq` (RTL), `weight_bits.stored` of every layer in its
  report.json: the weight ROMs as generated, only the nonzero weights, each with its window
  index and segment bits, padding words included, plus pattern tables. The per-channel bias
  table is not in that figure (nor in hls4ml's weight column). `weight_bits.dense` is the same
  ROM with every zero kept.

Pruning: per layer, unstructured, the largest-magnitude ceil(density x n) weights of every
conv and dense layer kept (no retraining: storage depends only on which weights are zero).

Rerun:  python bench/bench_hls4ml_weights.py   (six RTL builds; a few minutes)
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np

from bench_engine_v2 import VggCifar, _torch_model
from fpgaflow.api import load_model
from fpgaflow.cli.main import main as fpgaflow
from fpgaflow.export.hls4ml_bridge import convert
from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import Conv2d, Dense
from fpgaflow.ir.serialize import save_graph
from fpgaflow.quant import quantize

ROOT = Path(__file__).resolve().parent.parent
DENSITIES = (1.0, 0.5, 0.25)
BITS = 8


def prune(graph: Graph, density: float) -> Graph:
    """Keep the ceil(density x n) largest |w| of every conv and dense layer (ties: the earlier index)."""
    for layer in graph.layers:
        if isinstance(layer, (Conv2d, Dense)):
            values = layer.weight.values
            order = np.argsort(-np.abs(values), axis=None, kind="stable")
            keep = np.zeros(values.size, dtype=bool)
            keep[order[: math.ceil(density * values.size)]] = True
            layer.weight.values = np.where(keep.reshape(values.shape), values, 0).astype(values.dtype)
    return graph


def hls4ml_bits(graph: Graph, folder: Path) -> tuple[int, int]:
    """(weight-array bits, bias-array bits) of the hls4ml project, every element at its format's width."""
    hls_model = convert(graph, folder)
    totals = {"weight": 0, "bias": 0}
    for layer in hls_model.get_layers():
        for role, variable in layer.weights.items():
            if role in totals:
                totals[role] += variable.data.size * variable.type.precision.width
    return totals["weight"], totals["bias"]


def fpgaflow_bits(model: Path, calibration: Path, out: Path) -> tuple[int, int]:
    """(stored, dense) weight-memory bits of `fpgaflow build`, summed from report.json."""
    code = fpgaflow(["build", str(model), "--board", "pynq", "--calib", str(calibration), "--bits", str(BITS),
                     "--out", str(out)])
    assert code == 0, f"fpgaflow build {model} failed"
    layers = json.loads((out / "report.json").read_text())["layers"]
    return sum(layer["weight_bits"]["stored"] for layer in layers), sum(layer["weight_bits"]["dense"] for layer in layers)


def rows_for(name: str, model: Path, calibration: np.ndarray, folder: Path) -> list[dict[str, object]]:
    calib_path = folder / f"{name}_calib.npy"
    np.save(calib_path, calibration)
    rows = []
    for density in DENSITIES:
        pruned = folder / f"{name}_{int(density * 100)}"
        save_graph(prune(load_model(model), density), pruned)
        graph = quantize(load_model(pruned), calibration, BITS)
        weights = [layer.weight.codes for layer in graph.layers if isinstance(layer, (Conv2d, Dense))]
        hls_weights, hls_biases = hls4ml_bits(graph, folder / f"{pruned.name}_hls4ml")
        stored, dense = fpgaflow_bits(pruned, calib_path, folder / f"{pruned.name}_build")
        rows.append({
            "network": name, "density": f"{density:.0%}",
            "nonzero weights": f"{sum(int(np.count_nonzero(w)) for w in weights)} / {sum(w.size for w in weights)}",
            "hls4ml weight arrays (B)": hls_weights // 8, "hls4ml bias arrays (B)": hls_biases // 8,
            "fpgaflow ROM stored (B)": stored // 8, "fpgaflow ROM with zeros (B)": dense // 8,
            "hls4ml / fpgaflow": f"{hls_weights / stored:.2f}",
        })
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="fpgaflow_bench_hls4ml_") as scratch:
        folder = Path(scratch)
        rows = rows_for("digits", ROOT / "examples" / "digits_cnn.onnx", np.load(ROOT / "examples" / "digits_train.npz")["x"],
                        folder)
        path, calibration = _torch_model(VggCifar, (3, 32, 32), folder, "vgg_cifar")
        rows += rows_for("vgg_cifar", path, calibration, folder)
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(value) for value in row.values()) + " |")


if __name__ == "__main__":
    main()
