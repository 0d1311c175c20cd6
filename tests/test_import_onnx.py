"""ONNX import: every test model at several opsets matches onnxruntime, structure is as
expected after the import flow, and every kind of bad input is a one-line UserError."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from fpgaflow.api import load_model
from fpgaflow.errors import UserError
from fpgaflow.importers.onnx_import import import_onnx
from fpgaflow.ir.layers import Activation, Conv2d, MaxPool
from fpgaflow.names import is_legal_identifier
from fpgaflow.passes.flows import import_flow
from fpgaflow.reference.float_exec import run_float
from models import NEWEST_OPSET, ONNX_BUILDERS, OnnxBuilder, digits_cnn, mlp, random_input

ort.set_default_logger_severity(3)
ORT_NEWEST_OPSET = 26  # the newest opset onnxruntime 1.31 runs; newer ones are checked structurally
COMPARED_OPSETS = (7, 11, 13, ORT_NEWEST_OPSET)


def onnxruntime_output(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {model.graph.input[0].name: x})[0]


def in_ir_shape(graph, x: np.ndarray) -> np.ndarray:
    """An ONNX input batch in the IR's per-sample shape: a 1-D model's (N, C, L) as (N, C, 1, L)."""
    return x.reshape(x.shape[0], *graph.tensors[graph.inputs[0]].shape)


@pytest.mark.parametrize("opset", COMPARED_OPSETS)
@pytest.mark.parametrize("name", sorted(ONNX_BUILDERS))
def test_imported_graph_matches_onnxruntime(name: str, opset: int) -> None:
    builder, lowest = ONNX_BUILDERS[name]
    model = builder(max(opset, lowest))
    x = random_input(model)
    for graph in (import_onnx(model), import_flow().run(import_onnx(model))):
        got = run_float(graph, in_ir_shape(graph, x))[graph.outputs[0]]
        np.testing.assert_allclose(got, onnxruntime_output(model, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("opset", "compared_with"), [(6, 7), (NEWEST_OPSET, ORT_NEWEST_OPSET)])
@pytest.mark.parametrize("name", sorted(ONNX_BUILDERS))
def test_opsets_onnxruntime_cannot_run_import_like_their_neighbours(name: str, opset: int, compared_with: int) -> None:
    """Opset 6 and the newest opsets are beyond onnxruntime: they must import exactly like
    the nearest opset that it checked (avgpool_net differs by design at 6: no count_include_pad)."""
    if name == "avgpool_net" and opset == 6:
        pytest.skip("avgpool_net has one pool fewer at opset 6")
    if name == "unet" and opset == 6:
        pytest.skip("nearest upsampling with scales starts at opset 7 (Upsample)")
    builder, _ = ONNX_BUILDERS[name]
    reference = import_flow().run(import_onnx(builder(compared_with)))
    graph = import_flow().run(import_onnx(builder(opset)))
    assert [type(layer) for layer in graph.layers] == [type(layer) for layer in reference.layers]
    assert {t.name: t.shape for t in graph.tensors.values()} == {t.name: t.shape for t in reference.tensors.values()}
    x = in_ir_shape(graph, random_input(builder(compared_with)))
    ours, theirs = run_float(graph, x), run_float(reference, x)
    np.testing.assert_array_equal(ours[graph.outputs[0]], theirs[reference.outputs[0]])


def test_digits_cnn_structure_after_import_flow() -> None:
    graph = import_flow().run(import_onnx(digits_cnn(13)))
    assert [layer.OP for layer in graph.layers] == ["Conv2d", "MaxPool", "Conv2d", "Flatten", "Dense"]
    conv1, _, conv2, _, dense = graph.layers
    assert conv1.activation == conv2.activation == Activation.RELU
    assert conv1.padding == (1, 1, 1, 1) and conv2.bias is not None
    assert graph.tensors[graph.inputs[0]].shape == (1, 8, 8)
    assert graph.output_shape(dense) == (10,)
    assert all(is_legal_identifier(n) for n in [*graph.tensors, *(layer.name for layer in graph.layers)])


def test_dense_only_model_on_2d_input_has_matmul_bias_folded() -> None:
    """The MatMul's Add imports as a ScaleShift on the vector; the import flow folds it into the bias."""
    graph = import_flow().run(import_onnx(mlp(13)))
    assert graph.tensors[graph.inputs[0]].shape == (16,)
    assert ops_of(graph) == ["Dense", "Dense"]
    assert all(layer.bias is not None for layer in graph.layers)


