"""Output-shape inference for every IR layer type.

The importer and the passes derive every tensor shape here rather than trusting shapes
written in a model file, so one set of rules (ONNX's and torch's, which agree) decides
the geometry that the reference, the cost model and the RTL all build on. Shapes are
per sample: (C, H, W) for feature maps, (N,) for vectors. An impossible geometry is a
UserError: it comes from the user's model, not from a bug here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from fpgaflow.errors import UserError
from fpgaflow.ir.graph import Graph, Tensor
from fpgaflow.ir.layers import (
    Add,
    AvgPool,
    BatchNorm,
    ChannelPermute,
    Concat,
    Conv2d,
    ConvTranspose2d,
    Dense,
    Flatten,
    GlobalAvgPool,
    Layer,
    MaxPool,
    Pad,
    Relu,
    ScaleShift,
    Softmax,
    Upsample,
)

Shape = tuple[int, ...]


def _feature_map(layer: Layer, shape: Shape) -> Shape:
    if len(shape) != 3:
        raise UserError(f"layer {layer.name!r} ({layer.OP}) needs a (C, H, W) input but gets shape {shape}")
    return shape


def window_output_size(
    size: int, kernel: int, stride: int, pad_begin: int, pad_end: int, dilation: int = 1, ceil_mode: bool = False
) -> int:
    """Output length of a sliding window along one axis, as ONNX and torch define it.

    With ceil_mode a last window that would start inside the end padding is dropped
    (torch's rule, which onnxruntime follows), so every window covers real input.
    """
    span = dilation * (kernel - 1) + 1
    padded = size + pad_begin + pad_end
    if span > padded:
        return 0
    steps = (padded - span) / stride
    out = (math.ceil(steps) if ceil_mode else math.floor(steps)) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_begin:
        out -= 1
    return out


def _window_shape(
    layer: Layer,
    shape: Shape,
    channels: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int, int, int],
    dilation: tuple[int, int] = (1, 1),
    ceil_mode: bool = False,
) -> Shape:
    _, height, width = shape
    top, left, bottom, right = padding
    if min(stride) < 1 or min(dilation) < 1 or min(kernel) < 1 or min(padding) < 0:
        raise UserError(f"layer {layer.name!r}: kernel, stride and dilation must be positive, padding non-negative")
    out_h = window_output_size(height, kernel[0], stride[0], top, bottom, dilation[0], ceil_mode)
    out_w = window_output_size(width, kernel[1], stride[1], left, right, dilation[1], ceil_mode)
    if out_h < 1 or out_w < 1:
        raise UserError(
            f"layer {layer.name!r}: kernel {kernel} (dilation {dilation}) is larger than its padded input "
            f"{height + top + bottom}x{width + left + right}; check the model's geometry"
        )
    return (channels, out_h, out_w)


def _conv(layer: Conv2d, shapes: Sequence[Shape]) -> Shape:
    shape = _feature_map(layer, shapes[0])
    out_ch, in_per_group = layer.weight.values.shape[:2]
    if layer.groups < 1 or out_ch % layer.groups or shape[0] != in_per_group * layer.groups:
        raise UserError(
            f"layer {layer.name!r}: input has {shape[0]} channels but weight {layer.weight.values.shape} with "
            f"groups={layer.groups} expects {in_per_group * layer.groups}"
        )
    return _window_shape(layer, shape, out_ch, layer.kernel, layer.stride, layer.padding, layer.dilation)


def _conv_transpose(layer: ConvTranspose2d, shapes: Sequence[Shape]) -> Shape:
    channels, height, width = _feature_map(layer, shapes[0])
    in_ch, out_ch = layer.weight.values.shape[:2]
    if channels != in_ch:
        raise UserError(f"layer {layer.name!r}: input has {channels} channels but weight {layer.weight.values.shape} "
                        f"expects {in_ch}")
    return (int(out_ch), height * layer.block[0], width * layer.block[1])


def _dense(layer: Dense, shapes: Sequence[Shape]) -> Shape:
    out_features, in_features = layer.weight.values.shape
    if shapes[0] != (in_features,):
        raise UserError(
            f"layer {layer.name!r}: dense weight expects a vector of {in_features} but the input has shape {shapes[0]}"
        )
    return (int(out_features),)


def _per_channel(layer: Layer, shapes: Sequence[Shape], channels: int) -> Shape:
    if not shapes[0] or shapes[0][0] != channels:
        raise UserError(f"layer {layer.name!r}: {channels} per-channel parameters for an input of shape {shapes[0]}")
    return shapes[0]


def _max_pool(layer: MaxPool, shapes: Sequence[Shape]) -> Shape:
    shape = _feature_map(layer, shapes[0])
    return _window_shape(
        layer, shape, shape[0], layer.kernel, layer.stride, layer.padding, layer.dilation, layer.ceil_mode
    )


def _avg_pool(layer: AvgPool, shapes: Sequence[Shape]) -> Shape:
    shape = _feature_map(layer, shapes[0])
    return _window_shape(layer, shape, shape[0], layer.kernel, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)


def _add(layer: Add, shapes: Sequence[Shape]) -> Shape:
    if len(shapes) < 2 or any(s != shapes[0] for s in shapes):
        raise UserError(f"layer {layer.name!r}: Add needs two or more inputs of one shape, got {list(shapes)}")
    return shapes[0]


def _concat(layer: Concat, shapes: Sequence[Shape]) -> Shape:
    if not shapes or any(len(s) != len(shapes[0]) or s[1:] != shapes[0][1:] for s in shapes):
        raise UserError(f"layer {layer.name!r}: Concat inputs differ beyond the channel axis: {list(shapes)}")
    return (sum(s[0] for s in shapes), *shapes[0][1:])


def _channel_permute(layer: ChannelPermute, shapes: Sequence[Shape]) -> Shape:
    shape = _feature_map(layer, shapes[0])
    if sorted(layer.order) != list(range(shape[0])):
        raise UserError(f"layer {layer.name!r}: channel order {list(layer.order)} is not a permutation of {shape[0]} channels")
    return shape


def _upsample(layer: Upsample, shapes: Sequence[Shape]) -> Shape:
    channels, height, width = _feature_map(layer, shapes[0])
    if min(layer.scale) < 1:
        raise UserError(f"layer {layer.name!r}: upsampling factors {layer.scale} must be positive integers")
    return (channels, height * layer.scale[0], width * layer.scale[1])


def _pad(layer: Pad, shapes: Sequence[Shape]) -> Shape:
    channels, height, width = _feature_map(layer, shapes[0])
    top, left, bottom, right = layer.padding
    if min(layer.padding) < 0:
        raise UserError(f"layer {layer.name!r}: negative padding {layer.padding} (cropping) is not supported")
    return (channels, height + top + bottom, width + left + right)


_RULES: dict[type[Layer], Callable[[Layer, Sequence[Shape]], Shape]] = {
    Conv2d: _conv,  # type: ignore[dict-item]
    ConvTranspose2d: _conv_transpose,  # type: ignore[dict-item]
    Dense: _dense,  # type: ignore[dict-item]
    ScaleShift: lambda layer, s: _per_channel(layer, s, layer.scale.values.size),  # type: ignore[attr-defined]
    BatchNorm: lambda layer, s: _per_channel(layer, s, layer.scale.values.size),  # type: ignore[attr-defined]
    MaxPool: _max_pool,  # type: ignore[dict-item]
    AvgPool: _avg_pool,  # type: ignore[dict-item]
    GlobalAvgPool: lambda layer, s: (_feature_map(layer, s[0])[0], 1, 1),
    Add: _add,  # type: ignore[dict-item]
    Concat: _concat,  # type: ignore[dict-item]
    Flatten: lambda layer, s: (math.prod(s[0]),),
    ChannelPermute: _channel_permute,  # type: ignore[dict-item]
    Softmax: lambda layer, s: s[0],
    Relu: lambda layer, s: s[0],
    Pad: _pad,  # type: ignore[dict-item]
    Upsample: _upsample,  # type: ignore[dict-item]
}


def infer_shape(layer: Layer, input_shapes: Sequence[Shape]) -> Shape:
    """The per-sample output shape of `layer` given the shapes of its inputs."""
    rule = _RULES.get(type(layer))
    if rule is None:
        raise TypeError(f"no shape rule for layer type {type(layer).__name__}")
    if len(input_shapes) != len(layer.inputs):
        raise ValueError(f"layer {layer.name!r} has {len(layer.inputs)} inputs but {len(input_shapes)} shapes")
    return tuple(int(d) for d in rule(layer, input_shapes))


def infer_graph_shapes(graph: Graph) -> None:
    """Recompute every layer output's shape in place from the graph inputs' shapes.

    A tensor that already exists keeps its format; only its shape is (re)derived.
    """
    for layer in graph.layers:
        shape = infer_shape(layer, [graph.tensors[name].shape for name in layer.inputs])
        existing = graph.tensors.get(layer.output)
        if existing is None:
            graph.tensors[layer.output] = Tensor(name=layer.output, shape=shape)
        else:
            existing.shape = shape
