"""The bit-accurate reference: integer codes in, integer codes out, the oracle for RTL and HLS.

Every step follows docs/fixed-point.md with int64 numpy arithmetic and the helpers of
fpgaflow.fixed. One deliberate exception, for speed: the dot products of Conv2d and
Dense run as a float64 (or float32) matrix product when it is provably exact. Every operand is an
integer code, so every product and every partial sum is an integer; its magnitude is at
most the layer's L1 bound max_o sum_k |w[o, k]| * max|x code|. float64 represents every
integer of magnitude <= 2^53 exactly, and the sum (or the fused multiply-add) of two
such integers whose exact result is also <= 2^53 in magnitude is computed exactly, in
whatever order BLAS adds them. So when the L1 bound is <= 2^53 the float64 result,
converted back to int64, is the exact integer dot product; by the same argument with
24 mantissa bits, float32 is exact when the bound is <= 2^24 (early layers, few taps). The bound is computed per layer
from its codes; otherwise the same kernels run on int64 arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fpgaflow import fixed
from fpgaflow.errors import UserError
from fpgaflow.fixed import FixedType
from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import (
    Activated,
    Activation,
    Add,
    AvgPool,
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
    Weight,
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

EXACT_FLOAT_LIMITS = ((np.float32, 1 << 24), (np.float64, 1 << 53))
"""Integers up to 2^(mantissa bits + 1), and sums of them that stay that small, are exact in each float type."""


def activate(codes: np.ndarray, activation: Activation, out: FixedType) -> np.ndarray:
    """Fused activation on output codes: ReLU clamps at 0, ReLU6 also at the code of 6.0."""
    if activation is Activation.NONE:
        return codes
    codes = fixed.relu(codes)
    if activation is Activation.RELU6:
        codes = np.minimum(codes, fixed.relu6_ceiling(out))
    return codes


def finish(acc: np.ndarray, acc_frac: int, out: FixedType, activation: Activation, alpha: float = 0.0) -> np.ndarray:
    """Accumulator to output codes: round half up and saturate (fixed.requantize), then the activation.

    LeakyRelu (slope alpha) scales negative accumulators before the one rounding
    (fixed.leaky_requantize).
    """
    if activation is Activation.LEAKY:
        return fixed.leaky_requantize(acc, acc_frac, out, alpha)
    return activate(fixed.requantize(acc, acc_frac, out), activation, out)


def channel_groups(acc_frac: int | np.ndarray) -> list[tuple[int, np.ndarray | slice]]:
    """(F_acc, the channels at it along axis 1): one F for all, or per channel (per-channel weight formats)."""
    fracs = np.asarray(acc_frac, dtype=np.int64)
    if fracs.ndim == 0 or fracs.size == 0 or np.all(fracs == fracs.flat[0]):
        return [(int(fracs.flat[0]) if fracs.size else 0, slice(None))]
    return [(int(frac), fracs == frac) for frac in np.unique(fracs)]


def finish_channels(acc: np.ndarray, acc_frac: int | np.ndarray, out: FixedType, activation: Activation,
                    alpha: float = 0.0) -> np.ndarray:
    """`finish` of (N, C, ...) accumulators, channel c from acc_frac[c] when acc_frac is an array."""
    codes = np.empty_like(np.asarray(acc, dtype=np.int64))
    for frac, channels in channel_groups(acc_frac):
        codes[:, channels] = finish(acc[:, channels], frac, out, activation, alpha)
    return codes


def saturated_count(acc: np.ndarray, acc_frac: int, out: FixedType, activation: Activation, alpha: float = 0.0) -> int:
    """How many results of `finish` the output format clipped.

    A value counts when its exact result (the activation applied to the rescaled value
    before saturation, ReLU6 at the unsaturated code of 6.0) lies outside `out`: a
    negative value that ReLU zeroes anyway does not count, nor does one above 6.0 under ReLU6.
    """
    if activation is Activation.LEAKY:
        return out.count_outside(fixed.leaky_rescaled(acc, acc_frac, out.frac, alpha))
    exact = fixed.shift_round(acc, acc_frac - out.frac)
    if activation is not Activation.NONE:
        exact = np.maximum(exact, 0)
    if activation is Activation.RELU6:
        exact = np.minimum(exact, int(out.round(np.array(6.0))))
    return out.count_outside(exact)


@dataclass
class FixedRun:
    """run_fixed's result with, per layer that requantizes, how many of its output values saturated."""

    tensors: dict[str, np.ndarray]
    saturated: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Saturation:
    """Values beyond the calibrated ranges in one run: at the input's quantization and per layer."""

    input: int
    layers: dict[str, int]

    def to_dict(self) -> dict[str, object]:
        """The `saturated` object of report.json's `verify`: the input's count and the layers' nonzero counts."""
        return {"input": self.input, "layers": {name: count for name, count in self.layers.items() if count}}

    def warning(self) -> str | None:
        """Where values saturated, with counts (the caller adds what to do), or None when nothing did."""
        parts = ([f"input {self.input}"] if self.input else []) + [f"{name} {n}" for name, n in self.layers.items() if n]
        if not parts:
            return None
        return f"values beyond the calibrated range saturated ({', '.join(parts)})"