def test_arithmetic_batchnorm_imports_as_scaleshift_and_folds() -> None:
    """Mul/Add/Sub/Div by per-channel and scalar constants become ScaleShift layers; the import
    flow folds the ones after a conv into it and composes neighbours into one ScaleShift."""
    model = ONNX_BUILDERS["arithmetic_bn_net"][0](13)
    assert ops_of(import_onnx(model)) == ["Conv2d", "ScaleShift", "ScaleShift", "Relu", "ScaleShift", "ScaleShift",
                                          "Relu", "ScaleShift", "Conv2d", "ScaleShift"]
    graph = import_flow().run(import_onnx(model))
    assert ops_of(graph) == ["Conv2d", "ScaleShift", "ScaleShift", "Conv2d"]
    conv, first, flip, _ = graph.layers
    assert conv.activation == first.activation == Activation.RELU and flip.activation == Activation.NONE
    np.testing.assert_array_equal(flip.scale.values, -np.ones(4, np.float32))


def test_arithmetic_that_is_not_per_channel_is_refused() -> None:
    spatial = OnnxBuilder("spatial", 13)
    out = spatial.node("Mul", ["input", spatial.constant("map", np.ones((1, 4, 4), np.float32))], "mul")
    assert_one_line_error(lambda: import_onnx(spatial.model(["N", 2, 4, 4], out)), "Mul 'mul'", "per channel")
    two = OnnxBuilder("two_maps", 13)
    out = two.node("Mul", ["input", "input"], "square")
    assert_one_line_error(lambda: import_onnx(two.model(["N", 2, 4, 4], out)), "Mul 'square'", "two feature maps")
    inverse = OnnxBuilder("inverse", 13)
    out = inverse.node("Div", [inverse.constant("one", np.array(1.0, np.float32)), "input"], "inv")
    assert_one_line_error(lambda: import_onnx(inverse.model(["N", 2, 4, 4], out)), "Div 'inv'", "constant by a feature map")


def test_clip_0_6_becomes_relu6_and_pads_fold() -> None:
    clip = import_flow().run(import_onnx(ONNX_BUILDERS["clip_net"][0](13)))
    assert clip.layers[0].activation == Activation.RELU6
    pad = import_flow().run(import_onnx(ONNX_BUILDERS["pad_net"][0](13)))
    conv, pool = pad.layers
    assert isinstance(conv, Conv2d) and conv.padding == (1, 2, 1, 0)
    assert isinstance(pool, MaxPool) and pool.padding == (1, 1, 1, 1)


def test_fixed_batch_and_final_softmax() -> None:
    fixed = import_onnx(ONNX_BUILDERS["fixed_batch_cnn"][0](13))
    assert fixed.tensors[fixed.inputs[0]].shape == (1, 8, 8)
    graph = import_onnx(ONNX_BUILDERS["softmax_mlp"][0](13))
    assert graph.layers[-1].OP == "Softmax" and not graph.layers[-1].HARDWARE
    assert any("Softmax" in note for note in graph.notes)
    assert graph.hardware_outputs == [graph.layers[-1].inputs[0]]


def test_softmax_over_the_channels_of_a_pooled_map() -> None:
    """SqueezeNet ends in Softmax over axis 1 of an (N, C, 1, 1) map: the same final Softmax."""
    graph = import_flow().run(import_onnx(ONNX_BUILDERS["squeeze_softmax_net"][0](13)))
    softmax = graph.layers[-1]
    assert softmax.OP == "Softmax" and graph.tensors[softmax.inputs[0]].shape == (6, 1, 1)
    assert graph.hardware_outputs == [softmax.inputs[0]]
    over_width = OnnxBuilder("softmax_width", 13)
    out = over_width.node("Softmax", [over_width.node("GlobalAveragePool", ["input"], "pool")], "softmax", axis=-1)
    assert_one_line_error(lambda: import_onnx(over_width.model(["N", 4, 5, 5], out)), "class axis")


