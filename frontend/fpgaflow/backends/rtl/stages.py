"""Per-layer stages of the generated top: which library modules a layer becomes, with which parameters.

The only module that knows the library's module names and parameters (docs/hardware.md).
Each supported op has a StageFn: its stages in the netlist; its cycles, lanes, weight memory
and stream widths are its hardware contract's (fpgaflow.flow.ops), which the modules
chosen here keep. StageBuilder walks the layers, gives every tensor a stream,
splits a tensor read by several layers with a broadcast and a FIFO on each branch that
must run ahead of another (fpgaflow.flow.branch_buffers), and
converts between DMA words and pixel beats at the two ends.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from fpgaflow.errors import UserError
from fpgaflow.backends.rtl.resource_model import engine_styles, line_buffer_style
from fpgaflow.flow.weight_rom import activation_parameters
from fpgaflow.ir.graph import Graph
from fpgaflow.fixed import FixedType
from fpgaflow.ir.layers import Add, AvgPool, ChannelPermute, Concat, Conv2d, GlobalAvgPool, MaxPool, Upsample
from fpgaflow.reference.fixed_exec import avg_pool_count, global_pool_count
from fpgaflow.flow.branch_buffers import branch_fifo_depths
from fpgaflow.flow.replay_buffers import replay_fifo_depth
from fpgaflow.flow.design import Design
from fpgaflow.backends.rtl.division import division_parameters
from fpgaflow.flow.contract import pixel_bits
from fpgaflow.flow.layer_plan import LayerPlan, stream_beats
from fpgaflow.flow.ops import PASS_THROUGH_OPS, contract_of
from fpgaflow.flow.ops.sparse_engine import engine_image
from fpgaflow.backends.rtl.netlist import Netlist
from fpgaflow.backends.rtl.netlist import Tap

StageFn = Callable[["StageBuilder", LayerPlan, str, str], str]
"""Adds a layer's stages reading stream `src` (its first input) and writing stream `dst`;
returns the dotted path of the signal that is high in every cycle its engine works ("" if none)."""


STAGES: dict[str, StageFn] = {}
"""Op name -> the StageFn that builds it, filled at the end of this module for every op the library implements."""

ENGINE_WORK_SIGNAL = "issue"
"""sparse_conv_engine's wire that is high in every cycle it reads a ROM word into its lanes."""

def reserved_names() -> list[str]:
    """Names a generated top must not take (the library's modules)."""
    from fpgaflow.backends.rtl.library import library_modules

    return sorted(library_modules())


def _stages(plan: LayerPlan) -> StageFn:
    contract_of(plan)  # UserError for an op without a contract, naming the supported ones
    return STAGES[plan.op]


