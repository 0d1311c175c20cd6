"""Generated tops in Verilator, bit for bit against run_fixed: the digits example and three more architectures.

One build per architecture, several frames per build. The digits build+verify is shared
(session fixture) by the bit-exactness, cycle-model, re-verify and report tests.
"""

import json
import re
import shutil

import numpy as np
import onnx
import pytest
import torch
import yaml

import models
from fpgaflow.cli.main import main
from fpgaflow.ir.serialize import load_graph
from fpgaflow.reference.fixed_exec import quantize_input, run_fixed

MODEL = "examples/digits_cnn.onnx"
CALIB = "examples/digits_train.npz"
FRAMES = 8


@pytest.fixture(scope="session")
def digits_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits_build")
    code = main(["build", MODEL, "--board", "pynq", "--calib", CALIB, "--verify", str(FRAMES), "--out", str(out)])
    assert code == 0
    return out


def check_bit_exact(folder, frames):
    report = json.loads((folder / "report.json").read_text())
    assert report["verify"]["frames"] == frames
    assert report["verify"]["mismatches"] == 0, report["verify"]["first_mismatch"]
    inputs = np.load(folder / "verify" / "inputs.npy")
    expected = np.load(folder / "verify" / "expected.npy")
    rtl = np.load(folder / "verify" / "rtl.npy")
    assert inputs.dtype == expected.dtype == rtl.dtype == np.int64
    graph = load_graph(folder / "ir")
    assert np.array_equal(run_fixed(graph, inputs)[graph.hardware_outputs[0]], expected)
    assert np.array_equal(rtl, expected)
    return report


INTERVAL_TOLERANCE = 0.02
"""How far the measured frame interval (Verilator's cycle counts at full rate) may be from the model's."""


def check_frame_interval(report):
    """The measured frame interval is the model's (the slowest stage's cycles per frame) within INTERVAL_TOLERANCE:
    no join, branch FIFO or stage in front of the slowest one holds the pipeline back."""
    model, measured = report["totals"]["cycles_per_frame"], report["verify"]["frame_interval_measured"]
    assert abs(measured - model) <= INTERVAL_TOLERANCE * model, f"frame interval: model {model}, measured {measured}"


def test_digits_bit_exact(digits_build):
    check_bit_exact(digits_build, FRAMES)
    digits = np.load(CALIB)["x"][:FRAMES]
    graph = load_graph(digits_build / "ir")
    assert np.array_equal(np.load(digits_build / "verify" / "inputs.npy"), quantize_input(graph, digits))


def test_cycle_model_within_two_percent(digits_build):
    report = json.loads((digits_build / "report.json").read_text())
    measured = report["verify"]["cycles_per_frame"]
    for layer in report["layers"]:
        if layer["op"] in ("Conv2d", "Dense"):
            model, got = layer["cycles_model"], measured[layer["name"]]
            assert abs(got - model) <= 0.02 * model, f"{layer['name']}: model {model}, measured {got}"


def test_frame_interval_matches_the_model(digits_build):
    """The whole pipeline keeps the slowest stage's pace: the FIFOs in front of the window
    generators let every stage run ahead (the interval was +15 % without them)."""
    report = json.loads((digits_build / "report.json").read_text())
    check_frame_interval(report)
    blocked = report["verify"]["blocked_per_frame"]
    assert set(blocked) == {layer["name"] for layer in report["layers"] if layer["op"] != "Flatten"}