def _codes(weight: Weight) -> np.ndarray:
    if weight.codes is None or weight.ftype is None:
        raise UserError("the graph is not quantized (a weight has no codes); run quantize first")
    return np.asarray(weight.codes, dtype=np.int64)


def exact_float_type(weight_codes: np.ndarray, input_type: FixedType) -> type[np.floating] | None:
    """The narrowest float type whose matrix product is exact for this layer (module docstring), or None."""
    rows = np.abs(weight_codes.reshape(weight_codes.shape[0], -1)).sum(axis=1)
    bound = int(rows.max(initial=0)) * max(-input_type.min_code, input_type.max_code)
    for dtype, limit in EXACT_FLOAT_LIMITS:
        if bound <= limit:
            return dtype
    return None


def avg_pool_count(layer: AvgPool, shape_hw: tuple[int, ...]) -> int:
    """The one divisor of an average pool; UserError when it varies between windows.

    Hardware divides every window by the same count (one reciprocal); padding that does
    not count, or a ceil_mode overhang, would need a count per position.
    """
    counts = avg_pool_counts(tuple(shape_hw), layer.kernel, layer.stride, layer.padding,  # type: ignore[arg-type]
                             layer.ceil_mode, layer.count_include_pad)
    if counts.min() != counts.max():
        raise UserError(f"average pool {layer.name!r} divides by a count that varies with position, not supported in "
                        "hardware; re-export with count_include_pad=1 and ceil_mode=0")
    return int(counts.flat[0])


def global_pool_count(shape_hw: tuple[int, ...]) -> int:
    """The divisor of a global average pool: every position of the map."""
    return int(np.prod(shape_hw))