class StageBuilder:
    """Adds the stages of one design to a netlist, layer by layer."""

    def __init__(self, netlist: Netlist, design: Design) -> None:
        self.netlist = netlist
        self.design = design
        self.graph: Graph = design.graph
        self.memory_files: dict[str, bytes] = {}
        self.taps: list[Tap] = []
        self._sources: dict[str, list[str]] = {}
        """tensor -> streams still to be read, one per remaining consumer."""

    def pixel_width(self, tensor: str) -> int:
        return pixel_bits(self.graph, tensor)

    def _publish(self, tensor: str, stream: str) -> None:
        """Make a tensor's stream available to its consumers, splitting it when several read it."""
        readers = len(self.graph.consumers(tensor)) + int(tensor in self.graph.hardware_outputs)
        if readers <= 1:
            self._sources[tensor] = [stream]
            return
        self._sources[tensor] = self.broadcast(tensor, stream, readers)

    def take(self, tensor: str) -> str:
        """The next unread stream of a tensor."""
        return self._sources[tensor].pop(0)

    # The top's own streams and instances have a double underscore, which sanitized layer
    # names never contain, so they cannot collide with a layer's "<layer>_..." names.
    def dma_input(self, tensor: str) -> None:
        """The input frame: DMA words to pixel beats (a wire when a pixel fits in one DMA word)."""
        dma, pixel = self.netlist.dma_width, self.pixel_width(tensor)
        self.netlist.input_stream = self.netlist.stream("dma__in", dma)
        pixels = self.netlist.stream("input__pixels", pixel)
        self._convert("input__words", self.netlist.input_stream, pixels, to_pixels=True)
        self._publish(tensor, pixels)

    def dma_output(self, tensor: str) -> None:
        """The output frame: pixel beats to DMA words (a wire when a pixel fits in one DMA word)."""
        self.netlist.output_stream = self.netlist.stream("dma__out", self.netlist.dma_width)
        self._convert("output__words", self.take(tensor), self.netlist.output_stream, to_pixels=False)

    def _convert(self, instance: str, src: str, dst: str, to_pixels: bool) -> None:
        """Join a pixel stream and a DMA stream: one DMA word per pixel if it fits, else a width converter."""
        if max(self.netlist.streams[src].width, self.netlist.streams[dst].width) <= self.netlist.dma_width:
            self.netlist.wire(src, dst)
        else:
            self.width_converter(instance, src, dst, to_pixels)

    def layer(self, plan: LayerPlan) -> None:
        if plan.op in PASS_THROUGH_OPS:
            self._publish(plan.output, self.take(plan.inputs[0]))
            return
        src = self.take(plan.inputs[0])
        dst = self.netlist.stream(f"{plan.name}_out", self.pixel_width(plan.output))
        work = _stages(plan)(self, plan, src, dst)
        self.taps.append(Tap(layer=plan.name, tensor=plan.output, stream_out=dst, work=work))
        self._publish(plan.output, dst)

    def engine(self, plan: LayerPlan, src: str, dst: str) -> str:
        """A sparse_conv_engine for a compute layer, with its three memory files; returns its work signal."""
        choice = self.design.engines[plan.name]
        image = engine_image(plan, choice.parallelism, self.design.store_zeros)
        with tempfile.TemporaryDirectory(prefix="fpgaflow_mem_") as scratch:
            names = image.write(Path(scratch), plan.name)
            for name in sorted(names.values()):
                self.memory_files[name] = (Path(scratch) / name).read_bytes()
        parameters: dict[str, int | str] = dict(sorted(image.parameters.items()))
        parameters.update(sorted(names.items()))
        parameters.update(engine_styles(image.parameters, self.design.board.resources, self.design.window_memory))
        comment = f"{plan.name}: {plan.nonzero_weights} of {plan.dense_weights} weights, P = {image.parameters['P']}"
        if choice.lut_lanes:  # only then, so a design on DSPs alone keeps its top as it was
            parameters["LUT_LANES"] = choice.lut_lanes
            comment += f" ({choice.lut_lanes} with LUT multipliers)"
        self.netlist.add(f"{plan.name}_engine", "sparse_conv_engine", comment, parameters, [("s_axis", src), ("m_axis", dst)])
        return f"u_{plan.name}_engine.{ENGINE_WORK_SIGNAL}"

    def _stage_cycles(self) -> dict[str, int]:
        """Layer -> its modelled cycles per frame (the branch FIFOs' rate rule)."""
        return {name: choice.cycles_model for name, choice in self.design.engines.items()}

    def _stage_beat_cycles(self) -> dict[str, tuple[float, ...]]:
        """Layer -> its modelled cycles per output beat, where it does not spend them evenly."""
        paced = {}
        for plan in self.design.plans:
            choice = self.design.engines.get(plan.name)
            beats = contract_of(plan).beat_cycles(plan, choice.parallelism, self.design.store_zeros) if choice else None
            if beats is not None:
                paced[plan.name] = beats
        return paced

    def width_converter(self, instance: str, src: str, dst: str, to_pixels: bool) -> None:
        """axis_dma_packer between a pixel stream and the DMA stream (docs/build.md's packing)."""
        pixel = self.netlist.streams[dst if to_pixels else src].width
        parameters = {"PIXEL_W": pixel, "DMA_W": self.netlist.dma_width, "TO_PIXELS": int(to_pixels)}
        self.netlist.add(instance, "axis_dma_packer", f"{instance}: {pixel}-bit pixels and DMA words", parameters,
                         [("s_axis", src), ("m_axis", dst)])

    def broadcast(self, tensor: str, stream: str, readers: int) -> list[str]:
        """Copy a tensor's stream to each reader; a branch that reads less far ahead than
        another one it meets again at a join, or offers its beats sooner, gets a FIFO of what
        the copy delivers meanwhile (fpgaflow.flow.branch_buffers), so the copy never waits
        for a branch that is itself waiting for the other."""
        width = self.netlist.streams[stream].width
        branches = [self.netlist.stream(f"{stream}_branch{i}", width) for i in range(readers)]
        self.netlist.fanout(stream, branches)
        result = []
        for i, (branch, depth) in enumerate(zip(branches, branch_fifo_depths(self.graph, tensor, self._stage_cycles(), self._stage_beat_cycles()), strict=True)):
            if depth == 0:
                result.append(branch)
                continue
            buffered = self.netlist.stream(f"{stream}_buffered{i}", width)
            self.netlist.add(f"{stream}_fifo{i}", "axis_fifo", f"{stream}: branch {i} reads {depth} beats ahead of its join",
                             {"DW": width, "DEPTH": depth}, [("s_axis", branch), ("m_axis", buffered)])
            result.append(buffered)
        return result


