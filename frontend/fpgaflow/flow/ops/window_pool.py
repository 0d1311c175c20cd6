"""The contract of the pools: MaxPool and AvgPool at their window generator's pace, GlobalAvgPool one pixel a cycle."""

from __future__ import annotations

from fpgaflow.flow.contract import OpContract
from fpgaflow.flow.cycles import window_gen_cycles
from fpgaflow.flow.layer_plan import LayerPlan
from fpgaflow.ir.layers import AvgPool, GlobalAvgPool, MaxPool


class WindowPool(OpContract):
    """A pool over sliding windows: one cycle per pixel of the padded image."""

    ops = (MaxPool.OP, AvgPool.OP)

    def cycles(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> int:
        layer = plan.layer
        assert isinstance(layer, (MaxPool, AvgPool))
        return window_gen_cycles(plan.input_shape[1], plan.input_shape[2], layer.padding)


class GlobalPool(OpContract):
    """A global average pool takes one pixel per cycle."""

    ops = (GlobalAvgPool.OP,)

    def cycles(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> int:
        return int(plan.input_shape[1] * plan.input_shape[2])
