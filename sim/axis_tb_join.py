"""Driver of the two-input test benches (axis_add, axis_concat): two sources, one sink.

The case is written by fpgaflow.hw.simulate.write_case like every other case; each input
beat there is input A's beat in the low `a_bits` bits and input B's beat above it, so one
frame list carries both streams. The two sources get independent random idle cycles and
the sink random back-pressure, so the joint handshake sees every combination of one side
waiting for the other.
"""

from __future__ import annotations

import random
from typing import Any

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

from fpgaflow.share.sim.axis_tb import _beat_times, _pauses, first_difference, load_case


def _source(dut: Any, prefix: str) -> AxiStreamSource:
    return AxiStreamSource(AxiStreamBus.from_prefix(dut, prefix), dut.clk, dut.rst_n, reset_active_level=False, byte_lanes=1)


async def stream_join_case(dut: Any, paused: bool, seed: int = 1) -> list[int]:
    """Send every frame on both inputs, receive and check every output frame; return output beat cycles."""
    case = load_case()
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    source_a, source_b = _source(dut, "s_axis_a"), _source(dut, "s_axis_b")
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst_n, reset_active_level=False, byte_lanes=1)
    dut.rst_n.value = 0
    await ClockCycles(dut.clk, 3)
    dut.rst_n.value = 1
    await ClockCycles(dut.clk, 2)
    if paused:
        rng = random.Random(seed)
        for endpoint in (source_a, source_b, sink):
            endpoint.set_pause_generator(_pauses(rng, case.get("sink_pause" if endpoint is sink else "src_pause", 0.3)))
    times: list[int] = []
    stop = [False]
    cocotb.start_soon(_beat_times(dut, times, stop))
    a_bits = case["a_bits"]
    for frame in case["frames_in"]:
        beats = [int(b, 16) for b in frame]
        await source_a.send(AxiStreamFrame([b & ((1 << a_bits) - 1) for b in beats]))
        await source_b.send(AxiStreamFrame([b >> a_bits for b in beats]))
    for index, frame in enumerate(case["frames_out"]):
        got = await sink.recv(compact=False)
        problem = first_difference(list(got.tdata), [int(b, 16) for b in frame], case["out_elem_bits"])
        assert not problem, f"frame {index}: {problem}"
    stop[0] = True
    await RisingEdge(dut.clk)
    return times
