"""Word-length benchmark on the bundled digits CNN: uniform widths against searched per-layer widths, with and without quantization-aware fine-tuning.

Data. The float model (examples/digits_cnn.onnx) was trained on all of examples/digits_train.npz,
so accuracy on any part of it says nothing about new data. The 450 test images are split once,
seeded (`fpgaflow.cli.quantize_cmd.held_out_split`, seed 0): a validation half that the word-length
search measures on (`--val` of `fpgaflow quantize`), and a test half that every row reports.
Neither the training, the pruning nor its fine-tuning sees either half; the formats are
calibrated on the training set (`build --calib`). Rows whose widths were not chosen on the
validation half (float, uniform, `w4 a8`) also report all 450 test images.

Models: the unpruned model, and KEP and structured-channel pruning at a 0.75 conv-MAC target
(fpgaflow.prune, --epochs, seed 0, training set only). Widths: every weight and activation at 8,
6 and 4 bits; every weight at 4 bits with every activation at 8 (`w4 a8`); the widths
fpgaflow.wordlength.search.search_widths finds on the validation half at each tolerance (start
8 bits, cost weight-bits). With quantization-aware fine-tuning (QAT; pruned models only, as it
runs inside `fpgaflow prune`) the float model is pruned again with `prune --bits` at the row's
widths (for searched widths: those found for the same pruning without QAT, `prune --bits 8
--widths`) and quantized at the same widths.

Each row: accuracy of the bit-accurate reference, conv-MAC cut of the pruned float weights and of
the quantized codes (the engine skips zero codes too), average weight width over the stored
nonzero weights, weight-memory bits stored, LUT/FF/DSP/BRAM18 by the resource model and the frame
interval of the design `build` makes for the PYNQ-Z2
(fpgaflow.wordlength.hardware_cost.design_figures). Rows are appended to --json as measured.
Run from the repository root:

    nice -n 10 python bench/bench_widths.py --json bench_widths.json [--quick] [--splits DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fpgaflow.api import load_model
from fpgaflow.boards import load_board
from fpgaflow.cli.quantize_cmd import held_out_split
from fpgaflow.ir.graph import Graph
from fpgaflow.prune.run import conv_macs, prune_files
from fpgaflow.prune.train import Split
from fpgaflow.quant import quantize
from fpgaflow.quant.widths import WEIGHTED_LAYERS, LayerWidths, WidthConfig
from fpgaflow.reference.float_exec import run_float
from fpgaflow.wordlength.hardware_cost import design_figures
from fpgaflow.wordlength.search import accuracy_percent, fixed_accuracy, search_widths

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "digits_cnn.onnx"
TRAIN = ROOT / "examples" / "digits_train.npz"
TEST = ROOT / "examples" / "digits_test.npz"
PRUNINGS = {"KEP 0.75": ("kep", 0.75, {}), "structured-channel 0.75": ("structured", 0.75, {"granularity": "channel"})}
VAL_SHARE = 0.5
SPLIT_SEED = 0
UNIFORM = (8, 6, 4)
TOLERANCES = (0.25, 0.5, 1.0)
QUICK_UNIFORM = (8, 4)
QUICK_TOLERANCES = (0.5,)
NARROW_WEIGHT_BITS = 4
"""`w4 a8`: every weight at this width, every activation at 8 bits."""


@dataclass
class Data:
    """Calibration/training set, the search's validation half, the reported test half, all test images."""

    train: Split
    val: Split
    test: Split
    test_all: Split


def load_data() -> Data:
    train, test = np.load(TRAIN), np.load(TEST)
    test_all = Split(test["x"].astype(np.float32), test["y"].astype(np.int64))
    val, test_half = held_out_split(test_all, VAL_SHARE, SPLIT_SEED)
    return Data(Split(train["x"].astype(np.float32), train["y"].astype(np.int64)), val, test_half, test_all)


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


def narrow_weights(graph: Graph) -> WidthConfig:
    """Every weighted layer's weights at NARROW_WEIGHT_BITS (activations at the run's --bits)."""
    return {layer.name: LayerWidths(NARROW_WEIGHT_BITS, None) for layer in graph.layers if isinstance(layer, WEIGHTED_LAYERS)}


def _cut(graph: Graph, dense: int) -> float:
    return round(1 - conv_macs(graph)[1] / dense, 4)


def float_row(graph: Graph, label: str, data: Data) -> dict[str, object]:
    def acc(split: Split) -> float:
        return round(accuracy_percent(run_float(graph, split.x.astype(np.float64))[graph.outputs[0]], split.y), 2)

    return {"model": label, "qat_epochs": 0, "widths": "float", "test_accuracy": acc(data.test),
            "test_accuracy_all": acc(data.test_all), "val_accuracy": acc(data.val)}


