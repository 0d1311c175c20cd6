"""Generator stages of the stream layers: AvgPool, GlobalAvgPool, Concat, and ScaleShift/Relu on the engine.

Cheap checks without Verilator (tests/test_network.py simulates the same model bit for
bit): each layer becomes the library module it should, with division parameters from
the IR, a modelled cycle count, and the depthwise-conv form of ScaleShift and Relu gives
exactly the reference's codes.
"""

import copy

import numpy as np
import onnx
import pytest

import models
from fpgaflow.api import load_model
from fpgaflow.boards import load_board
from fpgaflow.errors import UserError
from fpgaflow.fixed import FixedType
from fpgaflow.quant import quantize
from fpgaflow.reference.fixed_exec import run_fixed
from fpgaflow.flow.depthwise import as_depthwise_conv
from fpgaflow.backends.rtl.division import division_parameters
from fpgaflow.backends.rtl.generate import build_netlist, plan_design

BOARD = load_board("pynq")


def quantized_model(builder, tmp_path):
    path = tmp_path / "model.onnx"
    onnx.save(builder(), path)
    graph = load_model(path)
    return quantize(graph, np.random.default_rng(0).random((32, *graph.tensors[graph.inputs[0]].shape)), 8)


@pytest.fixture(scope="module")
def pooled(tmp_path_factory):
    return quantized_model(models.pooled_concat_net, tmp_path_factory.mktemp("pooled"))


def test_every_layer_gets_its_module_and_a_cycle_model(pooled):
    design = plan_design(pooled, BOARD)
    netlist, _, taps = build_netlist(design)
    modules = {stage.instance: stage.module for stage in netlist.stages}
    assert modules["concat"] == "axis_concat"
    assert modules["avg"] == "pool_avg"
    assert modules["gap"] == "pool_global_avg"
    assert modules["bn_engine"] == modules["relu_cat_engine"] == "sparse_conv_engine"
    assert {tap.layer for tap in taps} == {plan.name for plan in design.plans if plan.op != "Flatten"}
    cycles = {plan.name: design.engines[plan.name].cycles_model for plan in design.plans}
    assert cycles["concat"] == cycles["avg"] == 36 and cycles["gap"] == 9  # one pixel per cycle
    assert all(cycles[p.name] > 0 for p in design.plans if p.op != "Flatten")


def test_pool_division_parameters_come_from_the_ir(pooled):
    netlist, _, _ = build_netlist(plan_design(pooled, BOARD))
    parameters = {stage.instance: dict(stage.parameters) for stage in netlist.stages}
    avg, gap = parameters["avg"], parameters["gap"]
    fmt = {name: pooled.tensors[name].ftype for name in ("bn_out", "avg_out", "gap_out")}
    assert avg["RECIP_W"] == "0" and int(avg["SHIFT"]) == fmt["bn_out"].frac + 2 - fmt["avg_out"].frac
    reciprocal = pooled.layers[[layer.name for layer in pooled.layers].index("gap")].reciprocal
    assert int(gap["RECIP_W"]) == reciprocal.width  # 9 positions: times the reciprocal code
    assert int(gap["SHIFT"]) == reciprocal.frac + fmt["avg_out"].frac - fmt["gap_out"].frac


def test_division_needs_a_reciprocal_unless_a_power_of_two():
    assert division_parameters(8, 5, 4, None) == {"RECIP_W": 0, "RECIP_CODE": 0, "SHIFT": 4}
    with pytest.raises(UserError, match="reciprocal"):
        division_parameters(9, 5, 4, None)
    fmt = FixedType(False, 16, 19)
    assert division_parameters(9, 5, 4, fmt) == {"RECIP_W": 16, "RECIP_CODE": round(2**19 / 9), "SHIFT": 20}


def test_scale_shift_and_relu_as_depthwise_convs_are_exact(pooled):
    """Replacing both layers by their depthwise convs leaves every tensor's codes unchanged."""
    rewritten = copy.deepcopy(pooled)
    rewritten.layers = [as_depthwise_conv(rewritten, layer) if layer.OP in ("ScaleShift", "Relu") else layer
                        for layer in rewritten.layers]
    assert [layer.OP for layer in rewritten.layers].count("Conv2d") == 4
    codes = np.random.default_rng(3).integers(0, 256, size=(16, 3, 6, 6))
    in_type = pooled.tensors[pooled.inputs[0]].ftype
    codes = np.clip(codes, in_type.min_code, in_type.max_code)
    want, got = run_fixed(pooled, codes), run_fixed(rewritten, codes)
    for tensor in want:
        assert np.array_equal(want[tensor], got[tensor]), tensor

