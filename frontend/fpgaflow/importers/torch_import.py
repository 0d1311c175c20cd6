"""Import a torch.nn.Module by exporting it to ONNX in memory and importing that.

Both of torch's exporters are supported: the TorchScript one (dynamo=False) and the
torch.export one (dynamo=True). Nothing is written to disk: the TorchScript exporter
writes into a BytesIO, the torch.export one returns the ModelProto directly.
"""

from __future__ import annotations

import io
import warnings

import torch

from fpgaflow.errors import UserError
from fpgaflow.importers.onnx_import import import_onnx
from fpgaflow.ir.graph import Graph

TORCHSCRIPT_OPSET = 17


def export_onnx_bytes(model: torch.nn.Module, example_input: torch.Tensor, dynamo: bool) -> bytes:
    """The serialized ONNX model of `model` in eval mode traced on `example_input`."""
    model = model.eval()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            if dynamo:
                program = torch.onnx.export(model, (example_input,), dynamo=True, verbose=False)
                return program.model_proto.SerializeToString()
            buffer = io.BytesIO()
            torch.onnx.export(model, (example_input,), buffer, dynamo=False, opset_version=TORCHSCRIPT_OPSET,
                              input_names=["input"], output_names=["output"])
            return buffer.getvalue()
    except Exception as error:  # torch's exporters raise many exception types
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"torch could not export the model to ONNX: {message}") from error


def from_torch(model: torch.nn.Module, example_input: torch.Tensor, dynamo: bool = False) -> Graph:
    """Import a torch module (set to eval mode) through ONNX; example_input is a batch (N, ...)."""
    return import_onnx(export_onnx_bytes(model, example_input, dynamo))
