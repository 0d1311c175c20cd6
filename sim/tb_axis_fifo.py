"""cocotb test bench of rtl/axis_fifo.sv: frames pass unchanged under pauses and back-pressure."""

from __future__ import annotations

import cocotb

from fpgaflow.share.sim.axis_tb import stream_case, write_measured


@cocotb.test()
async def frames_with_pauses(dut) -> None:
    """Random idle cycles in and back-pressure out; every beat and TLAST must come through."""
    await stream_case(dut, paused=True)


@cocotb.test()
async def frames_full_rate(dut) -> None:
    """No pauses: the FIFO must pass one beat per cycle."""
    write_measured("full_rate", await stream_case(dut, paused=False))
