"""LUT, FF, BRAM18 and DSP counts of a design by Yosys `synth_xilinx` (7-series, before place and route).

The one place that runs Yosys for resource counts and turns its cells into the four numbers a
board lists, so `build --synth`, the model-against-Yosys tests and the benchmarks count alike:

- LUT: the LUT1-LUT6 cells and INV (an inverter is a LUT1 on the device), plus the LUTs
  inside distributed-RAM and shift-register cells (RAM32M / RAM64M = 4, RAM32X1D / RAM64X1D = 2, RAM128X1D = 4, SRL16E / SRLC32E = 1, ...), as
  Vivado's "Slice LUTs" counts them (logic plus LUT as memory). MUXF7/MUXF8 and CARRY4 are
  slice resources outside the LUTs and are not counted.
- FF: every FD* cell (FDRE, FDSE, FDCE, FDPE).
- BRAM18: RAMB18E1 = 1, RAMB36E1 = 2.
- DSP: DSP48E1.

A distributed-RAM cell this table does not know raises ValueError rather than count as 0 LUTs.
The generated .mem files are read by $readmemh during synthesis, so weight ROMs are sized by
their real contents.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from fpgaflow.hw.toolchain import run_yosys, verilog_literal

LUT_CELLS = {f"LUT{n}": 1 for n in range(1, 7)} | {"INV": 1} | {
    "RAM32M": 4, "RAM64M": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM256X1D": 8,
    "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "RAM256X1S": 4, "SRL16E": 1, "SRLC32E": 1,
}
"""LUTs each LUT, distributed-RAM or shift-register cell occupies (UG474, "Distributed RAM")."""
BRAM18_CELLS = {"RAMB18E1": 1, "RAMB36E1": 2}
DSP_CELLS = ("DSP48E1",)
_LUT_MEMORY_PREFIXES = ("RAM", "SRL")


def count_resources(cells: Mapping[str, int]) -> dict[str, int]:
    """LUT, FF, BRAM18 and DSP counts from Yosys cell counts by type (`stat -json` num_cells_by_type)."""
    unknown = sorted(name for name in cells
                     if name.startswith(_LUT_MEMORY_PREFIXES) and name not in LUT_CELLS and name not in BRAM18_CELLS)
    if unknown:
        raise ValueError(f"yosys_count does not know how many LUTs {unknown} occupy; add them to LUT_CELLS")
    return {
        "lut": sum(count * LUT_CELLS[name] for name, count in cells.items() if name in LUT_CELLS),
        "ff": sum(count for name, count in cells.items() if name.startswith("FD")),
        "bram18": sum(count * BRAM18_CELLS[name] for name, count in cells.items() if name in BRAM18_CELLS),
        "dsp": sum(count for name, count in cells.items() if name in DSP_CELLS),
    }


SYNTH = "synth_xilinx -family xc7 -top {top} -flatten -noiopad\ntee -q -o stat.json stat -json\n"
"""The synthesis every count uses: flattened (optimized across module boundaries, as Vivado does), no I/O buffers."""


def synth_cells(work: Path, top: str, sources: Sequence[str], prelude: str = "") -> dict[str, int]:
    """Cell counts by type of `top` after synth_xilinx, run in `work` where `sources` (file names) and .mem files lie.

    `prelude` runs after the sources are read (e.g. a `chparam` of the top's parameters).
    """
    script = (f"read_verilog -defer -sv {' '.join(Path(s).name for s in sources)}\n{prelude}"
              f"hierarchy -top {top}\n" + SYNTH.format(top=top))
    run_yosys(script, work)
    design = json.loads((work / "stat.json").read_text()).get("design", {})
    return {str(k): int(v) for k, v in design.get("num_cells_by_type", {}).items()}


def synthesize(rtl_dir: Path, top: str, sources: Sequence[str]) -> dict[str, int]:
    """Cell counts of a generated top (`OUT/rtl`), run on a scratch copy so the build folder stays clean."""
    with tempfile.TemporaryDirectory(prefix="fpgaflow_synth_") as scratch:
        work = Path(scratch)
        for path in sorted(rtl_dir.iterdir()):
            if path.is_file():
                shutil.copy(path, work / path.name)
        return synth_cells(work, top, sources)


def synthesize_module(work: Path, module: str, params: Mapping[str, int | str], sources: Sequence[Path]) -> dict[str, int]:
    """Cell counts of one library module at `params`, synthesized alone in `work` (its .mem files already there)."""
    for source in sources:
        shutil.copyfile(source, work / Path(source).name)
    settings = " ".join(f"-set {name} {verilog_literal(value)}" for name, value in params.items())
    return synth_cells(work, module, [Path(s).name for s in sources], f"chparam {settings} {module}\n" if settings else "")


def top_resources(rtl_dir: Path, top: str, sources: Sequence[str]) -> dict[str, int]:
    """LUT, FF, BRAM18 and DSP of a generated top by Yosys."""
    return count_resources(synthesize(rtl_dir, top, sources))
