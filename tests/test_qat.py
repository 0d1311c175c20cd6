"""Quantization-aware fine-tuning: fake quantization follows the contract, and the fine-tuned model is the reference's."""

import numpy as np
import pytest
import torch

from fpgaflow.api import load_model
from fpgaflow.fixed import FixedType
from fpgaflow.prune.qat import QuantizationAwareTraining
from fpgaflow.prune.torch_graph import graph_to_torch
from fpgaflow.quant import quantize
from fpgaflow.quant.fake_quant import fake_quantize, fake_quantize_bias
from fpgaflow.quant.widths import LayerWidths
from fpgaflow.reference.fixed_exec import quantize_input, run_fixed

FORMATS = [FixedType(True, 4, 2), FixedType(False, 5, 3), FixedType(True, 8, -2), FixedType(True, 3, 6)]


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
def test_fake_quantize_is_the_contracts_rounding(fmt):
    rng = np.random.default_rng(0)
    step = 2.0 ** -fmt.frac
    values = np.concatenate([rng.uniform(-2 ** fmt.width * step, 2 ** fmt.width * step, 500),
                             (np.arange(-40, 40) + 0.5) * step])  # exact halves of both signs
    got = fake_quantize(torch.tensor(values, dtype=torch.float64), fmt).numpy()
    assert np.array_equal(got, fmt.quantize(values) * step)
    assert np.array_equal(fake_quantize_bias(torch.tensor(values), fmt.frac).numpy(), np.floor(values / step + 0.5) * step)


def test_straight_through_gradient_inside_the_range_only():
    fmt = FixedType(True, 4, 0)
    x = torch.tensor([-20.0, -3.3, 0.4, 6.9, 20.0], requires_grad=True)
    fake_quantize(x, fmt).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def _codes_of(model, qat, x):
    """The fake-quantized forward's output as codes of the output format."""
    out_type = qat.fmt(qat.graph.hardware_outputs[0])
    with torch.no_grad():
        real = model(torch.tensor(x, dtype=torch.float64)).numpy()
    codes = real * 2.0 ** out_type.frac
    assert np.array_equal(codes, np.round(codes))
    return codes.astype(np.int64)


def test_fine_tuned_model_quantizes_to_the_codes_the_reference_computes():
    graph = load_model("examples/digits_cnn.onnx")
    data = np.load("examples/digits_train.npz")
    calib, x, y = data["x"][:256], data["x"][:64], data["y"][:64]
    widths = {"features_features_2_Conv": LayerWidths(4, 5), "classifier_Gemm": LayerWidths(3, 10)}
    model = graph_to_torch(graph).double()
    qat = QuantizationAwareTraining(graph, 6, widths)
    qat.attach(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(3):  # a few steps move the weights off the grid
        qat.refresh(model, calib)
        model.train()
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(torch.tensor(x, dtype=torch.float64)), torch.tensor(y)).backward()
        optimizer.step()
    model.eval()
    qat.snap(model)
    reference = qat.refresh(model, calib)
    expected = run_fixed(reference, quantize_input(reference, x))[reference.hardware_outputs[0]]
    assert np.array_equal(_codes_of(model, qat, x), expected)
    # snapped weights are on their grid: the build's quantize finds the codes the fine-tuning used
    built = quantize(qat.current_graph(model), calib, 6, widths)
    for layer in built.layers:
        if layer.OP in ("Conv2d", "Dense"):
            core = [p for p in model.layers[layer.name] if hasattr(p, "weight")][0]
            assert np.array_equal(layer.weight.codes * 2.0 ** -layer.weight.ftype.frac,
                                  core.weight.detach().numpy().reshape(layer.weight.codes.shape))


def test_prune_widths_need_bits(tmp_path, capsys):
    from fpgaflow.cli.main import main

    config = tmp_path / "q.yaml"
    config.write_text("layers:\n  classifier_Gemm: {weight_bits: 4}\n")
    args = ["prune", "examples/digits_cnn.onnx", "--method", "kep", "--target", "0.5", "--data", "examples/digits_train.npz",
            "--out", str(tmp_path / "p.onnx")]
    assert main([*args, "--widths", str(config)]) == 2
    assert "--widths needs --bits" in capsys.readouterr().err
    assert main([*args, "--bits", "20"]) == 2
    assert "--bits must be a whole number of bits from 2 to 16, got 20" in capsys.readouterr().err
    assert main([*args, "--bits", "4", "--epochs", "1"]) == 2  # one epoch prunes and leaves none to fine-tune
    assert "--bits needs --epochs of at least 2" in capsys.readouterr().err
    assert not (tmp_path / "p.onnx").exists()
