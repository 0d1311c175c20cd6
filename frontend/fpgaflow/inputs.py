"""Input arrays from users: loading them and checking them against a graph's input.

Every command and library entry point that takes a batch of inputs (run, build, verify,
quantize, the reference executors) checks it here, so a wrong file or shape always gets
the same one-line UserError that says what to do.
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


def check_batch(graph: Graph, x: np.ndarray, what: str) -> None:
    """UserError unless x is a batch (N, *input shape) for the graph's single input."""
    if len(graph.inputs) != 1:
        raise UserError(f"the model has {len(graph.inputs)} inputs; fpgaflow runs models with exactly one")
    shape = tuple(graph.tensors[graph.inputs[0]].shape)
    if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != shape:
        raise UserError(
            f"{what} has shape {tuple(x.shape)}, but the model takes (N, {', '.join(map(str, shape))}); "
            "give a batch in NCHW order"
        )


def batch_for(graph: Graph, array: np.ndarray, what: str) -> np.ndarray:
    """A float32 batch for the graph's input from a user's array; a single sample is accepted too,
    and for an input of shape (C, 1, L) (a 1-D model's, docs/architecture.md) a batch (N, C, L)."""
    shape = tuple(graph.tensors[graph.inputs[0]].shape) if len(graph.inputs) == 1 else ()
    if len(shape) == 3 and shape[1] == 1 and array.shape[-2:] == (shape[0], shape[2]) and array.ndim in (2, 3):
        array = array[..., None, :]
    if array.shape == shape:
        array = array[None]
    check_batch(graph, array, what)
    if array.shape[0] == 0:
        raise UserError(f"{what} holds no samples")
    if not np.issubdtype(array.dtype, np.number) or not np.all(np.isfinite(array)):
        raise UserError(f"{what} must hold finite numbers")
    return array.astype(np.float32)


def load_batch(path: Path, graph: Graph, what: str) -> np.ndarray:
    """load_array then batch_for: a checked float32 batch from a file."""
    return batch_for(graph, load_array(path, what), what)