def measure(graph: Graph, label: str, widths_name: str, data: Data, bits: int, widths: WidthConfig | None = None, *,
            qat_epochs: int = 0, chosen_on_val: bool = False) -> dict[str, object]:
    """One row: `graph` (float IR) quantized at `bits` and `widths`, measured; test_accuracy_all only
    when the widths were not chosen on the validation half."""
    quantized = quantize(graph, data.train.x, bits, widths)
    figures = design_figures(quantized, load_board("pynq"))
    dense = conv_macs(load_model(MODEL))[0]  # the unpruned model's: structured-channel pruning removes channels from the graph
    return {
        "model": label, "qat_epochs": qat_epochs, "widths": widths_name,
        "prune_cut": _cut(graph, dense), "code_cut": _cut(quantized, dense),
        "test_accuracy": round(fixed_accuracy(quantized, data.test.x, data.test.y), 2),
        "test_accuracy_all": None if chosen_on_val else round(fixed_accuracy(quantized, data.test_all.x, data.test_all.y), 2),
        "val_accuracy": round(fixed_accuracy(quantized, data.val.x, data.val.y), 2),
        "avg_weight_bits": round(average_weight_bits(quantized), 2), "weight_bits": figures.weight_bits,
        "lut": figures.lut, "ff": figures.ff, "dsp": figures.dsp, "bram18": figures.bram18,
        "frame_interval": figures.frame_interval, "lanes": figures.lanes,
        "layer_widths": {name: w.to_dict() for name, w in (widths or {}).items()},
    }


def run(out: Path, epochs: int, qat_epochs: list[int], quick: bool, only: list[str] | None) -> None:
    data = load_data()
    board = load_board("pynq")
    uniform, tolerances = (QUICK_UNIFORM, QUICK_TOLERANCES) if quick else (UNIFORM, TOLERANCES)
    with tempfile.TemporaryDirectory() as folder:

        def pruned(label: str, runs: int, bits: int | None = None, widths: WidthConfig | None = None) -> Graph:
            method, target, options = PRUNINGS[label]
            path = Path(folder) / f"{method}.onnx"
            prune_files(MODEL, method, target, TRAIN, path, epochs=runs, seed=0, options=options, bits=bits, widths=widths)
            return load_model(path)

        for label in ["unpruned", *PRUNINGS]:
            if only and label not in only:
                continue
            graph = load_model(MODEL) if label == "unpruned" else pruned(label, epochs)
            _emit(out, float_row(graph, label, data))
            for bits in uniform:
                _emit(out, measure(graph, label, f"uniform {bits}", data, bits))
            _emit(out, measure(graph, label, f"w{NARROW_WEIGHT_BITS} a8", data, 8, narrow_weights(graph)))
            found: dict[float, WidthConfig] = {}
            for tolerance in tolerances:
                start = time.time()
                result = search_widths(graph, data.train.x, data.val.x, data.val.y, tolerance, board, bits=8)
                found[tolerance] = result.widths
                row = measure(graph, label, f"searched {tolerance}", data, 8, result.widths, chosen_on_val=True)
                row.update(search_seconds=round(time.time() - start, 1), search_trials=result.trials,
                           search_accuracy=round(result.accuracy, 2), search_float=round(result.accuracy_float, 2))
                _emit(out, row)
            if label == "unpruned":
                continue  # quantization-aware fine-tuning runs inside `fpgaflow prune`
            narrow = narrow_weights(graph)
            for runs in qat_epochs:
                for bits in uniform:
                    _emit(out, measure(pruned(label, runs, bits), label, f"uniform {bits}", data, bits, qat_epochs=runs))
                _emit(out, measure(pruned(label, runs, 8, narrow), label, f"w{NARROW_WEIGHT_BITS} a8", data, 8, narrow,
                                   qat_epochs=runs))
                for tolerance, widths in found.items():
                    _emit(out, measure(pruned(label, runs, 8, widths), label, f"searched {tolerance}", data, 8, widths,
                                       qat_epochs=runs, chosen_on_val=True))


def write_splits(folder: Path) -> None:
    """val.npz and test.npz (x, y), the halves this bench uses, for `fpgaflow quantize --val`."""
    data = load_data()
    folder.mkdir(parents=True, exist_ok=True)
    for name, split in (("val", data.val), ("test", data.test)):
        np.savez(folder / f"{name}.npz", x=split.x, y=split.y)


def _emit(out: Path, row: dict[str, object]) -> None:
    print(json.dumps(row), flush=True)
    with out.open("a") as handle:
        handle.write(json.dumps(row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=Path("bench_widths.json"), help="rows appended as JSON lines")
    parser.add_argument("--epochs", type=int, default=20, help="pruning fine-tuning epochs without QAT (default 20)")
    parser.add_argument("--qat-epochs", type=int, nargs="*", default=[20],
                        help="epochs of the QAT pruning runs, one set of rows per value; none skips them (default 20)")
    parser.add_argument("--quick", action="store_true", help=f"uniform {QUICK_UNIFORM} and tolerance {QUICK_TOLERANCES} only")
    parser.add_argument("--only", nargs="+", choices=["unpruned", *PRUNINGS], help="only these models")
    parser.add_argument("--splits", type=Path, help="write the validation and test halves here as val.npz, test.npz and stop")
    args = parser.parse_args()
    if args.splits is not None:
        write_splits(args.splits)
        return
    run(args.json, args.epochs, args.qat_epochs, args.quick, args.only)


if __name__ == "__main__":
    main()
