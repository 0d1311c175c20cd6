"""Resource use of a generated top against the board's capacity: the model always, Yosys with --synth.

The model (fpgaflow.backends.rtl.resource_model, per layer from the netlist) costs nothing and is what
the parallelism balancer trusts; the Yosys count is the check. The Yosys count is a synthesis estimate, not a placed-and-routed count: Yosys maps the design to
7-series cells (LUTs, flip-flops, block RAM, DSP48E1), counted by fpgaflow.hw.yosys_count.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpgaflow.boards import Board
from fpgaflow.flow.resources import Resources, overflow, total
from fpgaflow.hw.yosys_count import top_resources

METHOD = "yosys synth_xilinx (7-series cell counts before place and route, counted by fpgaflow.hw.yosys_count)"


MODEL_METHOD = (
    "model: fpgaflow.backends.rtl.resource_model, per module from its parameters (DSP48E1 per lane by operand widths, "
    "BRAM18 by the best RAMB18E1 aspect ratio, LUTRAM 64x1 per LUT, logic LUTs/FFs counted per data path)"
)


def _utilization(used: dict[str, int], board: Board) -> dict[str, float]:
    return {kind: round(used.get(kind, 0) / available, 4) for kind, available in sorted(board.resources.items()) if available}


def model_summary(board: Board, layers: dict[str, Resources], overflow_at_one: list[str]) -> dict[str, Any]:
    """The model's estimate: per layer, the total, its use of the board and what overflows."""
    used = total([layers[name] for name in sorted(layers)]).as_dict()
    return {
        "method": MODEL_METHOD,
        "layers": {name: layers[name].as_dict() for name in sorted(layers)},
        "used": used,
        "utilization": _utilization(used, board),
        "overflow": overflow(total(list(layers.values())), board.resources),
        "overflow_at_p1": overflow_at_one,
    }


def synth_summary(board: Board, used: dict[str, int]) -> dict[str, Any]:
    return {"method": METHOD, "used": dict(sorted(used.items())), "utilization": _utilization(used, board)}


def estimate_resources(
    board: Board, model: dict[str, Any], rtl_dir: Path, top: str, sources: list[str], run: bool = True
) -> dict[str, Any]:
    """The `resources` object of report.json: capacity, the model's summary and, when run, Yosys's count."""
    synth = synth_summary(board, top_resources(rtl_dir, top, sources)) if run else None
    return {"available": dict(sorted(board.resources.items())), "model": model, "synth": synth}


def overflow_message(board: Board, model: dict[str, Any]) -> str | None:
    """One line when the model says the design does not fit the board, naming what overflows; None when it fits."""
    if not model["overflow"]:
        return None
    used, available = model["used"], board.resources
    detail = ", ".join(f"{kind} {used[kind]} > {available[kind]}" for kind in model["overflow"])
    if model["overflow_at_p1"]:
        return (f"the design does not fit {board.name} even with P = 1 on every layer ({detail} by the resource model); "
                "prune or quantize harder, or choose a larger board")
    return f"the chosen parallelism does not fit {board.name} ({detail} by the resource model); lower --parallelism or the --config values"
