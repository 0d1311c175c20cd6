"""Word-length benchmark on the bundled digits CNN: uniform 8/6/4 bits against searched per-layer widths.

For the unpruned model and for KEP and structured-channel pruning at a 75 % conv-MAC cut
(fpgaflow.prune, 20 epochs, seed 0, trained on examples/digits_train.npz), this quantizes
with every weight and activation at 8, 6 and 4 bits, and with the widths
fpgaflow.wordlength.search.search_widths finds at tolerances of 0.25, 0.5 and 1.0 percentage
points (calibrated on the training set, accuracy measured on a seeded 25 % of it, as
`fpgaflow quantize` does). Each row: test accuracy of the bit-accurate reference on the 450
held-out images (never seen by pruning or the search), average weight width (over stored
nonzero weights), total weight-memory bits stored, LUT/FF/DSP/BRAM18 by the resource model
and the frame interval of the design `build` makes for the PYNQ-Z2
(fpgaflow.wordlength.hardware_cost.design_figures). Rows are appended to --json as they are
measured. Run from the repository root:

    python bench/bench_widths.py --json bench_widths.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from fpgaflow.api import load_model
from fpgaflow.boards import load_board
from fpgaflow.cli.quantize_cmd import HELD_OUT_SHARE, held_out
from fpgaflow.ir.graph import Graph
from fpgaflow.prune.run import conv_macs, prune_files
from fpgaflow.prune.train import Split
from fpgaflow.quant import quantize
from fpgaflow.wordlength.hardware_cost import design_figures
from fpgaflow.wordlength.search import fixed_accuracy, search_widths
from fpgaflow.quant.widths import WidthConfig

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "digits_cnn.onnx"
TRAIN = ROOT / "examples" / "digits_train.npz"
TEST = ROOT / "examples" / "digits_test.npz"
PRUNINGS = {"kep 0.75": ("kep", {}), "structured-channel 0.75": ("structured", {"granularity": "channel"})}
UNIFORM = (8, 6, 4)
TOLERANCES = (0.25, 0.5, 1.0)


def average_weight_bits(graph: Graph) -> float:
    """Weight width averaged over the stored (nonzero) weights of the compute layers."""
    count = total = 0
    for layer in graph.layers:
        weight = getattr(layer, "weight", None)
        if weight is not None and weight.codes is not None:
            nonzero = int(np.count_nonzero(weight.codes))
            count += nonzero
            total += nonzero * weight.ftype.width
    return total / max(count, 1)


def measure(graph: Graph, label: str, widths_name: str, calib: np.ndarray, test: Split, bits: int,
            widths: WidthConfig | None = None) -> dict[str, object]:
    quantized = quantize(graph, calib, bits, widths)
    figures = design_figures(quantized, load_board("pynq"))
    nonzero = conv_macs(graph)[1]
    dense = conv_macs(load_model(MODEL))[0]  # the unpruned model's: structured-channel pruning removes channels from the graph
    return {
        "model": label, "widths": widths_name, "conv_mac_cut": round(1 - nonzero / dense, 4),
        "test_accuracy": round(fixed_accuracy(quantized, test.x, test.y), 2),
        "avg_weight_bits": round(average_weight_bits(quantized), 2), "weight_bits": figures.weight_bits,
        "lut": figures.lut, "ff": figures.ff, "dsp": figures.dsp, "bram18": figures.bram18,
        "frame_interval": figures.frame_interval,
        "layer_widths": {name: w.to_dict() for name, w in (widths or {}).items()},
    }


def run(out: Path, epochs: int) -> None:
    train, test = np.load(TRAIN), np.load(TEST)
    data = Split(train["x"].astype(np.float32), train["y"].astype(np.int64))
    test_split = Split(test["x"].astype(np.float32), test["y"].astype(np.int64))
    check = held_out(data, HELD_OUT_SHARE, 0)
    board = load_board("pynq")
    with tempfile.TemporaryDirectory() as folder:
        models = {}
        for label, (method, options) in PRUNINGS.items():
            path = Path(folder) / f"{method}.onnx"
            prune_files(MODEL, method, 0.75, TRAIN, path, epochs=epochs, seed=0, options=options)
            models[label] = load_model(path)
        models["unpruned"] = load_model(MODEL)
        for label, graph in models.items():
            for bits in UNIFORM:
                _emit(out, measure(graph, label, f"uniform {bits}", data.x, test_split, bits))
            for tolerance in TOLERANCES:
                start = time.time()
                found = search_widths(graph, data.x, check.x, check.y, tolerance, board, bits=8)
                row = measure(graph, label, f"searched {tolerance}", data.x, test_split, 8, found.widths)
                row.update(search_seconds=round(time.time() - start, 1), search_trials=found.trials,
                           heldout_accuracy=round(found.accuracy, 2), heldout_float=round(found.accuracy_float, 2))
                _emit(out, row)


def _emit(out: Path, row: dict[str, object]) -> None:
    print(json.dumps(row), flush=True)
    with out.open("a") as handle:
        handle.write(json.dumps(row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=Path("bench_widths.json"), help="rows appended as JSON lines")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    run(args.json, args.epochs)


if __name__ == "__main__":
    main()
