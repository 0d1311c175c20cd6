"""Public entry points for loading models into the IR.

`load_model` is what the CLI and users call with a path: an .onnx file is imported and
cleaned up with the import flow; a directory written by save_graph is loaded as is.
"""

from __future__ import annotations

from pathlib import Path

from fpgaflow.errors import UserError
from fpgaflow.importers.onnx_import import import_onnx
from fpgaflow.importers.torch_import import from_torch
from fpgaflow.ir.graph import Graph
from fpgaflow.ir.serialize import GRAPH_FILE, load_graph
from fpgaflow.passes.flows import import_flow

__all__ = ["from_torch", "import_onnx", "load_model"]


def load_model(path: str | Path, approximate_rounding: bool = False) -> Graph:
    """An IR graph from an .onnx file (imported, import flow applied) or a saved IR directory.

    `approximate_rounding`: see import_onnx (QONNX activation quantizers that round half to even).
    """
    path = Path(path)
    if path.is_dir():
        if not (path / GRAPH_FILE).is_file():
            raise UserError(f"{path} is a directory without {GRAPH_FILE}; give an .onnx file or a saved IR directory")
        return load_graph(path)
    if path.suffix.lower() != ".onnx":
        raise UserError(f"{path}: unknown model format {path.suffix or '(no suffix)'!r}; give an .onnx file "
                        "or a saved IR directory")
    return import_flow().run(import_onnx(path, approximate_rounding))
