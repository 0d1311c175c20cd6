"""Read the model and data the `prune` command is given, with one-line errors for bad input.

An ONNX model goes through fpgaflow.api.load_model (importer and import flow) and becomes a torch
module (torch_graph). A `.pt` file is only ever loaded with `weights_only=True`, so it
cannot run code: it must be a state dict of tensors for the module built from the
ONNX architecture given beside it (`--arch`); see docs/pruning.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from fpgaflow import api
from fpgaflow.errors import UserError
from fpgaflow.ir.graph import Graph
from fpgaflow.prune.torch_graph import GraphModule, graph_to_torch
from fpgaflow.prune.train import Split


def load_graph(path: Path) -> Graph:
    """The imported, cleaned-up IR graph of an ONNX file."""
    if not path.is_file():
        raise UserError(f"model file {path} does not exist")
    return api.load_model(path)


def load_model(path: Path, arch: Path | None = None) -> tuple[GraphModule, Graph]:
    """A trainable torch module and its IR graph from an .onnx file, or a .pt state dict with its --arch ONNX."""
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        graph = load_graph(path)
        return graph_to_torch(graph), graph
    if suffix != ".pt":
        raise UserError(f"model {path} is neither .onnx nor .pt; give an ONNX file or a .pt state dict with --arch")
    if arch is None:
        raise UserError("a .pt file holds weights only; give the architecture as ONNX with --arch model.onnx")
    graph = load_graph(arch)
    model = graph_to_torch(graph)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for a file it cannot unpickle safely
        raise UserError(f"cannot load {path} with weights_only=True ({type(error).__name__}); save a state dict of tensors") from error
    if not isinstance(state, dict):
        raise UserError(f"{path} holds a {type(state).__name__}, not a state dict; save model.state_dict()")
    expected = set(model.state_dict())
    if set(state) != expected:
        missing = sorted(expected - set(state))[:3]
        extra = sorted(set(state) - expected)[:3]
        raise UserError(f"{path} does not match {arch}: missing keys {missing}, unexpected keys {extra}")
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise UserError(f"{path} does not match {arch}: {str(error).splitlines()[-1].strip()}") from error
    return model, graph


def load_split(path: Path, input_shape: tuple[int, ...], classes: int, what: str) -> Split:
    """x (N, *input_shape) and integer labels y in [0, classes) from an .npz file."""
    if not path.is_file():
        raise UserError(f"{what} file {path} does not exist")
    try:
        with np.load(path) as data:
            if "x" not in data or "y" not in data:
                raise UserError(f"{what} file {path} needs arrays 'x' and 'y'; found {sorted(data.files)}")
            x, y = data["x"], data["y"]
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read {what} file {path} as .npz: {error}") from error
    if x.ndim != len(input_shape) + 1 or tuple(x.shape[1:]) != tuple(input_shape):
        raise UserError(f"{what} x has shape {tuple(x.shape)}; the model expects (N, {', '.join(map(str, input_shape))})")
    if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
        raise UserError(f"{what} y must be {len(x)} integer labels, got shape {tuple(y.shape)} of {y.dtype}")
    if len(y) and (y.min() < 0 or y.max() >= classes):
        raise UserError(f"{what} labels range {int(y.min())}..{int(y.max())}; the model has {classes} outputs (0..{classes - 1})")
    return Split(np.ascontiguousarray(x, dtype=np.float32), y.astype(np.int64))
