"""cocotb test bench of rtl/axis_dma_packer.sv: DMA words and pixel beats converted exactly as fpgaflow/flow/dma.py packs them."""

from __future__ import annotations

import cocotb

from fpgaflow.share.sim.axis_tb import stream_case, write_measured


@cocotb.test(timeout_time=2, timeout_unit="ms")
async def converted_with_pauses(dut) -> None:
    """Random idle cycles in and back-pressure out; every word or pixel and every TLAST must match."""
    await stream_case(dut, paused=True)


@cocotb.test(timeout_time=2, timeout_unit="ms")
async def converted_full_rate(dut) -> None:
    """No pauses: records when each output beat leaves, to check one DMA word per cycle."""
    write_measured("full_rate", await stream_case(dut, paused=False))