def _window_parameters(plan: LayerPlan, layer: Conv2d | MaxPool | AvgPool) -> dict[str, int | str]:
    channels, height, width = plan.input_shape
    top, left, bottom, right = layer.padding
    if not isinstance(layer, AvgPool) and tuple(layer.dilation) != (1, 1):
        raise UserError(f"layer {plan.name} has dilation {layer.dilation}; the RTL window generator supports only 1")
    return {
        "IN_H": height,
        "IN_W": width,
        "C": channels,
        "DW": plan.formats["input"].width,  # type: ignore[union-attr]
        "KH": layer.kernel[0],
        "KW": layer.kernel[1],
        "STRIDE_H": layer.stride[0],
        "STRIDE_W": layer.stride[1],
        "PAD_T": top,
        "PAD_L": left,
        "PAD_B": bottom,
        "PAD_R": right,
    }


def _window_input(builder: StageBuilder, plan: LayerPlan, layer: Conv2d | MaxPool | AvgPool, src: str) -> str:
    """The stream a window generator reads: a FIFO of KH input rows when another stage feeds it.

    window_gen freezes while its output window waits, and it takes no input while it walks
    padding or the last rows of a frame, yet needs the first rows of the next frame before
    its first window. Without room between them the stage in front stalls in the first
    phase and the one behind waits in the second, a bubble every frame (docs/benchmarks.md,
    "Sparse engine"). KH rows hold everything the generator reads ahead of its windows.
    """
    if plan.inputs[0] in builder.graph.inputs:
        return src
    width = builder.netlist.streams[src].width
    rows = layer.kernel[0] * plan.input_shape[2]
    buffered = builder.netlist.stream(f"{plan.name}_in", width)
    builder.netlist.add(f"{plan.name}_in", "axis_fifo", f"{plan.name}: {rows} input pixels ahead of the windows",
                        {"DW": width, "DEPTH": rows}, [("s_axis", src), ("m_axis", buffered)])
    return buffered


def _conv_stages(builder: StageBuilder, plan: LayerPlan, src: str, dst: str) -> str:
    layer = plan.layer
    assert isinstance(layer, Conv2d)
    src = _window_input(builder, plan, layer, src)
    window = _window_parameters(plan, layer)
    window["RAM_STYLE"] = line_buffer_style(window, builder.design.board.resources)
    windows = builder.netlist.stream(f"{plan.name}_windows", layer.kernel[0] * layer.kernel[1] * builder.pixel_width(plan.inputs[0]))
    builder.netlist.add(f"{plan.name}_windows", "window_gen", f"{plan.name}: {layer.kernel[0]}x{layer.kernel[1]} windows", window,
                        [("s_axis", src), ("m_axis", windows)])
    return builder.engine(plan, windows, dst)


def _max_pool_stages(builder: StageBuilder, plan: LayerPlan, src: str, dst: str) -> str:
    layer = plan.layer
    assert isinstance(layer, MaxPool)
    if layer.ceil_mode:
        raise UserError(f"max pool {plan.name} uses ceil_mode; the RTL pool supports floor mode only")
    src = _window_input(builder, plan, layer, src)
    parameters = _window_parameters(plan, layer)
    parameters["SIGNED"] = int(plan.formats["input"].signed)  # type: ignore[union-attr]
    builder.netlist.add(plan.name, "pool_max", f"{plan.name}: max pool {layer.kernel[0]}x{layer.kernel[1]}", parameters,
                        [("s_axis", src), ("m_axis", dst)])
    return ""


def _dense_stages(builder: StageBuilder, plan: LayerPlan, src: str, dst: str) -> str:
    """The engine reads the input map pixel by pixel (or the vector as one beat) into its window memories."""
    return builder.engine(plan, src, dst)


