"""ONNX handlers for nearest-neighbour upsampling by integer factors: Resize and the older Upsample.

With an integer factor s every output pixel x = i*s + j (0 <= j < s) must read input pixel i,
so the result repeats pixels and rows. That holds for the coordinate modes whose source
coordinate stays strictly inside (i - 1/2, i + 1/2) (half_pixel and pytorch_half_pixel) with
rounding to the nearest (round_prefer_floor or round_prefer_ceil: no ties occur), and for
asymmetric with floor rounding (x / s floors to i: what Upsample and
PyTorch's nn.Upsample(mode="nearest") do). Other modes, other interpolations and factors
that are not integers are refused with one line.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx

from fpgaflow.errors import UserError
from fpgaflow.importers.onnx_context import ImportContext, node_label
from fpgaflow.ir.layers import Upsample

_HALF_PIXEL_MODES = {"half_pixel", "pytorch_half_pixel"}
_NEAREST_ROUNDING = {"round_prefer_floor", "round_prefer_ceil"}


def _feature_map_2d(node: onnx.NodeProto, ctx: ImportContext) -> str:
    x = ctx.activation(node)
    if len(ctx.shape(x)) != 3 or x in ctx.line_maps:
        raise UserError(f"{node_label(node)}: upsampling is supported only on (N, C, H, W) feature maps")
    return x


def _integer_factors(node: onnx.NodeProto, factors: np.ndarray) -> tuple[int, int]:
    """(scale_h, scale_w) from the four factors of (N, C, H, W); N and C must stay, H and W be integers >= 1."""
    factors = np.asarray(factors, dtype=np.float64).ravel()
    if factors.size != 4 or factors[0] != 1 or factors[1] != 1 or np.any(factors[2:] < 1) \
            or np.any(factors[2:] != np.round(factors[2:])):
        raise UserError(f"{node_label(node)}: upsampling factors {factors.tolist()} are not supported; only integer "
                        "factors >= 1 on H and W (1 on N and C)")
    return int(factors[2]), int(factors[3])


def _emit(node: onnx.NodeProto, ctx: ImportContext, x: str, factors: np.ndarray) -> None:
    ctx.emit(node, Upsample, [x], scale=_integer_factors(node, factors))


def _check_nearest(node: onnx.NodeProto, attrs: dict[str, Any]) -> None:
    mode = attrs.get("mode", "nearest")
    if mode != "nearest":
        raise UserError(f"{node_label(node)}: {mode} interpolation is not supported; only mode='nearest'")


def handle_resize(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """Resize: opset 10 (X, scales), asymmetric and floor; opset 11+ (X, roi, scales, sizes) with modes."""
    _check_nearest(node, attrs)
    x = _feature_map_2d(node, ctx)
    if ctx.opset >= 11:
        coordinates = attrs.get("coordinate_transformation_mode", "half_pixel")
        rounding = attrs.get("nearest_mode", "round_prefer_floor")
        half_pixel = coordinates in _HALF_PIXEL_MODES and rounding in _NEAREST_ROUNDING
        if not half_pixel and (coordinates, rounding) != ("asymmetric", "floor"):
            raise UserError(f"{node_label(node)}: coordinate_transformation_mode {coordinates!r} with nearest_mode "
                            f"{rounding!r} does not repeat pixels; use half_pixel with round_prefer_floor, or "
                            "asymmetric with floor")
    scales_index, sizes_index = (1, None) if ctx.opset < 11 else (2, 3)
    in_shape = np.array([1, *ctx.shape(x)], dtype=np.float64)
    axes = attrs.get("axes")
    if ctx.has_input(node, scales_index) and ctx.const(node, scales_index).size:
        given = ctx.const(node, scales_index).astype(np.float64)
        factors = np.ones(4) if axes is not None else given
    elif sizes_index is not None and ctx.has_input(node, sizes_index):
        given = ctx.const(node, sizes_index).astype(np.float64)
        factors = given / in_shape if axes is None else np.ones(4)
        if axes is not None:
            given = given / in_shape[[int(a) % 4 for a in axes]]
    else:
        raise UserError(f"{node_label(node)}: Resize needs constant scales or sizes")
    if axes is not None:
        factors[[int(a) % 4 for a in axes]] = given
    _emit(node, ctx, x, factors)


def handle_upsample(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """Upsample (opset 7 to 9, deprecated): asymmetric and floor, scales as an attribute or input 1."""
    _check_nearest(node, attrs)
    x = _feature_map_2d(node, ctx)
    factors = np.asarray(attrs["scales"]) if "scales" in attrs else ctx.const(node, 1)
    _emit(node, ctx, x, factors)


HANDLERS = {
    "Resize": handle_resize,
    "Upsample": handle_upsample,
}
