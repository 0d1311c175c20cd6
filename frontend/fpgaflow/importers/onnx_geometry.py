"""Sliding-window attributes of ONNX Conv and pooling nodes in the IR's terms.

ONNX spreads a window's geometry over kernel_shape, strides, pads, dilations and
auto_pad; the IR wants (stride_h, stride_w), (top, left, bottom, right) and
(dilation_h, dilation_w). auto_pad is resolved here, once, against the static input size.
"""

from __future__ import annotations

import math
from typing import Any

import onnx

from fpgaflow.errors import UserError
from fpgaflow.importers.onnx_context import node_label

Pair = tuple[int, int]
Padding = tuple[int, int, int, int]


def _pair(node: onnx.NodeProto, attrs: dict[str, Any], key: str, default: int) -> Pair:
    values = list(attrs.get(key, [default, default]))
    if len(values) != 2:
        raise UserError(f"{node_label(node)}: only 2-D windows are supported, got {key}={values}")
    return int(values[0]), int(values[1])


def _same_padding(size: int, kernel: int, stride: int, dilation: int, upper: bool) -> tuple[int, int]:
    """Begin and end padding so that output = ceil(size / stride), extra on the end if `upper`."""
    span = dilation * (kernel - 1) + 1
    total = max((math.ceil(size / stride) - 1) * stride + span - size, 0)
    small, large = total // 2, total - total // 2
    return (small, large) if upper else (large, small)


def window_geometry(
    node: onnx.NodeProto, attrs: dict[str, Any], in_hw: Pair, kernel: Pair
) -> tuple[Pair, Padding, Pair]:
    """(stride, padding, dilation) of a 2-D window node on an input of size in_hw."""
    stride = _pair(node, attrs, "strides", 1)
    dilation = _pair(node, attrs, "dilations", 1)
    auto_pad = attrs.get("auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        upper = auto_pad == "SAME_UPPER"
        top, bottom = _same_padding(in_hw[0], kernel[0], stride[0], dilation[0], upper)
        left, right = _same_padding(in_hw[1], kernel[1], stride[1], dilation[1], upper)
        return stride, (top, left, bottom, right), dilation
    if auto_pad == "VALID":
        return stride, (0, 0, 0, 0), dilation
    if auto_pad != "NOTSET":
        raise UserError(f"{node_label(node)}: unknown auto_pad {auto_pad!r}")
    pads = [int(p) for p in attrs.get("pads", [0, 0, 0, 0])]
    if len(pads) != 4:
        raise UserError(f"{node_label(node)}: only 2-D windows are supported, got pads={pads}")
    return stride, (pads[0], pads[1], pads[2], pads[3]), dilation


def line_attributes(attrs: dict[str, Any]) -> dict[str, Any]:
    """A 1-D window's attributes as the 2-D window over (1, L) that the IR holds it as."""
    lifted = dict(attrs)
    for key in ("kernel_shape", "strides", "dilations"):
        if key in attrs:
            lifted[key] = [1, *attrs[key]]
    if "pads" in attrs:
        begin, end = attrs["pads"]
        lifted["pads"] = [0, begin, 0, end]
    return lifted


def kernel_of(node: onnx.NodeProto, attrs: dict[str, Any]) -> Pair:
    """The kernel_shape attribute of a pooling node (required by ONNX)."""
    if "kernel_shape" not in attrs:
        raise UserError(f"{node_label(node)}: kernel_shape attribute is missing")
    return _pair(node, attrs, "kernel_shape", 1)
