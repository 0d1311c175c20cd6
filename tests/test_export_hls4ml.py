"""`fpgaflow export-hls4ml`: an hls4ml project that computes fpgaflow's codes (docs/hls4ml.md).

hls4ml's compile (g++ over its whole nnet library) takes one to two minutes on two cores, so
the default suite compiles the digits example and four small models of the layers added
later (25 to 55 seconds each; io_stream, the default); io_parallel and the other models run
under -m slow.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import onnx
import pytest
import yaml

from fpgaflow.api import load_model
from fpgaflow.cli.main import main
from fpgaflow.export.hls4ml_bridge import ap_type, convert, plan_export, predict_codes
from fpgaflow.fixed import average_division, relu6_ceiling
from fpgaflow.ir.layers import Conv2d, Dense
from fpgaflow.quant import quantize
from fpgaflow.reference.fixed_exec import quantize_input, run_fixed
from models import (
    OnnxBuilder,
    avgpool_net,
    clip_net,
    dead_channel_scale_net,
    depthwise_net,
    grouped_conv_net,
    leaky_net,
    mean_net,
    pooled_concat_net,
    random_input,
    residual_block,
)

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "examples" / "digits_cnn.onnx"
TRAIN = REPO / "examples" / "digits_train.npz"
TEST = REPO / "examples" / "digits_test.npz"
SAMPLES = 200


@pytest.fixture(scope="module")
def digits():
    """The digits example quantized at 8 bits on its training set, as the CLI does it."""
    return quantize(load_model(MODEL), np.load(TRAIN)["x"], 8)


def test_formats_and_weights_are_fpgaflows(digits, tmp_path):
    """Every layer's result type is fpgaflow's format; weights and biases hold fpgaflow's codes."""
    hls_model = convert(digits, tmp_path / "prj")
    layers = {layer.name: layer for layer in hls_model.get_layers()}
    for layer in digits.hardware_layers:
        if not isinstance(layer, (Conv2d, Dense)):
            continue
        hls_layer = layers[layer.name.lower()]
        backend = hls_model.config.backend
        assert hls_layer.get_output_variable().type.precision == backend.convert_precision_string(
            ap_type(digits.tensors[layer.output].ftype))
        weight, bias = hls_layer.weights["weight"], hls_layer.weights["bias"]
        assert weight.type.precision == backend.convert_precision_string(ap_type(layer.weight.ftype))
        assert bias.type.precision == backend.convert_precision_string(ap_type(layer.bias.ftype))
        assert hls_layer.get_attr("accum_t").precision == backend.convert_precision_string(ap_type(layer.acc, modes=False))
        # hls4ml transposes weights to channels-last; the multiset of codes is unchanged and exact
        codes = np.ldexp(np.asarray(weight.data, dtype=np.float64), layer.weight.ftype.frac)
        assert np.array_equal(np.sort(codes, axis=None), np.sort(layer.weight.codes, axis=None))
        bias_codes = np.ldexp(np.asarray(bias.data, dtype=np.float64), layer.bias.ftype.frac)
        assert np.array_equal(bias_codes, layer.bias.codes)


def _compiled_codes(graph, folder: Path, io: str) -> tuple[np.ndarray, np.ndarray]:
    """hls4ml's compiled C++ output codes and the fixed-point reference's, on the first test digits."""
    hls_model = convert(graph, folder, io)
    hls_model.compile()
    codes = quantize_input(graph, np.load(TEST)["x"][:SAMPLES])
    return predict_codes(hls_model, graph, codes), run_fixed(graph, codes)[graph.hardware_outputs[0]]


def test_compiled_stream_project_equals_the_reference(digits, tmp_path):
    """hls4ml's g++ build (io_stream) gives fpgaflow's output codes, bit for bit (docs/hls4ml.md),
    and the firmware it compiled is the one `fpgaflow export-hls4ml` writes."""
    got, expected = _compiled_codes(digits, tmp_path / "prj", "stream")
    assert got.shape == expected.shape == (SAMPLES, 10)
    assert np.array_equal(got, expected)
    assert main(["export-hls4ml", str(MODEL), "--calib", str(TRAIN), "--out", str(tmp_path / "cli")]) == 0
    compiled, exported = tmp_path / "prj" / "firmware", tmp_path / "cli" / "hls4ml" / "firmware"
    sources = sorted(p.relative_to(exported) for p in exported.rglob("*") if p.is_file())
    assert Path("fpgaflow_net.cpp") in sources and Path("weights/w2.txt") in sources
    for relpath in sources:
        assert (compiled / relpath).read_bytes() == (exported / relpath).read_bytes(), relpath


