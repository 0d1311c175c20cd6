"""cocotb test bench of rtl/fanout_register.sv: q takes d on the edge where en is set, and holds otherwise.

The pytest side writes `case.json` with a seed and the number of cycles ({"seed": ..., "cycles": ...}).
The register has no handshake; the bench drives random data every cycle with the enable set at
random (idle runs included) and checks q after each edge against a model of the register.
"""

from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from fpgaflow.share.sim.axis_tb import CLOCK_PERIOD_NS, load_case


@cocotb.test()
async def holds_unless_enabled(dut) -> None:
    """After each edge q is the d of the last enabled edge."""
    case = load_case()
    rng = random.Random(case["seed"])
    width = len(dut.d)
    cocotb.start_soon(Clock(dut.clk, CLOCK_PERIOD_NS, unit="ns").start())
    await FallingEdge(dut.clk)
    dut.en.value = 1
    dut.d.value = expected = rng.getrandbits(width)
    for _ in range(case["cycles"]):
        await RisingEdge(dut.clk)
        await ReadOnly()
        assert int(dut.q.value) == expected, f"q = {int(dut.q.value):#x}, expected {expected:#x}"
        await FallingEdge(dut.clk)
        enable = rng.random() < 0.5
        data = rng.getrandbits(width)
        dut.en.value = int(enable)
        dut.d.value = data
        if enable:
            expected = data
