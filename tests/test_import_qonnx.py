"""QONNX Quant nodes as Brevitas exports them (docs/quantization.md, QONNX / Brevitas models).

A small Brevitas-quantized CNN with power-of-two scales and FLOOR-rounded activations is
exported with brevitas.export.export_qonnx; fpgaflow's fixed-point reference must compute
Brevitas's own integer outputs bit for bit, and a build must verify bit-exact in Verilator.
Hand-made QONNX graphs check the one-line refusals, and a property test the bias offset
that turns the contract's round half up into FLOOR and CEIL.
"""

import json

import numpy as np
import onnx
import pytest
from hypothesis import given, strategies as st
from onnx import TensorProto, helper

from fpgaflow.api import load_model
from fpgaflow.cli.main import main
from fpgaflow.fixed import FixedType, requantize
from fpgaflow.quant import quantize
from fpgaflow.quant.given import rounding_offsets
from fpgaflow.ir.given import GivenRounding
from fpgaflow.ir.graph import Tensor
from fpgaflow.ir.layers import Conv2d, Weight
from fpgaflow.ir.serialize import load_graph
from fpgaflow.reference.fixed_exec import run_fixed

QONNX = "qonnx.custom_op.general"
INPUT_FRAC = 5
"""The input quantizer's F: Int8ActPerTensorFixedPoint settles on scale 2^-5 for unit-variance inputs."""


def _brevitas_net():
    """Input Quant (s8), conv 3x3 with Int32 bias, ReLU into u8 with FLOOR, conv 3x3, output Quant s8 with FLOOR, a Linear."""
    torch = pytest.importorskip("torch")
    qnn = pytest.importorskip("brevitas.nn")
    from brevitas.inject.enum import FloatToIntImplType
    from brevitas.quant import Int8ActPerTensorFixedPoint, Int8WeightPerTensorFixedPoint, Int32Bias

    class FloorAct(Int8ActPerTensorFixedPoint):
        float_to_int_impl_type = FloatToIntImplType.FLOOR

    class UnsignedFloorAct(FloorAct):
        signed = False

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            common = dict(weight_quant=Int8WeightPerTensorFixedPoint, bias_quant=Int32Bias, return_quant_tensor=True)
            self.inp = qnn.QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, return_quant_tensor=True)
            self.conv1 = qnn.QuantConv2d(1, 4, 3, padding=1, **common)
            self.relu = qnn.QuantReLU(act_quant=UnsignedFloorAct, return_quant_tensor=True)
            self.conv2 = qnn.QuantConv2d(4, 3, 3, padding=1, stride=2, **common)
            self.mid = qnn.QuantIdentity(act_quant=FloorAct, return_quant_tensor=True)
            self.fc = qnn.QuantLinear(3 * 4 * 4, 5, **common)
            self.out = qnn.QuantIdentity(act_quant=FloorAct, return_quant_tensor=True)

        def forward(self, x):
            y = self.mid(self.conv2(self.relu(self.conv1(self.inp(x)))))
            return self.out(self.fc(y.flatten(1)))

    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        for _ in range(4):  # collect the activation statistics that fix the power-of-two scales
            net(torch.randn(32, 1, 8, 8))
    return net.eval()


@pytest.fixture(scope="module")
def brevitas_export(tmp_path_factory):
    """(path of the exported QONNX model, Brevitas model) exported once for the module."""
    torch = pytest.importorskip("torch")
    export_qonnx = pytest.importorskip("brevitas.export").export_qonnx
    net = _brevitas_net()
    path = tmp_path_factory.mktemp("qonnx") / "brevitas_cnn.onnx"
    with torch.no_grad():
        export_qonnx(net, torch.zeros(1, 1, 8, 8), export_path=str(path))
    return path, net


def test_export_uses_power_of_two_scales_and_floor(brevitas_export):
    """The exported graph is what the rest of the tests rely on: Quant nodes, FLOOR where asked."""
    model = onnx.load(str(brevitas_export[0]))
    quants = [node for node in model.graph.node if node.domain == QONNX and node.op_type == "Quant"]
    modes = [helper.get_attribute_value(a).decode() for node in quants for a in node.attribute if a.name == "rounding_mode"]
    assert modes.count("FLOOR") == 3
    scales = {init.name: onnx.numpy_helper.to_array(init) for init in model.graph.initializer}
    assert scales[quants[0].input[1]] == 2.0**-INPUT_FRAC