@pytest.mark.slow
@pytest.mark.parametrize("io,bits", [("parallel", 8), ("stream", 16)])
def test_compiled_project_equals_the_reference(tmp_path, io, bits):
    graph = quantize(load_model(MODEL), np.load(TRAIN)["x"], bits)
    got, expected = _compiled_codes(graph, tmp_path / "prj", io)
    assert np.array_equal(got, expected)


def _onnx_graph(tmp_path: Path, model: onnx.ModelProto, bits: int = 8):
    """A test model imported and quantized on a seeded random batch, and SAMPLES input codes from another."""
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    graph = quantize(load_model(path), random_input(model, batch=64, seed=2), bits)
    return graph, quantize_input(graph, random_input(model, batch=SAMPLES, seed=1))


def _compiled(graph, codes: np.ndarray, folder: Path, io: str = "stream") -> tuple[np.ndarray, np.ndarray]:
    """hls4ml's compiled C++ output codes and the fixed-point reference's on the same input codes."""
    hls_model = convert(graph, folder, io)
    hls_model.compile()
    return predict_codes(hls_model, graph, codes), run_fixed(graph, codes)[graph.hardware_outputs[0]]


@pytest.mark.parametrize("model", [
    # a fan-out of the input, Concat, a stand-alone ReLU, ScaleShift, AvgPool 2x2, GlobalAvgPool over 3x3, Dense
    pooled_concat_net,
    depthwise_net,  # hls4ml's DepthwiseConv2D, padded and strided
    residual_block,  # Add (with the block input) + ReLU
    pytest.param(leaky_net, marks=pytest.mark.slow),  # fused and stand-alone LeakyRelu (slopes 0.1, 0.125), Concat
    pytest.param(dead_channel_scale_net, marks=pytest.mark.slow),  # ScaleShift with per-channel formats + LeakyRelu
])
def test_compiled_layers_equal_the_reference(tmp_path, model):
    """Every layer kind the bridge exports gives fpgaflow's codes in hls4ml's g++ build (docs/hls4ml.md)."""
    graph, codes = _onnx_graph(tmp_path, model())
    got, expected = _compiled(graph, codes, tmp_path / "prj")
    assert np.array_equal(got, expected)


def test_relu6_clamps_at_six_in_io_parallel(tmp_path):
    """ReLU6 is hls4ml's io_parallel `nnet::relu6` (io_stream has none: refused below): inputs four
    times larger than clip_net's usual give a ReLU6 output format above 6.0, so the clamp at the
    code of 6.0 (fixed.relu6_ceiling) decides codes, and hls4ml's g++ build computes them."""
    model = clip_net()
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    graph = quantize(load_model(path), 4 * random_input(model, batch=64, seed=2), 8)
    codes = quantize_input(graph, 4 * random_input(model, batch=SAMPLES, seed=1))
    conv = graph.layer("conv")
    out = graph.tensors[conv.output].ftype
    assert out.to_real(np.array(out.max_code)) > 6.0
    assert (run_fixed(graph, codes)[conv.output] == relu6_ceiling(out)).any()
    got, expected = _compiled(graph, codes, tmp_path / "prj", "parallel")
    assert np.array_equal(got, expected)


def test_leaky_relu_rounds_once(tmp_path):
    """A fused LeakyRelu: the layer hands hls4ml's LeakyReLU its exact accumulator, whose slope
    type holds fpgaflow's slope code (0.1 = 52429 * 2^-19, 0.125 = 1 * 2^-3) exactly."""
    graph, _ = _onnx_graph(tmp_path, leaky_net())
    precisions = plan_export(graph).precisions
    conv1 = graph.layer("conv1")
    assert precisions["conv1"]["result"] == ap_type(conv1.acc, modes=False)
    assert precisions["conv1_leaky"] == {"result": ap_type(graph.tensors[conv1.output].ftype),
                                         "param": "ap_ufixed<16,-3,AP_RND,AP_SAT>"}
    assert precisions["leaky_cat"]["param"] == "ap_ufixed<1,-2,AP_RND,AP_SAT>"
    assert precisions["cat"]["result"] == ap_type(graph.tensors["concat_out"].ftype)


