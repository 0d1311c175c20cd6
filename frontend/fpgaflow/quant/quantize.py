"""Quantize a float IR graph: a format on every tensor, codes on every weight, accumulator and reciprocal formats.

Ranges come from the float reference run on a calibration batch; the choice of each
format is in fpgaflow.quant.formats; the rules are docs/fixed-point.md. The input graph
is left untouched: quantize returns a new one.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.fixed import MAX_WIDTH, SLOPE_BITS, FixedType, average_division, divides_by_shift
from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import (
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
    Softmax,
    Upsample,
    Weight,
)
from fpgaflow.ir.sparsity import classify_sparsity
from fpgaflow.ir.transposed import pointwise_rows
from fpgaflow.quant.widths import LayerWidths, check_widths_for_graph
from fpgaflow.quant.given import (
    check_given_bias,
    check_same_format,
    given_weight_codes,
    offset_bias,
    rounding_offsets,
    rounds_into,
)
from fpgaflow.quant.formats import (
    accumulator_format,
    bias_codes,
    channel_codes,
    channel_weight_format,
    dot_product_range,
    fit_format,
    reciprocal_format,
    weight_format,
    widest_bits,
)
from fpgaflow.reference.fixed_exec import avg_pool_count, global_pool_count
from fpgaflow.inputs import check_batch
from fpgaflow.reference.float_exec import run_float

MIN_BITS = 2
MAX_BITS = widest_bits(MIN_BITS)
"""30: two products of 31-bit codes already need a 63-bit accumulator (fpgaflow.fixed.MAX_WIDTH is 62)."""

SAME_TYPE_LAYERS = (MaxPool, Flatten, Pad, Relu, ChannelPermute, Upsample)
"""Layers whose output codes are in the input's format (they move or clamp codes, never rescale)."""


class _Quantizer:
    """Walks the layers in order, giving each output tensor a format from its calibrated range."""

    def __init__(self, graph: Graph, floats: Mapping[str, np.ndarray], bits: int,
                 widths: Mapping[str, LayerWidths] | None = None) -> None:
        self.graph = graph
        self.floats = floats
        self.bits = bits
        self.widths = widths or {}
        self.non_negative: set[str] = set()
        self.output_bits = {layer.output: self._width(layer.name, "activation_bits") for layer in graph.layers}

    def _width(self, layer: str, key: str) -> int:
        """The layer's own width for `key` (fpgaflow.quant.widths), else the default bits."""
        chosen = getattr(self.widths.get(layer, LayerWidths()), key)
        return self.bits if chosen is None else chosen

    def fmt(self, tensor: str) -> FixedType:
        fmt = self.graph.tensors[tensor].ftype
        assert fmt is not None
        return fmt

    def observe(self, tensor: str, non_negative: bool) -> None:
        """Format of a tensor from its calibrated extremes; unsigned when it is known >= 0.
        A format the model fixes (Tensor.given) is kept instead."""
        given = self.graph.tensors[tensor].given
        if given is not None:
            if non_negative or not given.signed:
                self.non_negative.add(tensor)
            self.graph.tensors[tensor].ftype = given
            return
        values = self.floats[tensor]
        if non_negative:
            self.non_negative.add(tensor)
        lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        bits = self.output_bits.get(tensor, self.bits)
        self.graph.tensors[tensor].ftype = fit_format(lo, hi, bits, signed=not non_negative)

    def run(self) -> None:
        self.observe(self.graph.inputs[0], non_negative=False)
        for layer in self.graph.layers:
            self.layer(layer)

    def layer(self, layer: Layer) -> None:
        inputs_non_negative = all(name in self.non_negative for name in layer.inputs)
        if isinstance(layer, (Conv2d, Dense)):
            self.weighted(layer, layer.weight, layer.bias)
            if layer.weight.codes is not None:
                groups = layer.groups if isinstance(layer, Conv2d) else 1
                layer.weight.sparsity = classify_sparsity(layer.weight.codes, groups)
        elif isinstance(layer, ScaleShift):
            self.weighted(layer, layer.scale, layer.shift)
        elif isinstance(layer, ConvTranspose2d):
            self.weighted(layer, layer.weight, layer.bias)
        elif isinstance(layer, SAME_TYPE_LAYERS):
            check_same_format(self.graph.tensors[layer.output], self.fmt(layer.inputs[0]), f"layer {layer.name!r}")
            self.graph.tensors[layer.output].ftype = self.fmt(layer.inputs[0])
            if inputs_non_negative or (isinstance(layer, Relu) and layer.clamps_negative):
                self.non_negative.add(layer.output)
        elif isinstance(layer, (AvgPool, GlobalAvgPool)):
            self.average(layer, inputs_non_negative)
        elif isinstance(layer, Add):
            self.aligned_inputs(layer)
            self.observe(layer.output, inputs_non_negative or layer.clamps_negative)
        elif isinstance(layer, (Concat, Softmax)):
            self.aligned_inputs(layer)
            self.observe(layer.output, inputs_non_negative or isinstance(layer, Softmax))
        else:
            raise UserError(f"layer {layer.name!r} ({layer.OP}) cannot be quantized; fold it with the import passes first")

    def aligned_inputs(self, layer: Add | Concat | Softmax) -> None:
        """Inputs requantized to the output format round only when finer: a given rounding must allow it."""
        rounds_into(self.graph.tensors[layer.output], [self.fmt(name).frac for name in layer.inputs], f"layer {layer.name!r}")

    def weighted(self, layer: Conv2d | ConvTranspose2d | Dense | ScaleShift, weight: Weight, bias: Weight | None) -> None:
        """Weights, bias at F_acc = F_in + F_w, accumulator from the worst-case sums, output format."""
        in_type = self.fmt(layer.inputs[0])
        weight_bits = self._width(layer.name, "weight_bits")
        if weight.given is not None:
            weight.ftype, weight.channel_frac = weight.given, None
            weight.codes = given_weight_codes(weight, f"layer {layer.name!r}")
        else:
            if isinstance(layer, ScaleShift):
                weight.ftype, weight.channel_frac = channel_weight_format(weight.values, weight_bits)
            else:
                weight.ftype, weight.channel_frac = weight_format(weight.values, weight_bits), None
            weight.codes = channel_codes(weight.values, weight.ftype, weight.channel_frac)
        acc_frac = in_type.frac + weight.ftype.frac
        if bias is not None:
            check_given_bias(bias, acc_frac, f"layer {layer.name!r}")
            per_channel = weight.channel_frac is not None
            bias.ftype, bias.codes = bias_codes(bias.values, weight.acc_fracs(acc_frac) if per_channel else acc_frac)
            bias.channel_frac = weight.acc_fracs(acc_frac) if per_channel else None
        channels = self.graph.tensors[layer.output].shape[0]
        acc_fracs = np.full(channels, acc_frac) if weight.channel_frac is None else weight.acc_fracs(acc_frac)
        offsets = rounding_offsets(layer, self.graph.tensors[layer.output], acc_fracs)
        if offsets is not None:
            bias = offset_bias(bias, offsets, acc_frac, len(offsets))
            if isinstance(layer, ScaleShift):
                layer.shift = bias
            else:
                layer.bias = bias
        bias_code = None if bias is None else bias.codes
        rows = weight.codes.reshape(weight.codes.shape[0], -1)
        if isinstance(layer, ConvTranspose2d):  # the rows of its 1x1 conv (fpgaflow.ir.transposed)
            rows = pointwise_rows(weight.codes).reshape(-1, weight.codes.shape[0])
            bias_code = None if bias_code is None else np.tile(bias_code, layer.block[0] * layer.block[1])
        lo, hi = dot_product_range(rows, in_type, bias_code)
        try:
            layer.acc = accumulator_format(int(min(lo, default=0)), int(max(hi, default=0)), acc_frac)
        except ValueError as exc:
            raise UserError(f"layer {layer.name!r}: {exc}; quantize with fewer bits") from exc
        if layer.activation is Activation.LEAKY and layer.acc.width + SLOPE_BITS > MAX_WIDTH:
            raise UserError(f"layer {layer.name!r}: its {layer.acc.width}-bit accumulator times the LeakyRelu slope code "
                            f"needs more than {MAX_WIDTH} bits; quantize with fewer bits")
        self.observe(layer.output, layer.clamps_negative)

    def average(self, layer: AvgPool | GlobalAvgPool, non_negative: bool) -> None:
        """Output format, and the reciprocal when the count is not a power of two."""
        shape_hw = self.graph.tensors[layer.inputs[0]].shape[1:]
        count = avg_pool_count(layer, shape_hw) if isinstance(layer, AvgPool) else global_pool_count(shape_hw)
        layer.reciprocal = None if divides_by_shift(count) else reciprocal_format(count)[0]
        exact_frac = self.fmt(layer.inputs[0]).frac + average_division(count, layer.reciprocal)[1]
        rounds_into(self.graph.tensors[layer.output], [exact_frac], f"layer {layer.name!r}")
        self.observe(layer.output, non_negative)


