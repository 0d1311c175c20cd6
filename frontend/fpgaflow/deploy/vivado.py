"""OUT/vivado/: the Verilog wrapper, the clock constraint, the tcl scripts, build_bitstream.sh and a README.

Everything is rendered from the templates in fpgaflow/deploy/templates/ with the board's
facts (boards/<board>.yaml) and the design's files; the scripts find the sources relative
to their own folder, so no absolute path is written and the folder can move.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import jinja2

from fpgaflow.boards import Board
from fpgaflow.deploy.driver import DMA_CELL, DRIVER_DIR, OVERLAY_NAME, PACKAGE
from fpgaflow.deploy.pynq_driver.packing import frame_bytes
from fpgaflow.errors import UserError
from fpgaflow.ir.graph import Graph
from fpgaflow.names import sanitize_identifier
from fpgaflow.outdir import OutputDir

VIVADO_DIR = "vivado"
VIVADO_VERSION = "2022.1"
"""The Vivado release the scripts are written for: the one PYNQ 3.0 images are built with."""
IP_VENDOR, IP_LIBRARY, IP_VERSION = "fpgaflow.org", "fpgaflow", "1.0"
TEMPLATES = Path(__file__).resolve().parent / "templates"
DMA_LENGTH_BITS = (14, 26)
"""AXI DMA buffer-length register widths (c_sg_length_width): its default and its maximum (PG021)."""


def length_width(largest_frame_bytes: int) -> int:
    """Bits of the DMA's buffer-length register so that one transfer holds a whole frame."""
    bits = max(DMA_LENGTH_BITS[0], largest_frame_bytes.bit_length())
    if bits > DMA_LENGTH_BITS[1]:
        raise UserError(f"a frame of {largest_frame_bytes} bytes exceeds the AXI DMA's largest transfer "
                        f"(2^{DMA_LENGTH_BITS[1]} - 1 bytes); use a smaller input")
    return bits


def vivado_files(graph: Graph, board: Board, top: str, sources: list[str], memories: list[str]) -> dict[str, str]:
    """The files of OUT/vivado/ (relative path -> text) for a generated top and its files in OUT/rtl/."""
    assert board.vivado is not None
    source, sink = graph.tensors[graph.inputs[0]], graph.tensors[graph.hardware_outputs[0]]
    assert source.ftype is not None and sink.ftype is not None
    largest = max(frame_bytes(source.shape, source.ftype.width, board.dma_data_width),
                  frame_bytes(sink.shape, sink.ftype.width, board.dma_data_width))
    wrapper = f"{top}_wrapper"
    context = {
        "model": sanitize_identifier(graph.name, set()), "top": top, "board": board.name, "part": board.part, "board_part": board.board_part,
        "clock_mhz": f"{board.clock_mhz:g}", "period_ns": f"{1000.0 / board.clock_mhz:.3f}",
        "dma_width": board.dma_data_width, "length_width": length_width(largest),
        "vivado_version": VIVADO_VERSION, "wrapper": wrapper, "wrapper_file": f"{wrapper}.v",
        "xdc_file": f"{top}_clock.xdc", "sources": sources, "memories": memories,
        "ip_name": top, "ip_vendor": IP_VENDOR, "ip_library": IP_LIBRARY, "ip_version": IP_VERSION,
        "ip_vlnv": f"{IP_VENDOR}:{IP_LIBRARY}:{top}:{IP_VERSION}",
        "ps": asdict(board.vivado), "ps_ip": board.vivado.ps_ip, "data_port": board.vivado.data_port,
        "control_port": board.vivado.control_port, "dma_cell": DMA_CELL, "overlay": OVERLAY_NAME,
        "driver_dir": f"{DRIVER_DIR}/{PACKAGE}", "package": PACKAGE,
    }
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                                     keep_trailing_newline=True, autoescape=False)
    names = {
        f"{wrapper}.v": "wrapper.v.j2",
        f"{top}_clock.xdc": "clock.xdc.j2",
        "create_ip.tcl": "create_ip.tcl.j2",
        "create_bd.tcl": "create_bd.tcl.j2",
        "build_bitstream.sh": "build_bitstream.sh.j2",
        "README.md": "README.md.j2",
    }
    return {f"{VIVADO_DIR}/{name}": environment.get_template(template).render(context) for name, template in names.items()}


def write_vivado(out: OutputDir, graph: Graph, board: Board, top: str, sources: list[str], memories: list[str]) -> None:
    for relpath, text in sorted(vivado_files(graph, board, top, sources, memories).items()):
        path = out.write_text(relpath, text)
        if relpath.endswith(".sh"):
            path.chmod(0o755)
