"""cocotb test bench of rtl/axis_width_converter.sv: beats regrouped, TLAST kept, under pauses."""

from __future__ import annotations

import cocotb

from fpgaflow.share.sim.axis_tb import stream_case, write_measured


@cocotb.test()
async def frames_with_pauses(dut) -> None:
    """Random idle cycles in and back-pressure out; output frames must equal the regrouped input."""
    await stream_case(dut, paused=True)


@cocotb.test()
async def frames_full_rate(dut) -> None:
    """No pauses: the converter must keep one beat per cycle on its narrow side."""
    write_measured("full_rate", await stream_case(dut, paused=False))
