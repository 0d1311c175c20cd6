"""The contract of the ops a sparse MAC engine computes: Conv2d, Dense, ConvTranspose2d, and ScaleShift and
Relu as depthwise 1x1 convs (fpgaflow.flow.depthwise).

The engine holds only the nonzero weights, packed P to a ROM word (fpgaflow.flow.weight_rom);
a window costs its ROM depth in cycles when the writer keeps up, and a conv's window
generator walks the padded input one pixel per cycle, which the engine waits out where the
walk between two windows is long (fpgaflow.flow.cycles.engine_frame_cycles).
These contracts call that model with the packed ROM and fpgaflow.prune.cost calls it with the
ROM a mask implies.
"""

from __future__ import annotations


from fpgaflow.flow.contract import OpContract
from fpgaflow.flow.cycles import Walk, engine_frame_cycles, engine_window_cycles, window_walk
from fpgaflow.flow.layer_plan import LayerPlan
from fpgaflow.flow.ops.pixel_stream import output_pixels
from fpgaflow.flow.weight_rom import EngineImage, pack_engine
from fpgaflow.ir.layers import Conv2d, ConvTranspose2d, Dense

_IMAGES: dict[tuple[int, int, bool], tuple[Conv2d | Dense, EngineImage]] = {}
"""Packed ROMs by (id of the layer, P, store_zeros); the layer is kept so its id stays unique."""
_IMAGE_CACHE_LIMIT = 4096


def engine_image(plan: LayerPlan, lanes: int, store_zeros: bool = False) -> EngineImage:
    """The packed ROM of a compute layer at P lanes (cached: P balancing asks for many P)."""
    layer = plan.layer
    assert isinstance(layer, (Conv2d, Dense))
    key = (id(layer), lanes, store_zeros)
    if key not in _IMAGES:
        if len(_IMAGES) >= _IMAGE_CACHE_LIMIT:
            _IMAGES.clear()
        in_type, out_type = plan.formats["input"], plan.formats["output"]
        assert in_type is not None and out_type is not None
        image = pack_engine(layer, in_type, out_type, engine_input_shape(plan), lanes, keep_zeros=store_zeros)
        _IMAGES[key] = (layer, image)
    return _IMAGES[key][1]


def engine_input_shape(plan: LayerPlan) -> tuple[int, ...]:
    """The shape the engine's window indices refer to: a dense layer reads the map before a flatten."""
    return plan.stream_shape if plan.op == Dense.OP else plan.input_shape


def conv_walk(plan: LayerPlan) -> Walk:
    """The walk of a conv's window generator over its padded input."""
    layer = plan.layer
    assert isinstance(layer, Conv2d)
    _, height, width = plan.input_shape
    return window_walk(height, width, tuple(layer.kernel), tuple(layer.stride), tuple(layer.padding))


class SparseEngine(OpContract):
    """A conv (or a layer computed as one) on the sparse engine behind a window generator."""

    ops = (Conv2d.OP, "ScaleShift", "Relu")

    def image(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> EngineImage:
        return engine_image(plan, lanes, store_zeros)

    def cycles(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> int:
        image = self.image(plan, lanes, store_zeros)
        return engine_frame_cycles(image.depth, image.window_words, conv_walk(plan))

    def beat_cycles(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> tuple[float, ...] | None:
        """A conv's windows come evenly but where the window generator walks far (row ends, a frame's first rows)."""
        image = self.image(plan, lanes, store_zeros)
        return engine_window_cycles(image.depth, image.window_words, conv_walk(plan))

    def useful_lanes(self, plan: LayerPlan, store_zeros: bool = False) -> int:
        """The engine packs all stored weights of a position across channel boundaries, so more
        lanes than stored weights never help."""
        return max(plan.dense_weights if store_zeros else plan.nonzero_weights, 1)

    def weight_bits(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> tuple[int, int]:
        return self.image(plan, lanes, True).weight_memory_bits, self.image(plan, lanes, store_zeros).weight_memory_bits


class SparseDense(SparseEngine):
    """A dense layer: one position, its window the input pixels written into the lanes' memories as they come."""

    ops = (Dense.OP,)

    def cycles(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> int:
        image = self.image(plan, lanes, store_zeros)
        return engine_frame_cycles(image.depth, image.window_words)

    def beat_cycles(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> tuple[float, ...] | None:
        return None


class SparseConvTranspose(SparseEngine):
    """A ConvTranspose2d as its 1x1 conv (one position per input pixel), then its blocks reordered one output pixel a cycle."""

    ops = (ConvTranspose2d.OP,)

    def cycles(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> int:
        return max(super().cycles(plan, lanes, store_zeros), output_pixels(plan))

    def beat_cycles(self, plan: LayerPlan, lanes: int, store_zeros: bool = False) -> tuple[float, ...] | None:
        """axis_depth_to_space passes a block's first row on as the engine computes it (BW pixels
        per input pixel) and replays the block's other rows from its buffer, one pixel a cycle."""
        _, out_h, out_w = plan.output_shape
        _, in_h, in_w = plan.input_shape
        block_h, block_w = out_h // in_h, out_w // in_w
        first_row = super().cycles(plan, lanes, store_zeros) / (plan.positions * block_w)
        return tuple(first_row if (beat // out_w) % block_h == 0 else 1.0 for beat in range(out_h * out_w))
