"""The HLS C++ back end: build --hls, then its g++ C simulation bit for bit against run_fixed.

One g++ compile per network (the test bench and the top; -O1). The digits build checks the
CLI paths, the report entry and that the files are deterministic; the other architectures
and the default fuzz cases go through `build --hls` and `verify --hls`.
"""

import json

import numpy as np
import onnx
import pytest

import models
from fpgaflow.backends.hls.generate import generate_hls
from fpgaflow.backends.hls.layers import LayerLowering
from fpgaflow.boards import load_board
from fpgaflow.cli.main import main
from fpgaflow.errors import UserError
from fpgaflow.flow.ops.sparse_engine import engine_image
from fpgaflow.flow.weight_rom import rom_fields
from fpgaflow.ir.layers import BatchNorm, Weight
from fpgaflow.ir.serialize import load_graph
from fpgaflow.reference.fixed_exec import run_fixed
from test_fuzz import DEFAULT_SEEDS, SLOW_SEEDS, _case

MODEL = "examples/digits_cnn.onnx"
CALIB = "examples/digits_train.npz"


def check_hls_bit_exact(folder, frames):
    report = json.loads((folder / "report.json").read_text())
    entry = report["verify"]["hls"]
    assert entry["frames"] == frames
    assert entry["mismatches"] == 0, entry["first_mismatch"]
    graph = load_graph(folder / "ir")
    inputs = np.load(folder / "verify" / "inputs.npy") if (folder / "verify" / "inputs.npy").exists() else None
    got = np.load(folder / "verify" / "hls.npy")
    assert got.dtype == np.int64 and len(got) == frames
    if inputs is not None:
        assert np.array_equal(got, run_fixed(graph, inputs)[graph.hardware_outputs[0]])
    return report


