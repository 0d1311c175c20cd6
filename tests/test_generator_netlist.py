"""The top template renders a netlist into lint-clean, deterministic SystemVerilog."""

import pytest

from fpgaflow.hw.toolchain import run_verilator_lint
from fpgaflow.backends.rtl.library import required_files
from fpgaflow.backends.rtl.netlist import Netlist, render_top


def two_fifo_netlist() -> Netlist:
    netlist = Netlist(top="chain_top", model="chain", dma_width=64)
    netlist.input_stream = netlist.stream("dma_in", 64)
    middle = netlist.stream("middle", 64)
    netlist.output_stream = netlist.stream("dma_out", 64)
    for name, src, dst in (("first", "dma_in", middle), ("second", middle, "dma_out")):
        netlist.add(name, "axis_fifo", f"fifo {name}", {"DW": 64, "DEPTH": 4}, [("s_axis", src), ("m_axis", dst)])
    return netlist


def test_rendered_top_is_lint_clean(tmp_path):
    top = tmp_path / "chain_top.sv"
    top.write_text(render_top(two_fifo_netlist()))
    sources = [top, *required_files(two_fifo_netlist().modules)]
    lint = run_verilator_lint(sources, "chain_top")
    assert lint.returncode == 0, lint.stderr


def test_rendering_is_deterministic():
    assert render_top(two_fifo_netlist()) == render_top(two_fifo_netlist())


def test_unsafe_values_never_reach_the_text():
    netlist = two_fifo_netlist()
    with pytest.raises(ValueError):
        netlist.add("bad", "axis_fifo", "x", {"FILE": 'a"; $finish; "'}, [])
    with pytest.raises(ValueError):
        netlist.add("bad", "axis_fifo", "x", {}, [("s_axis", "undeclared")])
