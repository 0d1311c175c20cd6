"""hls4ml's automatic ('auto') precision on the digits CNN: the widths it chooses per layer, weight bits, accuracy.

hls4ml 1.x leaves a layer type at 'auto' when a configuration is made with
`hls4ml.utils.config_from_*_model(..., granularity='name')`; its optimizer pass
`infer_precision_types` then fills it in: a weight or bias without a quantizer (a float model)
gets the model's default precision, an accumulator and a result get a type wide enough that
nothing rounds or overflows (weight width + input width + ceil(log2(n_ops)), bias aligned),
optionally capped by `max_precision`. So 'auto' sizes the arithmetic from the weights' type, but
never narrows a weight below the default: the weight widths are the user's choice.

This script builds the digits CNN (examples/digits_cnn.onnx, BatchNorm folded by the export)
as a torch module with the ONNX file's weights, makes hls4ml's configuration with
`config_from_pytorch_model(granularity='name', default_precision=...)` for each default
precision, converts it (io_stream, Vitis back end, channels-last inside), and reports per layer
the weight, bias, accumulator and result types hls4ml settled on, the bits of its weight and bias
arrays (every element at its type's width, zeros included, as hls4ml stores them) and the
accuracy of hls4ml's own C simulation (`compile()` + `predict`, g++) on the same test half
bench/bench_widths.py reports, and on all 450 test images.

hls4ml's ONNX front end (`config_from_onnx_model`) needs a model cleaned by the `qonnx`
package (shapes inferred, channels last); that package is not installed here, so the ONNX path
stops at "Could not find the shape for input features.0.weight" (see docs/benchmarks.md).

    nice -n 10 python bench/bench_hls4ml_auto.py --json bench_hls4ml_auto.json [--defaults 'fixed<16,6>' 'fixed<8,3>']
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from bench_widths import MODEL, Data, load_data
from fpgaflow.api import load_model
from fpgaflow.reference.float_exec import run_float
from fpgaflow.wordlength.search import accuracy_percent

DEFAULTS = ("fixed<16,6>", "fixed<8,3>", "fixed<8,3,RND,SAT>")
"""hls4ml's own default precision, an 8-bit one a user might try first (truncating and wrapping, ap_fixed's defaults), and the same rounding half up and saturating (the contract fpgaflow quantizes with)."""


def digits_module() -> torch.nn.Sequential:
    """The digits CNN as exported (the BatchNorm folded into the second conv), weights from the ONNX file."""
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(128, 10),
    ).double()
    graph = onnx.load(MODEL).graph
    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    cores = [layer for layer in model if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear))]
    nodes = [node for node in graph.node if node.op_type in ("Conv", "Gemm")]
    assert len(cores) == len(nodes), "examples/digits_cnn.onnx no longer has this architecture"
    with torch.no_grad():
        for core, node in zip(cores, nodes):
            core.weight.copy_(torch.from_numpy(values[node.input[1]].astype(np.float64)))
            core.bias.copy_(torch.from_numpy(values[node.input[2]].astype(np.float64)))
    model.eval()
    return model


def check_same_model(model: torch.nn.Module, data: Data) -> None:
    """The torch module computes what fpgaflow's float reference computes from the ONNX file."""
    graph = load_model(MODEL)
    expected = run_float(graph, data.test_all.x.astype(np.float64))[graph.outputs[0]]
    with torch.no_grad():
        got = model(torch.from_numpy(data.test_all.x.astype(np.float64))).numpy()
    assert np.allclose(got, expected, atol=1e-6), "torch module and ONNX model disagree"


def measure(model: torch.nn.Module, default: str, data: Data, folder: Path) -> dict[str, object]:
    import hls4ml

    config = hls4ml.utils.config_from_pytorch_model(model, (1, 8, 8), granularity="name", backend="Vitis",
                                                    default_precision=default, channels_last_conversion="internal")
    auto = {name: sorted(key for key, value in layer.get("Precision", {}).items() if value == "auto")
            for name, layer in config["LayerName"].items()}
    with contextlib.redirect_stdout(io.StringIO()):
        hls_model = hls4ml.converters.convert_from_pytorch_model(
            model, hls_config=config, output_dir=str(folder), backend="Vitis", io_type="io_stream")
    layers, weight_bits, bias_bits = [], 0, 0
    for layer in hls_model.get_layers():
        types = {name: layer.types[name].precision.definition_cpp() for name in ("weight_t", "bias_t", "accum_t")
                 if name in layer.types}
        types["result_t"] = layer.get_output_variable().type.precision.definition_cpp()
        for role, variable in layer.weights.items():
            bits = int(variable.data.size) * variable.type.precision.width
            weight_bits += bits if role == "weight" else 0
            bias_bits += bits if role == "bias" else 0
        layers.append({"layer": layer.name, "class": layer.class_name, **types})
    start = time.time()
    with contextlib.redirect_stdout(io.StringIO()):
        hls_model.compile()
    compile_seconds = time.time() - start

    def accuracy(x: np.ndarray, y: np.ndarray) -> float:
        inputs = np.ascontiguousarray(np.moveaxis(x.astype(np.float64), 1, -1).reshape(len(x), -1))
        return round(accuracy_percent(np.asarray(hls_model.predict(inputs)).reshape(len(x), -1), y), 2)

    return {"default_precision": default, "auto_in_config": auto, "layers": layers, "weight_bits": weight_bits,
            "bias_bits": bias_bits, "compile_seconds": round(compile_seconds, 1),
            "test_accuracy": accuracy(data.test.x, data.test.y), "test_accuracy_all": accuracy(data.test_all.x, data.test_all.y),
            "hls4ml": hls4ml.__version__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=Path("bench_hls4ml_auto.json"), help="rows appended as JSON lines")
    parser.add_argument("--defaults", nargs="+", default=list(DEFAULTS), help=f"hls4ml default precisions (default {DEFAULTS})")
    args = parser.parse_args()
    data = load_data()
    model = digits_module()
    check_same_model(model, data)
    for default in args.defaults:
        with tempfile.TemporaryDirectory() as folder:
            row = measure(model, default, data, Path(folder))
        print(json.dumps(row), flush=True)
        with args.json.open("a") as handle:
            handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
