"""Argument checks and file loading shared by the sub-commands.

Every function here turns a user's mistake (missing file, wrong array, wrong shape) into
a one-line UserError that says what to do, so the sub-commands stay short.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.ir.graph import Graph


def load_array(path: Path, what: str) -> np.ndarray:
    """Read a .npy file, or the array `x` of an .npz file."""
    if not path.is_file():
        raise UserError(f"{what} file {path} does not exist")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError):
        raise UserError(f"{what} file {path} is not a numpy array file (.npy, or .npz with an array x)") from None
    if isinstance(data, np.ndarray):
        return data
    with data:
        if "x" not in data.files:
            raise UserError(f"{what} file {path} has no array 'x' (found: {', '.join(data.files) or 'none'})")
        return np.asarray(data["x"])


def batch_for(graph: Graph, array: np.ndarray, what: str) -> np.ndarray:
    """A float batch (N, *input shape) for the graph's single input; one sample is accepted too."""
    if len(graph.inputs) != 1:
        raise UserError(f"the model has {len(graph.inputs)} inputs; fpgaflow runs models with exactly one")
    shape = graph.tensors[graph.inputs[0]].shape
    if array.shape == shape:
        array = array[None]
    if array.ndim != len(shape) + 1 or tuple(array.shape[1:]) != tuple(shape):
        raise UserError(
            f"{what} has shape {tuple(array.shape)}, but the model takes (N, {', '.join(map(str, shape))}); "
            "give a batch in NCHW order"
        )
    if array.shape[0] == 0:
        raise UserError(f"{what} holds no samples")
    if not np.issubdtype(array.dtype, np.number) or not np.all(np.isfinite(array)):
        raise UserError(f"{what} must hold finite numbers")
    return array.astype(np.float32)


def check_bits(bits: int) -> int:
    if not 2 <= bits <= 32:
        raise UserError(f"--bits {bits} is outside 2..32; 8 is the usual width for small FPGAs")
    return bits
