"""Write the tensors of a reference run to a folder, for a hardware engineer to diff against a simulation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from fpgaflow.ir.graph import Graph

FORMATS_FILE = "formats.json"


def trace_file_name(tensor: str) -> str:
    """A safe file name for a tensor: names from a model file never reach a path unsanitized."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", tensor).lstrip(".")
    return f"{safe or 'tensor'}.npy"


def dump_trace(graph: Graph, tensors: dict[str, np.ndarray], directory: str | Path) -> Path:
    """One .npy per tensor plus formats.json (tensor -> file, shape, and signed/width/frac when quantized).

    Returns the path of formats.json. Distinct tensors whose names sanitize alike get a
    numeric suffix so no file is overwritten.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    index: dict[str, dict[str, object]] = {}
    used: set[str] = {FORMATS_FILE}
    for name in sorted(tensors):
        file_name = trace_file_name(name)
        stem, suffix = file_name[: -len(".npy")], 1
        while file_name in used:
            file_name = f"{stem}_{suffix}.npy"
            suffix += 1
        used.add(file_name)
        np.save(out / file_name, tensors[name])
        entry: dict[str, object] = {"file": file_name, "shape": list(tensors[name].shape)}
        fmt = graph.tensors[name].ftype if name in graph.tensors else None
        if fmt is not None:
            entry.update(fmt.to_dict())
        index[name] = entry
    path = out / FORMATS_FILE
    path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return path
