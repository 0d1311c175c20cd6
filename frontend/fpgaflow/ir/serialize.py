"""Save and load an IR graph as a directory: graph.json (with a schema version) + weights.npz.

Arrays go to the .npz under a path-like key and keep their dtype, floats in JSON keep
their repr, so a round trip is exact. The JSON is written with sorted keys so the same
graph always gives the same bytes.
"""

from __future__ import annotations

import json
import types
import typing
import zipfile
from dataclasses import fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from fpgaflow.fixed import FixedType
from fpgaflow.ir.graph import Graph, Tensor
from fpgaflow.ir.layers import LAYER_TYPES, Layer, Weight
from fpgaflow.ir.sparsity import SparsityRecord

SCHEMA_VERSION = 1
GRAPH_FILE = "graph.json"
WEIGHTS_FILE = "weights.npz"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
"""Timestamp of every member of weights.npz; np.savez stamps the current time, which would
make two saves of the same graph differ."""
_RECORDS: dict[str, type] = {"Weight": Weight, "SparsityRecord": SparsityRecord}


def _encode(value: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, np.ndarray):
        arrays[key] = value
        return {"$array": key}
    if isinstance(value, FixedType):
        return {"$fixed": value.to_dict()}
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value):
        body = {f.name: _encode(getattr(value, f.name), f"{key}.{f.name}", arrays) for f in fields(value)}
        return {"$type": type(value).__name__, **body}
    if isinstance(value, (list, tuple)):
        return [_encode(item, f"{key}.{i}", arrays) for i, item in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _coerce(hint: Any, value: Any) -> Any:
    """Turn JSON lists back into tuples and strings back into enums, as the field's type says."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            if option is not type(None):
                return _coerce(option, value)
    if origin is tuple:
        return tuple(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    return value


def _decode(value: Any, arrays: Any) -> Any:
    if isinstance(value, dict):
        if "$array" in value:
            return np.array(arrays[value["$array"]])
        if "$fixed" in value:
            return FixedType.from_dict(value["$fixed"])
        if "$type" in value:
            cls = _RECORDS[value["$type"]]
            return _build(cls, value, arrays)
        return {k: _decode(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(item, arrays) for item in value]
    return value


def _build(cls: type, data: dict[str, Any], arrays: Any) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs = {f.name: _coerce(hints[f.name], _decode(data[f.name], arrays)) for f in fields(cls) if f.name in data}
    return cls(**kwargs)


def graph_to_dict(graph: Graph, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The JSON document of a graph; arrays are collected into `arrays`."""
    layers = []
    for index, layer in enumerate(graph.layers):
        body = _encode(layer, f"layers.{index}", arrays)
        body["$type"] = layer.OP
        layers.append(body)
    return {
        "schema_version": SCHEMA_VERSION,
        "name": graph.name,
        "inputs": graph.inputs,
        "outputs": graph.outputs,
        "notes": graph.notes,
        "tensors": [_encode(graph.tensors[name], f"tensors.{name}", arrays) for name in graph.tensors],
        "layers": layers,
    }


def graph_from_dict(data: dict[str, Any], arrays: Any) -> Graph:
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(f"IR schema version {version} is not supported (this fpgaflow reads {SCHEMA_VERSION})")
    tensors: dict[str, Tensor] = {}
    for item in data["tensors"]:
        tensor = _build(Tensor, item, arrays)
        tensors[tensor.name] = tensor
    layers: list[Layer] = []
    for item in data["layers"]:
        op = item["$type"]
        if op not in LAYER_TYPES:
            raise ValueError(f"unknown layer type {op!r} in IR")
        layers.append(_build(LAYER_TYPES[op], item, arrays))
    return Graph(
        name=data["name"],
        inputs=list(data["inputs"]),
        outputs=list(data["outputs"]),
        tensors=tensors,
        layers=layers,
        notes=list(data.get("notes", [])),
    )


def save_graph(graph: Graph, directory: Path) -> None:
    """Write graph.json and weights.npz into directory (created if needed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    document = graph_to_dict(graph, arrays)
    (directory / GRAPH_FILE).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    _write_npz(directory / WEIGHTS_FILE, arrays)


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An .npz that np.load reads, with sorted members and fixed timestamps so it is byte-for-byte reproducible."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(arrays[key]), allow_pickle=False)


def load_graph(directory: Path) -> Graph:
    """Read a graph written by save_graph."""
    directory = Path(directory)
    data = json.loads((directory / GRAPH_FILE).read_text())
    with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
        return graph_from_dict(data, arrays)