def needs_calibration(graph: Graph) -> bool:
    """Whether some tensor's format comes from calibration: one the model does not fix (Tensor.given)
    and that does not keep its producer's input format."""
    return any(tensor.given is None and not isinstance(graph.producer(name), SAME_TYPE_LAYERS)
               for name, tensor in graph.tensors.items())


def quantize(graph: Graph, calibration: np.ndarray, bits: int = 8, widths: Mapping[str, LayerWidths] | None = None) -> Graph:
    """A quantized copy of `graph`, its formats calibrated on the float batch `calibration` (N, *input shape).

    `widths` sets some layers' weight and activation widths (fpgaflow.quant.widths); every
    other width, and the graph input's, is `bits`.
    """
    _check_bits(bits)
    return quantize_calibrated(graph, calibration_ranges(graph, calibration), bits, widths)


def _check_bits(bits: int) -> None:
    if not MIN_BITS <= bits <= MAX_BITS:
        raise UserError(f"cannot quantize to {bits} bits; choose a width from {MIN_BITS} to {MAX_BITS}")


def calibration_ranges(graph: Graph, calibration: np.ndarray) -> dict[str, np.ndarray]:
    """The float tensors of the calibration batch that every format is fitted to (computed once, reusable)."""
    calibration = np.asarray(calibration, dtype=np.float64)
    check_batch(graph, calibration, "the calibration data")
    if calibration.shape[0] == 0 or not np.all(np.isfinite(calibration)):
        raise UserError("the calibration data must hold at least one sample and only finite values")
    return run_float(graph, calibration)


def quantize_calibrated(graph: Graph, floats: Mapping[str, np.ndarray], bits: int = 8,
                        widths: Mapping[str, LayerWidths] | None = None) -> Graph:
    """quantize on the float tensors of `calibration_ranges`: what a width search calls many times."""
    _check_bits(bits)
    if widths:
        check_widths_for_graph(widths, graph, "the per-layer widths")
    quantized = copy.deepcopy(graph)
    _Quantizer(quantized, floats, bits, widths).run()
    return quantized
