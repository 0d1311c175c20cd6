"""Each hardware layer as the HLS templates need it: the kernel, its constants, its arrays, its streams.

Everything numeric is derived here from the quantized IR with the project's own rules
(formats from the tensors, accumulator fractional bits from `Weight.acc_fracs`, the window
index of `fpgaflow.flow.weight_rom`, the pool divisors of the reference); the templates in
hls_templates/ only spell it in C++. A conv or dense layer's weight arrays are the RTL
engine's packed ROM image at the same P (fpgaflow.flow.ops.sparse_engine.engine_image), one
array per field of its words, read back by fpgaflow.flow.weight_rom.rom_fields.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.fixed import FixedType, bits_for_range, leaky_slope, relu6_ceiling
from fpgaflow.flow.layer_plan import LayerPlan, plan_layer
from fpgaflow.flow.ops.sparse_engine import engine_image
from fpgaflow.flow.weight_rom import (ACTIVATION_CODES, EngineImage, WindowLayout, channel_table, constant_outputs, rom_fields,
                                      segment_bits, shift_spread_bits)
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
from fpgaflow.reference.fixed_exec import avg_pool_count, global_pool_count

SUPPORTED_OPS = ("Conv2d", "ConvTranspose2d", "Dense", "ScaleShift", "Relu", "MaxPool", "AvgPool", "GlobalAvgPool", "Add",
                 "Concat", "Flatten", "ChannelPermute", "Upsample", "Pad")


LUTRAM_LIMIT_BITS = 1024
"""An array bank smaller than this stays in LUTs (distributed ROM), a larger one goes to block RAM."""


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
    """A constant array of a layer function: its C++ element type, values (row-major), shape, and how HLS stores it."""

    name: str
    ctype: str
    values: tuple[int, ...]
    shape: tuple[int, ...] = ()
    """Dimensions; empty for one dimension of len(values)."""
    partition_dim: int = 0
    """The dimension (from 1) read whole in one cycle: a ROM word's lanes (the ROM is reshaped along it
    into one memory of wide words, as the RTL's ROM is), or a table's entries (partitioned into registers)."""
    rom: bool = True
    word_array: bool = False
    """A field of the engine's ROM words: declared through fpgaflow::rom_storage (a native integer in C
    simulation, where g++ would otherwise initialize every ap_int element at run time)."""

    @property
    def declared_type(self) -> str:
        return f"fpgaflow::rom_storage<{self.ctype} >::type" if self.word_array else self.ctype

    @property
    def dims(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.shape) or (len(self.values),)

    @property
    def element_bits(self) -> int:
        return int(self.ctype.split("<")[1].rstrip(">"))

    @property
    def memory_shape(self) -> tuple[int, int]:
        """(depth, width in bits) of the one memory HLS makes of a ROM array (reshaped along partition_dim)."""
        lanes = self.dims[self.partition_dim - 1] if self.partition_dim else 1
        return len(self.values) // lanes, lanes * self.element_bits

    @property
    def in_lutram(self) -> bool:
        """Whether the memory is small enough for distributed ROM (LUTs), as the HLS tools place small ROMs."""
        return self.bits < LUTRAM_LIMIT_BITS

    @property
    def bits(self) -> int:
        """Storage bits: elements times the element type's width."""
        return len(self.values) * self.element_bits

    @property
    def initializer(self) -> str:
        """The C++ initializer, wrapped at 110 columns: a 2-D array's rows (ROM words) in braces, row after row."""
        def wrap(values: tuple[int, ...]) -> str:
            return INDENT.join(textwrap.wrap(", ".join(str(v) for v in values), 110)) if values else ""
        if len(self.dims) == 1:
            return "{" + wrap(self.values) + "}"
        width = self.dims[1]
        lines: list[str] = []
        for start in range(0, len(self.values), width):
            row = "{" + wrap(self.values[start:start + width]) + "}"
            if lines and "\n" not in row and "\n" not in lines[-1] and len(lines[-1]) + len(row) + 2 <= 110:
                lines[-1] += ", " + row
            else:
                lines.append(row)
        return "{" + INDENT + ("," + INDENT).join(lines) + "}"


INDENT = "\n        "
"""A continuation line of an initializer in a layer function."""


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
    plan: LayerPlan | None = None
    """The engine layer's plan (conv and dense): the op contract the estimate asks."""
    store_zeros: bool = False
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