def test_path_like_and_keyword_names_are_sanitized() -> None:
    model = mlp(13)
    model.graph.node[0].name = "../../evil/fc1"
    model.graph.node[1].name = "module"
    renamed = {"relu1_out": "a/b.c", "fc1_out": "a\\b.c"}
    for node in model.graph.node:
        node.input[:] = [renamed.get(n, n) for n in node.input]
        node.output[:] = [renamed.get(n, n) for n in node.output]
    graph = import_onnx(model)
    names = [*graph.tensors, *(layer.name for layer in graph.layers)]
    assert all(is_legal_identifier(name) for name in names)
    assert len({name.lower() for name in names}) == len(names)
    np.testing.assert_allclose(
        run_float(graph, random_input(model))[graph.outputs[0]], onnxruntime_output(mlp(13), random_input(model)),
        rtol=1e-5, atol=1e-6,
    )


# ---- bad input ---------------------------------------------------------------------------
def assert_one_line_error(call, *fragments: str) -> None:
    with pytest.raises(UserError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_missing_truncated_and_foreign_files(tmp_path) -> None:
    assert_one_line_error(lambda: import_onnx(tmp_path / "nope.onnx"), "does not exist")
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(digits_cnn(13).SerializeToString()[:300])
    assert_one_line_error(lambda: import_onnx(truncated), "ONNX")
    text = tmp_path / "notes.onnx"
    text.write_text("this is not a model\n" * 20)
    assert_one_line_error(lambda: import_onnx(text), "ONNX")
    assert_one_line_error(lambda: load_model(tmp_path / "model.h5"), "unknown model format")
    assert_one_line_error(lambda: load_model(tmp_path), "graph.json")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_weights(bad: float) -> None:
    model = mlp(13)
    weights = numpy_helper.to_array(model.graph.initializer[0]).copy()
    weights.flat[3] = bad
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(weights, model.graph.initializer[0].name))
    assert_one_line_error(lambda: import_onnx(model), "NaN or Inf", "fc1")


def test_all_unsupported_ops_are_listed_at_once() -> None:
    b = OnnxBuilder("bad", 14)  # HardSwish is opset 14
    x = b.node("Sigmoid", [b.conv("input", "conv", 1, 2)], "sig")
    x = b.node("HardSwish", [x], "hswish")
    x = b.node("Tanh", [x], "tanh")
    assert_one_line_error(lambda: import_onnx(b.model(["N", 1, 5, 5], x)), "(3)", "Sigmoid 'sig' (a transcendental",
                          "HardSwish 'hswish' (x times HardSigmoid(x) multiplies two feature maps", "Tanh 'tanh'")


def test_leaky_relu_imports_with_its_alpha_and_fuses() -> None:
    graph = import_flow().run(import_onnx(ONNX_BUILDERS["leaky_net"][0](13)))
    assert [(layer.OP, layer.activation, layer.alpha) for layer in graph.layers if layer.OP in ("Conv2d", "Relu")] == [
        ("Conv2d", Activation.LEAKY, np.float32(0.1)), ("Conv2d", Activation.LEAKY, np.float32(0.1)),
        ("Relu", Activation.LEAKY, 0.125), ("Conv2d", Activation.NONE, 0.0)]
    zero = OnnxBuilder("leaky0", 13)
    out = zero.node("LeakyRelu", [zero.conv("input", "conv", 1, 2)], "leaky", alpha=0.0)
    assert import_flow().run(import_onnx(zero.model(["N", 1, 5, 5], out))).layers[0].activation is Activation.RELU
    for alpha in (-0.1, 1.5):
        bad = OnnxBuilder("leaky_bad", 13)
        out = bad.node("LeakyRelu", ["input"], "leaky", alpha=alpha)
        assert_one_line_error(lambda: import_onnx(bad.model(["N", 2, 4, 4], out)), "LeakyRelu 'leaky'", "0 <= alpha <= 1")