def test_brevitas_integers_bit_exact(brevitas_export):
    """run_fixed on the imported, quantized model equals Brevitas's integer outputs on 64 random inputs."""
    torch = pytest.importorskip("torch")
    path, net = brevitas_export
    graph = quantize(load_model(path), np.zeros((1, 1, 8, 8), dtype=np.float32))
    rng = np.random.default_rng(7)
    codes = rng.integers(-128, 128, size=(64, 1, 8, 8), dtype=np.int64)
    with torch.no_grad():
        expected = net(torch.from_numpy(codes.astype(np.float32) * 2.0**-INPUT_FRAC)).int().numpy()
    assert graph.tensors[graph.inputs[0]].ftype == FixedType(True, 8, INPUT_FRAC)
    got = run_fixed(graph, codes)[graph.hardware_outputs[0]]
    assert got.shape == expected.shape
    assert np.array_equal(got, expected.astype(np.int64))
    assert len(np.unique(expected)) > 10  # the comparison is not trivially over saturated or zero outputs


def test_brevitas_build_verifies_bit_exact(brevitas_export, tmp_path, capsys):
    """build --verify without --calib: every format comes from the model, Verilator matches run_fixed."""
    out = tmp_path / "build"
    assert main(["build", str(brevitas_export[0]), "--board", "pynq", "--verify", "4", "--out", str(out)]) == 0
    assert "no --calib given" not in capsys.readouterr().err  # nothing is calibrated: no warning about random calibration
    report = json.loads((out / "report.json").read_text())
    assert report["verify"]["frames"] == 4
    assert report["verify"]["mismatches"] == 0, report["verify"]["first_mismatch"]
    expected = np.load(out / "verify" / "expected.npy")
    assert np.array_equal(np.load(out / "verify" / "rtl.npy"), expected)
    saved = load_graph(out / "ir")  # the given formats survive the saved IR
    givens = [tensor for tensor in saved.tensors.values() if tensor.given is not None]
    assert len(givens) == 4 and all(tensor.given == tensor.ftype for tensor in givens)
    assert np.array_equal(run_fixed(saved, np.load(out / "verify" / "inputs.npy"))[saved.hardware_outputs[0]], expected)


# ---- hand-made QONNX graphs ------------------------------------------------------------------

def _quant(name, source, scale, zero_point=0.0, bits=8, signed=1, narrow=0, mode="ROUND"):
    """A Quant node and its scale, zero point and bit width initializers."""
    inits = [helper.make_tensor(f"{name}_{key}", TensorProto.FLOAT, [], [value])
             for key, value in (("scale", scale), ("zeropt", zero_point), ("bits", bits))]
    node = helper.make_node("Quant", [source, *(init.name for init in inits)], [name], domain=QONNX,
                            signed=signed, narrow=narrow, rounding_mode=mode)
    return node, inits


def _model(tmp_path, out_scale=2.0**-4, out_zero=0.0, out_mode="FLOOR", out_narrow=0, weight_scale=2.0**-6):
    """x (1x1x4x4) -> Quant s8.5 -> Conv 3x3 (weights Quant s8) -> Quant (the options) -> y."""
    weight = np.random.default_rng(0).normal(0.0, 0.5, (2, 1, 3, 3)).astype(np.float32)
    q_in, in_inits = _quant("xq", "x", 2.0**-5)
    q_w, w_inits = _quant("wq", "w", weight_scale, narrow=1)
    conv = helper.make_node("Conv", ["xq", "wq"], ["acc"], pads=[1, 1, 1, 1])
    q_out, out_inits = _quant("y", "acc", out_scale, out_zero, narrow=out_narrow, mode=out_mode)
    graph = helper.make_graph(
        [q_in, q_w, conv, q_out], "qonnx_hand",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 4, 4])],
        [helper.make_tensor("w", TensorProto.FLOAT, weight.shape, weight.ravel()), *in_inits, *w_inits, *out_inits],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(QONNX, 1)])
    path = tmp_path / "hand.onnx"
    onnx.save(model, str(path))
    return path


