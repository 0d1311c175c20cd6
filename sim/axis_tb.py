"""Shared driver of the fpgaflow cocotb test benches: streams case frames through a DUT.

The pytest side (fpgaflow.hw.simulate) writes `case.json` into the run's directory
(FPGAFLOW_TB_DIR): the input frames as lists of beats (hex strings, beats may be wider
than 64 bits), the expected output frames, and the element width used to name the first
differing channel on a mismatch. A test bench module imports `stream_case` and runs it
with random idle cycles on the input and random back-pressure on the output, then without
pauses to time the steady state; it writes the output beat times into `measured.json`.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

TB_DIR_ENV = "FPGAFLOW_TB_DIR"

CLOCK_PERIOD_NS = 10
"""Every bench's clock period (fpgaflow.backends.rtl.verify.CLOCK_PERIOD_NS converts simulated time to cycles)."""


def load_case() -> dict[str, Any]:
    """The case description written by the pytest side."""
    return json.loads((Path(os.environ[TB_DIR_ENV]) / "case.json").read_text())


def _pauses(rng: random.Random, probability: float):
    """An endless pause pattern for cocotbext-axi: True means idle this cycle."""
    while True:
        yield rng.random() < probability


def first_difference(got: list[int], want: list[int], elem_bits: int) -> str:
    """Name the first beat and element (channel) where two frames differ."""
    if len(got) != len(want):
        return f"frame has {len(got)} beats, expected {len(want)}"
    mask = (1 << elem_bits) - 1
    for beat, (g, w) in enumerate(zip(got, want)):
        if g != w:
            diff = g ^ w
            elem = 0
            while not (diff >> (elem * elem_bits)) & mask:
                elem += 1
            gv, wv = (g >> (elem * elem_bits)) & mask, (w >> (elem * elem_bits)) & mask
            return f"first difference at beat (position) {beat}, element (channel) {elem}: got {gv:#x}, expected {wv:#x}"
    return ""


async def start(dut: Any) -> tuple[AxiStreamSource, AxiStreamSink]:
    """Clock, reset, and an AXI-Stream source/sink on the s_axis/m_axis ports."""
    cocotb.start_soon(Clock(dut.clk, CLOCK_PERIOD_NS, unit="ns").start())
    source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst_n, reset_active_level=False, byte_lanes=1)
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst_n, reset_active_level=False, byte_lanes=1)
    dut.rst_n.value = 0
    await ClockCycles(dut.clk, 3)
    dut.rst_n.value = 1
    await ClockCycles(dut.clk, 2)
    return source, sink


async def _beat_times(dut: Any, log: list[int], stop: list[bool]) -> None:
    """Record the clock cycle of every output beat handshake."""
    cycle = 0
    while not stop[0]:
        await RisingEdge(dut.clk)
        cycle += 1
        if dut.m_axis_tvalid.value == 1 and dut.m_axis_tready.value == 1:
            log.append(cycle)


async def stream_case(dut: Any, paused: bool, seed: int = 1) -> list[int]:
    """Send every input frame, receive and check every output frame; return output beat cycles."""
    case = load_case()
    source, sink = await start(dut)
    if paused:
        rng = random.Random(seed)
        source.set_pause_generator(_pauses(rng, case.get("src_pause", 0.3)))
        sink.set_pause_generator(_pauses(rng, case.get("sink_pause", 0.3)))
    times: list[int] = []
    stop = [False]
    cocotb.start_soon(_beat_times(dut, times, stop))
    for frame in case["frames_in"]:
        await source.send(AxiStreamFrame([int(b, 16) for b in frame]))
    for index, frame in enumerate(case["frames_out"]):
        got = await sink.recv(compact=False)
        want = [int(b, 16) for b in frame]
        problem = first_difference(list(got.tdata), want, case["out_elem_bits"])
        assert not problem, f"frame {index}: {problem}"
    stop[0] = True
    await RisingEdge(dut.clk)
    return times


def write_measured(name: str, times: list[int]) -> None:
    """Store output beat cycles for the pytest side (cycle-model checks)."""
    path = Path(os.environ[TB_DIR_ENV]) / "measured.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = times
    path.write_text(json.dumps(data))
