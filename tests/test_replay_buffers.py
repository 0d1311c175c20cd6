"""The FIFO in front of a row-repeating stage (fpgaflow.flow.replay_buffers) and where the generator puts it."""

from __future__ import annotations

import re

import onnx

import models
from fpgaflow.cli.main import main
from fpgaflow.flow.replay_buffers import replay_fifo_depth


def test_a_producer_without_idle_cycles_buffers_one_replay():
    """unet's enc2 (256 positions in the 4096-cycle frame interval, 16 cycles each) feeds the x2
    upsampling (1024 output beats): each of the 16 replayed rows is 32 beats at 4 cycles, 128
    cycles in which enc2 emits 8 pixels."""
    assert replay_fifo_depth(32, 16, 1024, 4096, 4096, 256) == 8


def test_a_producer_with_slack_needs_no_fifo():
    """A max pool in front (1024 cycles a frame) has 3072 idle cycles, more than the 16 replays' 2048;
    one cycle fewer than 2048 idle and it buffers a replay's 128 cycles at its pace of 8 cycles a beat."""
    assert replay_fifo_depth(32, 16, 1024, 4096, 1024, 256) == 0
    assert replay_fifo_depth(32, 16, 1024, 4096, 2048, 256) == 0
    assert replay_fifo_depth(32, 16, 1024, 4096, 2048 + 1, 256) == 16


def test_unets_hold_the_replays_in_front_of_the_upsampling(tmp_path):
    """The generated tops put the FIFO between enc2 and axis_upsample, and between the transposed
    conv's engine and axis_depth_to_space."""
    for builder in ("unet", "unet_transposed"):
        model = tmp_path / f"{builder}.onnx"
        onnx.save(getattr(models, builder)(), model)
        out = tmp_path / builder
        assert main(["build", str(model), "--board", "pynq", "--out", str(out)]) == 0
        top = (out / "rtl" / "unet_top.sv").read_text()
        held = re.search(r"axis_fifo #\(\s*\.DW\(\d+\),\s*\.DEPTH\((\d+)\)\s*\) u_up_held \(", top)
        assert held and int(held.group(1)) == 9, builder
