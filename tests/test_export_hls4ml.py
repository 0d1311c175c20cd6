"""`fpgaflow export-hls4ml`: an hls4ml project that computes fpgaflow's codes (docs/hls4ml.md).

hls4ml's compile (g++ over its whole nnet library) takes one to two minutes on two cores, so
the default suite compiles once (io_stream, the default); io_parallel runs under -m slow.
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
from fpgaflow.ir.layers import Conv2d, Dense
from fpgaflow.quant import quantize
from fpgaflow.reference.fixed_exec import quantize_input, run_fixed
from models import avgpool_net, grouped_conv_net

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


@pytest.mark.parametrize(
    "model,names",
    [
        (grouped_conv_net, ["grouped (groups=2", "depthwise (groups=8"]),
        (avgpool_net, ["avg (AvgPool", "avg_incl (AvgPool", "gap (GlobalAvgPool"]),
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
