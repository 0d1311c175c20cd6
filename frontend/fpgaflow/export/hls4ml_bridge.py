"""A quantized fpgaflow graph as an hls4ml project, through hls4ml's own Python API.

Why this path: hls4ml's PyTorch converter works offline and reads weights as they are, so
the bridge builds a float64 torch module whose weights are fpgaflow's codes times 2^-F
(exact: every code fits float64's mantissa) and hands it to
`hls4ml.converters.convert_from_pytorch_model` with a per-layer configuration that gives
every tensor fpgaflow's format as `ap_fixed<W, W-F, AP_RND, AP_SAT>` (docs/fixed-point.md).
hls4ml prints weights with as many decimals as their format has fractional bits, which is
exact for a dyadic value, so the project holds fpgaflow's codes unchanged.

hls4ml adds layers of its own that only move values (the channels-last transposes, the zero
padding in front of a streamed convolution); they get their input's format, so nothing is
rounded twice. The bridge converts once to learn their names and again with them configured,
then checks every layer's result format against the plan (docs/hls4ml.md).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fpgaflow.errors import UserError
from fpgaflow.export.hls4ml_layers import (
    ACTIVATION_SUFFIXES,
    ADD,
    LAYER_STEPS,
    Step,
    ap_type,
    refusal,
    register_handlers,
    tensor_format,
)
from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import Layer

IO_TYPES: dict[str, str] = {"stream": "io_stream", "parallel": "io_parallel"}
"""The --io choices and hls4ml's names for them."""
BACKEND = "Vitis"
PROJECT_NAME = "fpgaflow_net"
CONFIG_FILE = "hls4ml_config.yml"
INPUT_LAYER = "model_input"
"""hls4ml's name of the input layer (the torch module's forward argument)."""
DATA_MOVEMENT = frozenset({"Transpose", "ZeroPadding1D", "ZeroPadding2D", "Reshape", "Clone"})
"""hls4ml layer classes that move values without arithmetic: they keep their input's format."""
FLOAT64_EXACT = 1 << 53
"""Codes below this magnitude survive float64 (torch's weights, hls4ml's text files) exactly."""


def check_expressible(graph: Graph, io_type: str = "stream") -> None:
    """UserError naming every hardware layer the hls4ml export cannot express, with the reason."""
    if len(graph.inputs) != 1 or len(graph.hardware_outputs) != 1:
        raise UserError(f"hls4ml export takes a model with one input and one output; this one has "
                        f"{len(graph.inputs)} and {len(graph.hardware_outputs)}")
    refused = [f"{layer.name} ({why})" for layer in graph.hardware_layers if (why := refusal(layer, io_type)) is not None]
    if refused:
        raise UserError(
            "hls4ml export cannot express " + "; ".join(refused) + "; it takes Conv2d (groups 1 or depthwise), Dense, "
            "ScaleShift, Add, Concat, MaxPool, AvgPool, GlobalAvgPool, Flatten, ReLU, LeakyRelu and (io_parallel) ReLU6 "
            "(use `fpgaflow build` for the rest)"
        )


class TorchGraphNet(torch.nn.Module):
    """The quantized graph as a torch module that torch.fx traces into one call per step."""

    def __init__(self, input_key: str, output_key: str, steps: list[Step]) -> None:
        super().__init__()
        for step in steps:
            if step.module is not None:
                self.add_module(step.name, step.module)
        self.input_key, self.output_key = input_key, output_key
        self.calls = [(step.name, step.module is not None, step.inputs, step.output) for step in steps]

    def forward(self, model_input: torch.Tensor) -> torch.Tensor:
        values = {self.input_key: model_input}
        for name, is_module, inputs, output in self.calls:
            args = [values[key] for key in inputs]
            if is_module:
                values[output] = getattr(self, name)(*args)
            elif name == ADD:
                values[output] = torch.add(*args)
            else:  # CAT: hls4ml reads the axis from the `dim` keyword
                values[output] = torch.cat(args, dim=1)
        return values[self.output_key]


