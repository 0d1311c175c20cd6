"""OUT/hls/: the top, one function per layer, the kernels header, the test bench and build_prj.tcl.

The per-model files are rendered from the jinja2 templates of hls_templates/ with the
lowered layers of fpgaflow.backends.hls.layers; the kernels header is copied as shipped.
Output is deterministic (sorted, no timestamps, no paths).
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2

from fpgaflow.boards import Board
from fpgaflow.errors import UserError
from fpgaflow.ir.graph import Graph
from fpgaflow.package_data import share_dir
from fpgaflow.backends.hls.layers import HlsLayer, LayerLowering, StreamType

KERNELS_HEADER = "fpgaflow_kernels.h"
TEMPLATES = {"{top}.h": "top.h.j2", "{top}.cpp": "top.cpp.j2", "{top}_tb.cpp": "tb.cpp.j2", "build_prj.tcl": "build_prj.tcl.j2"}
OUTPUT_READER = "__output__"
SKIP_DEPTH_MIN = 2


@dataclass(frozen=True)
class GeneratedHls:
    """The files of OUT/hls/ (relative to it) and what the C simulation and the report need."""

    top: str
    files: dict[str, str]
    layers: list[HlsLayer]


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(share_dir("hls_templates"))), trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def _tensor_entry(name: str, stream: StreamType) -> dict[str, object]:
    return {"name": name, "code_type": stream.code_type, "format": str(stream.ftype), "channels": stream.channels,
            "pixels": stream.pixels, "width": stream.ftype.width}


def _wiring(layers: list[HlsLayer], input_tensor: str, output_tensor: str, streams: dict[str, StreamType]) -> dict[str, object]:
    """Stream variables, fan-outs and calls of the top: a tensor read by several functions gets one copy per reader."""
    readers: dict[str, list[str]] = {}
    for layer in layers:
        for k, tensor in enumerate(layer.inputs):
            readers.setdefault(tensor, []).append(f"{layer.name}:{k}")
    readers.setdefault(output_tensor, []).append(OUTPUT_READER)
    variables: list[dict[str, object]] = []
    reader_stream: dict[str, str] = {}
    fanouts: list[dict[str, object]] = []
    for tensor in [input_tensor] + [layer.output for layer in layers]:
        variables.append({"tensor": tensor, "name": f"s_{tensor}", "depth": SKIP_DEPTH_MIN})
        names = readers.get(tensor, [])
        if len(names) == 1:
            reader_stream[names[0]] = f"s_{tensor}"
        elif len(names) > 1:
            # A branch may wait for the other one's whole frame: each copy holds a frame.
            copies = [f"s_{tensor}_r{k}" for k in range(len(names))]
            depth = max(SKIP_DEPTH_MIN, streams[tensor].pixels)
            variables.extend({"tensor": tensor, "name": copy, "depth": depth} for copy in copies)
            reader_stream.update(zip(names, copies))
            fanouts.append({"tensor": tensor, "readers": names, "pixels": streams[tensor].pixels, "copies": copies})
    calls: list[dict[str, object]] = [{"function": f"fanout_{f['tensor']}", "streams": [f"s_{f['tensor']}", *f["copies"]]}
                                      for f in fanouts if f["tensor"] == input_tensor]
    for layer in layers:
        ins = [reader_stream[f"{layer.name}:{k}"] for k in range(len(layer.inputs))]
        calls.append({"function": f"{layer.name}_layer", "streams": [*ins, f"s_{layer.output}"]})
        calls.extend({"function": f"fanout_{f['tensor']}", "streams": [f"s_{f['tensor']}", *f["copies"]]}
                     for f in fanouts if f["tensor"] == layer.output)
    return {"streams": variables, "fanouts": fanouts, "calls": calls, "input_stream": f"s_{input_tensor}",
            "output_stream": reader_stream[OUTPUT_READER]}


def generate_hls(graph: Graph, board: Board, top: str, lanes: dict[str, int], store_zeros: bool = False) -> GeneratedHls:
    """Render OUT/hls/ for a quantized graph; `lanes` is P per compute layer and `store_zeros` whether the ROMs
    keep zero weights (the design record's choices, so the ROMs are the RTL's)."""
    lowering = LayerLowering(graph, lanes, store_zeros)
    layers = lowering.lower()
    input_tensor = graph.inputs[0]
    output_tensor = lowering.source(graph.hardware_outputs[0])
    streams = lowering.streams
    for tensor in (input_tensor, output_tensor):
        if streams[tensor].ftype.width > board.dma_data_width:
            raise UserError(f"codes of {streams[tensor].ftype.width} bits do not fit the {board.dma_data_width}-bit DMA word")
    used = [input_tensor] + [layer.output for layer in layers]
    wiring = _wiring(layers, input_tensor, output_tensor, streams)
    context = {
        "top": top,
        "model": graph.name,
        "dma_width": board.dma_data_width,
        "part": board.part,
        "period_ns": f"{1000.0 / board.clock_mhz:.3f}",
        "tensors": [_tensor_entry(name, streams[name]) for name in used],
        "input": _tensor_entry(input_tensor, streams[input_tensor]),
        "output": _tensor_entry(output_tensor, streams[output_tensor]),
        "input_tensor": input_tensor,
        "output_tensor": output_tensor,
        "layers": layers,
        **wiring,
    }
    env = _environment()
    files = {name.format(top=top): env.get_template(template).render(**context) for name, template in TEMPLATES.items()}
    files[KERNELS_HEADER] = (share_dir("hls_templates") / KERNELS_HEADER).read_text()
    return GeneratedHls(top, files, layers)
