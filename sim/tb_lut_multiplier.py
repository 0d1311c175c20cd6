"""cocotb test bench of rtl/lut_multiplier.sv: every product equals the integer product.

The pytest side writes `case.json` with the operand pairs and their products as unsigned
two's-complement codes ({"a": [...], "b": [...], "p": [...]}). The module has no handshake
(one product per cycle, one cycle of latency), so the bench drives a new pair every cycle
and checks each product the cycle after; the engine's bench runs it under random idle and
back-pressure inside sparse_conv_engine.
"""

from __future__ import annotations

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from fpgaflow.share.sim.axis_tb import CLOCK_PERIOD_NS, load_case


@cocotb.test()
async def products(dut) -> None:
    """A pair set between edges must come out as its product right after the next rising edge."""
    case = load_case()
    cocotb.start_soon(Clock(dut.clk, CLOCK_PERIOD_NS, unit="ns").start())
    for a, b, product in zip(case["a"], case["b"], case["p"]):
        await FallingEdge(dut.clk)
        dut.a.value = a
        dut.b.value = b
        await RisingEdge(dut.clk)
        await ReadOnly()
        got = int(dut.p.value)
        assert got == product, f"a = {a:#x}, b = {b:#x}: product {got:#x}, expected {product:#x}"
