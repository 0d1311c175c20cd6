"""Each hardware layer as the HLS templates need it: the kernel, its constants, its arrays, its streams.

Everything numeric is derived here from the quantized IR with the project's own rules
(formats from the tensors, accumulator fractional bits from `Weight.acc_fracs`, the window
index of `fpgaflow.flow.weight_rom`, the pool divisors of the reference); the templates in
hls_templates/ only spell it in C++. Weight arrays hold the nonzero weights only, output
channel after output channel, with their window indices and the end of each channel's run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.fixed import FixedType, bits_for_range, leaky_slope, relu6_ceiling
from fpgaflow.flow.weight_rom import ACTIVATION_CODES, conv_window_index, dense_window_index, window_layout
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
)
from fpgaflow.ir.transposed import as_pointwise_conv
from fpgaflow.reference.fixed_exec import avg_pool_count, global_pool_count

SUPPORTED_OPS = ("Conv2d", "ConvTranspose2d", "Dense", "ScaleShift", "Relu", "MaxPool", "AvgPool", "GlobalAvgPool", "Add",
                 "Concat", "Flatten", "ChannelPermute", "Upsample", "Pad")


@dataclass(frozen=True)
class StreamType:
    """A tensor's stream: pixels of `channels` codes of one format, `pixels` of them per frame."""

    ftype: FixedType
    channels: int
    pixels: int

    @property
    def code_type(self) -> str:
        return f"ap_{'' if self.ftype.signed else 'u'}int<{self.ftype.width}>"


@dataclass(frozen=True)
class HlsArray:
    """A constant array of a layer function: its C++ element type, values, and how HLS stores it."""

    name: str
    ctype: str
    values: tuple[int, ...]
    partition: int = 1
    """Cyclic partition factor (P for the arrays the P lanes read in one cycle)."""
    rom: bool = True

    @property
    def bits(self) -> int:
        """Storage bits: elements times the element type's width."""
        return len(self.values) * int(self.ctype.split("<")[1].rstrip(">"))


@dataclass
class HlsLayer:
    """One generated layer function."""

    name: str
    kind: str
    inputs: list[str]
    output: str
    consts: dict[str, int] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    arrays: list[HlsArray] = field(default_factory=list)
    parts: list[dict[str, int | str]] = field(default_factory=list)
    """Per input of an Add or Concat: its tensor, and its shift (Add) or channel offset (Concat)."""
    lanes: int = 1
    ir_layer: str = ""
    """The IR layer this function computes (a ConvTranspose2d becomes two functions); its name when empty."""

    @property
    def layer_name(self) -> str:
        return self.ir_layer or self.name


def stream_type(graph: Graph, tensor: str) -> StreamType:
    """A tensor's stream as the DMA packing sees it: (C, H, W) is H*W pixels of C, (N,) one pixel of N."""
    info = graph.tensors[tensor]
    assert info.ftype is not None, f"tensor {tensor} has no format"
    shape = tuple(info.shape)
    if len(shape) == 3:
        return StreamType(info.ftype, int(shape[0]), int(shape[1] * shape[2]))
    return StreamType(info.ftype, int(np.prod(shape)), 1)


def _code(fmt: FixedType) -> str:
    return f"ap_{'' if fmt.signed else 'u'}int<{fmt.width}>"


def _signed_bits(lo: int, hi: int) -> int:
    """Width of a signed ap_int holding [lo, hi]."""
    signed, width = bits_for_range(min(lo, -1), hi)
    return width


def _finish_consts(out: FixedType, activation: Activation = Activation.NONE, alpha: float = 0.0) -> dict[str, int]:
    slope_code, slope_frac = leaky_slope(alpha) if activation is Activation.LEAKY else (0, 0)
    return {
        "OUT_W": out.width,
        "OUT_F": out.frac,
        "OUT_S": int(out.signed),
        "ACT": ACTIVATION_CODES[activation],
        "RELU6_MAX": relu6_ceiling(out) if activation is Activation.RELU6 else 0,
        "SLOPE_CODE": slope_code,
        "SLOPE_F": slope_frac,
    }


def _activation(layer: Layer) -> tuple[Activation, float]:
    return (layer.activation, layer.alpha) if isinstance(layer, Activated) else (Activation.NONE, 0.0)


