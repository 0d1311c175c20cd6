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


def test_hls_files_are_deterministic_and_hold_only_nonzero_weights(digits_hls):
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
            weights = next(a for a in layer.arrays if a.name.endswith("_w"))
            assert len(weights.values) == np.count_nonzero(codes) and 0 not in weights.values
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
