"""fanout_register: an enabled register whose copies survive synthesis as copies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rtl_stream_cases import BUILD_ROOT

from fpgaflow.hw.simulate import rtl_sources, run_cocotb
from fpgaflow.hw.toolchain import run_verilator_lint, run_yosys


@pytest.mark.parametrize("width", [1, 8, 33])
def test_register_follows_enable(tmp_path: Path, width: int) -> None:
    """400 cycles of random data with the enable set half the time: q is d of the last enabled edge."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "case.json").write_text(json.dumps({"seed": width, "cycles": 400}))
    result = run_cocotb("fanout_register", rtl_sources("fanout_register"), "tb_fanout_register", {"W": width},
                        BUILD_ROOT, tmp_path)
    assert result.passed and result.tests == 1, f"see {tmp_path / 'sim.log'}"


@pytest.mark.parametrize("width", [1, 8])
def test_lint_clean(width: int) -> None:
    result = run_verilator_lint(rtl_sources("fanout_register"), "fanout_register", {"W": width})
    assert result.returncode == 0, result.stderr


def test_copies_are_not_merged(tmp_path: Path) -> None:
    """Two instances fed the same data keep two sets of flip-flops after synthesis (they would be one
    register if written as two `always_ff` copies in one module)."""
    (tmp_path / "pair.sv").write_text(
        "module pair (input logic clk, input logic en, input logic [3:0] a, output logic [7:0] y);\n"
        "    logic [3:0] q0, q1;\n"
        "    fanout_register #(.W(4)) u0 (.clk(clk), .en(en), .d(a), .q(q0));\n"
        "    fanout_register #(.W(4)) u1 (.clk(clk), .en(en), .d(a), .q(q1));\n"
        "    assign y = {q1 + 4'd3, q0 ^ 4'd5};\n"
        "endmodule\n")
    run_yosys("read_verilog -sv pair.sv\nhierarchy -top pair\nsynth_xilinx -top pair -flatten\n"
              "tee -q -o stat.json stat -json\n", tmp_path, rtl_sources("fanout_register"))
    stat = json.loads((tmp_path / "stat.json").read_text())
    cells = stat["design"]["num_cells_by_type"]
    assert cells.get("FDRE", 0) == 8, f"expected two 4-bit copies, got {cells}"
