"""Timing checks: nextpnr-ecp5's report read back, and one engine placed and routed at the board clock.

Place and route takes minutes per large engine, so the suite places one small engine (every
pipeline stage of the v2 engine is there at any size: the paths between registers do not
grow with P or the window) and the full digits build runs in the benchmark
(docs/benchmarks.md, "Engine v2").
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from fpgaflow.errors import UserError
from fpgaflow.hw.sdf_paths import critical_path, read_sdf
from fpgaflow.hw.simulate import rtl_sources
from fpgaflow.hw.timing import place_and_route, read_placement_estimate, read_report, synthesize_ecp5
from fpgaflow.flow.weight_rom import mem_text, rom_word_bits

BOARD_CLOCK_MHZ = 100.0


def test_read_report_takes_the_slowest_clock_and_its_path() -> None:
    report = {
        "fmax": {"clk": {"achieved": 131.5, "constraint": 100.0}, "clk2": {"achieved": 97.25, "constraint": 100.0}},
        "critical_paths": [{"path": [
            {"type": "clk-to-q", "from": {"cell": "a_reg", "port": "CLK"}, "to": {"cell": "a_reg", "port": "Q0"}, "delay": 0.5},
            {"type": "routing", "from": {"cell": "a_reg", "port": "Q0"}, "to": {"cell": "lut1", "port": "A"}, "delay": 1.25},
            {"type": "logic", "from": {"cell": "lut1", "port": "A"}, "to": {"cell": "lut1", "port": "F"}, "delay": 0.25},
            {"type": "routing", "from": {"cell": "lut1", "port": "F"}, "to": {"cell": "b_reg", "port": "DI0"}, "delay": 2.0},
        ]}],
    }
    result = read_report(report, BOARD_CLOCK_MHZ)
    assert result.fmax_mhz == 97.25 and not result.meets_target
    assert result.critical_path == ["a_reg.CLK", "lut1.A", "b_reg.DI0"]
    assert result.logic_ns == pytest.approx(0.75) and result.routing_ns == pytest.approx(3.25)
    with pytest.raises(UserError, match="no clock"):
        read_report({"fmax": {}}, BOARD_CLOCK_MHZ)


# Two registers a and b, a block RAM m, LUTs l1 and l2 (nextpnr's SDF, trimmed): a -> l1 -> b is
# 0.5 + 1.0 + 0.2 + 0.8 + 0.3 setup = 2.8 ns; m -> l1 -> l2 -> b is 5.8 + 0.4 + 0.2 + 0.3 + 0.2 + 0.9
# + 0.3 = 8.1 ns, the longest; b's output reaches no setup check.
SDF = r"""(DELAYFILE
  (CELL
    (CELLTYPE "top")
    (INSTANCE )
    (DELAY
      (ABSOLUTE
        (INTERCONNECT a\$ff/Q l1/A (900:950:1000) (900:950:1000))
        (INTERCONNECT m/DOB0 l1/B (400:400:400) (400:400:400))
        (INTERCONNECT l1/F b\$ff/M (800:800:800) (800:800:800))
        (INTERCONNECT l1/F l2/A (300:300:300) (300:300:300))
        (INTERCONNECT l2/F b\$ff/M (900:900:900) (900:900:900))
        (INTERCONNECT b\$ff/Q nowhere/A (100:100:100) (100:100:100))
      )
    )
  )
  (CELL
    (CELLTYPE "TRELLIS_FF")
    (INSTANCE a\$ff)
    (DELAY (ABSOLUTE (IOPATH CLK Q (430:477:500) (430:477:500))))
  )
  (CELL
    (CELLTYPE "DP16KD")
    (INSTANCE m)
    (DELAY (ABSOLUTE (IOPATH CLKB DOB0 (5795:5812:5800) (5795:5812:5800))))
  )
  (CELL
    (CELLTYPE "TRELLIS_COMB")
    (INSTANCE l1)
    (DELAY (ABSOLUTE (IOPATH A F (200:200:200) (200:200:200)) (IOPATH B F (150:180:200) (150:180:200))))
  )
  (CELL
    (CELLTYPE "TRELLIS_COMB")
    (INSTANCE l2)
    (DELAY (ABSOLUTE (IOPATH A F (200:200:200) (200:200:200))))
  )
  (CELL
    (CELLTYPE "TRELLIS_FF")
    (INSTANCE b\$ff)
    (DELAY (ABSOLUTE (IOPATH CLK Q (430:477:500) (430:477:500))))
    (TIMINGCHECK (SETUPHOLD (posedge M) (posedge CLK) (233:268:300) (0:0:0)))
  )
)
"""


def test_sdf_critical_path_is_the_longest_register_to_register_path() -> None:
    path = critical_path(read_sdf(SDF))
    assert path is not None and path.total_ps == 8100
    assert [pin for pin, _ in path.pins] == ["m/DOB0", "l1/B", "l1/F", "l2/A", "l2/F", "b$ff/M"]
    assert path.pins[-1][1] == 7800 and path.routing_ps == 400 + 300 + 900 and path.logic_ps == 5800 + 200 + 200 + 300
    assert critical_path(read_sdf(SDF.replace("(SETUPHOLD", "(HOLD"))) is None


def test_read_placement_estimate_takes_the_slowest_clock_and_the_sdf_path() -> None:
    log = ("Info: Max frequency for clock 'clk': 88.10 MHz (FAIL at 100.00 MHz)\n"
           "Info: Max frequency for clock 'clk2': 131.50 MHz (PASS at 100.00 MHz)\n")
    result = read_placement_estimate(log, SDF, BOARD_CLOCK_MHZ)
    assert result.fmax_mhz == 88.10 and not result.meets_target
    assert result.critical_path == ["m/DOB0", "l1/F", "l2/F", "b$ff/M"]
    assert result.logic_ns == pytest.approx(6.5) and result.routing_ns == pytest.approx(1.6)
    with pytest.raises(UserError, match="no clock"):
        read_placement_estimate("Info: Placed 0 cells\n", SDF, BOARD_CLOCK_MHZ)


SMALL_ENGINE: dict[str, int | str] = {
    "BEAT_N": 36, "BEATS": 1, "WR_N": 4, "IN_W": 8, "C_OUT": 8, "OUT_W": 8, "P": 8, "WW": 8, "IDX_W": 6, "K_FIN": 2,
    "ACC_W": 20, "SHIFT": 6, "ACT": 1, "DEPTH": 24, "NZ_OC": 8, "OC_W": 3, "INDEX_MODE": 0,
    "WEIGHT_FILE": "w.mem", "CHAN_FILE": "c.mem", "CONST_FILE": "k.mem", "ROM_STYLE": "block",
}
"""8 lanes, a 36-element window written 4 per cycle, two finish units."""


def small_engine_folder(folder: Path, params: dict[str, int | str]) -> list[str]:
    """The engine's sources and random memory files in `folder`; the source file names."""
    rng = random.Random(0)
    for name, (depth, bits) in {"w.mem": (24, rom_word_bits(params)), "c.mem": (8, 23), "k.mem": (8, 8)}.items():
        (folder / name).write_text(mem_text([rng.getrandbits(bits) for _ in range(depth)], bits))
    sources = rtl_sources("sparse_conv_engine")
    for source in sources:
        (folder / source.name).write_bytes(source.read_bytes())
    return [s.name for s in sources]