def test_verify_reruns_a_build_and_traces_a_wrong_weight(digits_build, tmp_path):
    """`fpgaflow verify` on a copy passes; after flipping bit 6 of every weight of the last
    layer's ROM it fails and names that layer (the copied simulation build is reused)."""
    copy = tmp_path / "copy"
    shutil.copytree(digits_build, copy)
    (copy / "verify" / "rtl.npy").unlink()
    assert main(["verify", str(copy), "--frames", "3"]) == 0
    check_bit_exact(copy, 3)
    report = json.loads((copy / "report.json").read_text())
    target = report["layers"][-1]["name"]
    assert report["layers"][-1]["parallelism"] == 1, "one ROM entry per word: its low bits are the weight"
    mem = copy / "rtl" / f"{target}_weight.mem"
    words = mem.read_text().split()
    mem.write_text("".join(format(int(w, 16) ^ 0x40, f"0{len(w)}x") + "\n" for w in words))
    assert main(["verify", str(copy), "--frames", "2"]) == 1
    verify = json.loads((copy / "report.json").read_text())["verify"]
    assert verify["mismatches"] > 0 and verify["first_mismatch"].startswith(f"layer {target}:")


@pytest.mark.parametrize("builder", ["residual_block", "grouped_conv_net",
                                     # test_mixed_widths_bit_exact builds this graph by default, with a width change at every layer
                                     pytest.param("pooled_concat_net", marks=pytest.mark.slow),
                                     "arithmetic_bn_net", "shuffle_net", "leaky_net"])
def test_more_architectures_bit_exact(builder, tmp_path):
    model = tmp_path / f"{builder}.onnx"
    onnx.save(getattr(models, builder)(), model)
    out = tmp_path / "out"
    assert main(["build", str(model), "--board", "pynq", "--verify", "6", "--out", str(out)]) == 0
    check_bit_exact(out, 6)


def _unequal_branches_onnx(path, join: str, first: str) -> None:
    """models.TorchUnequalBranches on 3x12x12, exported to ONNX at `path`."""
    from fpgaflow.importers.torch_import import export_onnx_bytes

    torch.manual_seed(0)
    model = models.TorchUnequalBranches(join, first).eval()
    path.write_bytes(export_onnx_bytes(model, torch.randn(2, 3, 12, 12), dynamo=False))


@pytest.mark.parametrize("join, first", [
    ("concat", "1x1"),
    pytest.param("add", "1x1", marks=pytest.mark.slow),  # the same buffering rule as the concat; residual_block joins by Add
    pytest.param("concat", "3x3", marks=pytest.mark.slow),
])
def test_fan_out_into_unequal_branches_does_not_deadlock(join, first, tmp_path):
    """The fast (1x1) branch buffers what the 3x3 branch reads before its first output, in
    either order of the join's inputs (the 1x1-first concat never returned before)."""
    model = tmp_path / "branches.onnx"
    _unequal_branches_onnx(model, join, first)
    out = tmp_path / "out"
    assert main(["build", str(model), "--board", "pynq", "--verify", "3", "--out", str(out)]) == 0
    check_bit_exact(out, 3)


