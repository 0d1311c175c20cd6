"""Read an ONNX model from a path, bytes or a ModelProto, turning every failure into a UserError.

Nothing is written: external data is read from beside the model file, never copied.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from fpgaflow.errors import UserError

MIN_OPSET = 6

ModelSource = str | Path | bytes | onnx.ModelProto


def _parse(source: str | Path | bytes) -> onnx.ModelProto:
    if isinstance(source, bytes):
        what = "the given bytes"
        load = lambda: onnx.load_model_from_string(source)  # noqa: E731
    else:
        path = Path(source)
        what = str(path)
        if not path.is_file():
            raise UserError(f"model file {path} does not exist or is not a file; check the path")
        load = lambda: onnx.load(str(path))  # noqa: E731
    try:
        return load()
    except (DecodeError, ValueError, RuntimeError, OSError, onnx.checker.ValidationError) as error:
        raise UserError(f"{what} is not a readable ONNX model (truncated or another format?): {error}") from error


def default_opset(model: onnx.ModelProto) -> int:
    """The model's version of the default ONNX operator set."""
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    raise UserError("the ONNX model declares no default-domain opset; re-export it with a standard exporter")


def _fill_output_shapes(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with graph outputs that declare no shape given the shape ONNX's inference finds.

    onnxruntime runs such a model and the importer computes every shape itself, but the
    checker requires a shape on each output. The caller's model is not changed: a filled
    copy is returned (the model itself when nothing is missing or inference cannot help).
    """
    if all(output.type.tensor_type.HasField("shape") for output in model.graph.output):
        return model
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except (onnx.shape_inference.InferenceError, ValueError, RuntimeError):
        return model  # the checker below names what is wrong
    types = {output.name: output.type for output in inferred.graph.output}
    filled = onnx.ModelProto()
    filled.CopyFrom(model)
    for output in filled.graph.output:
        found = types.get(output.name)
        if not output.type.tensor_type.HasField("shape") and found is not None and found.tensor_type.HasField("shape"):
            output.type.CopyFrom(found)
    return filled


def load_onnx_model(source: ModelSource) -> tuple[onnx.ModelProto, int]:
    """A checked ModelProto and its opset, or a UserError saying what is wrong with the input."""
    model = source if isinstance(source, onnx.ModelProto) else _parse(source)
    if not model.graph.node or not model.graph.output:
        raise UserError("the ONNX model has no nodes or no outputs (truncated or not an ONNX model?)")
    opset = default_opset(model)
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise UserError(f"ONNX opset {opset} is not supported (supported: {MIN_OPSET} to {newest}); re-export the model")
    model = _fill_output_shapes(model)
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "invalid model"
        raise UserError(f"the ONNX model is invalid: {first_line}") from error
    return model, opset
