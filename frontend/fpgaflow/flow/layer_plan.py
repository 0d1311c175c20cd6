"""What the generator needs to know about each hardware layer, derived once from the quantized IR.

A LayerPlan holds a layer's geometry, its number formats and, for the compute layers
(Conv2d, Dense, ScaleShift and Relu as depthwise 1x1 convs, ConvTranspose2d as a 1x1 conv), the work of its sparse
engine: the run of nonzero weights of every output channel, the output positions per
frame, dense and nonzero MACs. The templates, the parallelism choice and the report all
read plans, never the IR directly, so each of those numbers is derived in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fpgaflow.fixed import FixedType
from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import COMPUTE_OPS, Conv2d, ConvTranspose2d, Dense, Flatten, Layer
from fpgaflow.ir.transposed import as_pointwise_conv
from fpgaflow.ir.work import engine_positions
from fpgaflow.names import is_legal_identifier
from fpgaflow.flow.depthwise import DEPTHWISE_OPS, as_depthwise_conv

FORMAT_KEYS = ("input", "weights", "bias", "accumulator", "output")


@dataclass(frozen=True)
class LayerPlan:
    """One hardware layer as the generator sees it."""

    name: str
    op: str
    inputs: tuple[str, ...]
    output: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    formats: dict[str, FixedType | None]
    run_lengths: tuple[int, ...] = ()
    """Nonzero weights of each output channel: the MAC work of one output position (compute layers)."""
    positions: int = 1
    """Output positions per frame (H_out * W_out for a conv, 1 for a dense layer)."""
    dense_weights: int = 0
    stream_shape: tuple[int, ...] = ()
    """Shape of the pixel stream carrying the input: the map before a Flatten (which moves no data)."""
    layer: Layer | None = field(default=None, compare=False, repr=False)
    """The IR layer; for a ScaleShift or Relu the depthwise conv the engine computes it as."""

    @property
    def is_compute(self) -> bool:
        """Whether the layer runs on a sparse engine (and so gets lanes and a weight ROM)."""
        return is_compute_op(self.op)

    @property
    def nonzero_weights(self) -> int:
        return sum(self.run_lengths)

    @property
    def nonzero_macs(self) -> int:
        """MACs per frame the zero-skipping engine must do."""
        return self.nonzero_weights * self.positions

    @property
    def dense_macs(self) -> int:
        """MACs per frame of the same layer with every weight kept."""
        return self.dense_weights * self.positions

    def zero_skip_bound(self, parallelism: int) -> float:
        """The ideal cycles per frame with P lanes: nonzero MACs / P."""
        return self.nonzero_macs / parallelism

    def format_dict(self) -> dict[str, dict[str, int | bool | list[int]] | None]:
        """The formats as JSON; a weight or bias with per-channel formats adds its F per channel (`channel_frac`)."""
        found: dict[str, dict[str, int | bool | list[int]] | None] = {
            key: (dict(fmt.to_dict()) if fmt is not None else None) for key, fmt in self.formats.items()}
        for key, field_name in (("weights", "weight"), ("bias", "bias")):
            weight = getattr(self.layer, field_name, None)
            entry = found.get(key)
            if entry is not None and weight is not None and weight.channel_frac is not None:
                entry["channel_frac"] = [int(frac) for frac in weight.channel_frac]
        return found


def _formats(graph: Graph, layer: Layer) -> dict[str, FixedType | None]:
    weight = getattr(layer, "weight", None)
    bias = getattr(layer, "bias", None)
    return {
        "input": graph.tensors[layer.inputs[0]].ftype,
        "weights": weight.ftype if weight is not None else None,
        "bias": bias.ftype if bias is not None else None,
        "accumulator": getattr(layer, "acc", None),
        "output": graph.tensors[layer.output].ftype,
    }


def _weight_codes(layer: Conv2d | Dense) -> np.ndarray:
    codes = layer.weight.codes
    if codes is None:
        raise ValueError(f"layer {layer.name!r} is not quantized; run fpgaflow.quant.quantize first")
    return np.asarray(codes)


def _stream_shape(graph: Graph, tensor: str) -> tuple[int, ...]:
    producer = graph.producer(tensor)
    while isinstance(producer, Flatten):
        tensor = producer.inputs[0]
        producer = graph.producer(tensor)
    return tuple(graph.tensors[tensor].shape)


def stream_beats(graph: Graph, tensor: str) -> int:
    """Beats of a tensor's stream per frame: one per pixel (a flattened map keeps its pixels), one for a vector."""
    shape = _stream_shape(graph, tensor)
    return int(shape[1] * shape[2]) if len(shape) == 3 else 1


def plan_layer(graph: Graph, layer: Layer) -> LayerPlan:
    """The plan of one hardware layer of a quantized graph."""
    if not is_legal_identifier(layer.name):
        raise ValueError(f"layer name {layer.name!r} is not a sanitized identifier; the importer must sanitize it")
    op = layer.OP
    positions = engine_positions(graph, layer)
    if op in DEPTHWISE_OPS:
        layer = as_depthwise_conv(graph, layer)
    elif isinstance(layer, ConvTranspose2d):
        layer = as_pointwise_conv(layer)  # the engine's 1x1 conv; axis_depth_to_space places its blocks
    common = dict(
        stream_shape=_stream_shape(graph, layer.inputs[0]),
        name=layer.name,
        op=op,
        inputs=tuple(layer.inputs),
        output=layer.output,
        input_shape=tuple(graph.tensors[layer.inputs[0]].shape),
        output_shape=tuple(graph.tensors[layer.output].shape),
        formats=_formats(graph, layer),
        layer=layer,
    )
    if isinstance(layer, (Conv2d, Dense)):
        codes = _weight_codes(layer)
        runs = tuple(int(n) for n in (codes.reshape(codes.shape[0], -1) != 0).sum(axis=1))
        return LayerPlan(**common, run_lengths=runs, positions=positions, dense_weights=int(codes.size))
    return LayerPlan(**common)


def is_compute_op(op: str) -> bool:
    """Whether a layer of this op runs on a sparse engine (and so gets lanes and a weight ROM)."""
    return op in COMPUTE_OPS or op in DEPTHWISE_OPS or op == ConvTranspose2d.OP


def compute_layer_names(graph: Graph) -> list[str]:
    """The compute layers' names, known from import on (quantization keeps them)."""
    return [layer.name for layer in graph.hardware_layers if is_compute_op(layer.OP)]


def plan_graph(graph: Graph) -> list[LayerPlan]:
    """Plans of every hardware layer, in execution order."""
    if not graph.is_quantized:
        raise ValueError(f"graph {graph.name!r} has tensors without a format; quantize it first")
    return [plan_layer(graph, layer) for layer in graph.hardware_layers]
