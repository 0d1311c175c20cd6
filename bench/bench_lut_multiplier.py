"""LUTs, FFs and logic depth of one rtl/lut_multiplier.sv by Yosys synth_xilinx, over operand widths.

The engine's LUT lanes (sparse_conv_engine's LUT_LANES) multiply a window element, widened
to IN_W + 1 bits, by a WW-bit weight. This synthesizes the multiplier alone (operands from
ports, the product registered) for activations of 4, 6, 8 and 16 bits (A_W = 5, 7, 9, 17)
and weights of 2, 3, 4, 6 and 8 bits, counts its cells as fpgaflow.hw.yosys_count does and
its longest path as tests/test_lint_synth.py does, and prints a Markdown table next to the
resource model's lut_multiplier figures (fitted to these measurements). Run from the
repository root (about 15 s of Yosys per row):

    nice -n 10 python bench/bench_lut_multiplier.py [--a 5 7 9 17] [--b 2 3 4 6 8]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from fpgaflow.backends.rtl.resource_model import lut_multiplier
from fpgaflow.hw.logic_depth import longest_path
from fpgaflow.hw.simulate import rtl_sources
from fpgaflow.hw.toolchain import run_yosys
from fpgaflow.hw.yosys_count import SYNTH, count_resources

MODULE = "lut_multiplier"


def measure(a_bits: int, b_bits: int) -> tuple[dict[str, int], float]:
    """(LUT/FF/BRAM18/DSP, logic levels of the longest path) of one A_W x B_W multiplier."""
    with tempfile.TemporaryDirectory(prefix="fpgaflow_lutmul_") as scratch:
        work = Path(scratch)
        script = (f"chparam -set A_W {a_bits} -set B_W {b_bits} {MODULE}\nhierarchy -top {MODULE}\n"
                  + SYNTH.format(top=MODULE) + "write_json mapped.json\n")
        run_yosys(script, work, rtl_sources(MODULE))
        cells = json.loads((work / "stat.json").read_text())["design"]["num_cells_by_type"]
        return count_resources(cells), longest_path(work / "mapped.json", MODULE).levels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", type=int, nargs="+", default=[5, 7, 9, 17], help="A_W: activation bits + 1")
    parser.add_argument("--b", type=int, nargs="+", default=[2, 3, 4, 6, 8], help="B_W: weight bits")
    args = parser.parse_args()
    print("| A_W x B_W | LUT (Yosys) | FF (Yosys) | DSP | logic levels | LUT (model) | FF (model) |")
    print("|---|---|---|---|---|---|---|")
    for a_bits in args.a:
        for b_bits in args.b:
            counted, levels = measure(a_bits, b_bits)
            model = lut_multiplier(a_bits, b_bits)
            print(f"| {a_bits} x {b_bits} | {counted['lut']} | {counted['ff']} | {counted['dsp']} | {levels:g} "
                  f"| {model.lut} | {model.ff} |", flush=True)


if __name__ == "__main__":
    main()