def _refused(capsys, args, *words):
    """The command exits 2 with one line on stderr (besides warnings) that holds every word."""
    assert main(args) == 2
    lines = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1, lines
    assert all(word in lines[0] for word in words), lines[0]


def test_hand_made_floor_model_quantizes_to_its_formats(tmp_path):
    """Every format is the one its Quant fixes; FLOOR adds the offset to a bias the model does not have."""
    graph = quantize(load_model(_model(tmp_path)), np.zeros((1, 1, 4, 4), dtype=np.float32), bits=4)
    conv = graph.layers[0]
    assert graph.tensors[conv.inputs[0]].ftype == FixedType(True, 8, 5)
    assert conv.weight.ftype == FixedType(True, 8, 6)
    assert graph.tensors[conv.output].ftype == FixedType(True, 8, 4)
    assert conv.bias is not None and np.all(conv.bias.codes == -(1 << (5 + 6 - 4 - 1)))


def test_non_power_of_two_scale_refused(tmp_path, capsys):
    _refused(capsys, ["inspect", str(_model(tmp_path, out_scale=0.1))], "scale 0.1", "power of two")


def test_nonzero_zero_point_refused(tmp_path, capsys):
    _refused(capsys, ["inspect", str(_model(tmp_path, out_zero=3.0))], "zero point", "0")


def test_narrow_activation_refused(tmp_path, capsys):
    _refused(capsys, ["inspect", str(_model(tmp_path, out_narrow=1))], "narrow", "narrow_range=False")


def test_bipolar_quant_refused(tmp_path, capsys):
    model = onnx.load(str(_model(tmp_path)))
    model.graph.node[-1].op_type = "BipolarQuant"
    del model.graph.node[-1].input[2:]
    onnx.save(model, str(tmp_path / "bipolar.onnx"))
    _refused(capsys, ["inspect", str(tmp_path / "bipolar.onnx")], "BipolarQuant", "2 or more bits")


def test_half_even_activation_needs_the_option(tmp_path, capsys):
    """ROUND (half to even) where the output rounds: refused at quantize; with the option a warning and a build."""
    path = _model(tmp_path, out_mode="ROUND")
    out = tmp_path / "refused"
    _refused(capsys, ["build", str(path), "--board", "pynq", "--out", str(out)], "half to even", "--approximate-rounding")
    assert not out.exists() or not any(out.iterdir())
    assert main(["inspect", str(path), "--approximate-rounding"]) == 0
    assert "warning: Quant 'y' rounds ROUND" in capsys.readouterr().err
    graph = load_model(path, approximate_rounding=True)
    assert graph.notes and "exact ties" in graph.notes[0]
    quantized = quantize(graph, np.zeros((1, 1, 4, 4), dtype=np.float32))
    assert quantized.layers[0].bias is None  # the contract's own rounding: no offset


def test_rounding_that_does_not_happen_is_accepted(tmp_path):
    """ROUND into a format at least as fine as the accumulator's rounds nothing: no option needed."""
    graph = quantize(load_model(_model(tmp_path, out_mode="ROUND", out_scale=2.0**-11)),
                     np.zeros((1, 1, 4, 4), dtype=np.float32))
    assert graph.tensors[graph.outputs[0]].ftype.frac == 11


# ---- the bias offset --------------------------------------------------------------------------

@given(acc=st.integers(-(1 << 40), 1 << 40), shift=st.integers(-3, 20), floor=st.booleans())
def test_bias_offset_makes_half_up_floor_or_ceil(acc, shift, floor):
    """requantize(acc + offset) by the shift s equals floor (or ceil) of acc / 2^s, as the model rounds."""
    out = Tensor(name="y", shape=(1,), given=FixedType(True, 62, 0),
                 given_rounding=GivenRounding.FLOOR if floor else GivenRounding.CEIL)
    layer = Conv2d(name="c", inputs=["x"], output="y", weight=Weight(values=np.zeros((1, 1, 1, 1))))
    offsets = rounding_offsets(layer, out, np.array([shift]))
    offset = 0 if offsets is None else int(offsets[0])
    got = int(requantize(np.array([acc + offset], dtype=np.int64), shift, FixedType(True, 62, 0))[0])
    exact = acc * 2**-shift if shift <= 0 else (acc >> shift if floor else -((-acc) >> shift))
    assert got == exact


