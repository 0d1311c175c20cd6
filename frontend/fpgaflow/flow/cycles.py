"""Cycle model of the RTL library: how long each module takes per output position and frame.

The numbers follow from how the modules are built (see docs/hardware.md) and are checked
against Verilator simulations in the tests (within 2 %). A frame's time in a dataflow is
set by its slowest module, so the model gives steady-state cycles per frame, assuming an
upstream that always has data and a downstream that is always ready.
"""

from __future__ import annotations

from math import ceil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpgaflow.flow.weight_rom import EngineImage

Padding = tuple[int, int, int, int]


def window_gen_cycles(in_h: int, in_w: int, padding: Padding) -> int:
    """window_gen spends one cycle on every pixel of the padded image, input or inserted zero."""
    top, left, bottom, right = padding
    return (in_h + top + bottom) * (in_w + left + right)


def window_cycles(depth: int, words: int) -> float:
    """Steady-state cycles per window of sparse_conv_engine with a `depth`-word ROM and `words` write cycles.

    The reader issues one ROM word per cycle (depth cycles a window, at least 1); the writer
    puts one word of the window into the lanes' memories per cycle (words cycles). The two
    window banks alternate: a bank is written, read, and free again one cycle after its last
    ROM word (a margin so that no read and write of a block RAM collide), so one bank serves
    a window every words + depth + 1 cycles and the two together one every half of that.
    The pipeline behind the reader never stalls (its output FIFO is sized by credits), so
    nothing else adds cycles.
    """
    depth = max(1, depth)
    return max(float(depth), float(words), (words + depth + 1) / 2)


def engine_cycles_per_position(image: EngineImage) -> float:
    """Cycles per output position (window) of an engine: its ROM depth when the writer keeps up.

    The ROM holds ceil(entries / P) words (ceil(kernels / (P / k)) with pattern ids), plus the
    padding words that keep at most K_FIN channel ends in a word; the packer writes windows
    wide enough (WR_N) that the writer keeps up with the ROM where the window allows.
    """
    return window_cycles(image.depth, image.window_words)


def engine_cycles_per_frame(image: EngineImage, positions: int) -> int:
    """Steady-state cycles of one frame of `positions` output positions."""
    return ceil(positions * engine_cycles_per_position(image))


def engine_bound(entries: int, lanes: int) -> float:
    """The ideal cycles per position: every lane busy on a nonzero weight, nnz / P."""
    return entries / lanes