def test_unsupported_configurations() -> None:
    clip = OnnxBuilder("clip", 13)
    out = clip.clip("input", "clip", -1.0, 1.0)
    assert_one_line_error(lambda: import_onnx(clip.model(["N", 4], out)), "Clip(-1.0, 1.0)")
    pad = OnnxBuilder("pad", 13)
    out = pad.pad("input", "pad", [0, 1, 0, 0, 0, 0, 0, 0])
    assert_one_line_error(lambda: import_onnx(pad.model(["N", 2, 4, 4], out)), "height and width")
    reshape = OnnxBuilder("reshape", 13)
    out = reshape.node("Reshape", ["input", reshape.constant("shape", np.array([0, 4, 8], np.int64))], "reshape")
    assert_one_line_error(lambda: import_onnx(reshape.model(["N", 2, 4, 4], out)), "Reshape")
    dropout = OnnxBuilder("dropout", 13)
    ratio, training = dropout.constant("ratio", np.array(0.5, np.float32)), dropout.constant("train", np.array(True))
    out = dropout.node("Dropout", ["input", ratio, training], "dropout")
    assert_one_line_error(lambda: import_onnx(dropout.model(["N", 4], out)), "training mode")
    concat = OnnxBuilder("concat", 13)
    out = concat.node("Concat", ["input", "input"], "concat", axis=2)
    assert_one_line_error(lambda: import_onnx(concat.model(["N", 2, 4, 4], out)), "channel axis")


def test_dynamic_spatial_dims_and_old_opsets() -> None:
    model = digits_cnn(13)
    model.graph.input[0].type.tensor_type.shape.dim[2].dim_param = "H"
    assert_one_line_error(lambda: import_onnx(model), "dynamic")
    old = mlp(13)
    old.opset_import[0].version = 5
    assert_one_line_error(lambda: import_onnx(old), "opset 5")


def test_import_writes_no_files(tmp_path, monkeypatch) -> None:
    path = tmp_path / "digits.onnx"
    onnx.save(digits_cnn(13), str(path))
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    load_model(path)
    import_onnx(path.read_bytes())
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_saved_ir_directory_loads_back(tmp_path) -> None:
    from fpgaflow.ir.serialize import save_graph

    path = tmp_path / "digits.onnx"
    onnx.save(digits_cnn(13), str(path))
    graph = load_model(path)
    save_graph(graph, tmp_path / "ir")
    again = load_model(tmp_path / "ir")
    x = random_input(digits_cnn(13))
    np.testing.assert_array_equal(run_float(graph, x)[graph.outputs[0]], run_float(again, x)[again.outputs[0]])


def test_graph_outputs_keep_batch_free_shapes() -> None:
    model = digits_cnn(13)
    graph = import_onnx(model)
    assert graph.tensors[graph.outputs[0]].shape == (10,)


def exporter_idioms(opset: int) -> onnx.ModelProto:
    """Ops exporters emit around the layers: Identity, Dropout, a Shape/Gather/Concat chain
    feeding Reshape, Constant, SAME_UPPER padding, dilated MaxPool, ReduceMean, Sum,
    Gemm with alpha/beta and an untransposed B."""
    b = OnnxBuilder("idioms", opset, seed=9)
    x = b.node("Identity", ["input"], "identity")
    x = b.node("Dropout", [x, b.constant("ratio", np.array(0.5, np.float32))], "dropout")
    x = b.conv(x, "conv_same", 2, 4, auto_pad="SAME_UPPER", strides=[2, 2])
    x = b.node("MaxPool", [x], "dilated_pool", kernel_shape=[2, 2], dilations=[2, 2], pads=[1, 1, 1, 1])
    x = b.node("Sum", [x, b.node("Relu", [x], "relu"), x], "sum")
    x = b.node("ReduceMean", [x, b.constant("axes", np.array([2, 3], np.int64))], "mean", keepdims=1)
    batch = b.node("Gather", [b.node("Shape", [x], "shape"), b.constant("zero", np.array(0, np.int64))], "gather")
    minus_one = b.node("Constant", [], "minus_one", value=numpy_helper.from_array(np.array([-1], np.int64)))
    target = b.node("Concat", [b.node("Unsqueeze", [batch, b.constant("ax0", np.array([0], np.int64))], "unsq"),
                               minus_one], "target", axis=0)
    x = b.node("Reshape", [x, target], "reshape")
    w = b.constant("fc.weight", np.random.default_rng(3).normal(0, 0.2, (4, 3)).astype(np.float32))
    c = b.constant("fc.bias", np.array([0.5, -0.25, 0.1], np.float32))
    return b.model(["N", 2, 9, 9], b.node("Gemm", [x, w, c], "fc", alpha=0.5, beta=2.0))