def test_a_stalled_pipeline_ends_within_the_cycle_budget(tmp_path, capsys):
    """A top whose output never becomes valid stalls (the v2 engines buffer too much for a cut
    fan-out FIFO to deadlock this model); `verify` stops at the cycle budget with one line
    (exit 2) that names the first stage whose output fell short."""
    model = tmp_path / "branches.onnx"
    _unequal_branches_onnx(model, "concat", "1x1")
    out = tmp_path / "out"
    assert main(["build", str(model), "--board", "pynq", "--out", str(out)]) == 0
    top = next((out / "rtl").glob("*_top.sv"))
    text, cut = re.subn(r"assign m_axis_tvalid = \w+;", "assign m_axis_tvalid = 1'b0;", top.read_text())
    assert cut >= 1
    top.write_text(text)
    capsys.readouterr()
    assert main(["verify", str(out), "--frames", "2"]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "stopped moving" in error and "first stage short of its output: " in error, error
    assert "every stage delivered; the output converter" in error, error  # the cut is at the top's output


def test_1d_network_bit_exact_with_calibration_in_ncl(tmp_path):
    """line_net (Conv1d, MaxPool1d, AvgPool1d, Flatten, dense) on the 2-D engines with H = 1;
    the calibration file holds (N, C, L) samples as the ONNX model takes them."""
    model = tmp_path / "line_net.onnx"
    onnx.save(models.line_net(), model)
    calib = tmp_path / "calib.npz"
    np.savez(calib, x=models.random_input(models.line_net(), batch=32))
    out = tmp_path / "out"
    assert main(["build", str(model), "--board", "pynq", "--calib", str(calib), "--verify", "6", "--out", str(out)]) == 0
    check_bit_exact(out, 6)


@pytest.mark.parametrize("builder, stage", [("unet", "axis_upsample"), ("unet_transposed", "axis_depth_to_space")])
def test_unet_with_upsampling_and_a_skip_concat_bit_exact(builder, stage, tmp_path):
    """models.unet (1x32x32: conv, pool, conv, nearest upsampling x2 or a 2x2 stride-2 ConvTranspose, Concat
    with the full-resolution skip, conv, 1x1 head): the upsampling runs on axis_upsample, the transposed
    conv on the engine and axis_depth_to_space, and the skip branch's FIFO holds what the rate rule needs
    (fpgaflow.flow.branch_buffers: a few rows of the map, not a frame). The measured frame interval
    is the model's within INTERVAL_TOLERANCE (it was 2.1x and 3.3x with the beat rule alone, 1.05x and
    1.13x before the rate rule took the engines' walks and the depth-to-space replay per beat)."""
    model = tmp_path / "unet.onnx"
    onnx.save(getattr(models, builder)(), model)
    out = tmp_path / "out"
    assert main(["build", str(model), "--board", "pynq", "--verify", "4", "--out", str(out)]) == 0
    check_frame_interval(check_bit_exact(out, 4))
    top = next((out / "rtl").glob("*top*.sv")).read_text()
    assert stage in top
    depths = [int(d) for d in re.findall(r"\.DEPTH\((\d+)\)", top)]
    assert depths and max(depths) < 32 * 32 // 2, depths


MIXED_WIDTHS = {
    "pooled_concat_net": {"branch3x3": {"weight_bits": 4, "activation_bits": 6},
                          "branch1x1": {"weight_bits": 3, "activation_bits": 11},
                          "concat": {"activation_bits": 7}, "bn": {"weight_bits": 5, "activation_bits": 9},
                          "avg": {"activation_bits": 5}, "gap": {"activation_bits": 12},
                          "fc": {"weight_bits": 6, "activation_bits": 10}},
    "residual_block": {"conv1": {"weight_bits": 3, "activation_bits": 5}, "conv2": {"weight_bits": 6, "activation_bits": 12},
                       "add": {"activation_bits": 4}},
}


@pytest.mark.parametrize("builder", [pytest.param(b, marks=[pytest.mark.slow] if b == "residual_block" else []) for b in sorted(MIXED_WIDTHS)])
def test_mixed_widths_bit_exact(builder, tmp_path):
    """Per-layer widths from --config (docs/quantization.md): every layer boundary changes width
    (a Concat and an Add of inputs of different widths, a ScaleShift, both average pools, a
    dense layer), and the top still matches run_fixed bit for bit with the widths as configured."""
    model = tmp_path / f"{builder}.onnx"
    onnx.save(getattr(models, builder)(), model)
    config = tmp_path / "widths.yaml"
    config.write_text(yaml.safe_dump({"layers": MIXED_WIDTHS[builder]}))
    out = tmp_path / "out"
    assert main(["build", str(model), "--board", "pynq", "--config", str(config), "--verify", "4", "--out", str(out)]) == 0
    report = check_bit_exact(out, 4)
    formats = {layer["name"]: layer["formats"] for layer in report["layers"]}
    for name, widths in MIXED_WIDTHS[builder].items():
        assert formats[name]["output"]["width"] == widths["activation_bits"]
        if "weight_bits" in widths:
            assert formats[name]["weights"]["width"] == widths["weight_bits"]
