"""Per-layer widths (fpgaflow.quant.widths): the --config file, the checks, the formats quantize chooses, the hardware they size."""

import onnx
import pytest

import models
from fpgaflow.api import load_model
from fpgaflow.cli.main import main
from fpgaflow.errors import UserError
from fpgaflow.quant import quantize
from fpgaflow.quant.formats import accumulator_format, dot_product_range
from fpgaflow.quant.widths import LayerWidths, check_widths_for_graph, read_widths_config, widths_yaml
from fpgaflow.flow.ops import contract_of
from fpgaflow.flow.ops.sparse_engine import engine_image
from fpgaflow.flow.layer_plan import plan_graph
from fpgaflow.flow.parallelism import read_parallelism_config


@pytest.fixture
def digits_graph(tmp_path):
    path = tmp_path / "digits.onnx"
    onnx.save(models.digits_cnn(), path)
    return load_model(path)


def test_config_with_widths_and_parallelism(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("layers:\n  conv1: {weight_bits: 4, activation_bits: 6}\n  conv2: {parallelism: 8, weight_bits: 3}\n"
                    "  fc: {parallelism: 2}\n")
    assert read_parallelism_config(path) == {"conv2": 8, "fc": 2}
    assert read_widths_config(path) == {"conv1": LayerWidths(4, 6), "conv2": LayerWidths(weight_bits=3)}


@pytest.mark.parametrize("setting, message", [
    ("weight_bits: 1", "weight_bits of layer conv1 in .* from 2 to 16, got 1"),
    ("activation_bits: 17", "activation_bits of layer conv1 in .* from 2 to 16, got 17"),
    ("weight_bits: 4.5", "got 4.5"),
    ("bits: 4", "layer conv1 has unknown settings bits"),
])
def test_bad_widths_are_one_line_errors(tmp_path, setting, message):
    path = tmp_path / "c.yaml"
    path.write_text(f"layers:\n  conv1: {{{setting}}}\n")
    read_parallelism_config(path)
    with pytest.raises(UserError, match=message):
        read_widths_config(path)


def test_widths_must_fit_the_layer(digits_graph):
    with pytest.raises(UserError, match="unknown layer nope"):
        check_widths_for_graph({"nope": LayerWidths(4)}, digits_graph, "x")
    with pytest.raises(UserError, match="pool1 .MaxPool. has no weights"):
        check_widths_for_graph({"pool1": LayerWidths(weight_bits=4)}, digits_graph, "x")
    with pytest.raises(UserError, match="pool1 .MaxPool. keeps its input's format"):
        check_widths_for_graph({"pool1": LayerWidths(activation_bits=4)}, digits_graph, "x")


def test_quantize_takes_each_layers_widths_and_derives_bias_and_accumulator(digits_graph):
    calibration = models.random_input(models.digits_cnn(), batch=16)
    widths = {"conv1": LayerWidths(3, 5), "conv2": LayerWidths(weight_bits=6), "fc": LayerWidths(activation_bits=12)}
    graph = quantize(digits_graph, calibration, 8, widths)
    layers = {layer.name: layer for layer in graph.layers}
    assert layers["conv1"].weight.ftype.width == 3 and graph.tensors[layers["conv1"].output].ftype.width == 5
    assert graph.tensors[layers["pool1"].output].ftype.width == 5  # a max pool keeps its input's format
    assert layers["conv2"].weight.ftype.width == 6 and graph.tensors[layers["conv2"].output].ftype.width == 8
    assert layers["fc"].weight.ftype.width == 8 and graph.tensors[layers["fc"].output].ftype.width == 12
    assert graph.tensors[graph.inputs[0]].ftype.width == 8
    for name in ("conv1", "conv2", "fc"):
        layer = layers[name]
        in_type = graph.tensors[layer.inputs[0]].ftype
        assert abs(layer.weight.codes).max() <= 2 ** (layer.weight.ftype.width - 1)
        assert layer.acc.frac == in_type.frac + layer.weight.ftype.frac
        assert layer.bias.ftype.frac == layer.acc.frac
        lo, hi = dot_product_range(layer.weight.codes.reshape(layer.weight.codes.shape[0], -1), in_type, layer.bias.codes)
        assert layer.acc == accumulator_format(int(min(lo)), int(max(hi)), layer.acc.frac)


def test_narrow_widths_shrink_the_rom_words_and_window_memories(digits_graph):
    """At the same P, 4-bit weights after 5-bit activations store fewer ROM bits and write narrower windows."""
    calibration = models.random_input(models.digits_cnn(), batch=16)
    wide = {plan.name: plan for plan in plan_graph(quantize(digits_graph, calibration, 8))}
    narrow_graph = quantize(digits_graph, calibration, 8, {"conv1": LayerWidths(activation_bits=5), "conv2": LayerWidths(4)})
    narrow = {plan.name: plan for plan in plan_graph(narrow_graph)}
    for p in (1, 4):
        assert contract_of(narrow["conv2"]).weight_bits(narrow["conv2"], p)[1] < contract_of(wide["conv2"]).weight_bits(wide["conv2"], p)[1]
        wide_params, narrow_params = engine_image(wide["conv2"], p).parameters, engine_image(narrow["conv2"], p).parameters
        assert (narrow_params["IN_W"], wide_params["IN_W"]) == (5, 8)
        assert narrow_params["WW"] < wide_params["WW"]


def test_widths_yaml_round_trips(tmp_path):
    config = {"conv1": LayerWidths(4, 6), "fc": LayerWidths(activation_bits=12)}
    path = tmp_path / "q.yaml"
    path.write_text(widths_yaml(config))
    assert read_widths_config(path) == config


def test_build_refuses_a_bad_width_before_writing(tmp_path, capsys):
    model = tmp_path / "digits.onnx"
    onnx.save(models.digits_cnn(), model)
    config = tmp_path / "c.yaml"
    config.write_text("layers:\n  conv1: {weight_bits: 20}\n")
    out = tmp_path / "out"
    assert main(["build", str(model), "--board", "pynq", "--config", str(config), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "weight_bits of layer conv1" in error[0] and "got 20" in error[0]
    assert not out.exists()
    config.write_text("layers:\n  pool1: {activation_bits: 4}\n")
    assert main(["build", str(model), "--board", "pynq", "--config", str(config), "--out", str(out)]) == 2
    assert "pool1 (MaxPool) keeps its input's format" in capsys.readouterr().err
