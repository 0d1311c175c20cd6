"""A module's parameters and ports, read with Verilator's own parser (no regular expressions).

The report lists the generated top's ports as elaborated and the template checks compare an
overriding module's interface with the shipped one's; both ask Verilator (`--json-only`), so
what they see is what the simulator and the vendor tools will see.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fpgaflow.hw.toolchain import verilator_env, verilator_executable


@dataclass(frozen=True)
class Interface:
    """A module's parameters and ports as Verilator elaborates it with its defaults."""

    parameters: tuple[str, ...]
    ports: dict[str, str]
    """Port name -> direction (input, output, inout)."""
    widths: dict[str, int]
    """Port name -> bits (with the default parameters)."""


class ParseError(Exception):
    """Verilator could not elaborate the module; the message is its first error line."""


def module_interface(sources: list[Path], module: str) -> Interface:
    """The parameters and ports of `module`, elaborated by Verilator from `sources` (no regular expressions)."""
    with tempfile.TemporaryDirectory(prefix="fpgaflow_iface_") as work:
        out = Path(work) / "module.json"
        args = [str(verilator_executable()), "--json-only", "--json-only-output", str(out), "--Mdir", work,
                "-Wno-fatal", "--top-module", module, *map(str, sources)]
        proc = subprocess.run(args, env=verilator_env(), capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not out.is_file():
            errors = [line for line in proc.stderr.splitlines() if line.startswith("%Error")]
            raise ParseError(errors[0] if errors else proc.stderr.strip()[:300])
        tree = json.loads(out.read_text())
    node = _find_module(tree, module)
    if node is None:
        raise ParseError(f"Verilator's tree has no module {module}")
    dtypes: dict[str, dict] = {}
    _index_dtypes(tree, dtypes)
    parameters: list[str] = []
    ports: dict[str, str] = {}
    widths: dict[str, int] = {}
    for var in _vars(node):
        if var.get("varType") == "GPARAM":
            parameters.append(str(var["name"]))
        elif var.get("direction") in ("INPUT", "OUTPUT", "INOUT"):
            ports[str(var["name"])] = str(var["direction"]).lower()
            widths[str(var["name"])] = _width(dtypes.get(str(var.get("dtypep")), {}))
    return Interface(tuple(parameters), ports, widths)


def _index_dtypes(tree: object, index: dict[str, dict]) -> None:
    """Every data type node of Verilator's tree by its address (what a VAR's dtypep points to)."""
    if isinstance(tree, dict):
        if str(tree.get("type", "")).endswith("DTYPE") and "addr" in tree:
            index.setdefault(str(tree["addr"]), tree)
        children = list(tree.values())
    elif isinstance(tree, list):
        children = tree
    else:
        return
    for child in children:
        _index_dtypes(child, index)


def _width(dtype: dict) -> int:
    """Bits of a basic type from its range "hi:lo" (a single bit has none)."""
    bounds = str(dtype.get("range", "0:0")).split(":")
    return abs(int(bounds[0]) - int(bounds[-1])) + 1


def _find_module(tree: object, name: str) -> dict | None:
    if isinstance(tree, dict):
        if tree.get("type") == "MODULE" and tree.get("name") == name:
            return tree
        children = tree.values()
    elif isinstance(tree, list):
        children = tree
    else:
        return None
    for child in children:
        found = _find_module(child, name)
        if found is not None:
            return found
    return None


def _vars(module: dict) -> list[dict]:
    """The VAR nodes directly in a module's statements (not in nested scopes)."""
    return [stmt for stmt in module.get("stmtsp", []) if isinstance(stmt, dict) and stmt.get("type") == "VAR"]