@pytest.fixture(scope="session")
def digits_hls(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits_hls")
    assert main(["build", MODEL, "--board", "pynq", "--calib", CALIB, "--hls", "--out", str(out)]) == 0
    assert main(["verify", str(out), "--hls", "--frames", "6", "--calib", CALIB]) == 0
    return out


def test_digits_c_simulation_is_bit_exact(digits_hls):
    check_hls_bit_exact(digits_hls, 6)
    graph = load_graph(digits_hls / "ir")
    digits = np.load(CALIB)["x"][:6]
    from fpgaflow.reference.fixed_exec import quantize_input
    expected = run_fixed(graph, quantize_input(graph, digits))[graph.hardware_outputs[0]]
    assert np.array_equal(np.load(digits_hls / "verify" / "hls.npy"), expected)


def engine_word_arrays(layer):
    """The arrays of a conv or dense function that are fields of its ROM words, and its engine image."""
    image = engine_image(layer.plan, layer.lanes, layer.store_zeros)
    return [a for a in layer.arrays if a.rom], image


def test_hls_files_are_deterministic_and_hold_the_rtl_rom(digits_hls):
    report = json.loads((digits_hls / "report.json").read_text())
    setup = json.loads((digits_hls / "design.json").read_text())
    graph = load_graph(digits_hls / "ir")
    lanes = {layer["name"]: layer["parallelism"] for layer in report["layers"]}
    generated = generate_hls(graph, load_board("pynq"), setup["top"], lanes)
    for relpath, text in generated.files.items():
        assert (digits_hls / "hls" / relpath).read_text() == text, relpath
    for layer in generated.layers:
        if layer.kind in ("conv", "dense"):
            codes = graph.layer(layer.name).weight.codes
            words, image = engine_word_arrays(layer)
            weights = next(a for a in words if a.name.endswith("_w"))
            # the RTL's ROM word for word: DEPTH rows of P weights, the nonzero codes and padding zeros
            assert weights.dims == (image.depth, lanes[layer.name])
            assert sorted(v for v in weights.values if v) == sorted(int(v) for v in codes[codes != 0])
            assert sum(a.bits for a in words) == image.weight_memory_bits
    top = (digits_hls / "hls" / f"{setup['top']}.cpp").read_text()
    for pragma in ("INTERFACE axis port = s_axis", "ap_ctrl_none", "DATAFLOW", "BIND_STORAGE", "RESOURCE variable"):
        assert pragma in top
    assert "csim_design" in (digits_hls / "hls" / "build_prj.tcl").read_text()


def test_report_has_hls_estimates_beside_the_rtl(digits_hls):
    report = json.loads((digits_hls / "report.json").read_text())
    hls = report["hls"]
    assert "estimate" in hls["status"] and "not confirmed" in hls["status"]
    assert hls["totals"]["rtl_cycles_per_frame"] == report["totals"]["cycles_per_frame"]
    assert hls["totals"]["cycles_per_frame"] == max(layer["cycles_estimate"] for layer in hls["layers"])
    assert hls["totals"]["dsp"] > 0 and hls["totals"]["rom_bits"] > 0
    assert "## HLS C++" in (digits_hls / "report.md").read_text()


def test_hls_estimate_of_the_engines_is_the_rtl_model(digits_hls):
    """The conv and dense functions keep the sparse engine's contract: their cycles are the RTL report's cycles_model."""
    report = json.loads((digits_hls / "report.json").read_text())
    rtl = {layer["name"]: layer["cycles_model"] for layer in report["layers"]}
    engines = [layer for layer in report["hls"]["layers"] if layer["kind"] in ("conv", "dense")]
    assert [layer["layer"] for layer in engines if layer["kind"] == "conv"]
    for layer in engines:
        assert layer["cycles_estimate"] == layer["rtl_cycles_model"] == rtl[layer["layer"]], layer["function"]
    assert report["hls"]["totals"]["cycles_per_frame"] == report["totals"]["cycles_per_frame"]


def kep_dense_net() -> onnx.ModelProto:
    """A kernel-pattern pruned conv (every kernel 4 of 9 weights by one of 4 patterns, some kernels zero), max pool,
    and a dense layer of 1 to 2 weights per output, so that at P = 4 the conv takes pattern ids and dense words close
    several channels."""
    rng = np.random.default_rng(7)
    b = models.OnnxBuilder("kep_dense_net", 13, 7)
    x = b.node("Relu", [b.conv("input", "kep", 4, 8, pads=[1, 1, 1, 1])], "relu1")
    x = b.node("MaxPool", [x], "pool", kernel_shape=[2, 2], strides=[2, 2])
    x = b.node("Flatten", [x], "flatten", axis=1)
    model = b.model(["N", 4, 6, 6], b.gemm(x, "fc", 8 * 3 * 3, 6))
    library = [rng.choice(9, size=4, replace=False) for _ in range(4)]
    for init in model.graph.initializer:
        if init.name == "kep.weight":
            weight = np.zeros((8, 4, 9), np.float32)
            for o in range(8):
                for i in range(4):
                    if rng.random() < 0.8:
                        weight[o, i, library[rng.integers(4)]] = rng.uniform(0.1, 0.3, 4) * rng.choice([-1, 1], 4)
            init.CopyFrom(onnx.numpy_helper.from_array(weight.reshape(8, 4, 3, 3), init.name))
        if init.name == "fc.weight":
            weight = np.zeros((6, 72), np.float32)
            for o in range(6):
                weight[o, rng.choice(72, size=1 + o % 2, replace=False)] = rng.uniform(0.5, 1.0) * rng.choice([-1, 1])
            init.CopyFrom(onnx.numpy_helper.from_array(weight, init.name))
    return model


def test_pattern_mode_and_multi_channel_words_bit_exact_in_c_simulation(tmp_path):
    """The KEP conv runs on pattern ids and its pattern table, the dense layer on words that close two channels."""
    model = tmp_path / "kep_dense_net.onnx"
    onnx.save(kep_dense_net(), model)
    out = tmp_path / "out"
    assert main(["build", str(model), "--board", "pynq", "--parallelism", "4", "--hls", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    graph = load_graph(out / "ir")
    lanes = {layer["name"]: layer["parallelism"] for layer in report["layers"]}
    assert lanes["kep"] == lanes["fc"] == 4
    layers = {layer.name: layer for layer in generate_hls(graph, load_board("pynq"), "top", lanes).layers}
    _, kep = engine_word_arrays(layers["kep"])
    assert kep.is_pattern_mode and any(a.name == "kep_pattern" for a in layers["kep"].arrays)
    _, fc = engine_word_arrays(layers["fc"])
    assert max(rom_fields(fc).ends) > 1
    assert main(["verify", str(out), "--hls", "--frames", "5"]) == 0
    check_hls_bit_exact(out, 5)


def _c_simulation_bit_exact(builder: str, tmp_path, frames: int) -> None:
    """Build a tests/models.py network with --hls, run `verify --hls` and check the C simulation's codes."""
    model = tmp_path / f"{builder}.onnx"
    onnx.save(getattr(models, builder)(), model)
    out = tmp_path / "out"
    assert main(["build", str(model), "--board", "pynq", "--hls", "--out", str(out)]) == 0
    assert main(["verify", str(out), "--hls", "--frames", str(frames)]) == 0
    check_hls_bit_exact(out, frames)


@pytest.mark.parametrize("builder", [pytest.param("residual_block", marks=pytest.mark.slow), "grouped_conv_net",
                                     pytest.param("pooled_concat_net", marks=pytest.mark.slow)])
def test_architectures_bit_exact_in_c_simulation(builder, tmp_path):
    _c_simulation_bit_exact(builder, tmp_path, 5)


@pytest.mark.slow
@pytest.mark.parametrize("builder", ["arithmetic_bn_net", "shuffle_net", "leaky_net", "line_net", "unet", "unet_transposed",
                                     "concat_net", "mlp", "pad_net"])
def test_more_architectures_bit_exact_in_c_simulation(builder, tmp_path):
    _c_simulation_bit_exact(builder, tmp_path, 4)


def test_build_verify_runs_rtl_and_c_simulation(tmp_path):
    """`build --verify N --hls`: both simulations, both bit-exact, verify.hls beside the RTL's entry."""
    model = tmp_path / "mlp.onnx"
    onnx.save(models.mlp(), model)
    out = tmp_path / "out"
    assert main(["build", str(model), "--board", "pynq", "--hls", "--verify", "3", "--out", str(out)]) == 0
    report = check_hls_bit_exact(out, 3)
    assert report["verify"]["mismatches"] == 0 and report["verify"]["frames"] == 3


def _fuzz(seed, tmp_path):
    _, path, calib, what, lanes, bits = _case(seed, tmp_path)
    np.savez(tmp_path / "calib.npz", x=calib)
    out = tmp_path / "build"
    assert main(["build", str(path), "--board", "pynq", "--calib", str(tmp_path / "calib.npz"), "--parallelism", str(lanes),
                 "--bits", str(bits), "--hls", "--out", str(out)]) == 0, what
    assert main(["verify", str(out), "--hls", "--frames", "3", "--calib", str(tmp_path / "calib.npz")]) == 0, what
    verify = json.loads((out / "report.json").read_text())["verify"]["hls"]
    assert verify["mismatches"] == 0, f"{verify['first_mismatch']}, {what}"


@pytest.mark.parametrize("seed", [DEFAULT_SEEDS[0], *(pytest.param(s, marks=pytest.mark.slow) for s in DEFAULT_SEEDS[1:])],
                         ids=lambda s: f"seed_{s}")
def test_fuzz_c_simulation(seed, tmp_path):
    _fuzz(seed, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SLOW_SEEDS, ids=lambda s: f"seed_{s}")
def test_fuzz_c_simulation_more(seed, tmp_path):
    _fuzz(seed, tmp_path)


def test_verify_hls_without_hls_code_is_one_line_error(tmp_path, capsys):
    model = tmp_path / "mlp.onnx"
    onnx.save(models.mlp(), model)
    out = tmp_path / "out"
    assert main(["build", str(model), "--board", "pynq", "--out", str(out)]) == 0
    before = (out / "report.json").read_text()
    capsys.readouterr()
    assert main(["verify", str(out), "--hls"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "build ... --hls" in err[0]
    assert (out / "report.json").read_text() == before


def test_a_layer_kind_without_a_kernel_is_named(tmp_path):
    model = tmp_path / "mlp.onnx"
    onnx.save(models.mlp(), model)
    out = tmp_path / "out"
    assert main(["build", str(model), "--board", "pynq", "--out", str(out)]) == 0
    graph = load_graph(out / "ir")
    first = graph.hardware_layers[0]
    one = Weight(values=np.ones(1))
    graph.layers.insert(0, BatchNorm(name="odd_bn", inputs=[first.inputs[0]], output=first.inputs[0], scale=one, bias=one,
                                     mean=one, var=one))
    with pytest.raises(UserError, match=r"no kernel for odd_bn \(BatchNorm\)"):
        LayerLowering(graph, {}).lower()
