"""cocotb test bench of rtl/axis_upsample.sv: repeated pixels and rows equal the reference's, under pauses and at full rate."""

from __future__ import annotations

import cocotb

from fpgaflow.share.sim.axis_tb import stream_case, write_measured


@cocotb.test(timeout_time=2, timeout_unit="ms")
async def upsample_with_pauses(dut) -> None:
    """Random idle cycles in and back-pressure out; every frame must equal the reference."""
    await stream_case(dut, paused=True)


@cocotb.test(timeout_time=2, timeout_unit="ms")
async def upsample_full_rate(dut) -> None:
    """No pauses: records when each pixel leaves, to check one output pixel per cycle."""
    write_measured("full_rate", await stream_case(dut, paused=False))