def _add_stages(builder: StageBuilder, plan: LayerPlan, src: str, dst: str) -> str:
    layer = plan.layer
    assert isinstance(layer, Add)
    if len(plan.inputs) != 2:
        raise UserError(f"add {plan.name} has {len(plan.inputs)} inputs; the RTL add takes two")
    second = builder.take(plan.inputs[1])
    a, b = (builder.graph.tensors[t].ftype for t in plan.inputs)
    out = plan.formats["output"]
    assert a is not None and b is not None and out is not None
    common = max(a.frac, b.frac)
    parameters = {
        "C": plan.output_shape[0],
        "A_DW": a.width, "A_SIGNED": int(a.signed), "A_SHIFT": common - a.frac,
        "B_DW": b.width, "B_SIGNED": int(b.signed), "B_SHIFT": common - b.frac,
        "SHIFT": common - out.frac,
        "OUT_DW": out.width, "OUT_SIGNED": int(out.signed),
        **activation_parameters(layer, out),
    }
    builder.netlist.add(plan.name, "axis_add", f"{plan.name}: residual add", parameters,
                        [("s_axis_a", src), ("s_axis_b", second), ("m_axis", dst)])
    return ""


def _average_parameters(plan: LayerPlan, count: int, reciprocal: FixedType | None) -> dict[str, int | str]:
    """The code formats and the division (RECIP_W, RECIP_CODE, SHIFT) shared by both average pools."""
    in_type, out_type = plan.formats["input"], plan.formats["output"]
    assert in_type is not None and out_type is not None
    return {"IN_SIGNED": int(in_type.signed), "OUT_DW": out_type.width, "OUT_SIGNED": int(out_type.signed),
            **division_parameters(count, in_type.frac, out_type.frac, reciprocal)}


def _avg_pool_stages(builder: StageBuilder, plan: LayerPlan, src: str, dst: str) -> str:
    layer = plan.layer
    assert isinstance(layer, AvgPool)
    src = _window_input(builder, plan, layer, src)
    parameters = _window_parameters(plan, layer)
    parameters.update(_average_parameters(plan, avg_pool_count(layer, plan.input_shape[1:]), layer.reciprocal))
    builder.netlist.add(plan.name, "pool_avg", f"{plan.name}: average pool {layer.kernel[0]}x{layer.kernel[1]}", parameters,
                        [("s_axis", src), ("m_axis", dst)])
    return ""


def _global_avg_pool_stages(builder: StageBuilder, plan: LayerPlan, src: str, dst: str) -> str:
    layer = plan.layer
    assert isinstance(layer, GlobalAvgPool)
    channels, height, width = plan.input_shape
    in_type = plan.formats["input"]
    assert in_type is not None
    parameters: dict[str, int | str] = {"IN_H": height, "IN_W": width, "C": channels, "DW": in_type.width}
    parameters.update(_average_parameters(plan, global_pool_count(plan.input_shape[1:]), layer.reciprocal))
    builder.netlist.add(plan.name, "pool_global_avg", f"{plan.name}: global average pool of {height}x{width}", parameters,
                        [("s_axis", src), ("m_axis", dst)])
    return ""


def _concat_stages(builder: StageBuilder, plan: LayerPlan, src: str, dst: str) -> str:
    """axis_concat of two streams; a tensor read by both branches is already split with a FIFO (broadcast)."""
    layer = plan.layer
    assert isinstance(layer, Concat)
    if len(plan.inputs) != 2:
        raise UserError(f"concat {plan.name} has {len(plan.inputs)} inputs; the RTL concat takes two: chain two-input concats")
    second = builder.take(plan.inputs[1])
    a, b = (builder.graph.tensors[t] for t in plan.inputs)
    out = plan.formats["output"]
    assert a.ftype is not None and b.ftype is not None and out is not None
    parameters = {
        "C_A": a.shape[0], "A_DW": a.ftype.width, "A_SIGNED": int(a.ftype.signed), "A_SHIFT": a.ftype.frac - out.frac,
        "C_B": b.shape[0], "B_DW": b.ftype.width, "B_SIGNED": int(b.ftype.signed), "B_SHIFT": b.ftype.frac - out.frac,
        "OUT_DW": out.width, "OUT_SIGNED": int(out.signed),
    }
    builder.netlist.add(plan.name, "axis_concat", f"{plan.name}: channel concat", parameters,
                        [("s_axis_a", src), ("s_axis_b", second), ("m_axis", dst)])
    return ""


