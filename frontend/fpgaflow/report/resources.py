"""Resource use of a generated top from a Yosys `synth_xilinx` run, against the board's capacity.

This is a synthesis estimate, not a placed-and-routed count: Yosys maps the design to
7-series cells (LUTs, flip-flops, block RAM, DSP48E1) and `stat -json` counts them;
distributed RAM and shift-register cells are counted by the LUTs they occupy. The
generated .mem files are read by $readmemh during synthesis, so the weight ROMs are sized
by their real contents.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fpgaflow.boards import Board
from fpgaflow.hw.toolchain import run_yosys

METHOD = "yosys synth_xilinx (7-series cell counts before place and route)"

FLIP_FLOPS = ("FDRE", "FDSE", "FDCE", "FDPE")
LUT_CELLS = {f"LUT{n}": 1 for n in range(1, 7)} | {
    "RAM32M": 4, "RAM64M": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM32X1S": 1, "RAM64X1S": 1,
    "RAM128X1S": 2, "RAM256X1S": 4, "SRL16E": 1, "SRLC32E": 1,
}
"""LUTs each LUT, distributed RAM or shift-register cell occupies."""
BRAM18_CELLS = {"RAMB18E1": 1, "RAMB36E1": 2}
DSP_CELLS = ("DSP48E1",)


def count_resources(cells: dict[str, int]) -> dict[str, int]:
    """LUT, FF, BRAM18 and DSP counts from Yosys cell counts."""
    return {
        "lut": sum(count * LUT_CELLS[name] for name, count in cells.items() if name in LUT_CELLS),
        "ff": sum(count for name, count in cells.items() if name in FLIP_FLOPS),
        "bram18": sum(count * BRAM18_CELLS[name] for name, count in cells.items() if name in BRAM18_CELLS),
        "dsp": sum(count for name, count in cells.items() if name in DSP_CELLS),
    }


def synthesize(rtl_dir: Path, top: str, sources: list[str]) -> dict[str, int]:
    """Cell counts of `top` after synth_xilinx, run on a scratch copy of rtl_dir (the build folder stays clean)."""
    with tempfile.TemporaryDirectory(prefix="fpgaflow_synth_") as scratch:
        work = Path(scratch)
        for path in sorted(rtl_dir.iterdir()):
            if path.is_file():
                shutil.copy(path, work / path.name)
        names = " ".join(Path(s).name for s in sources)
        script = (
            f"read_verilog -defer -sv {names}\n"
            f"hierarchy -top {top}\n"
            f"synth_xilinx -family xc7 -top {top} -flatten -noiopad\n"
            "tee -q -o stat.json stat -json\n"
        )
        run_yosys(script, work)
        stat = json.loads((work / "stat.json").read_text())
    design = stat.get("design", {})
    return {str(k): int(v) for k, v in design.get("num_cells_by_type", {}).items()}


def resource_summary(board: Board, used: dict[str, int] | None, method: str) -> dict[str, Any]:
    """The `resources` object of report.json."""
    return {"method": method, "used": dict(sorted((used or {}).items())), "available": dict(sorted(board.resources.items()))}


def estimate_resources(board: Board, rtl_dir: Path, top: str, sources: list[str], run: bool = True) -> dict[str, Any]:
    """Synthesize and count, or (run=False) record that synthesis was skipped."""
    if not run:
        return resource_summary(board, None, "not estimated: run fpgaflow build with --synth for a yosys synth_xilinx count")
    return resource_summary(board, count_resources(synthesize(rtl_dir, top, sources)), METHOD)