def _engine_arrays(name: str, image: EngineImage) -> list[HlsArray]:
    """The engine's ROM as one array per field of its words, its pattern table, channel table and constant outputs.

    The arrays are the image's words read back (weight_rom.rom_fields): element [d][l] of a
    word array is lane (or slot) l of ROM word d, so the HLS kernel reads the RTL's ROM word
    for word. The lane dimension is reshaped completely: one ROM word is one memory word.
    """
    p = image.parameters
    fields = rom_fields(image)
    table = channel_table(image)
    seg_bits = segment_bits(p["K_FIN"])
    word: dict[str, int | bool] = {"partition_dim": 2, "word_array": True}
    arrays = [HlsArray(f"{name}_w", f"ap_int<{p['WW']}>", _flat(fields.weights), fields.weights.shape, **word)]
    if image.is_pattern_mode:
        assert fields.pattern_ids is not None and fields.pattern_table is not None
        arrays += [HlsArray(f"{name}_ic", f"ap_uint<{p['IC_W']}>", _flat(fields.keys), fields.keys.shape, **word),
                   HlsArray(f"{name}_pid", f"ap_uint<{p['PID_W']}>", _flat(fields.pattern_ids), fields.pattern_ids.shape,
                            **word)]
    else:
        arrays.append(HlsArray(f"{name}_idx", f"ap_uint<{p['IDX_W']}>", _flat(fields.keys), fields.keys.shape, **word))
    arrays += [HlsArray(f"{name}_seg", f"ap_uint<{seg_bits}>", _flat(fields.segments), fields.segments.shape, **word),
               HlsArray(f"{name}_ends", f"ap_uint<{seg_bits}>", _flat(fields.ends), word_array=True)]
    if image.is_pattern_mode:
        assert fields.pattern_table is not None
        arrays.append(HlsArray(f"{name}_pattern", f"ap_uint<{p['IDX_W']}>", _flat(fields.pattern_table),
                               fields.pattern_table.shape, partition_dim=1, rom=False))
    # The pattern table is read by every slot, the channel table at up to K_FIN entries a cycle, the
    # constants all at once: small constant registers, no ROMs.
    registers = {"partition_dim": 1, "rom": False}
    arrays += [HlsArray(f"{name}_oc", f"ap_uint<{p['OC_W']}>", _flat(table.out_channels), **registers),
               HlsArray(f"{name}_bias", f"ap_int<{p['ACC_W']}>", _flat(table.biases), **registers),
               HlsArray(f"{name}_align", f"ap_uint<{max(1, shift_spread_bits(p.get('SHIFT_SPREAD', 0)))}>",
                        _flat(table.aligns), **registers),
               HlsArray(f"{name}_const", f"ap_{'' if p['OUT_SIGNED'] else 'u'}int<{p['OUT_W']}>",
                        _flat(constant_outputs(image)), **registers)]
    return arrays


def _flat(values: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in np.asarray(values).ravel())


def _engine_consts(image: EngineImage, windows: int) -> tuple[dict[str, int], dict[str, str]]:
    """The engine's sizes and types as the kernels name them (the image's parameters, docs/hardware.md)."""
    p = image.parameters
    pattern = image.is_pattern_mode
    layout = WindowLayout(p["BEAT_N"], p["BEATS"], p["WR_N"])
    spread = int(p.get("SHIFT_SPREAD", 0))
    acc_width = p["ACC_W"] + 1 + spread  # the sum plus bias, shifted left by up to SHIFT_SPREAD (the RTL's requantize input)
    consts = {"P": p["P"], "DEPTH": image.depth, "K_FIN": p["K_FIN"], "K_NZ": p["K_NZ"] if pattern else 1,
              "SLOTS": p["P"] // (p["K_NZ"] if pattern else 1), "NP": p["NP"] if pattern else 0, "NZ_OC": p["NZ_OC"],
              "BEAT_N": p["BEAT_N"], "BEATS": p["BEATS"], "WR_N": p["WR_N"], "BEAT_STRIDE": layout.words_per_beat * layout.write_n,
              "WIN_N": layout.words * layout.write_n, "WINDOWS": windows, "ACC_W": acc_width}
    seg = f"ap_uint<{segment_bits(p['K_FIN'])}>"
    types = {"w_t": f"ap_int<{p['WW']}>", "seg_t": seg, "oc_t": f"ap_uint<{p['OC_W']}>", "bias_t": f"ap_int<{p['ACC_W']}>",
             "align_t": f"ap_uint<{max(1, shift_spread_bits(spread))}>", "acc_t": f"ap_int<{acc_width}>",
             "idx_t": f"ap_uint<{p['IDX_W']}>"}  # a window address (pattern mode: a pattern table entry)
    if pattern:
        types.update({"ic_t": f"ap_uint<{p['IC_W']}>", "pid_t": f"ap_uint<{p['PID_W']}>"})
    return consts, types


