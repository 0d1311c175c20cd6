"""cocotb test bench of rtl/sparse_conv_engine.sv: output pixels equal the bit-accurate reference."""

from __future__ import annotations

import cocotb

from fpgaflow.share.sim.axis_tb import stream_case, write_measured


@cocotb.test()
async def pixels_with_pauses(dut) -> None:
    """Random idle cycles in and back-pressure out; every output code must match run_fixed."""
    await stream_case(dut, paused=True)


@cocotb.test()
async def pixels_full_rate(dut) -> None:
    """No pauses: records when each output pixel leaves, for the cycle model."""
    write_measured("full_rate", await stream_case(dut, paused=False))