def _after_input_quant(tmp_path, nodes, inits, out_shape):
    """x (1x1x4x4) -> Quant s8.5 as xq, then `nodes` ending in y."""
    q_in, in_inits = _quant("xq", "x", 2.0**-5)
    graph = helper.make_graph(
        [q_in, *nodes], "qonnx_hand",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], [*in_inits, *inits],
    )
    path = tmp_path / "after.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(QONNX, 1)]),
              str(path))
    return path


def test_floor_after_an_add_refused(tmp_path, capsys):
    """An Add requantizes with the contract's rounding: FLOOR into a coarser format cannot be honoured there."""
    q_out, out_inits = _quant("y", "sum", 2.0**-3, mode="FLOOR")
    path = _after_input_quant(tmp_path, [helper.make_node("Add", ["xq", "xq"], ["sum"]), q_out], out_inits, [1, 1, 4, 4])
    _refused(capsys, ["build", str(path), "--board", "pynq", "--out", str(tmp_path / "o")], "FLOOR", "Conv/Dense")


def test_weights_changed_after_their_quant_refused(tmp_path, capsys):
    """Gemm's alpha scales the quantized weights, which then leave the format their Quant fixes."""
    q_w, w_inits = _quant("wq", "w", 2.0**-6)
    weight = helper.make_tensor("w", TensorProto.FLOAT, [2, 16], np.linspace(-0.5, 0.5, 32).tolist())
    nodes = [q_w, helper.make_node("Flatten", ["xq"], ["flat"]),
             helper.make_node("Gemm", ["flat", "wq"], ["y"], transB=1, alpha=1.0 / 3.0)]
    path = _after_input_quant(tmp_path, nodes, [weight, *w_inits], [1, 2])
    _refused(capsys, ["build", str(path), "--board", "pynq", "--out", str(tmp_path / "o")], "no longer codes", "s8.6", "alpha")


def test_given_weight_format_follows_a_transpose(tmp_path):
    """A constant Transpose between a weight Quant and its MatMul keeps the weight's format (here not --bits 4)."""
    q_w, w_inits = _quant("wq", "w", 2.0**-6)
    weight = helper.make_tensor("w", TensorProto.FLOAT, [2, 16], np.linspace(-0.5, 0.5, 32).tolist())
    nodes = [q_w, helper.make_node("Transpose", ["wq"], ["wt"], perm=[1, 0]), helper.make_node("Flatten", ["xq"], ["flat"]),
             helper.make_node("MatMul", ["flat", "wt"], ["y"])]
    graph = quantize(load_model(_after_input_quant(tmp_path, nodes, [weight, *w_inits], [1, 2])),
                     np.zeros((1, 1, 4, 4), dtype=np.float32), bits=4)
    dense = graph.layers[-1]
    assert dense.weight.ftype == FixedType(True, 8, 6)
    assert np.array_equal(dense.weight.codes, np.rint(np.linspace(-0.5, 0.5, 32).reshape(2, 16) * 64))


def test_quant_between_a_conv_and_its_relu_survives_fusion(tmp_path):
    """Conv -> Quant (FLOOR) -> Relu: the ReLU fuses into the conv and the output keeps the Quant's format and rounding."""
    q_w, w_inits = _quant("wq", "w", 2.0**-6)
    weight = helper.make_tensor("w", TensorProto.FLOAT, [2, 1, 1, 1], [0.25, -0.5])
    q_out, out_inits = _quant("accq", "acc", 2.0**-3, mode="FLOOR")
    nodes = [q_w, helper.make_node("Conv", ["xq", "wq"], ["acc"]), q_out, helper.make_node("Relu", ["accq"], ["y"])]
    path = _after_input_quant(tmp_path, nodes, [weight, *w_inits, *out_inits], [1, 2, 4, 4])
    graph = quantize(load_model(path), np.zeros((1, 1, 4, 4), dtype=np.float32))
    (conv,) = graph.layers
    assert conv.activation.value == "relu" and graph.tensors[conv.output].ftype == FixedType(True, 8, 3)
    assert np.all(conv.bias.codes == -(1 << (5 + 6 - 3 - 1)))