def _compute(graph: Graph, layer: Conv2d | Dense | ConvTranspose2d, lanes: int, store_zeros: bool, stream_in: StreamType,
             in_tensor: str, out_tensor: str, out_fmt: FixedType, name: str) -> HlsLayer:
    """A conv or dense layer (or a ConvTranspose2d's 1x1 conv) on the RTL engine's ROM image at P lanes."""
    plan = plan_layer(graph, layer)
    image = engine_image(plan, lanes, store_zeros)
    engine = plan.layer
    assert isinstance(engine, (Conv2d, Dense)) and engine.acc is not None and engine.weight.ftype is not None
    activation, alpha = _activation(engine)
    # every channel requantizes from the largest F_acc (the channel table's shifts align the others)
    consts = {**_finish_consts(out_fmt, activation, alpha), "ACC_F": image.parameters["SHIFT"] + out_fmt.frac,
              "OC": image.parameters["C_OUT"]}
    if isinstance(engine, Conv2d):
        kind = "conv"
        in_shape = plan.input_shape
        out_shape = (consts["OC"], *in_shape[1:]) if isinstance(layer, ConvTranspose2d) else plan.output_shape
        consts.update(_window_consts(in_shape, tuple(out_shape), engine.kernel, engine.stride, engine.padding, engine.dilation))
        windows = int(out_shape[1] * out_shape[2])
    else:
        kind = "dense"
        consts.update({"C": stream_in.channels, "PIXELS": stream_in.pixels})
        windows = 1
    engine_consts, types = _engine_consts(image, windows)
    consts.update(engine_consts)
    types.update({"in_t": stream_in.code_type, "out_t": _code(out_fmt)})
    return HlsLayer(name, kind, [in_tensor], out_tensor, consts, types, _engine_arrays(name, image), lanes=lanes, plan=plan,
                    store_zeros=store_zeros)


class LayerLowering:
    """Turns the hardware layers of a quantized graph into HlsLayers, in execution order.

    A Flatten whose readers are all dense layers moves no data: the dense layer reads the map
    before it (`source`), as in the RTL. A tensor read by several functions gets a fan-out.
    """

    def __init__(self, graph: Graph, lanes: dict[str, int], store_zeros: bool = False) -> None:
        self.graph = graph
        self.lanes = lanes
        self.store_zeros = store_zeros
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

    def _map_before_flatten(self, tensor: str) -> str:
        producer = self.graph.producer(tensor)
        while isinstance(producer, Flatten):
            tensor = producer.inputs[0]
            producer = self.graph.producer(tensor)
        return tensor

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
        if isinstance(layer, Dense):
            # the engine's window is the map before any Flatten (flow.layer_plan's stream shape), as in the RTL
            tensor = self._map_before_flatten(layer.inputs[0])
            stream = self.streams[tensor]
        if isinstance(layer, (Conv2d, Dense)):
            return [_compute(self.graph, layer, lanes, self.store_zeros, stream, tensor, layer.output, out_fmt, layer.name)]
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
        blocks = f"{layer.output}__blocks"
        channels, height, width = self._shape(tensor)
        out_channels = self._shape(layer.output)[0]
        bh, bw = layer.block
        self.streams[blocks] = StreamType(out_fmt, bh * bw * out_channels, height * width)
        # the engine's 1x1 conv (the plan's layer); its function and arrays get their own names
        pointwise = _compute(self.graph, layer, lanes, self.store_zeros, stream, tensor, blocks, out_fmt, f"{layer.name}_pointwise")
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

