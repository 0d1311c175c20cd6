"""The contract of the ops that move pixels without weights: joins, upsampling, channel order, flatten."""

from __future__ import annotations

from fpgaflow.flow.contract import OpContract
from fpgaflow.flow.layer_plan import LayerPlan


def output_pixels(plan: LayerPlan) -> int:
    """Pixels of the layer's output frame (a vector is one)."""
    return int(plan.output_shape[1] * plan.output_shape[2]) if len(plan.output_shape) == 3 else 1


class PixelRate(OpContract):
    """Add and Concat pass one pixel per cycle; Upsample emits one output pixel per cycle."""

    ops = ("Add", "Concat", "Upsample")

    def cycles(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> int:
        return output_pixels(plan)


class Rewire(OpContract):
    """A channel permutation is wiring (no cycles); a Flatten re-interprets the stream (no stage at all)."""

    ops = ("ChannelPermute",)

    def cycles(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> int:
        return 0


class PassThrough(Rewire):
    """Ops that only re-interpret the stream: a flatten keeps the pixel order."""

    ops = ("Flatten",)
