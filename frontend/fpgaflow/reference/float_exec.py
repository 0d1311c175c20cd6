"""The float reference executor: the oracle for import and the source of calibration ranges.

It runs every layer type of the IR in float64 on float weights (Weight.values) so that it
matches onnxruntime to a relative 1e-5 on imported models, and it returns every tensor,
not only the outputs, because quantization calibrates each tensor's range from it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import (
    Activated,
    Activation,
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
    Upsample,
    Softmax,
)
from fpgaflow.inputs import check_batch
from fpgaflow.ir.transposed import as_pointwise_conv
from fpgaflow.reference.kernels import (
    avg_pool_counts,
    channel_vector,
    conv2d,
    depth_to_space,
    pad_spatial,
    permute_channels,
    sliding_windows,
    upsample_nearest,
)


def activate(x: np.ndarray, layer: Activated) -> np.ndarray:
    """Apply a layer's activation to float values; LeakyRelu with the true alpha, as onnxruntime does."""
    if layer.activation is Activation.RELU:
        return np.maximum(x, 0.0)
    if layer.activation is Activation.RELU6:
        return np.clip(x, 0.0, 6.0)
    if layer.activation is Activation.LEAKY:
        return np.where(x < 0, layer.alpha * x, x)
    return x


def _values(weight: object) -> np.ndarray:
    return np.asarray(weight.values, dtype=np.float64)  # type: ignore[attr-defined]


def _conv(layer: Conv2d, xs: list[np.ndarray]) -> np.ndarray:
    out = conv2d(xs[0], _values(layer.weight), layer.stride, layer.padding, layer.dilation, layer.groups)
    if layer.bias is not None:
        out = out + channel_vector(_values(layer.bias), out.ndim)
    return activate(out, layer)


def _conv_transpose(layer: ConvTranspose2d, xs: list[np.ndarray]) -> np.ndarray:
    """The equivalent 1x1 conv, then its blocks in place (fpgaflow.ir.transposed)."""
    return depth_to_space(_conv(as_pointwise_conv(layer), xs), layer.block)


def _dense(layer: Dense, xs: list[np.ndarray]) -> np.ndarray:
    x = xs[0].reshape(xs[0].shape[0], -1)
    out = x @ _values(layer.weight).T
    if layer.bias is not None:
        out = out + _values(layer.bias)
    return activate(out, layer)


def _scale_shift(layer: ScaleShift, xs: list[np.ndarray]) -> np.ndarray:
    x = xs[0]
    out = x * channel_vector(_values(layer.scale), x.ndim) + channel_vector(_values(layer.shift), x.ndim)
    return activate(out, layer)


def _max_pool(layer: MaxPool, xs: list[np.ndarray]) -> np.ndarray:
    windows = sliding_windows(xs[0], layer.kernel, layer.stride, layer.padding, layer.dilation, layer.ceil_mode, -np.inf)
    return windows.max(axis=(-2, -1))


def _avg_pool(layer: AvgPool, xs: list[np.ndarray]) -> np.ndarray:
    x = xs[0]
    windows = sliding_windows(x, layer.kernel, layer.stride, layer.padding, ceil_mode=layer.ceil_mode, fill=0.0)
    counts = avg_pool_counts(x.shape[2:], layer.kernel, layer.stride, layer.padding, layer.ceil_mode, layer.count_include_pad)
    return windows.sum(axis=(-2, -1)) / counts


def _global_avg_pool(layer: GlobalAvgPool, xs: list[np.ndarray]) -> np.ndarray:
    return xs[0].mean(axis=(2, 3), keepdims=True)


def _add(layer: Add, xs: list[np.ndarray]) -> np.ndarray:
    return activate(np.sum(xs, axis=0), layer)


def _concat(layer: Concat, xs: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(xs, axis=1)


def _flatten(layer: Flatten, xs: list[np.ndarray]) -> np.ndarray:
    return xs[0].reshape(xs[0].shape[0], -1)


def _softmax(layer: Softmax, xs: list[np.ndarray]) -> np.ndarray:
    """Over the classes, axis 1 of an (N, C) or (N, C, 1, 1) batch."""
    shifted = xs[0] - xs[0].max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _relu(layer: Relu, xs: list[np.ndarray]) -> np.ndarray:
    return activate(xs[0], layer)


def _pad(layer: Pad, xs: list[np.ndarray]) -> np.ndarray:
    return pad_spatial(xs[0], layer.padding, 0.0)


def _batch_norm(layer: BatchNorm, xs: list[np.ndarray]) -> np.ndarray:
    x = xs[0]
    scale = _values(layer.scale) / np.sqrt(_values(layer.var) + layer.epsilon)
    shift = _values(layer.bias) - _values(layer.mean) * scale
    return x * channel_vector(scale, x.ndim) + channel_vector(shift, x.ndim)


FLOAT_KERNELS: dict[type[Layer], Callable[..., np.ndarray]] = {
    Conv2d: _conv,
    ConvTranspose2d: _conv_transpose,
    Dense: _dense,
    ScaleShift: _scale_shift,
    MaxPool: _max_pool,
    AvgPool: _avg_pool,
    GlobalAvgPool: _global_avg_pool,
    Add: _add,
    Concat: _concat,
    Flatten: _flatten,
    ChannelPermute: lambda layer, xs: permute_channels(xs[0], layer.order),
    Upsample: lambda layer, xs: upsample_nearest(xs[0], layer.scale),
    Softmax: _softmax,
    Relu: _relu,
    Pad: _pad,
    BatchNorm: _batch_norm,
}


def run_float(graph: Graph, x: np.ndarray) -> dict[str, np.ndarray]:
    """Run the graph in float64 on a batch x of shape (N, *input shape); every tensor by name."""
    x = np.asarray(x, dtype=np.float64)
    check_batch(graph, x, "the input batch")
    tensors: dict[str, np.ndarray] = {graph.inputs[0]: x}
    for layer in graph.layers:
        kernel = FLOAT_KERNELS[type(layer)]
        tensors[layer.output] = kernel(layer, [tensors[name] for name in layer.inputs])
    return tensors
