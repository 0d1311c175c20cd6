"""graph_to_torch computes what the float reference computes, and survives ONNX export."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from fpgaflow.prune.load import load_graph
from fpgaflow.prune.torch_graph import export_onnx, graph_to_torch
from fpgaflow.reference.float_exec import run_float
from models import ONNX_BUILDERS, random_input

CONV_MODELS = ["digits_cnn", "residual_block", "grouped_conv_net", "concat_net", "avgpool_net", "pad_net", "clip_net", "softmax_mlp", "squeeze_softmax_net", "mlp",
               "leaky_net", "unet", "unet_transposed"]


@pytest.mark.parametrize("name", CONV_MODELS)
def test_module_matches_float_reference(name: str, tmp_path) -> None:
    builder, _ = ONNX_BUILDERS[name]
    proto = builder()
    onnx.save(proto, tmp_path / "m.onnx")
    graph = load_graph(tmp_path / "m.onnx")
    x = random_input(proto, batch=3)
    model = graph_to_torch(graph)
    model.emit_softmax = True
    with torch.no_grad():
        got = model(torch.from_numpy(x)).double().numpy()
    expected = run_float(graph, x)[graph.outputs[0]]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_final_softmax_is_left_out_for_training(tmp_path) -> None:
    builder, _ = ONNX_BUILDERS["softmax_mlp"]
    onnx.save(builder(), tmp_path / "m.onnx")
    graph = load_graph(tmp_path / "m.onnx")
    model = graph_to_torch(graph)
    x = torch.randn(4, *model.input_shape)
    logits = model(x)
    model.emit_softmax = True
    assert torch.allclose(torch.softmax(logits, -1), model(x))
    assert not torch.allclose(logits, model(x))


@pytest.mark.parametrize("name", ["digits_cnn", "residual_block", "grouped_conv_net", "concat_net"])
def test_export_round_trip_keeps_function_and_zeros(name: str, tmp_path) -> None:
    builder, _ = ONNX_BUILDERS[name]
    proto = builder()
    onnx.save(proto, tmp_path / "m.onnx")
    graph = load_graph(tmp_path / "m.onnx")
    model = graph_to_torch(graph)
    first_conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    with torch.no_grad():
        first_conv.weight[0, 0] = 0.0
    x = random_input(proto, batch=2)
    export_onnx(model, torch.from_numpy(x[:1]), str(tmp_path / "out.onnx"))
    again = load_graph(tmp_path / "out.onnx")
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).double().numpy()
    np.testing.assert_allclose(run_float(again, x)[again.outputs[0]], expected, rtol=1e-4, atol=1e-5)
    first = next(layer for layer in again.layers if layer.OP == "Conv2d")
    assert not first.weight.values[0, 0].any()


@pytest.mark.parametrize("name", [name for name in CONV_MODELS if name != "avgpool_net"])  # its exported divisor Mul does not import
def test_export_keeps_layer_names(name: str, tmp_path) -> None:
    """export -> import gives the layers the names they had, so repeated round trips do not grow them."""
    builder, _ = ONNX_BUILDERS[name]
    proto = builder()
    onnx.save(proto, tmp_path / "m.onnx")
    graph = load_graph(tmp_path / "m.onnx")
    export_onnx(graph_to_torch(graph), torch.from_numpy(random_input(proto, batch=1)), str(tmp_path / "out.onnx"))
    assert [layer.name for layer in load_graph(tmp_path / "out.onnx").layers] == [layer.name for layer in graph.layers]
