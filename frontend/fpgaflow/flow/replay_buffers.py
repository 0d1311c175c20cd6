"""How many beats to buffer in front of a stage that repeats rows from its line buffer.

axis_upsample emits each input row SH times and axis_depth_to_space each block row BH times:
the first copy of a row passes the input through, the other copies come from a one-row line
buffer and take no input. While they are emitted, (SH-1) * OUT_W beats at the pace the
stages downstream take them (the frame interval over the output's beats), the stage in front
cannot hand over its output. A stage with slack catches up; one that runs as slowly as the
slowest stage (no idle cycles in its frame) loses every cycle it stands still, and the whole
pipeline with it (`unet`: 100 cycles a frame, 4196 against 4096, with the skip FIFO deep
enough). A FIFO of the beats the producer emits during one replay lets it go on:

    depth = ceil(replay cycles / producer's cycles per beat)

and none where the producer's idle cycles per frame cover all the replays of a frame.
"""

from __future__ import annotations

from math import ceil


def replay_fifo_depth(replayed_beats: int, replays: int, out_beats: int, interval: int, producer_cycles: int,
                      producer_beats: int) -> int:
    """Beats of FIFO between a producer and a row-repeating stage (0: none needed).

    replayed_beats: output beats of one replay (the copies of a row that take no input);
    replays: replays per frame; out_beats: the stage's output beats per frame; interval: the
    frame interval; producer_cycles, producer_beats: the producer's modelled cycles and output
    beats per frame.
    """
    if replayed_beats <= 0 or producer_beats <= 0 or producer_cycles <= 0 or out_beats <= 0:
        return 0
    replay_cycles = replayed_beats * interval / out_beats
    if replays * replay_cycles <= interval - producer_cycles:
        return 0
    return ceil(replay_cycles * producer_beats / producer_cycles)
