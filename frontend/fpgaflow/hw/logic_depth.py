"""The longest register-to-register path of a Yosys-mapped 7-series netlist, in logic levels.

A design meets the board clock only if every path between registers is short. Vendor
timing needs Vivado; this counts what Yosys `synth_xilinx` maps a module to, from its
`write_json` netlist: a LUT, a wide-function mux (MUXF7/MUXF8) or the asynchronous read of a
LUT RAM is one level, a CARRY4 (four bits of a carry chain) a quarter of one (its delay is
a fraction of a LUT's on 7-series: about 0.1 ns of carry against 0.4-0.5 ns of LUT plus
routing). Registers (FD*), block RAMs, shift-register LUTs and DSP48E1 slices whose
multiplier is registered start and end paths; so do the module's ports. A pipelined
module stays within a few levels whatever its parameters; one whose combinational depth
grows with a parameter (a carry chain across lanes, a wide mux) shows it here first.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LEVELS = {"MUXF7": 0.5, "MUXF8": 0.5, "CARRY4": 0.25}
"""Levels of the combinational cells other than LUTs (a LUTn, an INV (a LUT1) and a LUT RAM read count 1)."""
LUTRAM_PREFIXES = ("RAM32M", "RAM64M", "RAM32X1", "RAM64X1", "RAM128X1", "RAM256X1", "RAM16X1", "RAM32X16DR8", "RAM64X8SW")
SEQUENTIAL_PREFIXES = ("FD", "RAMB", "SRL", "URAM", "BUFG")
PORT_BUFFERS = ("IBUF", "OBUF", "OBUFT", "IOBUF", "BUFG", "BUFGCTRL")
"""I/O buffers stand for the module's ports: paths start and end there."""
DSP_REGISTERS = ("MREG", "PREG")
KEPT_REGISTER_MODULES = ("fanout_register",)
"""Library modules kept as hierarchy (`keep_hierarchy`) that are registers at their ports: an
instance starts and ends paths like a flip-flop (rtl/fanout_register.sv)."""


@dataclass(frozen=True)
class LogicDepth:
    """The deepest path: its levels and the cell types along it, start to end."""

    levels: float
    cells: tuple[str, ...]


def _cell_levels(cell: dict) -> float | None:
    """Levels a combinational cell adds, or None for a cell that starts and ends paths."""
    kind: str = cell["type"]
    if kind.startswith("LUT") or kind == "INV" or kind.startswith(LUTRAM_PREFIXES):
        return 1.0
    if kind in LEVELS:
        return LEVELS[kind]
    if kind.startswith("DSP48"):
        registered = any(_parameter(cell, name) for name in DSP_REGISTERS)
        return None if registered else 3.0
    if kind.startswith(SEQUENTIAL_PREFIXES) or _module_name(kind) in KEPT_REGISTER_MODULES:
        return None
    if kind in ("VCC", "GND", "$scopeinfo") or kind in PORT_BUFFERS:
        return None
    raise ValueError(f"logic_depth does not know the mapped cell type {kind!r}; add it to fpgaflow.hw.logic_depth")


def _module_name(kind: str) -> str:
    """The module of a kept instance's cell type: Yosys writes `$paramod\\name\\P=...` for a parameterized one."""
    return kind.split("\\")[1] if kind.startswith("$paramod") else kind


def _parameter(cell: dict, name: str) -> int:
    """An integer cell parameter as Yosys writes it in JSON (a string of binary digits)."""
    value = str(cell.get("parameters", {}).get(name, "0"))
    return int(value, 2) if value and set(value) <= {"0", "1"} else int(value)


def longest_path(netlist_json: Path, top: str) -> LogicDepth:
    """The deepest combinational path of `top` in a flattened Yosys JSON netlist (`write_json`)."""
    module = json.loads(netlist_json.read_text())["modules"][top]
    driver: dict[int, str] = {}
    for name, cell in module["cells"].items():
        for port, direction in cell.get("port_directions", {}).items():
            if direction == "output":
                for bit in cell["connections"][port]:
                    if isinstance(bit, int):
                        driver[bit] = name
    cells = module["cells"]

    @lru_cache(maxsize=None)
    def arrival(name: str) -> tuple[float, tuple[str, ...]]:
        """Levels at the output of a combinational cell, counted from the path's start."""
        cell = cells[name]
        own = _cell_levels(cell)
        assert own is not None
        best: tuple[float, tuple[str, ...]] = (0.0, ())
        for port, direction in cell.get("port_directions", {}).items():
            if direction != "input" or _is_clock_or_write(cell["type"], port):
                continue
            for bit in cell["connections"][port]:
                source = driver.get(bit) if isinstance(bit, int) else None
                if source is None or _cell_levels(cells[source]) is None:
                    continue
                candidate = arrival(source)
                if candidate[0] > best[0]:
                    best = candidate
        return best[0] + own, best[1] + (cell["type"],)

    limit = sys.getrecursionlimit()  # a carry chain of a wide module is a deep recursion
    sys.setrecursionlimit(max(limit, 100000))
    try:
        deepest = LogicDepth(0.0, ())
        for name, cell in cells.items():
            if _cell_levels(cell) is None:
                continue
            levels, path = arrival(name)
            if levels > deepest.levels:
                deepest = LogicDepth(levels, path)
    finally:
        sys.setrecursionlimit(limit)
    return deepest


def _is_clock_or_write(kind: str, port: str) -> bool:
    """LUT RAM ports that are not part of the asynchronous read path (clock, write enable, write data/address)."""
    if not kind.startswith(LUTRAM_PREFIXES):
        return False
    write_side = port in ("WCLK", "WE", "D") or port.startswith(("DI", "WADR"))
    quad_port_write_address = kind.startswith(("RAM64M", "RAM32M")) and port.startswith("ADDRD")
    return write_side or quad_port_write_address


def level_counts(path: LogicDepth) -> dict[str, int]:
    """How many cells of each type the path crosses (for messages)."""
    counts: dict[str, int] = defaultdict(int)
    for kind in path.cells:
        counts[kind] += 1
    return dict(sorted(counts.items()))
