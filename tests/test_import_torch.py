"""torch import through both exporters (TorchScript and torch.export) matches torch itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fpgaflow import from_torch
from fpgaflow.passes.flows import import_flow
from fpgaflow.reference.float_exec import run_float
from models import TORCH_MODELS, torch_model


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("name", sorted(TORCH_MODELS))
def test_torch_export_imports_and_matches_torch(name: str, dynamo: bool, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    model, example = torch_model(name)
    graph = import_flow().run(from_torch(model, example, dynamo=dynamo))
    assert graph.tensors[graph.inputs[0]].shape == tuple(example.shape[1:])
    assert not any(layer.OP in ("BatchNorm", "Relu") for layer in graph.layers)  # all folded or fused
    x = torch.randn((3, *example.shape[1:]), generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(run_float(graph, x.numpy())[graph.outputs[0]], expected, rtol=1e-5, atol=1e-6)
    assert list(tmp_path.iterdir()) == []  # the export happened in memory