@dataclass
class Hls4mlPlan:
    """The torch module for hls4ml's converter and each hls4ml layer's formats (precision dicts)."""

    module: TorchGraphNet
    precisions: dict[str, dict[str, str]]


def _module_names(layers: list[Layer]) -> list[str]:
    """torch attribute names, lower case (torch.fx lower-cases node names, which become hls4ml's)."""
    names = [layer.name.lower() for layer in layers]
    every = names + [name + suffix for name in names for suffix in ACTIVATION_SUFFIXES.values()] + [INPUT_LAYER]
    if len(set(every)) != len(every):
        names = [f"l{index}_{name}" for index, name in enumerate(names)]
    return names


def _traced_names(module: TorchGraphNet) -> list[str]:
    """The torch.fx node name of each step, in order: hls4ml names its layers after them
    (a torch.add or torch.cat becomes `add`, `add_1`, ..., `cat`, ...)."""
    from hls4ml.utils.torch import CustomFXTracer

    graph = CustomFXTracer().trace(module)
    return [node.name for node in graph.nodes if node.op in ("call_module", "call_function")]


def plan_export(graph: Graph, io_type: str = "stream") -> Hls4mlPlan:
    """The torch module and per-layer formats of a quantized graph hls4ml can express."""
    if not graph.is_quantized:
        raise UserError(f"graph {graph.name!r} is not quantized; quantize it before exporting to hls4ml")
    check_expressible(graph, io_type)
    layers = graph.hardware_layers
    too_wide = sorted({layer.name for layer in layers for weight in layer.weights().values()
                       if weight.codes is not None and np.abs(weight.codes).max(initial=0) >= FLOAT64_EXACT})
    if too_wide:
        raise UserError(f"hls4ml export cannot carry the codes of {', '.join(too_wide)} exactly: hls4ml reads weights "
                        "as float64, which holds codes below 2^53 only; export with fewer --bits")
    steps = [step for layer, name in zip(layers, _module_names(layers))
             for step in LAYER_STEPS[type(layer)](graph, layer, name)]
    module = TorchGraphNet(graph.inputs[0], graph.hardware_outputs[0], steps).double().eval()
    names = _traced_names(module)
    assert len(names) == len(steps), "torch.fx traced a call the bridge did not plan"
    precisions = {INPUT_LAYER: {"result": ap_type(tensor_format(graph, graph.inputs[0]))}}
    precisions.update({name: step.precision for name, step in zip(names, steps)})
    return Hls4mlPlan(module, precisions)


def _hls_config(graph: Graph, precisions: dict[str, dict[str, str]]) -> dict:
    """hls4ml's configuration dict: the model defaults and one entry per layer."""
    return {
        "Model": {"Precision": {"default": "ap_fixed<16,6>"}, "ReuseFactor": 1, "Strategy": "Latency",
                  "ChannelsLastConversion": "internal", "TransposeOutputs": True, "BramFactor": 1_000_000_000,
                  "TraceOutput": False},
        "LayerName": {name: {"Precision": dict(precision)} for name, precision in precisions.items()},
        "InputShape": tuple(graph.tensors[graph.inputs[0]].shape),
    }


def _convert(plan: Hls4mlPlan, graph: Graph, out_dir: Path, io_type: str, precisions: dict[str, dict[str, str]]):
    """One run of hls4ml's PyTorch converter (its progress printing kept off the terminal)."""
    import hls4ml

    register_handlers()
    with contextlib.redirect_stdout(io.StringIO()):
        return hls4ml.converters.convert_from_pytorch_model(
            plan.module, output_dir=str(out_dir), project_name=PROJECT_NAME, backend=BACKEND,
            io_type=IO_TYPES[io_type], hls_config=_hls_config(graph, precisions),
        )