def test_ecp5_proxy_keeps_the_lane_registers_in_the_multipliers(tmp_path: Path) -> None:
    """Under ECP5_PROXY_MACRO every DSP lane is a MULT18X18D with its input registers (the operand
    relay, as the DSP48E1 holds it on the Xilinx part), LUT lanes stay in LUTs, and every lane's
    block-RAM window memory is a DP16KD whose output register is the word register (the RAMB18's
    DOB_REG there)."""
    params = SMALL_ENGINE | {"LUT_LANES": 2, "WIN_RAM_STYLE": "block"}
    netlist = json.loads(synthesize_ecp5(tmp_path, small_engine_folder(tmp_path, params), "sparse_conv_engine", params).read_text())
    cells = netlist["modules"]["sparse_conv_engine"]["cells"].values()
    multipliers = [cell["parameters"] for cell in cells if cell["type"] == "MULT18X18D"]
    assert len(multipliers) == int(params["P"]) - 2
    for registers in multipliers:
        assert (registers["REG_INPUTA_CLK"], registers["REG_INPUTB_CLK"]) == ("CLK0", "CLK0")
    memories = [cell["parameters"] for cell in cells if cell["type"] == "DP16KD"]
    assert len(memories) >= int(params["P"])  # the lanes' windows (the weight ROM may add its own)
    assert sum(memory["REGMODE_B"] == "OUTREG" for memory in memories) == int(params["P"])


def test_small_engine_meets_the_board_clock_on_ecp5(tmp_path: Path) -> None:
    """The small engine placed and routed at 100 MHz."""
    sources = small_engine_folder(tmp_path, SMALL_ENGINE)
    result = place_and_route(tmp_path, sources, "sparse_conv_engine", SMALL_ENGINE, BOARD_CLOCK_MHZ)
    assert result.meets_target, f"{result.fmax_mhz:.1f} MHz < {BOARD_CLOCK_MHZ} MHz; critical path {result.critical_path}"