def test_exporter_idioms_import_and_match_onnxruntime() -> None:
    model = exporter_idioms(18)
    graph = import_flow().run(import_onnx(model))
    assert "Reshape" not in ops_of(graph) and ops_of(graph)[-3:] == ["GlobalAvgPool", "Flatten", "Dense"]
    x = random_input(model)
    np.testing.assert_allclose(run_float(graph, x)[graph.outputs[0]], onnxruntime_output(model, x), rtol=1e-5, atol=1e-6)


def ops_of(graph) -> list[str]:
    return [layer.OP for layer in graph.layers]


def test_graph_output_declared_without_a_shape_imports() -> None:
    """onnxruntime runs a model whose graph output has no shape (the checker wants one): so must import."""
    b = OnnxBuilder("shapeless_output", 13)
    y = b.node("Relu", [b.conv("input", "conv", 2, 3, pads=[1, 1, 1, 1])], "relu")
    graph = onnx.helper.make_graph(
        b.nodes, "shapeless_output",
        [onnx.helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["N", 2, 5, 5])],
        [onnx.helper.make_tensor_value_info(y, onnx.TensorProto.FLOAT, None)],
        initializer=b.initializers,
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 13)])
    model.ir_version = 7
    assert not model.graph.output[0].type.tensor_type.HasField("shape")
    x = np.random.default_rng(0).normal(size=(2, 2, 5, 5)).astype(np.float32)
    imported = import_onnx(model)
    np.testing.assert_allclose(run_float(imported, x)[imported.outputs[0]], onnxruntime_output(model, x), rtol=1e-5, atol=1e-6)
    assert not model.graph.output[0].type.tensor_type.HasField("shape")  # the caller's model is not changed


def test_channel_shuffle_becomes_a_permutation_that_folds_where_it_can() -> None:
    model = ONNX_BUILDERS["shuffle_net"][0](13)
    raw = import_onnx(model)
    assert ops_of(raw) == ["Conv2d", "Relu", "ChannelPermute", "Conv2d", "ChannelPermute", "Conv2d"]
    assert raw.layers[2].order == (0, 4, 1, 5, 2, 6, 3, 7)
    graph = import_flow().run(import_onnx(model))
    assert ops_of(graph) == ["Conv2d", "ChannelPermute", "Conv2d", "Conv2d"]


