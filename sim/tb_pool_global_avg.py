"""cocotb test bench of rtl/pool_global_avg.sv: one beat of channel means per frame, equal to the reference's."""

from __future__ import annotations

import cocotb

from fpgaflow.share.sim.axis_tb import stream_case, write_measured


@cocotb.test(timeout_time=2, timeout_unit="ms")
async def means_with_pauses(dut) -> None:
    """Random idle cycles in and back-pressure out; every frame's means must equal the reference."""
    await stream_case(dut, paused=True)


@cocotb.test(timeout_time=2, timeout_unit="ms")
async def means_full_rate(dut) -> None:
    """No pauses: records when each result leaves, to check one input pixel per cycle."""
    write_measured("full_rate", await stream_case(dut, paused=False))