def _channel_permute_stages(builder: StageBuilder, plan: LayerPlan, src: str, dst: str) -> str:
    """A channel permutation is wiring: the output beat's channel k is the input beat's channel order[k]."""
    layer = plan.layer
    assert isinstance(layer, ChannelPermute)
    builder.netlist.wire(src, dst, layer.order, plan.formats["input"].width)  # type: ignore[union-attr]
    return ""


def _replay_input(builder: StageBuilder, plan: LayerPlan, src: str, block: tuple[int, int], producer_cycles: int) -> str:
    """The stream a row-repeating stage reads: a FIFO (fpgaflow.flow.replay_buffers) when the stage in
    front, with `producer_cycles` per frame, has too few idle cycles to stand still while rows repeat."""
    _, height, width = plan.input_shape
    depth = replay_fifo_depth((block[0] - 1) * width * block[1], height, stream_beats(builder.graph, plan.output),
                              builder.design.frame_interval, producer_cycles, height * width)
    if depth == 0:
        return src
    stream = builder.netlist.stream(f"{plan.name}_held", builder.netlist.streams[src].width)
    builder.netlist.add(f"{plan.name}_held", "axis_fifo", f"{plan.name}: {depth} beats while rows repeat",
                        {"DW": builder.netlist.streams[src].width, "DEPTH": depth}, [("s_axis", src), ("m_axis", stream)])
    return stream


def _upsample_stages(builder: StageBuilder, plan: LayerPlan, src: str, dst: str) -> str:
    """axis_upsample: pixels and rows repeated, with a line buffer of one input row."""
    layer = plan.layer
    assert isinstance(layer, Upsample)
    _, height, width = plan.input_shape
    producer = builder.graph.producer(plan.inputs[0])
    producer_cycles = builder.design.engines[producer.name].cycles_model if producer and producer.name in builder.design.engines else 0
    src = _replay_input(builder, plan, src, layer.scale, producer_cycles)
    parameters = {"PW": builder.pixel_width(plan.inputs[0]), "IN_H": height, "IN_W": width,
                  "SH": layer.scale[0], "SW": layer.scale[1]}
    builder.netlist.add(plan.name, "axis_upsample", f"{plan.name}: nearest upsampling x{layer.scale[0]}, x{layer.scale[1]}",
                        parameters, [("s_axis", src), ("m_axis", dst)])
    return ""


def _conv_transpose_stages(builder: StageBuilder, plan: LayerPlan, src: str, dst: str) -> str:
    """The engine computes the 1x1 conv with KH*KW blocks of channels per input pixel; axis_depth_to_space
    writes each beat's block of output pixels in raster order with a line buffer of one input row."""
    layer = plan.layer
    assert isinstance(layer, Conv2d)
    block = (plan.output_shape[1] // plan.input_shape[1], plan.output_shape[2] // plan.input_shape[2])
    pixel = builder.pixel_width(plan.output)
    blocks = builder.netlist.stream(f"{plan.name}_blocks", block[0] * block[1] * pixel)
    work = _conv_stages(builder, plan, src, blocks)
    engine_cycles = contract_of(plan).cycles(plan, builder.design.engines[plan.name].parallelism, builder.design.store_zeros)
    blocks = _replay_input(builder, plan, blocks, block, engine_cycles)
    parameters = {"PW": pixel, "IN_H": plan.input_shape[1], "IN_W": plan.input_shape[2], "BH": block[0], "BW": block[1]}
    builder.netlist.add(f"{plan.name}_reorder", "axis_depth_to_space", f"{plan.name}: {block[0]}x{block[1]} blocks to raster order",
                        parameters, [("s_axis", blocks), ("m_axis", dst)])
    return work


STAGES.update({
    "Conv2d": _conv_stages,
    "ScaleShift": _conv_stages,  # depthwise 1x1 convs (fpgaflow.flow.depthwise)
    "Relu": _conv_stages,
    "Dense": _dense_stages,
    "ConvTranspose2d": _conv_transpose_stages,
    "MaxPool": _max_pool_stages,
    "AvgPool": _avg_pool_stages,
    "GlobalAvgPool": _global_avg_pool_stages,
    "Add": _add_stages,
    "Concat": _concat_stages,
    "Upsample": _upsample_stages,
    "ChannelPermute": _channel_permute_stages,
})
