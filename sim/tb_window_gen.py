"""cocotb test bench of rtl/window_gen.sv: every window of every frame, under pauses and at full rate."""

from __future__ import annotations

import cocotb

from fpgaflow.share.sim.axis_tb import stream_case, write_measured


@cocotb.test()
async def windows_with_pauses(dut) -> None:
    """Random idle cycles in and back-pressure out; windows must equal the reference windows."""
    await stream_case(dut, paused=True)


@cocotb.test()
async def windows_full_rate(dut) -> None:
    """No pauses: records when each window leaves, for the cycle model."""
    write_measured("full_rate", await stream_case(dut, paused=False))
