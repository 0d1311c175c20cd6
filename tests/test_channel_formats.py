"""Per-channel weight formats of a ScaleShift (docs/fixed-point.md): a stand-alone BatchNorm with dead channels.

A BatchNorm after a ReLU6 becomes a ScaleShift; channels whose running variance is ~0 get
scales of ~300 while the others stay ~1. With one 8-bit format for all of them the small
scales round to 0 or 4 and the layer's error exceeds its output range; with per-channel
formats it stays at the level of the other layers.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import models
from fpgaflow.api import load_model
from fpgaflow.ir.layers import ScaleShift
from fpgaflow.ir.serialize import load_graph, save_graph
from fpgaflow.quant.formats import CHANNEL_SPREAD_LIMIT, channel_weight_format
from fpgaflow.quant.quantize import quantize
from fpgaflow.reference.fixed_exec import quantize_input, run_fixed
from fpgaflow.reference.float_exec import run_float

BITS = 8


@pytest.fixture(scope="module")
def dead_channel_graph(tmp_path_factory):
    path = tmp_path_factory.mktemp("dead_bn") / "dead_bn.onnx"
    path.write_bytes(models.dead_channel_bn_onnx())
    graph = load_model(path)
    x = np.random.default_rng(0).standard_normal((32, 3, 8, 8))
    return graph, x


def relative_errors(graph, x) -> dict[str, float]:
    """Per op, over its hardware layers: the largest max |fixed - float| of an output over the float output's range."""
    quantized = quantize(graph, x, bits=BITS)
    floats = run_float(graph, x)
    codes = run_fixed(quantized, quantize_input(quantized, x))
    errors = {}
    for layer in quantized.hardware_layers:
        real = quantized.tensors[layer.output].ftype.to_real(codes[layer.output])
        expected = floats[layer.output]
        error = float(np.abs(real - expected).max() / (expected.max() - expected.min()))
        errors[layer.OP] = max(errors.get(layer.OP, 0.0), error)
    return errors


def test_the_batchnorm_is_a_scale_shift_with_a_wide_spread(dead_channel_graph):
    graph, _ = dead_channel_graph
    (layer,) = [layer for layer in graph.layers if isinstance(layer, ScaleShift)]
    scales = np.abs(layer.scale.values)
    assert scales.max() / scales.min() > 100


def test_dead_channels_keep_8_bit_error_at_the_other_layers_level(dead_channel_graph):
    graph, x = dead_channel_graph
    errors = relative_errors(graph, x)
    assert errors["ScaleShift"] < 0.03, errors
    assert errors["ScaleShift"] < 3 * max(errors["Conv2d"], 0.01), errors


def test_only_a_wide_spread_gets_per_channel_formats(dead_channel_graph):
    graph, x = dead_channel_graph
    quantized = quantize(graph, x, bits=BITS)
    (layer,) = [layer for layer in quantized.layers if isinstance(layer, ScaleShift)]
    fracs = layer.scale.channel_fracs()
    assert layer.scale.channel_frac is not None and fracs.max() - fracs.min() > CHANNEL_SPREAD_LIMIT
    assert layer.scale.ftype.frac == fracs.min()
    assert np.array_equal(layer.shift.channel_fracs(), layer.acc.frac + fracs - fracs.min())
    assert all(conv.weight.channel_frac is None for conv in quantized.layers if conv.OP == "Conv2d")
    narrow = np.array([0.5, 1.0, 2.0, 3.9])  # spread of 3 bits: one format
    assert channel_weight_format(narrow, BITS)[1] is None
    assert channel_weight_format(np.array([0.5, 1.0, 8.5]), BITS)[1] is not None