def _same_type(hls_model, precision, spelled: str | None) -> bool:
    """Whether a hls4ml precision is the type spelled (width, integer bits, sign, rounding, saturation)."""
    return spelled is not None and precision == hls_model.config.backend.convert_precision_string(spelled)


def convert(graph: Graph, out_dir: Path, io_type: str = "stream"):
    """An hls4ml ModelGraph of a quantized graph, its project folder out_dir (written by `write()`/`compile()`).

    Layers that hls4ml inserts get their input layer's format (a second conversion with
    them configured); then every layer's result format is checked against the plan.
    """
    plan = plan_export(graph, io_type)
    precisions = {name: dict(precision) for name, precision in plan.precisions.items()}
    hls_model = _convert(plan, graph, out_dir, io_type, precisions)
    if any(layer.name not in precisions for layer in hls_model.get_layers()):
        producer: dict[str, str] = {}  # output variable -> layer (a Clone has one output per reader)
        for layer in hls_model.get_layers():  # topological order: an inserted layer's input is resolved first
            producer.update({output: layer.name for output in layer.outputs})
            if layer.name not in precisions:
                if layer.class_name not in DATA_MOVEMENT:
                    raise RuntimeError(f"hls4ml inserted {layer.class_name} {layer.name}, which the bridge has no format for")
                precisions[layer.name] = {"result": precisions[producer[layer.inputs[0]]]["result"]}
        hls_model = _convert(plan, graph, out_dir, io_type, precisions)
    for layer in hls_model.get_layers():
        actual, expected = layer.get_output_variable().type.precision, precisions.get(layer.name, {}).get("result")
        if not _same_type(hls_model, actual, expected):
            raise RuntimeError(f"hls4ml layer {layer.name} computes {actual.definition_cpp()}, the plan says {expected}")
    return hls_model


def predict_codes(hls_model, graph: Graph, codes: np.ndarray) -> np.ndarray:
    """Run hls4ml's compiled C++ (`compile()` first) on input codes; the output codes, shaped as fpgaflow's.

    The inputs go in as their exact real values (code * 2^-F), so hls4ml's float-to-ap_fixed
    conversion cannot round them, and channels last, the project's input order; the outputs
    come back as values of the output format, a map in fpgaflow's channels-first order.
    """
    input_frac = tensor_format(graph, graph.inputs[0]).frac
    output = graph.hardware_outputs[0]
    out_type = tensor_format(graph, output)
    values = np.ldexp(np.asarray(codes, dtype=np.float64), -input_frac)
    x = np.ascontiguousarray(np.moveaxis(values, 1, -1).reshape(len(codes), -1))
    y = np.asarray(hls_model.predict(x), dtype=np.float64).reshape(len(codes), *graph.tensors[output].shape)
    result = np.ldexp(y, out_type.frac)
    assert np.array_equal(result, np.round(result)), "hls4ml returned values off the output format's grid"
    return result.astype(np.int64)


def settle_project(folder: Path) -> None:
    """Make a written project independent of where and when hls4ml wrote it.

    hls4ml's writer records in hls4ml_config.yml its output folder, absolute (`OutputDir`),
    and the torch module it converted, pickled (`PytorchModel`: fpgaflow's class, and torch
    storage keys that change from run to run). The CLI moves the project into --out after
    writing, so `OutputDir` becomes `.` (the project folder); the module becomes null: the
    weights are in firmware/weights, and a pickle is nothing a user should have to load.
    """
    path = folder / CONFIG_FILE
    kept: list[str] = []
    skipping = False
    for line in path.read_text().splitlines(keepends=True):
        top_level = not line[:1].isspace()
        if top_level:
            skipping = False
        if skipping:
            continue
        if line.startswith("OutputDir:"):
            line = "OutputDir: .\n"
        elif line.startswith("PytorchModel:"):
            line, skipping = "PytorchModel: null\n", True
        kept.append(line)
    path.write_text("".join(kept))
