"""OUT/driver/: the PYNQ driver package, its design description and the golden frames.

The package's code is fpgaflow.deploy.pynq_driver, copied file by file (its packing module
is the one the simulation uses); what differs per build is data: config.json (formats,
shapes, packing widths, the DMA's name in the overlay) and golden.json (input codes and the
output codes the reference gives for them; `simulated` says whether the build's Verilator
run checked exactly these frames).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fpgaflow.boards import Board
from fpgaflow.fixed import FixedType
from fpgaflow.ir.graph import Graph
from fpgaflow.names import sanitize_identifier
from fpgaflow.outdir import OutputDir

DRIVER_DIR = "driver"
PACKAGE = "fpgaflow_driver"
"""Name of the driver package on the board: `python -m fpgaflow_driver --selftest`."""
SOURCE = Path(__file__).resolve().parent / "pynq_driver"
SOURCE_FILES = ("__init__.py", "__main__.py", "accelerator.py", "packing.py")
DMA_CELL = "axi_dma_0"
"""Name of the AXI DMA in the block design, hence the attribute of the pynq Overlay."""
OVERLAY_NAME = "fpgaflow"
"""Base name of the bitstream and .hwh the Vivado scripts export (pynq needs both, same name)."""
TIMEOUT_S = 1.0
"""Seconds a frame may take before the driver reads and explains the DMA status (frames take microseconds)."""


def _format(ftype: FixedType | None, shape: tuple[int, ...]) -> dict[str, object]:
    assert ftype is not None
    return {"shape": list(shape), "signed": ftype.signed, "width": ftype.width, "frac": ftype.frac}


def driver_config(graph: Graph, board: Board, top: str) -> dict[str, object]:
    """What the board needs to know about the design, as data."""
    source, sink = graph.tensors[graph.inputs[0]], graph.tensors[graph.hardware_outputs[0]]
    return {
        "model": sanitize_identifier(graph.name, set()),
        "top": top,
        "board": board.name,
        "dma": DMA_CELL,
        "dma_width": board.dma_data_width,
        "bitstream": f"{OVERLAY_NAME}.bit",
        "timeout_s": TIMEOUT_S,
        "input": _format(source.ftype, source.shape),
        "output": _format(sink.ftype, sink.shape),
    }


def write_driver(out: OutputDir, graph: Graph, board: Board, top: str) -> None:
    """The package's code and config.json."""
    for name in SOURCE_FILES:
        out.write_bytes(f"{DRIVER_DIR}/{PACKAGE}/{name}", (SOURCE / name).read_bytes())
    config = driver_config(graph, board, top)
    out.write_text(f"{DRIVER_DIR}/{PACKAGE}/config.json", json.dumps(config, indent=1, sort_keys=True) + "\n")


def write_golden(out: OutputDir, input_codes: np.ndarray, output_codes: np.ndarray, simulated: bool) -> None:
    """golden.json: the frames `--selftest` runs on the board and the output codes it must get."""
    golden = {
        "simulated": simulated,
        "input_codes": np.asarray(input_codes, dtype=np.int64).reshape(len(input_codes), -1).tolist(),
        "output_codes": np.asarray(output_codes, dtype=np.int64).reshape(len(output_codes), -1).tolist(),
    }
    out.write_text(f"{DRIVER_DIR}/{PACKAGE}/golden.json", json.dumps(golden, sort_keys=True) + "\n")