class FixedExecutor:
    """Runs a quantized graph on int64 codes; exact_float=False forces the pure int64 dot products."""

    def __init__(self, graph: Graph, exact_float: bool = True) -> None:
        if not graph.is_quantized:
            raise UserError(f"graph {graph.name!r} is not quantized; run quantize (fpgaflow.quant.quantize) first")
        self.graph = graph
        self.exact_float = exact_float
        self.saturated: dict[str, int] = {}
        self.kernels: dict[type[Layer], Callable[..., np.ndarray]] = {
            Conv2d: self._conv,
            ConvTranspose2d: self._conv_transpose,
            Dense: self._dense,
            ScaleShift: self._scale_shift,
            MaxPool: self._max_pool,
            AvgPool: self._avg_pool,
            GlobalAvgPool: self._global_avg_pool,
            Add: self._add,
            Concat: self._concat,
            Flatten: self._flatten,
            ChannelPermute: lambda layer, xs: permute_channels(xs[0], layer.order),
            Upsample: lambda layer, xs: upsample_nearest(xs[0], layer.scale),
            Relu: self._relu,
            Pad: self._pad,
        }

    def ftype(self, tensor: str) -> FixedType:
        fmt = self.graph.tensors[tensor].ftype
        assert fmt is not None
        return fmt

    def _finish(self, layer: Layer, acc: np.ndarray, acc_frac: int | np.ndarray) -> np.ndarray:
        """`finish_channels` to the layer's output format with its activation, counting what saturates in self.saturated."""
        out = self.ftype(layer.output)
        activation = layer.activation if isinstance(layer, Activated) else Activation.NONE
        alpha = layer.alpha if isinstance(layer, Activated) else 0.0
        count = sum(saturated_count(acc[:, channels], frac, out, activation, alpha) for frac, channels in channel_groups(acc_frac))
        self.saturated[layer.name] = self.saturated.get(layer.name, 0) + count
        return finish_channels(acc, acc_frac, out, activation, alpha)

    def run(self, codes: np.ndarray) -> dict[str, np.ndarray]:
        check_batch(self.graph, codes, "the input codes")
        name = self.graph.inputs[0]
        if not np.issubdtype(codes.dtype, np.integer) or not self.ftype(name).contains(codes):
            raise UserError(f"input codes must be integers inside {self.ftype(name)}; use quantize_input to convert floats")
        tensors: dict[str, np.ndarray] = {name: codes.astype(np.int64)}
        self.saturated = {}
        for layer in self.graph.hardware_layers:
            kernel = self.kernels.get(type(layer))
            if kernel is None:
                raise UserError(f"layer {layer.name!r} ({layer.OP}) has no fixed-point form; fold it with the import passes first")
            tensors[layer.output] = kernel(layer, [tensors[t] for t in layer.inputs])
        return tensors

    def _dot(self, weight: Weight, input_type: FixedType, product: Callable[[np.ndarray, np.ndarray], np.ndarray],
             x: np.ndarray) -> np.ndarray:
        """An integer dot product `product(x, w)`, in float32 or float64 when that is exact, else in int64."""
        w = _codes(weight)
        dtype = exact_float_type(w, input_type) if self.exact_float else None
        if dtype is not None:
            return product(x.astype(dtype), w.astype(dtype)).astype(np.int64)
        return product(x, w)

    def _bias(self, acc: np.ndarray, bias: Weight | None) -> np.ndarray:
        return acc if bias is None else acc + channel_vector(_codes(bias), acc.ndim)

    def _conv(self, layer: Conv2d, xs: list[np.ndarray]) -> np.ndarray:
        assert layer.acc is not None
        acc = self._dot(layer.weight, self.ftype(layer.inputs[0]),
                        lambda x, w: conv2d(x, w, layer.stride, layer.padding, layer.dilation, layer.groups), xs[0])
        return self._finish(layer, self._bias(acc, layer.bias), layer.weight.acc_fracs(layer.acc.frac))

    def _conv_transpose(self, layer: ConvTranspose2d, xs: list[np.ndarray]) -> np.ndarray:
        """The equivalent 1x1 conv (same name, accumulator and activation), then its blocks in place."""
        return depth_to_space(self._conv(as_pointwise_conv(layer), xs), layer.block)

    def _dense(self, layer: Dense, xs: list[np.ndarray]) -> np.ndarray:
        assert layer.acc is not None
        x = xs[0].reshape(xs[0].shape[0], -1)
        acc = self._dot(layer.weight, self.ftype(layer.inputs[0]), lambda a, w: a @ w.T, x)
        return self._finish(layer, self._bias(acc, layer.bias), layer.weight.acc_fracs(layer.acc.frac))

    def _scale_shift(self, layer: ScaleShift, xs: list[np.ndarray]) -> np.ndarray:
        assert layer.acc is not None
        x = xs[0]
        acc = x * channel_vector(_codes(layer.scale), x.ndim) + channel_vector(_codes(layer.shift), x.ndim)
        return self._finish(layer, acc, layer.scale.acc_fracs(layer.acc.frac))

    def _max_pool(self, layer: MaxPool, xs: list[np.ndarray]) -> np.ndarray:
        lowest = np.iinfo(np.int64).min
        windows = sliding_windows(xs[0], layer.kernel, layer.stride, layer.padding, layer.dilation, layer.ceil_mode, lowest)
        return windows.max(axis=(-2, -1))

    def _average(self, layer: AvgPool | GlobalAvgPool, sums: np.ndarray, count: int) -> np.ndarray:
        """Window sums to mean codes: shift by log2(count) for a power of two, else times the reciprocal."""
        code, frac = fixed.average_division(count, layer.reciprocal)
        return self._finish(layer, sums * np.int64(code), frac + self.ftype(layer.inputs[0]).frac)

    def _avg_pool(self, layer: AvgPool, xs: list[np.ndarray]) -> np.ndarray:
        x = xs[0]
        count = avg_pool_count(layer, x.shape[2:])
        sums = sliding_windows(x, layer.kernel, layer.stride, layer.padding, ceil_mode=layer.ceil_mode, fill=0).sum(axis=(-2, -1))
        return self._average(layer, sums, count)

    def _global_avg_pool(self, layer: GlobalAvgPool, xs: list[np.ndarray]) -> np.ndarray:
        x = xs[0]
        sums = x.sum(axis=(2, 3), keepdims=True)
        return self._average(layer, sums, global_pool_count(x.shape[2:]))

    def _add(self, layer: Add, xs: list[np.ndarray]) -> np.ndarray:
        fracs = [self.ftype(name).frac for name in layer.inputs]
        common = max(fracs)
        total = sum(fixed.shift_round(x, frac - common) for x, frac in zip(xs, fracs))
        return self._finish(layer, np.asarray(total), common)

    def _concat(self, layer: Concat, xs: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([self._finish(layer, x, self.ftype(name).frac) for x, name in zip(xs, layer.inputs)], axis=1)

    def _flatten(self, layer: Flatten, xs: list[np.ndarray]) -> np.ndarray:
        return xs[0].reshape(xs[0].shape[0], -1)

    def _relu(self, layer: Relu, xs: list[np.ndarray]) -> np.ndarray:
        if layer.activation is Activation.LEAKY:  # the input at its own format, requantized to the same one
            return self._finish(layer, xs[0], self.ftype(layer.inputs[0]).frac)
        return activate(xs[0], layer.activation, self.ftype(layer.output))

    def _pad(self, layer: Pad, xs: list[np.ndarray]) -> np.ndarray:
        return pad_spatial(xs[0], layer.padding, 0)


def run_fixed(graph: Graph, codes: np.ndarray, *, exact_float: bool = True) -> dict[str, np.ndarray]:
    """Run a quantized graph on a batch of input codes (N, *input shape); int64 codes of every hardware tensor.

    The dict holds every intermediate tensor; pass it to fpgaflow.reference.trace.dump_trace
    to write them with their formats. exact_float=False disables the exact float64 GEMM
    (for testing it against int64).
    """
    return run_fixed_counted(graph, codes, exact_float=exact_float).tensors


def run_fixed_counted(graph: Graph, codes: np.ndarray, *, exact_float: bool = True) -> FixedRun:
    """run_fixed, with the count of saturated output values of every layer that requantizes."""
    executor = FixedExecutor(graph, exact_float)
    tensors = executor.run(np.asarray(codes))
    return FixedRun(tensors, executor.saturated)


def quantize_input(graph: Graph, x: np.ndarray) -> np.ndarray:
    """Float input batch to the codes of the graph's input format (round half up, saturate)."""
    return quantize_input_counted(graph, x)[0]


def quantize_input_counted(graph: Graph, x: np.ndarray) -> tuple[np.ndarray, int]:
    """quantize_input, with how many input values lay beyond the format and saturated."""
    x = np.asarray(x, dtype=np.float64)
    check_batch(graph, x, "the input batch")
    fmt = graph.tensors[graph.inputs[0]].ftype
    if fmt is None:
        raise UserError(f"graph {graph.name!r} is not quantized; run quantize (fpgaflow.quant.quantize) first")
    rounded = fmt.round(x)
    return fmt.saturate(rounded), fmt.count_outside(rounded)
