"""How many beats each branch of a fan-out must buffer so that its join never deadlocks.

A tensor read by several layers is copied to each reader: a beat leaves only when every
branch takes it. Where two branches meet again, at a Concat or an Add, the join takes a
beat only when both inputs offer one. A branch that reads far ahead before its first
output (a padded 3x3 window generator needs KH-1 rows and KW pixels first; a global pool
or a dense layer the whole frame) then holds back a branch that reads little ahead (a 1x1
conv): the fast branch's output waits at the join, its stages fill, the copy stalls, and
the slow branch never receives the beats it waits for.

The rule. For a branch b and the m-th beat of a join, let need_b(m) be the beats of the
shared tensor that branch b must have read before it can offer that beat (`beats_needed`
composed along the branch). When branch b offers beat m it has read at least need_b(m)
beats, so a FIFO of D_b beats at its head lets the copy go on to need_b(m) + D_b beats.
The other branch c progresses as long as need_c(m) <= need_b(m) + D_b, so

    D_b = max over joins, over other branches c, over m of need_c(m) - need_b(m)

(nothing when it is <= 0: the slowest branch needs no FIFO). The stages' own registers and
the window generators' input FIFOs only add room. Branches that meet again only after they
have merged are left to the fan-outs after that merge.

That rule guarantees progress, not speed: it counts beats, not the cycles the long branch
spends computing them. The rate rule (`beat_times`) adds time. Every stage emits its m-th
beat when the beats it needs have arrived and it has spent its own pace (its modelled cycles
per frame over its beats) on the beat before; the network input arrives at the frame
interval's pace and a join at least at that pace (what the slowest stage downstream takes).
Wherever branch b offers the m-th beat of a join before another branch c does, b waits until
t_c(m), and by then every beat of the shared tensor produced before t_c(m) (this frame's and
the next's) has entered the copy. A FIFO of

    D_b = max over m with t_b(m) < t_c(m) of arrived(t_c(m)) - need_b(m)

holds them, so the copy never stalls the long branch and the frame interval stays the slowest
stage's. The depth is the larger of the two rules (the beat rule holds even where the times
are off), plus FIFO_MARGIN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import AvgPool, Conv2d, ConvTranspose2d, Dense, GlobalAvgPool, Layer, MaxPool, Upsample
from fpgaflow.flow.layer_plan import stream_beats

FIFO_MARGIN = 2
"""Beats a branch FIFO holds beyond the rule's minimum (axis_fifo's DEPTH is exact; this covers
a beat in flight in the join's register)."""


