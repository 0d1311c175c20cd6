"""Import passes: each keeps the float results of the graph and does its structural job,
and leaves layers alone where folding would change results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import numpy_helper

from fpgaflow.api import load_model
from fpgaflow.importers.onnx_import import import_onnx
from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import Activation, AvgPool, Conv2d, Dense, MaxPool, Pad, Relu, ScaleShift
from fpgaflow.passes.base import Flow, GraphPass
from fpgaflow.passes.flows import import_flow
from fpgaflow.passes.fold_batchnorm import FoldBatchNorm
from fpgaflow.passes.fold_pad import FoldPad
from fpgaflow.passes.fuse_activation import FuseActivation
from fpgaflow.reference.float_exec import run_float
from models import OnnxBuilder, digits_cnn, random_input

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "digits_cnn.onnx"


def outputs_before_and_after(graph: Graph, passes: list[GraphPass], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    before = run_float(graph, x)[graph.outputs[0]]
    for graph_pass in passes:
        graph_pass.run(graph)
    graph.check()
    return before, run_float(graph, x)[graph.outputs[0]]


def ops(graph: Graph) -> list[str]:
    return [layer.OP for layer in graph.layers]


def test_batchnorm_after_conv_folds_into_weights_and_bias() -> None:
    model = digits_cnn(13)
    graph = import_onnx(model)
    before, after = outputs_before_and_after(graph, [FoldBatchNorm()], random_input(model, batch=8))
    assert "BatchNorm" not in ops(graph)
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)


def test_batchnorm_elsewhere_becomes_scaleshift() -> None:
    b = OnnxBuilder("bn_after_relu", 13, seed=3)
    x = b.node("Relu", [b.conv("input", "conv", 2, 3)], "relu")
    model = b.model(["N", 2, 5, 5], b.batchnorm(x, "bn", 3))
    graph = import_onnx(model)
    before, after = outputs_before_and_after(graph, [FoldBatchNorm(), FuseActivation()], random_input(model))
    assert ops(graph) == ["Conv2d", "ScaleShift"]
    assert isinstance(graph.layers[1], ScaleShift)
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)


def test_scaleshift_with_dead_channels_matches_float64() -> None:
    """A standalone BatchNorm whose running variance is ~0 has scales near 1/sqrt(eps): its
    scale and shift must keep float64, or the float reference drifts from the exact result."""
    b = OnnxBuilder("bn_after_relu6", 13, seed=6)
    b.clip("input", "relu6", 0.0, 6.0)
    gamma, beta = np.array([1.3, 0.9, 1.1], np.float32), np.array([0.1, -0.3, 0.7], np.float32)
    mean, var = np.array([3.1, 0.2, 2.9], np.float32), np.array([1e-9, 1.0, 3e-9], np.float32)
    names = [b.constant(f"bn.{k}", v) for k, v in (("scale", gamma), ("bias", beta), ("mean", mean), ("var", var))]
    model = b.model(["N", 3, 4, 4], b.node("BatchNormalization", ["relu6_out", *names], "bn", epsilon=1e-5))
    graph = import_onnx(model)
    FoldBatchNorm().run(graph)
    assert ops(graph) == ["Relu", "ScaleShift"]
    inputs = np.random.default_rng(6).uniform(-1.0, 7.0, size=(8, 3, 4, 4)).astype(np.float32)
    relu6 = np.clip(inputs.astype(np.float64), 0.0, 6.0)
    channel = (1, 3, 1, 1)
    exact = (relu6 - mean.astype(np.float64).reshape(channel)) * (
        gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + np.float64(np.float32(1e-5)))
    ).reshape(channel) + beta.astype(np.float64).reshape(channel)
    got = run_float(graph, inputs)[graph.outputs[0]]
    np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-12)


def test_relu_is_not_fused_when_the_conv_output_has_another_reader() -> None:
    b = OnnxBuilder("shared", 13, seed=4)
    conv = b.conv("input", "conv", 3, 3, pads=[1, 1, 1, 1])
    out = b.node("Add", [b.node("Relu", [conv], "relu"), conv], "add")
    model = b.model(["N", 3, 4, 4], b.node("Relu", [out], "relu_out"))
    graph = import_onnx(model)
    before, after = outputs_before_and_after(graph, [FoldBatchNorm(), FuseActivation()], random_input(model))
    assert ops(graph) == ["Conv2d", "Relu", "Add"]
    assert graph.layers[0].activation == Activation.NONE and graph.layers[2].activation == Activation.RELU
    np.testing.assert_array_equal(after, before)


def pad_before(window: str, after_relu: bool, **attrs: object) -> Graph:
    b = OnnxBuilder("pad_window", 13, seed=5)
    x = b.conv("input", "conv", 2, 2)
    if after_relu:
        x = b.node("Relu", [x], "relu")
    x = b.pad(x, "pad", [0, 0, 1, 1, 0, 0, 1, 1])
    return import_onnx(b.model(["N", 2, 7, 7], b.node(window, [x], "pool", kernel_shape=[2, 2], **attrs)))


@pytest.mark.parametrize(
    ("window", "after_relu", "attrs", "folds"),
    [
        ("MaxPool", True, {}, True),
        ("MaxPool", False, {}, False),  # negative inputs: zero padding would win the max
        ("MaxPool", True, {"ceil_mode": 1, "strides": [2, 2]}, False),
        ("AveragePool", False, {}, True),  # becomes count_include_pad padding
        ("AveragePool", False, {"pads": [1, 1, 1, 1]}, False),  # own padding is not counted
        ("AveragePool", False, {"pads": [1, 1, 1, 1], "count_include_pad": 1}, True),
    ],
)
def test_pad_folds_into_pools_only_where_results_stay_equal(window: str, after_relu: bool, attrs: dict, folds: bool) -> None:
    graph = pad_before(window, after_relu, **attrs)
    x = np.random.default_rng(2).normal(0, 1, (4, 2, 7, 7)).astype(np.float32)
    before, after = outputs_before_and_after(graph, [FoldBatchNorm(), FuseActivation(), FoldPad()], x)
    assert any(isinstance(layer, Pad) for layer in graph.layers) != folds
    pool = graph.layers[-1]
    assert isinstance(pool, MaxPool | AvgPool)
    if folds and isinstance(pool, AvgPool):
        assert pool.count_include_pad
    np.testing.assert_allclose(after, before, rtol=1e-6, atol=1e-7)


def test_pad_folds_into_conv_padding() -> None:
    b = OnnxBuilder("pad_conv", 13, seed=6)
    model = b.model(["N", 2, 5, 5], b.conv(b.pad("input", "pad", [0, 0, 2, 0, 0, 0, 1, 3]), "conv", 2, 3, pads=[1, 1, 1, 1]))
    graph = import_onnx(model)
    before, after = outputs_before_and_after(graph, [FoldBatchNorm(), FuseActivation(), FoldPad()], random_input(model))
    assert len(graph.layers) == 1 and isinstance(graph.layers[0], Conv2d)
    assert graph.layers[0].padding == (3, 1, 2, 4)
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)


def test_standalone_relu_stays_when_nothing_precedes_it() -> None:
    b = OnnxBuilder("relu_first", 13)
    model = b.model(["N", 3], b.node("Relu", ["input"], "relu"))
    graph = import_flow().run(import_onnx(model))
    assert len(graph.layers) == 1 and isinstance(graph.layers[0], Relu)


def test_flow_rejects_passes_out_of_order() -> None:
    with pytest.raises(ValueError, match="fold_batchnorm"):
        Flow("wrong", [FuseActivation(), FoldBatchNorm()])
    assert [p.name for p in import_flow().passes] == [
        "fold_batchnorm", "fuse_activation", "fold_pad", "fold_channel_permute", "infer_shapes", "remove_pruned_channels",
        "classify_sparsity"
    ]



def test_loading_a_channel_pruned_model_removes_the_channel_and_records_sparsity(tmp_path: Path) -> None:
    """The import flow takes out an all-zero filter (weights and bias) and its neighbour's input channel, exactly."""
    model = onnx.load(EXAMPLE)
    first_conv = next(node for node in model.graph.node if node.op_type == "Conv")
    initializers = {init.name: init for init in model.graph.initializer}
    for name in first_conv.input[1:]:
        values = numpy_helper.to_array(initializers[name]).copy()
        values[3] = 0
        initializers[name].CopyFrom(numpy_helper.from_array(values, name))
    pruned = tmp_path / "pruned.onnx"
    onnx.save(model, pruned)

    graph = load_model(pruned)
    conv0, conv1 = [layer for layer in graph.layers if isinstance(layer, Conv2d)][:2]
    assert conv0.weight.values.shape[0] == 15 and conv1.weight.values.shape[1] == 15
    assert all(layer.weight.sparsity is not None for layer in graph.layers if isinstance(layer, (Conv2d, Dense)))
    x = np.random.default_rng(0).random((4, 1, 8, 8)).astype(np.float32)
    session = onnxruntime.InferenceSession(str(pruned), providers=["CPUExecutionProvider"])
    expected = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(run_float(graph, x)[graph.outputs[0]], expected, rtol=1e-5, atol=1e-6)
