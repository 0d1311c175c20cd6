"""Cycle model of the RTL library: how long each module takes per output position and frame.

The numbers follow from how the modules are built (see docs/hardware.md) and are checked
against Verilator simulations in the tests (within 2 %). A frame's time in a dataflow is
set by its slowest module, so the model gives steady-state cycles per frame, assuming an
upstream that always has data and a downstream that is always ready.
"""

from __future__ import annotations

Padding = tuple[int, int, int, int]


def window_gen_cycles(in_h: int, in_w: int, padding: Padding) -> int:
    """window_gen spends one cycle on every pixel of the padded image, input or inserted zero."""
    top, left, bottom, right = padding
    return (in_h + top + bottom) * (in_w + left + right)