def _window_needs(layer: Conv2d | MaxPool | AvgPool, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> np.ndarray:
    """Input pixels window_gen reads before it emits each window: every input pixel up to the
    window's bottom-right corner in the padded raster (padding costs no input)."""
    _, in_h, in_w = in_shape
    _, out_h, out_w = out_shape
    top, left, _, _ = layer.padding
    kh, kw = layer.kernel
    oy, ox = np.divmod(np.arange(out_h * out_w), out_w)
    row = oy * layer.stride[0] + kh - 1 - top  # the corner's input row and column (may lie in padding)
    col = ox * layer.stride[1] + kw - 1 - left
    full_rows = np.clip(row, 0, in_h)
    in_row = np.where((row >= 0) & (row < in_h), np.clip(col + 1, 0, in_w), 0)
    return full_rows * in_w + in_row


def _block_needs(block: tuple[int, int], in_shape: tuple[int, ...]) -> np.ndarray:
    """axis_upsample and axis_depth_to_space emit output pixel (oy, ox) once they have read input
    pixel (oy / BH, ox / BW): every input pixel becomes a BH x BW block of output pixels."""
    _, in_h, in_w = in_shape
    oy, ox = np.divmod(np.arange(in_h * block[0] * in_w * block[1]), in_w * block[1])
    return (oy // block[0]) * in_w + ox // block[1] + 1


def beats_needed(graph: Graph, layer: Layer) -> np.ndarray:
    """For each output beat of a layer, how many beats of (each of) its inputs it needs first."""
    in_beats, out_beats = stream_beats(graph, layer.inputs[0]), stream_beats(graph, layer.output)
    if isinstance(layer, (Conv2d, MaxPool, AvgPool)):
        return _window_needs(layer, graph.tensors[layer.inputs[0]].shape, graph.tensors[layer.output].shape)
    if isinstance(layer, Upsample):
        return _block_needs(layer.scale, graph.tensors[layer.inputs[0]].shape)
    if isinstance(layer, ConvTranspose2d):
        return _block_needs(layer.block, graph.tensors[layer.inputs[0]].shape)
    if isinstance(layer, (Dense, GlobalAvgPool)) or in_beats != out_beats:
        return np.full(out_beats, in_beats)
    return np.arange(1, out_beats + 1)  # one beat out per beat in: Flatten, Add, Concat, the 1x1 engines


def _compose(arrival: np.ndarray, needed: np.ndarray) -> np.ndarray:
    """Beats of the shared tensor behind each output beat, given those behind each input beat."""
    return np.where(needed > 0, arrival[np.maximum(needed, 1) - 1], 0)


def _branch_arrivals(graph: Graph, tensor: str, reader: Layer) -> dict[tuple[str, int], np.ndarray]:
    """(layer, input slot) -> beats of `tensor` behind each beat arriving there, along one branch."""
    slot = reader.inputs.index(tensor)
    arrivals = {(reader.name, slot): np.arange(1, stream_beats(graph, tensor) + 1)}
    produced: dict[str, np.ndarray] = {}
    for layer in graph.layers[graph.layers.index(reader):]:
        if layer is not reader:
            for index, name in enumerate(layer.inputs):
                if name in produced:
                    arrivals[(layer.name, index)] = produced[name]
        mine = [arrivals[(layer.name, i)] for i in range(len(layer.inputs)) if (layer.name, i) in arrivals]
        if mine:
            needed = beats_needed(graph, layer)
            produced[layer.output] = np.maximum.reduce([_compose(a, needed) for a in mine])
    return arrivals


def beat_times(graph: Graph, stage_cycles: Mapping[str, int], interval: int,
               beat_cycles: Mapping[str, Sequence[float]] | None = None) -> dict[str, np.ndarray]:
    """Tensor -> the cycle (within a frame, steady state) at which each of its beats is offered.

    A stage emits beat m when its input has offered the beats it needs (`beats_needed`) and it
    has spent its pace on beat m-1: its modelled cycles per frame (`stage_cycles`, 0 for a
    stage that is only wiring) over its output beats, or per beat where `beat_cycles` gives
    them (a conv engine waits out its window generator's long walks, a lump at a frame's start:
    fpgaflow.flow.cycles.engine_window_cycles). The network input comes at the frame interval's
    pace; a join goes no faster than that pace either, since the slowest stage downstream takes
    its beats no faster.
    """
    times: dict[str, np.ndarray] = {}
    for name in graph.inputs:
        beats = stream_beats(graph, name)
        times[name] = np.arange(1, beats + 1) * (interval / beats)
    for layer in graph.layers:
        needed = beats_needed(graph, layer)
        ready = np.maximum.reduce([_compose(times[name], needed) for name in layer.inputs])
        paces = np.full(len(needed), stage_cycles.get(layer.name, 0) / len(needed))
        per_beat = (beat_cycles or {}).get(layer.name)
        if per_beat is not None and len(per_beat) == len(needed):
            paces = np.asarray(per_beat, dtype=float)
        if len(layer.inputs) > 1:
            paces = np.maximum(paces, interval / len(needed))
        offered = np.empty(len(needed))
        last = 0.0
        for beat, at in enumerate(ready):
            last = max(float(at), last) + paces[beat]
            offered[beat] = last
        times[layer.output] = offered
    return times


def _waiting_beats(mine: np.ndarray, at_join_mine: np.ndarray, at_join_theirs: np.ndarray,
                   shared: np.ndarray, interval: int) -> int:
    """Beats of the shared tensor that enter the copy while branch b waits at a join for branch c.

    mine: the shared tensor's beats behind each beat b offers the join; at_join_*: the cycle each branch offers each beat of the join; shared: the cycle each
    beat of the shared tensor is offered (the next frame's come `interval` later).
    """
    waits = at_join_mine < at_join_theirs
    if not waits.any():
        return 0
    until = at_join_theirs[waits]
    arrived = np.searchsorted(shared, until, side="right") + np.searchsorted(shared + interval, until, side="right")
    return max(0, int(np.max(arrived - mine[waits])))


def branch_fifo_depths(graph: Graph, tensor: str, stage_cycles: Mapping[str, int] | None = None,
                       beat_cycles: Mapping[str, Sequence[float]] | None = None) -> list[int]:
    """FIFO depth (0: none) per reader of `tensor`, in the order the generator takes its streams:
    the consuming layers in execution order, then the hardware output.

    Without `stage_cycles` (layer -> modelled cycles per frame) only the beat rule (progress);
    with them the larger of the beat rule and the rate rule (full speed), `beat_cycles` giving
    the stages that do not spend their frame evenly over their beats (see beat_times).
    """
    readers = graph.consumers(tensor)
    arrivals = [_branch_arrivals(graph, tensor, reader) for reader in readers]
    interval = max(stage_cycles.values(), default=0) if stage_cycles else 0
    times = beat_times(graph, stage_cycles, interval, beat_cycles) if stage_cycles else {}
    depths = [0] * (len(readers) + int(tensor in graph.hardware_outputs))
    for b, mine in enumerate(arrivals):
        lag = 0
        for c, theirs in enumerate(arrivals):
            if c == b:
                continue
            only_mine = {key for key in mine if key not in theirs}
            only_theirs = {key for key in theirs if key not in mine}
            for layer, slot in only_mine:
                for other_layer, other_slot in only_theirs:
                    if other_layer == layer and other_slot != slot:
                        lag = max(lag, int(np.max(theirs[(layer, other_slot)] - mine[(layer, slot)])))
                        if times:
                            join = graph.layer(layer)
                            lag = max(lag, _waiting_beats(mine[(layer, slot)], times[join.inputs[slot]], times[join.inputs[other_slot]],
                                                          times[tensor], interval))
        depths[b] = lag + FIFO_MARGIN if lag > 0 else 0
    return depths