def _window_consts(in_shape: tuple[int, ...], out_shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int],
                   padding: tuple[int, int, int, int], dilation: tuple[int, int]) -> dict[str, int]:
    """The line buffer's geometry: the padded image (with any ceil_mode overhang) and the window span."""
    channels, height, width = in_shape
    top, left, bottom, right = padding
    span_h, span_w = dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1
    out_h, out_w = out_shape[1], out_shape[2]
    return {
        "C": channels, "H": height, "W": width, "KH": kernel[0], "KW": kernel[1], "SH": stride[0], "SW": stride[1],
        "DH": dilation[0], "DW": dilation[1], "PT": top, "PL": left, "OH": out_h, "OW": out_w,
        "SPAN_H": span_h, "SPAN_W": span_w,
        "PH": max(height + top + bottom, (out_h - 1) * stride[0] + span_h),
        "PW": max(width + left + right, (out_w - 1) * stride[1] + span_w),
    }


def _sparse_arrays(name: str, codes2: np.ndarray, index2: np.ndarray, bias: np.ndarray, fmt: FixedType, acc_width: int,
                   window: int, lanes: int) -> tuple[list[HlsArray], dict[str, int], dict[str, str]]:
    """Nonzero weights row by row with their window indices, the end of every row's run, the bias codes."""
    mask = codes2 != 0
    weights = codes2[mask]
    indices = index2[mask]
    ends = np.cumsum(mask.sum(axis=1))
    steps = int(max((-(-int(n) // lanes) for n in mask.sum(axis=1)), default=1))
    index_bits = max(1, (window - 1).bit_length())
    end_bits = max(1, int(ends[-1] if ends.size else 0).bit_length())
    # An empty layer keeps one zero entry so every array has an element (C++ forbids size 0).
    arrays = [
        HlsArray(f"{name}_w", f"ap_int<{fmt.width}>", tuple(int(v) for v in weights) or (0,), lanes),
        HlsArray(f"{name}_idx", f"ap_uint<{index_bits}>", tuple(int(v) for v in indices) or (0,), lanes),
        HlsArray(f"{name}_end", f"ap_uint<{end_bits}>", tuple(int(v) for v in ends)),
        HlsArray(f"{name}_bias", f"ap_int<{acc_width}>", tuple(int(v) for v in bias)),
    ]
    types = {"w_t": f"ap_int<{fmt.width}>", "idx_t": f"ap_uint<{index_bits}>", "end_t": f"ap_uint<{end_bits}>",
             "acc_t": f"ap_int<{acc_width}>"}
    return arrays, {"NNZ": int(weights.size), "MAX_STEPS": max(1, steps), "WIN_N": window, "P": lanes}, types


def _acc_width(codes2: np.ndarray, bias: np.ndarray, in_fmt: FixedType, quantized: FixedType | None) -> int:
    """The accumulator's width: the quantizer's, and never less than any input could need (no wrap)."""
    largest = max(abs(in_fmt.min_code), abs(in_fmt.max_code))
    worst = int((np.abs(codes2).sum(axis=1) * largest + np.abs(bias)).max(initial=0))
    return max(quantized.width if quantized is not None else 2, worst.bit_length() + 1)


def _compute(graph: Graph, layer: Conv2d | Dense, lanes: int, stream_in: StreamType, in_tensor: str,
             out_tensor: str, out_fmt: FixedType, in_shape: tuple[int, ...]) -> HlsLayer:
    in_fmt = stream_in.ftype
    assert layer.weight.codes is not None and layer.weight.ftype is not None and layer.acc is not None
    codes = np.asarray(layer.weight.codes, dtype=np.int64)
    out_channels = codes.shape[0]
    codes2 = codes.reshape(out_channels, -1)
    bias = np.zeros(out_channels, dtype=np.int64) if layer.bias is None else np.asarray(layer.bias.codes, dtype=np.int64)
    acc_width = _acc_width(codes2, bias, in_fmt, layer.acc)
    activation, alpha = _activation(layer)
    consts = {**_finish_consts(out_fmt, activation, alpha), "ACC_W": acc_width, "ACC_F": layer.acc.frac, "OC": out_channels}
    if isinstance(layer, Conv2d):
        kind = "conv"
        index2 = conv_window_index(layer, in_shape[0]).reshape(out_channels, -1)
        out_shape = graph.tensors[out_tensor].shape if out_tensor in graph.tensors else (out_channels, *in_shape[1:])
        consts.update(_window_consts(in_shape, tuple(out_shape), layer.kernel, layer.stride, layer.padding, layer.dilation))
        window = int(in_shape[0] * layer.kernel[0] * layer.kernel[1])
    else:
        kind = "dense"
        layout = window_layout(layer, in_shape)
        index2 = np.asarray(dense_window_index(in_shape, out_channels, layout))
        window = int(np.prod(in_shape))
        consts.update({"C": stream_in.channels, "PIXELS": stream_in.pixels})
    arrays, sparse, types = _sparse_arrays(layer.name, codes2, index2, bias, layer.weight.ftype, acc_width, window, lanes)
    consts.update(sparse)
    types.update({"in_t": stream_in.code_type, "out_t": _code(out_fmt)})
    return HlsLayer(layer.name, kind, [in_tensor], out_tensor, consts, types, arrays, lanes=lanes)


class LayerLowering:
    """Turns the hardware layers of a quantized graph into HlsLayers, in execution order.

    A Flatten whose readers are all dense layers moves no data: the dense layer reads the map
    before it (`source`), as in the RTL. A tensor read by several functions gets a fan-out.
    """

    def __init__(self, graph: Graph, lanes: dict[str, int]) -> None:
        self.graph = graph
        self.lanes = lanes
        self.streams: dict[str, StreamType] = {name: stream_type(graph, name) for name in graph.tensors
                                               if graph.tensors[name].ftype is not None}
        self.aliases: dict[str, str] = {}

    def source(self, tensor: str) -> str:
        """The tensor whose stream carries `tensor` (itself unless a Flatten that moves no data made it)."""
        while tensor in self.aliases:
            tensor = self.aliases[tensor]
        return tensor

    def lower(self) -> list[HlsLayer]:
        refused = sorted({f"{layer.name} ({layer.OP})" for layer in self.graph.hardware_layers if layer.OP not in SUPPORTED_OPS})
        if refused:
            raise UserError(f"the HLS back end has no kernel for {', '.join(refused)}; build without --hls")
        result: list[HlsLayer] = []
        outputs = set(self.graph.hardware_outputs)
        for layer in self.graph.hardware_layers:
            if isinstance(layer, Flatten) and layer.output not in outputs and all(
                    isinstance(c, Dense) for c in self.graph.consumers(layer.output)):
                self.aliases[layer.output] = layer.inputs[0]
                continue
            result.extend(self._lower(layer))
        return result

    def _in(self, layer: Layer, k: int = 0) -> tuple[str, StreamType]:
        tensor = self.source(layer.inputs[k])
        return tensor, self.streams[tensor]

    def _shape(self, tensor: str) -> tuple[int, ...]:
        return tuple(int(d) for d in self.graph.tensors[tensor].shape)

    def _lower(self, layer: Layer) -> list[HlsLayer]:
        lanes = self.lanes.get(layer.name, 1)
        tensor, stream = self._in(layer)
        out_fmt = self.streams[layer.output].ftype
        base = {"in_t": stream.code_type, "out_t": _code(out_fmt)}
        if isinstance(layer, (Conv2d, Dense)):
            return [_compute(self.graph, layer, lanes, stream, tensor, layer.output, out_fmt, self._shape(tensor))]
        if isinstance(layer, ConvTranspose2d):
            return self._transposed(layer, lanes, tensor, stream, out_fmt)
        if isinstance(layer, ScaleShift):
            return [self._scale_shift(layer, tensor, stream, out_fmt)]
        if isinstance(layer, Relu):
            consts = {**_finish_consts(out_fmt, layer.activation, layer.alpha), "C": stream.channels,
                      "PIXELS": stream.pixels, "IN_W": stream.ftype.width, "IN_F": stream.ftype.frac}
            return [HlsLayer(layer.name, "activation", [tensor], layer.output, consts, base)]
        if isinstance(layer, (MaxPool, AvgPool)):
            return [self._pool(layer, tensor, stream, out_fmt)]
        if isinstance(layer, GlobalAvgPool):
            count = global_pool_count(self._shape(tensor)[1:])
            consts = {"C": stream.channels, "PIXELS": stream.pixels, **self._average(layer, stream.ftype, out_fmt, count)}
            return [HlsLayer(layer.name, "global_avg_pool", [tensor], layer.output, consts,
                             {**base, "acc_t": f"ap_int<{consts['ACC_W']}>"})]
        if isinstance(layer, Add):
            return [self._add(layer, out_fmt)]
        if isinstance(layer, Concat):
            return [self._concat(layer, out_fmt)]
        if isinstance(layer, ChannelPermute):
            order = HlsArray(f"{layer.name}_order", "ap_uint<16>", tuple(int(k) for k in layer.order), rom=False)
            return [HlsLayer(layer.name, "channel_permute", [tensor], layer.output,
                             {"C": stream.channels, "PIXELS": stream.pixels}, base, [order])]
        if isinstance(layer, Upsample):
            channels, height, width = self._shape(tensor)
            consts = {"C": channels, "H": height, "W": width, "SH": layer.scale[0], "SW": layer.scale[1]}
            return [HlsLayer(layer.name, "upsample", [tensor], layer.output, consts, base)]
        if isinstance(layer, Pad):
            channels, height, width = self._shape(tensor)
            top, left, bottom, right = layer.padding
            consts = {"C": channels, "H": height, "W": width, "PT": top, "PL": left,
                      "PH": height + top + bottom, "PW": width + left + right}
            return [HlsLayer(layer.name, "pad", [tensor], layer.output, consts, base)]
        if isinstance(layer, Flatten):
            return [HlsLayer(layer.name, "flatten", [tensor], layer.output,
                             {"C": stream.channels, "PIXELS": stream.pixels}, base)]
        raise UserError(f"the HLS back end has no kernel for {layer.name} ({layer.OP}); build without --hls")

    def _transposed(self, layer: ConvTranspose2d, lanes: int, tensor: str, stream: StreamType, out_fmt: FixedType) -> list[HlsLayer]:
        """The engine's 1x1 conv with KH*KW*O outputs into an internal stream, then depth-to-space."""
        conv = as_pointwise_conv(layer)
        conv.name = f"{layer.name}_pointwise"  # a fresh layer: its function and arrays get their own names
        blocks = f"{layer.output}__blocks"
        channels, height, width = self._shape(tensor)
        out_channels = self._shape(layer.output)[0]
        bh, bw = layer.block
        self.streams[blocks] = StreamType(out_fmt, bh * bw * out_channels, height * width)
        pointwise = _compute(self.graph, conv, lanes, stream, tensor, blocks, out_fmt, (channels, height, width))
        consts = {"H": height, "W": width, "BH": bh, "BW": bw, "OC": out_channels}
        pointwise.ir_layer = layer.name
        return [pointwise, HlsLayer(f"{layer.name}_depth_to_space", "depth_to_space", [blocks], layer.output, consts,
                                    {"in_t": _code(out_fmt)}, ir_layer=layer.name)]

    def _scale_shift(self, layer: ScaleShift, tensor: str, stream: StreamType, out_fmt: FixedType) -> HlsLayer:
        assert layer.acc is not None and layer.scale.ftype is not None
        scale = np.asarray(layer.scale.codes, dtype=np.int64)
        shift = np.asarray(layer.shift.codes, dtype=np.int64)
        fracs = layer.scale.acc_fracs(layer.acc.frac)
        top = int(fracs.max())
        align = top - fracs
        largest = max(abs(stream.ftype.min_code), abs(stream.ftype.max_code))
        worst = (np.abs(scale) * largest + np.abs(shift)) << align
        acc_width = max(layer.acc.width + int(align.max()), int(worst.max(initial=0)).bit_length() + 1)
        activation, alpha = _activation(layer)
        consts = {**_finish_consts(out_fmt, activation, alpha), "C": stream.channels, "PIXELS": stream.pixels,
                  "ACC_W": acc_width, "ACC_F": top}
        arrays = [HlsArray(f"{layer.name}_scale", f"ap_int<{layer.scale.ftype.width}>", tuple(int(v) for v in scale)),
                  HlsArray(f"{layer.name}_shift", f"ap_int<{acc_width}>", tuple(int(v) for v in shift)),
                  HlsArray(f"{layer.name}_align", "ap_uint<8>", tuple(int(v) for v in align))]
        types = {"in_t": stream.code_type, "out_t": _code(out_fmt), "w_t": f"ap_int<{layer.scale.ftype.width}>",
                 "acc_t": f"ap_int<{acc_width}>"}
        return HlsLayer(layer.name, "scale_shift", [tensor], layer.output, consts, types, arrays)

    def _average(self, layer: AvgPool | GlobalAvgPool, in_fmt: FixedType, out_fmt: FixedType, count: int) -> dict[str, int]:
        """Sum width and the division of docs/fixed-point.md: a shift for a power of two, else the reciprocal."""
        width = in_fmt.width + count.bit_length() + 1
        consts = {**_finish_consts(out_fmt), "ACC_W": width}
        if count & (count - 1) == 0:
            return {**consts, "RECIP_CODE": 0, "ACC_F": in_fmt.frac + count.bit_length() - 1}
        if layer.reciprocal is None:
            raise UserError("an average pool over a count that is not a power of two has no reciprocal; run quantize first")
        code = int(layer.reciprocal.quantize(np.array(1.0 / count)))
        return {**consts, "RECIP_CODE": code, "ACC_F": layer.reciprocal.frac + in_fmt.frac}

    def _pool(self, layer: MaxPool | AvgPool, tensor: str, stream: StreamType, out_fmt: FixedType) -> HlsLayer:
        in_shape = self._shape(tensor)
        dilation = layer.dilation if isinstance(layer, MaxPool) else (1, 1)
        consts = _window_consts(in_shape, self._shape(layer.output), layer.kernel, layer.stride, layer.padding, dilation)
        types = {"in_t": stream.code_type, "out_t": _code(out_fmt)}
        if isinstance(layer, MaxPool):
            return HlsLayer(layer.name, "max_pool", [tensor], layer.output, consts, types)
        count = avg_pool_count(layer, in_shape[1:])
        consts.update(self._average(layer, stream.ftype, out_fmt, count))
        types["acc_t"] = f"ap_int<{consts['ACC_W']}>"
        return HlsLayer(layer.name, "avg_pool", [tensor], layer.output, consts, types)

    def _add(self, layer: Add, out_fmt: FixedType) -> HlsLayer:
        inputs = [self._in(layer, k) for k in range(len(layer.inputs))]
        common = max(s.ftype.frac for _, s in inputs)
        lo = sum(s.ftype.min_code << (common - s.ftype.frac) for _, s in inputs)
        hi = sum(s.ftype.max_code << (common - s.ftype.frac) for _, s in inputs)
        width = _signed_bits(lo, hi)
        activation, alpha = _activation(layer)
        consts = {**_finish_consts(out_fmt, activation, alpha), "C": inputs[0][1].channels, "PIXELS": inputs[0][1].pixels,
                  "ACC_W": width, "ACC_F": common}
        parts: list[dict[str, int | str]] = [{"tensor": t, "shift": common - s.ftype.frac} for t, s in inputs]
        return HlsLayer(layer.name, "add", [t for t, _ in inputs], layer.output, consts,
                        {"out_t": _code(out_fmt), "acc_t": f"ap_int<{width}>"}, parts=parts)

    def _concat(self, layer: Concat, out_fmt: FixedType) -> HlsLayer:
        inputs = [self._in(layer, k) for k in range(len(layer.inputs))]
        parts: list[dict[str, int | str]] = []
        offset = 0
        for tensor, stream in inputs:
            parts.append({"tensor": tensor, "offset": offset, "channels": stream.channels,
                          "in_w": stream.ftype.width + 1, "in_f": stream.ftype.frac})
            offset += stream.channels
        consts = {**_finish_consts(out_fmt), "C": offset, "PIXELS": inputs[0][1].pixels}
        return HlsLayer(layer.name, "concat", [t for t, _ in inputs], layer.output, consts, {"out_t": _code(out_fmt)},
                        parts=parts)

