"""cocotb test bench of rtl/axis_concat.sv: concatenated pixels equal the reference's, under pauses and at full rate."""

from __future__ import annotations

import cocotb

from fpgaflow.share.sim.axis_tb import write_measured
from fpgaflow.share.sim.axis_tb_join import stream_join_case


@cocotb.test(timeout_time=2, timeout_unit="ms")
async def concat_with_pauses(dut) -> None:
    """Independent idle cycles on both inputs and back-pressure out; every pixel must equal the reference."""
    await stream_join_case(dut, paused=True)


@cocotb.test(timeout_time=2, timeout_unit="ms")
async def concat_full_rate(dut) -> None:
    """No pauses: records when each pixel leaves, to check one pixel per cycle."""
    write_measured("full_rate", await stream_join_case(dut, paused=False))
