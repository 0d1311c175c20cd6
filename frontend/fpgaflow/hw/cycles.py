"""Cycle model of the RTL library: how long each module takes per output position and frame.

The numbers follow from how the modules are built (see docs/hardware.md) and are checked
against Verilator simulations in the tests (within 2 %). A frame's time in a dataflow is
set by its slowest module, so the model gives steady-state cycles per frame, assuming an
upstream that always has data and a downstream that is always ready.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpgaflow.hw.weight_rom import EngineImage

Padding = tuple[int, int, int, int]


def window_gen_cycles(in_h: int, in_w: int, padding: Padding) -> int:
    """window_gen spends one cycle on every pixel of the padded image, input or inserted zero."""
    top, left, bottom, right = padding
    return (in_h + top + bottom) * (in_w + left + right)


def engine_cycles_per_position(image: EngineImage) -> int:
    """sparse_conv_engine reads one ROM word per cycle and needs one cycle at least per window.

    The windows are double-buffered and the pipeline (multiply, segmented sum, requantize,
    output register) overlaps the next window, so in steady state a position costs exactly
    the ROM depth, at least 1: ceil(entries / P) words with per-element indices,
    ceil(nonzero kernels / (P / k)) with pattern ids (k nonzeros per kernel), which is the
    same ceil(nnz / P) since every kernel fills k lanes.
    """
    return cycles_per_position(image.depth)


def cycles_per_position(depth: int) -> int:
    """Cycles per output position of an engine whose weight ROM is `depth` words deep."""
    return max(1, depth)


def engine_cycles_per_frame(image: EngineImage, positions: int) -> int:
    """Steady-state cycles of one frame of `positions` output positions."""
    return positions * engine_cycles_per_position(image)


def engine_bound(entries: int, lanes: int) -> float:
    """The ideal cycles per position: every lane busy on a nonzero weight, nnz / P."""
    return entries / lanes