def test_average_is_the_exactly_rounded_mean(tmp_path):
    """hls4ml divides a window sum exactly and rounds half up once; fpgaflow multiplies it by a
    16-bit reciprocal (docs/fixed-point.md). Measured on a mean over 36 values at 16 bits: the
    codes differ by at most 1, and only where the exact mean lies within the reciprocal's error
    of a rounding boundary (docs/hls4ml.md)."""
    graph, codes = _onnx_graph(tmp_path, mean_net(), bits=16)
    got, expected = _compiled(graph, codes, tmp_path / "prj")
    gap = graph.layer("gap")
    source, out = graph.tensors[gap.inputs[0]].ftype, graph.tensors[gap.output].ftype
    count, shift = 36, out.frac - source.frac
    sums = codes.sum(axis=(2, 3), keepdims=True)
    num, den = sums << max(shift, 0), count << max(-shift, 0)  # the exact mean in output steps is num / den
    assert np.array_equal(got, out.saturate((2 * num + den) // (2 * den)))
    recip_code, recip_frac = average_division(count, gap.reciprocal)
    differ = got != expected
    assert np.abs(got - expected).max() <= 1
    recip_error = np.abs(sums) * abs(recip_code * 2.0**-recip_frac - 1 / count) * 2.0**shift
    tie_distance = np.abs((num % den) / den - 0.5)
    assert np.all(tie_distance[differ] <= recip_error[differ])


def test_codes_beyond_float64_are_refused(digits):
    from fpgaflow.errors import UserError

    graph = copy.deepcopy(digits)
    dense = next(layer for layer in graph.layers if isinstance(layer, Dense))
    dense.bias.codes[0] = 1 << 53
    with pytest.raises(UserError, match=f"codes of {dense.name} exactly"):
        plan_export(graph)


def test_cli_writes_the_project(capsys, tmp_path):
    out = tmp_path / "out"
    assert main(["export-hls4ml", str(MODEL), "--calib", str(TRAIN), "--out", str(out)]) == 0
    project = out / "hls4ml"
    config = (project / "hls4ml_config.yml").read_text()
    assert "IOType: io_stream" in config and "OutputDir: .\n" in config and str(tmp_path) not in config
    assert "PytorchModel: null\n" in config and "!!python/object" not in config
    assert yaml.load(config, Loader=yaml.FullLoader)["HLSConfig"]["LayerName"]["classifier_gemm"]["Precision"]["result"] == (
        "ap_fixed<8,6,AP_RND,AP_SAT>")
    assert (project / "firmware" / "fpgaflow_net.cpp").is_file()
    assert "hls::stream<" in (project / "firmware" / "fpgaflow_net.cpp").read_text()
    assert "hls4ml project fpgaflow_net" in capsys.readouterr().out
    assert main(["export-hls4ml", str(MODEL), "--calib", str(TRAIN), "--out", str(out), "--io", "parallel"]) == 0
    assert "IOType: io_parallel" in (project / "hls4ml_config.yml").read_text()


def test_cli_refuses_a_foreign_folder(capsys, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    assert main(["export-hls4ml", str(MODEL), "--calib", str(TRAIN), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not empty and not an fpgaflow build folder" in err and err.count("\n") == 1
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def _multiplier_net() -> onnx.ModelProto:
    """A depthwise conv with depth multiplier 2 (groups 4, 8 outputs) on 4x5x5."""
    b = OnnxBuilder("multiplier_net", 13)
    return b.model(["N", 4, 5, 5], b.conv("input", "dw", 4, 8, groups=4))


@pytest.mark.parametrize(
    "model,names",
    [
        (grouped_conv_net, ["grouped (groups=2: hls4ml has no grouped convolution"]),
        (_multiplier_net, ["dw (depthwise with depth multiplier 2"]),
        (avgpool_net, ["avg (only pools with stride = kernel", "avg_incl (only pools"]),
        (clip_net, ["conv (ReLU6: hls4ml's io_stream library has no relu6; export with --io parallel"]),
    ],
)
def test_layers_hls4ml_cannot_express_are_named(capsys, tmp_path, model, names):
    path = tmp_path / "model.onnx"
    onnx.save(model(), path)
    graph = load_model(path)
    x = np.random.default_rng(0).random((4, *graph.tensors[graph.inputs[0]].shape)).astype(np.float32)
    np.save(tmp_path / "calib.npy", x)
    out = tmp_path / "out"
    assert main(["export-hls4ml", str(path), "--calib", str(tmp_path / "calib.npy"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "hls4ml export cannot express" in err
    assert all(name in err for name in names), err
    assert not out.exists()


def test_plan_refuses_an_unquantized_graph():
    from fpgaflow.errors import UserError

    with pytest.raises(UserError, match="not quantized"):
        plan_export(load_model(MODEL))
