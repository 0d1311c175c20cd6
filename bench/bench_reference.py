"""Benchmark of the reference flow: import + quantize + run_fixed, and run_fixed's speed against float numpy.

Two networks: the bundled digits CNN (examples/digits_cnn.onnx, run on the bundled test
set) and a VGG-16-style stack of 13 3x3 convolutions (64, 64, M, 128, 128, M, 256 x3, M,
512 x3, M, 512 x3) at 224x224, batch 1, with seeded random weights built here with
onnx.helper. For VGG the baseline is the same layers computed as float32 numpy
im2col + matrix product, one layer at a time, in the same run; both sides are reported in
MAC/s (multiply-accumulates of the convolutions per second; run_fixed's time also covers
its pools, bias, requantization and activations). Every time is the best of --repeat runs.

Rerun:  python bench/bench_reference.py            (prints a markdown table)
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from fpgaflow.importers.onnx_import import import_onnx
from fpgaflow.ir import Conv2d, Dense, Graph
from fpgaflow.passes.flows import import_flow
from fpgaflow.quant import quantize
from fpgaflow.reference.fixed_exec import quantize_input, run_fixed
from fpgaflow.reference.float_exec import run_float
from fpgaflow.reference.kernels import conv2d

ROOT = Path(__file__).resolve().parent.parent
VGG_CHANNELS: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]


def best_time(repeat: int, work: Callable[[], object]) -> float:
    """Smallest wall time of `repeat` calls: the least disturbed by other jobs on a shared machine."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def conv_macs(graph: Graph) -> int:
    """Multiply-accumulates of every Conv2d and Dense layer for one sample."""
    total = 0
    for layer in graph.layers:
        if isinstance(layer, (Conv2d, Dense)):
            weights = int(np.prod(layer.weight.values.shape))
            positions = int(np.prod(graph.tensors[layer.output].shape[1:])) if isinstance(layer, Conv2d) else 1
            total += weights * positions
    return total


def vgg_onnx(size: int, seed: int) -> onnx.ModelProto:
    """The VGG-16 convolution stack (no classifier), He-initialized so activations keep their scale."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    x, channels = "input", 3
    for index, spec in enumerate(VGG_CHANNELS):
        if spec == "M":
            nodes.append(helper.make_node("MaxPool", [x], [f"pool{index}"], kernel_shape=[2, 2], strides=[2, 2]))
            x = f"pool{index}"
            continue
        weight = rng.normal(0, np.sqrt(2.0 / (channels * 9)), size=(spec, channels, 3, 3)).astype(np.float32)
        bias = rng.normal(0, 0.01, size=spec).astype(np.float32)
        inits += [numpy_helper.from_array(weight, f"w{index}"), numpy_helper.from_array(bias, f"b{index}")]
        nodes.append(helper.make_node("Conv", [x, f"w{index}", f"b{index}"], [f"conv{index}"], kernel_shape=[3, 3],
                                      pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"conv{index}"], [f"relu{index}"]))
        x, channels = f"relu{index}", int(spec)
    graph = helper.make_graph(nodes, "vgg16_convs", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 512, size // 32, size // 32])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def float32_numpy_convs(graph: Graph, floats: dict[str, np.ndarray]) -> Callable[[], None]:
    """The baseline: every conv of the graph as float32 im2col + matmul on its float input, one layer at a time."""
    convs = [layer for layer in graph.layers if isinstance(layer, Conv2d)]
    inputs = {layer.name: floats[layer.inputs[0]].astype(np.float32) for layer in convs}
    weights = {layer.name: layer.weight.values.astype(np.float32) for layer in convs}

    def work() -> None:
        for layer in convs:
            conv2d(inputs[layer.name], weights[layer.name], layer.stride, layer.padding, layer.dilation, layer.groups)

    return work


def bench_digits(repeat: int) -> list[str]:
    model = ROOT / "examples" / "digits_cnn.onnx"
    train, test = np.load(ROOT / "examples" / "digits_train.npz"), np.load(ROOT / "examples" / "digits_test.npz")
    start = time.perf_counter()
    graph = import_flow().run(import_onnx(model))
    t_import = time.perf_counter() - start
    start = time.perf_counter()
    q = quantize(graph, train["x"][:256])
    t_quant = time.perf_counter() - start
    codes = quantize_input(q, test["x"])
    out: dict[str, np.ndarray] = {}
    t_fixed = best_time(repeat, lambda: out.update(run_fixed(q, codes)))
    logits = out[q.hardware_outputs[0]]
    accuracy = float(np.mean(logits.argmax(axis=1) == test["y"]))
    float_accuracy = float(np.mean(run_float(graph, test["x"])[graph.outputs[0]].argmax(axis=1) == test["y"]))
    n = len(test["x"])
    macs = conv_macs(q) * n
    return [f"| digits CNN, {n} test images | {t_import * 1e3:.0f} ms | {t_quant * 1e3:.0f} ms | {t_fixed * 1e3:.0f} ms "
            f"| {macs / t_fixed / 1e9:.2f} | - | - | 8-bit accuracy {accuracy:.2%} (float {float_accuracy:.2%}) |"]


def bench_vgg(size: int, repeat: int) -> list[str]:
    model = vgg_onnx(size, seed=0)
    start = time.perf_counter()
    graph = import_flow().run(import_onnx(model))
    t_import = time.perf_counter() - start
    x = np.random.default_rng(1).random((1, 3, size, size))
    start = time.perf_counter()
    q = quantize(graph, x)
    t_quant = time.perf_counter() - start
    codes = quantize_input(q, x)
    t_fixed = best_time(repeat, lambda: run_fixed(q, codes))
    t_float = best_time(repeat, float32_numpy_convs(graph, run_float(graph, x)))
    macs = conv_macs(q)
    return [f"| VGG-16 convs, {size}x{size}, batch 1 | {t_import * 1e3:.0f} ms | {t_quant:.1f} s | {t_fixed:.2f} s "
            f"| {macs / t_fixed / 1e9:.2f} | {macs / t_float / 1e9:.2f} | {t_fixed / t_float:.2f}x | {macs / 1e9:.1f} GMAC |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="VGG input height and width (default 224)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per timing; the best is reported (default 2)")
    args = parser.parse_args()
    rows = bench_digits(args.repeat) + bench_vgg(args.size, args.repeat)
    print(f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, numpy {np.__version__}; best of {args.repeat}.\n")
    print("| network | import | quantize | run_fixed | run_fixed GMAC/s | float32 numpy GMAC/s | run_fixed / float32 time | notes |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
