"""Taper's hardware costs are the build's: the figure the pruner reports equals what the report shows for the written model."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from torch import nn
from fpgaflow import from_torch
from fpgaflow.flow.layer_plan import plan_graph
from fpgaflow.flow.ops import contract_of
from fpgaflow.flow.weight_rom import pack_engine
from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import Conv2d, Dense
from fpgaflow.prune.cost import EngineCost, engine_cost, relaxed_engine_cost
from fpgaflow.prune.load import load_graph, load_model
from fpgaflow.prune.masks import MaskSet
from fpgaflow.prune.taper import TaperPruning
from fpgaflow.prune.torch_graph import export_onnx
from fpgaflow.prune.train import prune_and_finetune, seed_everything
from fpgaflow.quant.quantize import quantize
from models import digits_cnn
from prune_helpers import digits_subset

LANES = 4
WEIGHT_BITS = 16
"""Wide enough that quantization rounds no kept weight to zero (checked), so the build counts the pruner's nonzeros."""


def _report_cycles(quantized: Graph) -> int:
    """Cycles per frame summed over the engines, as the build report shows them (each layer's contract)."""
    return sum(contract_of(plan).cycles(plan, LANES) for plan in plan_graph(quantized) if plan.is_compute)


def _hw_costs(graph: Graph, calibration: np.ndarray) -> tuple[int, int]:
    """(cycles per frame as the report shows them, weight-ROM bits) summed over the engines."""
    quantized = quantize(graph, calibration, bits=WEIGHT_BITS)
    bits = 0
    for layer in quantized.layers:
        if not isinstance(layer, (Conv2d, Dense)):
            continue
        assert np.array_equal(np.asarray(layer.weight.codes) != 0, np.asarray(layer.weight.values) != 0), "a kept weight quantized to zero"
        in_type, out_type = quantized.tensors[layer.inputs[0]].ftype, quantized.tensors[layer.output].ftype
        image = pack_engine(layer, in_type, out_type, quantized.tensors[layer.inputs[0]].shape, LANES, index_mode="element")
        bits += image.weight_memory_bits
    return _report_cycles(quantized), bits


def test_taper_cycles_and_bits_equal_hw(tmp_path) -> None:
    onnx.save(digits_cnn(), tmp_path / "model.onnx")
    data = digits_subset(96)
    seed_everything(0)
    model, _ = load_model(tmp_path / "model.onnx")
    example = torch.from_numpy(data.x[:1])
    method = TaperPruning(model, example, 0.6, cost="cycles", parallelism=LANES, weight_bits=WEIGHT_BITS)
    prune_and_finetune(method, data, 2)
    export_onnx(model, example, str(tmp_path / "pruned.onnx"))
    name, dense, reported = method.cost_report()  # type: ignore[misc]
    hw_cycles, hw_bits = _hw_costs(load_graph(tmp_path / "pruned.onnx"), data.x[:16])
    assert name == f"cycles/frame at P={LANES}"
    assert reported == hw_cycles < dense
    assert EngineCost(model, example, "weight-bits", LANES, WEIGHT_BITS)(method.masks) == hw_bits
    dense_cycles, dense_bits = _hw_costs(load_graph(tmp_path / "model.onnx"), data.x[:16])
    assert dense == dense_cycles
    unpruned, _ = load_model(tmp_path / "model.onnx")
    assert EngineCost(unpruned, example, "weight-bits", LANES, WEIGHT_BITS)(MaskSet(unpruned)) == dense_bits


def test_cycles_are_the_reports_where_the_window_generator_is_slower() -> None:
    """One weight per output channel of a padded 3x3 conv: the engine needs 64 windows of one ROM word,
    its window generator walks (8 + 2)^2 = 100 pixels, and the engine waits out the long walks at
    row ends and between frames: 124 cycles (fpgaflow.flow.cycles.engine_frame_cycles; Verilator
    measures 124 too). The pruner counts the report's figure."""
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1))
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].weight[:, 0, 1, 1] = 0.5
    example = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, (4, 2, 8, 8)).astype(np.float32))
    report = _report_cycles(quantize(from_torch(model, example), example.numpy(), bits=WEIGHT_BITS))
    assert report == 124
    assert EngineCost(model, example, "cycles", LANES, WEIGHT_BITS)(MaskSet(model)) == report


@pytest.mark.parametrize("kind", ["cycles", "weight-bits"])
def test_relaxation_is_exact_on_full_words(kind: str) -> None:
    """Where the nonzeros fill whole ROM words the relaxed cost is the exact one."""
    nonzeros = 3 * LANES
    exact = engine_cost(kind, LANES, 8, 72, nonzeros, (1,) * 36)
    relaxed = relaxed_engine_cost(kind, 36, LANES, 8, 72.0, torch.tensor(float(nonzeros), requires_grad=True))
    assert float(relaxed.detach()) == exact
    relaxed.backward()
