"""Cycle model of the RTL library: how long each module takes per output position and frame.

The numbers follow from how the modules are built (see docs/hardware.md) and are checked
against Verilator simulations in the tests (within 2 %). A frame's time in a dataflow is
set by its slowest module, so the model gives steady-state cycles per frame, assuming an
upstream that always has data and a downstream that is always ready.
"""

from __future__ import annotations

from functools import lru_cache
from math import ceil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpgaflow.flow.weight_rom import EngineImage

Padding = tuple[int, int, int, int]


def window_gen_cycles(in_h: int, in_w: int, padding: Padding) -> int:
    """window_gen spends one cycle on every pixel of the padded image, input or inserted zero."""
    top, left, bottom, right = padding
    return (in_h + top + bottom) * (in_w + left + right)


FIRST_READ_AFTER_TAKE = 2
"""Cycles from sparse_conv_engine's take of a window's last word to the issue of its first ROM
word: the reader sees the bank full in a register, a cycle after the take."""

BANK_GAP = FIRST_READ_AFTER_TAKE - 1
"""Idle cycles of a window bank per window, besides its write and its reads: the bank is free
for the writer from the cycle after its last ROM word issues (the writer's first take lands
in the memories after that word's reads)."""


def window_cycles(depth: int, words: int) -> float:
    """Steady-state cycles per window of sparse_conv_engine with a `depth`-word ROM and `words` write cycles.

    The reader issues one ROM word per cycle (depth cycles a window, at least 1); the writer
    puts one word of the window into the lanes' memories per cycle (words cycles). The two
    window banks alternate: a bank is written, read from FIRST_READ_AFTER_TAKE cycles after
    the write's last word, and free again from the cycle after its last ROM word, so one bank
    serves a window every words + depth + BANK_GAP cycles and the two together one every half
    of that.
    The pipeline behind the reader never stalls (its output FIFO is sized by credits), so
    nothing else adds cycles.
    """
    depth = max(1, depth)
    return max(float(depth), float(words), (words + depth + BANK_GAP) / 2)


def engine_cycles_per_position(image: EngineImage) -> float:
    """Cycles per output position (window) of an engine: its ROM depth when the writer keeps up.

    The ROM holds ceil(entries / P) words (ceil(kernels / (P / k)) with pattern ids), plus the
    padding words that keep at most K_FIN channel ends in a word; the packer writes windows
    wide enough (WR_N) that the writer keeps up with the ROM where the window allows.
    """
    return window_cycles(image.depth, image.window_words)


Walk = tuple[int, ...]
"""Padded pixels a window generator walks to reach each window's bottom-right corner from the
previous one, in raster order over a frame; entry 0 comes from the previous frame's last window."""


def window_walk(in_h: int, in_w: int, kernel: tuple[int, int], stride: tuple[int, int], padding: Padding) -> Walk:
    """The walk of window_gen over one frame (see Walk): one padded pixel per cycle."""
    top, left, bottom, right = padding
    padded_h, padded_w = in_h + top + bottom, in_w + left + right
    rows = range(kernel[0] - 1, padded_h, stride[0])
    cols = range(kernel[1] - 1, padded_w, stride[1])
    corners = [row * padded_w + col for row in rows for col in cols]
    if not corners:
        return ()
    steps = [corners[0] + padded_h * padded_w - corners[-1]]
    steps += [after - before for before, after in zip(corners, corners[1:])]
    return tuple(steps)


def engine_frame_cycles(depth: int, words: int, walk: Walk = (1,)) -> int:
    """Steady-state cycles per frame of sparse_conv_engine behind a window generator.

    window_cycles is the pace while windows come one step apart. Where the generator walks
    further, across padding at a row's end and over the first KH-1 rows at a frame's start,
    the engine may idle: window_gen freezes while its window waits, so it walks to the next
    corner only once the engine has taken the current window. Per window i of `walk`:

    - the generator offers it walk[i] cycles after the engine took window i-1 (its input FIFO
      holds the pixels: docs/hardware.md);
    - the engine writes it (`words` cycles) once the bank it shares with window i-2 is free,
      taking the beat in the last write cycle;
    - it reads the ROM (`depth` cycles) from FIRST_READ_AFTER_TAKE cycles after the take,
      after window i-1's reads; its bank is free from the cycle after the last read.

    Frames of at least 8 windows run from empty banks, then the interval is averaged over
    twice as many (an even number of frames: the banks alternate). A dense layer (`walk` (1,): one window per
    frame, its beats written as they come) gets window_cycles. Matches Verilator to the
    cycle on 3x3 and 5x5 convs with and without padding (docs/benchmarks.md, "Cycle model").
    """
    return _engine_schedule(max(1, depth), words, walk)[0]


def engine_window_cycles(depth: int, words: int, walk: Walk = (1,)) -> tuple[float, ...]:
    """Per window of a frame, the steady-state cycles from the engine's take of the window
    before to its take of this one (engine_frame_cycles's schedule; they sum to a frame)."""
    return _engine_schedule(max(1, depth), words, walk)[1]


@lru_cache(maxsize=4096)
def _engine_schedule(depth: int, words: int, walk: Walk) -> tuple[int, tuple[float, ...]]:
    """(cycles per frame, cycles per window) of the schedule engine_frame_cycles describes."""
    windows = len(walk)
    if windows == 0:
        return 0, ()
    warm = ceil(8 / windows)  # frames from empty banks to the steady state (at least 8 windows)
    span = 2 * warm
    bank_free = [0, 0]
    taken = reads_end = 0
    takes: list[int] = []
    for index in range((warm + span) * windows):
        offered = (taken + walk[index % windows]) if index else 0
        start = max(offered, bank_free[index % 2])
        taken = start + words - 1
        reads_start = max(taken + FIRST_READ_AFTER_TAKE, reads_end)
        reads_end = reads_start + depth
        bank_free[index % 2] = reads_end
        takes.append(taken)
    steady = takes[(warm * windows) - 1:]
    gaps = [after - before for before, after in zip(steady, steady[1:])]
    per_window = tuple(sum(gaps[frame * windows + i] for frame in range(span)) / span for i in range(windows))
    return ceil((takes[-1] - takes[-1 - span * windows]) / span), per_window


def engine_bound(entries: int, lanes: int) -> float:
    """The ideal cycles per position: every lane busy on a nonzero weight, nnz / P."""
    return entries / lanes