def test_per_channel_codes_and_bias_at_each_channels_f(dead_channel_graph):
    graph, x = dead_channel_graph
    quantized = quantize(graph, x, bits=BITS)
    (layer,) = [layer for layer in quantized.layers if isinstance(layer, ScaleShift)]
    for c, frac in enumerate(layer.scale.channel_fracs()):
        assert abs(layer.scale.codes[c] * 2.0 ** -frac - layer.scale.values[c]) <= 2.0 ** (-frac - 1)
        assert abs(layer.scale.codes[c]) >= 1 << (BITS - 2)  # each channel uses its top bit
    for c, frac in enumerate(layer.shift.channel_fracs()):
        assert abs(layer.shift.codes[c] * 2.0 ** -frac - layer.shift.values[c]) <= 2.0 ** (-frac - 1)


def test_serialization_round_trips_channel_formats(dead_channel_graph, tmp_path):
    graph, x = dead_channel_graph
    quantized = quantize(graph, x, bits=BITS)
    save_graph(quantized, tmp_path / "ir")
    loaded = load_graph(tmp_path / "ir")
    (before,) = [layer for layer in quantized.layers if isinstance(layer, ScaleShift)]
    (after,) = [layer for layer in loaded.layers if isinstance(layer, ScaleShift)]
    assert np.array_equal(after.scale.channel_frac, before.scale.channel_frac)
    assert after.scale.channel_frac.dtype == np.int64
    assert np.array_equal(after.shift.channel_frac, before.shift.channel_frac)
    codes = quantize_input(quantized, x[:4])
    assert np.array_equal(run_fixed(loaded, codes)[after.output], run_fixed(quantized, codes)[before.output])
    assert before.scale.format_text().endswith("/ch")


def test_build_verify_bit_exact_with_per_channel_shifts(tmp_path):
    """fpgaflow build --verify: the ScaleShift's engine requantizes per channel, the top equals run_fixed bit for bit."""
    from test_network import check_bit_exact

    from fpgaflow.cli.main import main

    model, calib = tmp_path / "dead_bn.onnx", tmp_path / "calib.npz"
    model.write_bytes(models.dead_channel_bn_onnx())
    np.savez(calib, x=np.random.default_rng(0).standard_normal((32, 3, 8, 8)))
    out = tmp_path / "out"
    assert main(["build", str(model), "--board", "pynq", "--calib", str(calib), "--bits", str(BITS), "--verify", "4",
                 "--out", str(out)]) == 0
    check_bit_exact(out, 4)
    (layer,) = [layer for layer in load_graph(out / "ir").layers if isinstance(layer, ScaleShift)]
    assert layer.scale.channel_frac is not None
    assert "SHIFT_SPREAD" in "".join(path.read_text() for path in (out / "rtl").glob("*.sv"))
    report = json.loads((out / "report.json").read_text())
    (row,) = [row for row in report["layers"] if row["op"] == "ScaleShift"]
    assert row["formats"]["weights"]["channel_frac"] == layer.scale.channel_frac.tolist()
    assert f"s8.{layer.scale.channel_frac.min()}..{layer.scale.channel_frac.max()}/ch" in (out / "report.md").read_text()


def test_removing_a_channel_keeps_the_others_formats(dead_channel_graph):
    """RemovePrunedChannels on a quantized graph drops a ScaleShift channel's F with its codes."""
    from fpgaflow.passes.remove_pruned_channels import RemovePrunedChannels

    graph, x = dead_channel_graph
    quantized = quantize(graph, x, bits=BITS)
    head = quantized.layers[-1]
    head.weight.codes[:, 4] = 0  # nothing reads channel 4 of the ScaleShift any more
    head.weight.values[:, 4] = 0.0
    codes = quantize_input(quantized, x[:4])
    before = run_fixed(quantized, codes)[quantized.outputs[0]]
    (layer,) = [layer for layer in quantized.layers if isinstance(layer, ScaleShift)]
    fracs = layer.scale.channel_frac.copy()
    RemovePrunedChannels().run(quantized)
    (layer,) = [layer for layer in quantized.layers if isinstance(layer, ScaleShift)]
    assert np.array_equal(layer.scale.channel_frac, np.delete(fracs, 4))
    assert len(layer.shift.channel_frac) == len(layer.scale.codes) == 7
    assert np.array_equal(run_fixed(quantized, codes)[quantized.outputs[0]], before)