def test_torch_channel_shuffle_export_matches_onnxruntime(tmp_path) -> None:
    """torchvision's channel_shuffle (view, transpose, contiguous, view) exported by torch.onnx."""
    import torch

    class Shuffle(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(6, 6, 1, groups=3)
            self.depthwise = torch.nn.Conv2d(6, 6, 3, padding=1, groups=6)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = torch.relu(self.conv(x))
            n, c, h, w = x.size()
            x = torch.transpose(x.view(n, 3, c // 3, h, w), 1, 2).contiguous().view(n, -1, h, w)
            return self.depthwise(x)

    torch.manual_seed(0)
    path = tmp_path / "shuffle.onnx"
    torch.onnx.export(Shuffle().eval(), (torch.zeros(2, 6, 4, 4),), str(path), dynamo=False,
                      input_names=["x"], dynamic_axes={"x": {0: "N"}})
    model = onnx.load(path)
    graph = import_flow().run(import_onnx(model))
    assert "ChannelPermute" in ops_of(graph)
    x = np.random.default_rng(0).normal(size=(3, 6, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(run_float(graph, x)[graph.outputs[0]], onnxruntime_output(model, x), rtol=1e-5, atol=1e-6)


def test_other_transposes_and_group_reshapes_are_refused() -> None:
    b = OnnxBuilder("transpose", 13)
    out = b.node("Transpose", ["input"], "nhwc", perm=[0, 2, 3, 1])
    assert_one_line_error(lambda: import_onnx(b.model(["N", 2, 4, 4], out)), "Transpose 'nhwc'")
    b = OnnxBuilder("groups", 13)
    x = b.node("Reshape", ["input", b.constant("split", np.array([-1, 2, 2, 4, 4], np.int64))], "split")
    out = b.node("Relu", [x], "relu")
    assert_one_line_error(lambda: import_onnx(b.model(["N", 4, 4, 4], out)), "Relu 'relu'", "channel groups")


def test_1d_convolutions_and_pools_run_as_2d_with_height_1() -> None:
    graph = import_flow().run(import_onnx(ONNX_BUILDERS["line_net"][0](13)))
    assert ops_of(graph) == ["Conv2d", "MaxPool", "Conv2d", "AvgPool", "Flatten", "Dense"]
    conv1, pool, conv2, avg, _, _ = graph.layers
    assert graph.tensors[graph.inputs[0]].shape == (2, 1, 16) and conv1.weight.values.shape == (4, 2, 1, 5)
    assert conv1.padding == (0, 2, 0, 2) and pool.kernel == (1, 2) and conv2.stride == (1, 2) and avg.stride == (1, 2)
    assert graph.output_shape(avg) == (4, 1, 2)


def _resize_model(opset: int, scales: list[float] | None = None, sizes: list[int] | None = None, **attrs) -> onnx.ModelProto:
    b = OnnxBuilder("resize", opset)
    roi = b.constant("roi", np.array([], np.float32))
    inputs = ["input", roi, b.constant("scales", np.array(scales if scales is not None else [], np.float32))]
    if sizes is not None:
        inputs.append(b.constant("sizes", np.array(sizes, np.int64)))
    return b.model(["N", 2, 3, 4], b.node("Resize", inputs, "up", **attrs))


@pytest.mark.parametrize(("opset", "kwargs"), [
    (9, {}),  # Upsample with a scales input
    (10, {}),  # Resize (X, scales)
    (13, {"scales": [1, 1, 3, 2]}),
    (13, {"sizes": [1, 2, 6, 12]}),
    (13, {"scales": [1, 1, 2, 3], "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}),
    (13, {"scales": [1, 1, 4, 1], "coordinate_transformation_mode": "pytorch_half_pixel", "nearest_mode": "round_prefer_ceil"}),
])
def test_nearest_upsampling_repeats_pixels_like_onnxruntime(opset: int, kwargs: dict) -> None:
    model = ONNX_BUILDERS["unet"][0](opset) if not kwargs else _resize_model(opset, mode="nearest", **kwargs)
    x = random_input(model, batch=1)  # `sizes` names the batch
    graph = import_flow().run(import_onnx(model))
    assert any(layer.OP == "Upsample" for layer in graph.layers)
    np.testing.assert_allclose(run_float(graph, x)[graph.outputs[0]], onnxruntime_output(model, x), rtol=1e-5, atol=1e-6)


def test_upsampling_that_does_not_repeat_pixels_is_refused() -> None:
    assert_one_line_error(lambda: import_onnx(_resize_model(13, [1, 1, 2, 2], mode="linear")), "Resize 'up'", "linear")
    assert_one_line_error(lambda: import_onnx(_resize_model(13, [1, 1, 1.5, 2], mode="nearest")), "integer factors")
    assert_one_line_error(lambda: import_onnx(_resize_model(13, [1, 2, 2, 2], mode="nearest")), "1 on N and C")
    asymmetric = _resize_model(13, [1, 1, 3, 3], mode="nearest", coordinate_transformation_mode="asymmetric")
    assert_one_line_error(lambda: import_onnx(asymmetric), "does not repeat pixels")
    ceil = _resize_model(13, [1, 1, 4, 1], mode="nearest", nearest_mode="ceil")  # (x + 1/2) / 4 - 1/2 = 1/8 rounds up
    assert_one_line_error(lambda: import_onnx(ceil), "does not repeat pixels")


def test_conv_transpose_other_than_stride_equal_to_kernel_is_refused() -> None:
    for attrs in ({"strides": [1, 1]}, {"strides": [2, 2], "pads": [1, 1, 0, 0]}, {"strides": [2, 2], "output_padding": [1, 1]}):
        b = OnnxBuilder("convt", 13)
        out = b.node("ConvTranspose", ["input", b.weight("w", (2, 3, 2, 2))], "up", kernel_shape=[2, 2], **attrs)
        assert_one_line_error(lambda: import_onnx(b.model(["N", 2, 4, 4], out)), "ConvTranspose 'up'", "strides equal to the kernel")
