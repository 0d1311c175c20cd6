"""QONNX quantizers as Brevitas exports them: `Quant` nodes whose formats fpgaflow keeps.

A Quant node (domain qonnx.custom_op.general) computes
y = (clamp(round(x / scale + zeropt), min_int, max_int) - zeropt) * scale. With a
power-of-two scale and zero point 0 that is a fixed-point format: signed, W = bitwidth,
F = -log2(scale). On a constant (a weight or a bias) the node is applied here, with its own
rounding, and the result keeps that format (Weight.given). On a feature map the node fixes
the tensor's format (Tensor.given) and how the model rounds into it (GivenRounding);
quantize keeps the format and honours the rounding or refuses (fpgaflow.quant.given).
Anything else (another scale or zero point, narrow-range activations, BipolarQuant, Trunc)
is refused with what the contract needs. No qonnx package is needed: this reads ONNX.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
import onnx

from fpgaflow.errors import UserError
from fpgaflow.fixed import FixedType
from fpgaflow.importers.onnx_context import ImportContext, node_attributes, node_label
from fpgaflow.ir.given import GivenRounding

QONNX_DOMAINS = frozenset({"qonnx.custom_op.general", "finn.custom_op.general"})
"""The domains Brevitas and FINN write QONNX quantizers in."""
MAX_QUANT_BITS = 62
"""The widest format fpgaflow.fixed holds (a 32-bit bias Quant is common)."""
REFUSED = {
    "BipolarQuant": "binarized (+1/-1) values have no zero code in a fixed-point format; use Quant with 2 or more bits",
    "Trunc": "truncation of an already quantized value is not in docs/fixed-point.md; use Quant with FLOOR rounding",
}
"""QONNX ops refused on purpose, with the reason the unsupported-ops message gives."""

ROUNDING: dict[str, Any] = {
    "ROUND": np.round,
    "HALF_EVEN": np.round,
    "FLOOR": np.floor,
    "CEIL": np.ceil,
    "ROUND_TO_ZERO": np.fix,
    "DOWN": np.fix,
    "UP": lambda v: np.sign(v) * np.ceil(np.abs(v)),
    "HALF_UP": lambda v: np.sign(v) * np.floor(np.abs(v) + 0.5),
    "HALF_DOWN": lambda v: np.sign(v) * np.ceil(np.abs(v) - 0.5),
}
"""QONNX rounding modes (qonnx.custom_op.general.quant.resolve_rounding_mode): numpy functions."""


def is_qonnx(node: onnx.NodeProto) -> bool:
    return node.domain in QONNX_DOMAINS


def _scalar(node: onnx.NodeProto, ctx: ImportContext, index: int, what: str) -> float:
    values = np.asarray(ctx.const(node, index), dtype=np.float64)
    if values.size != 1 and not np.all(values == values.reshape(-1)[0]):
        raise UserError(f"{node_label(node)}: a {what} per channel is not supported; fpgaflow needs one power-of-two "
                        "scale per tensor (Brevitas: a *PerTensorFixedPoint quantizer)")
    return float(values.reshape(-1)[0])


def _mode(node: onnx.NodeProto, attrs: dict[str, Any]) -> str:
    mode = str(attrs.get("rounding_mode", "ROUND")).upper()
    if mode not in ROUNDING:
        raise UserError(f"{node_label(node)}: unknown rounding_mode {mode!r}; QONNX defines {', '.join(sorted(ROUNDING))}")
    return mode


def quant_format(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> FixedType:
    """The fixed-point format a Quant node stands for, or a UserError saying what the contract needs."""
    scale = _scalar(node, ctx, 1, "scale")
    zero_point = np.asarray(ctx.const(node, 2), dtype=np.float64)
    bits = _scalar(node, ctx, 3, "bit width")
    mantissa, exponent = math.frexp(scale) if math.isfinite(scale) else (0.0, 0)
    if mantissa != 0.5:
        raise UserError(f"{node_label(node)}: scale {scale:g} is not a power of two; fpgaflow keeps only fixed-point "
                        "formats (scale 2^-F): quantize with power-of-two scales (Brevitas: *FixedPoint quantizers)")
    if np.any(zero_point != 0):
        raise UserError(f"{node_label(node)}: zero point {zero_point.reshape(-1)[:4].tolist()} is not 0; fpgaflow's "
                        "formats are symmetric around 0: quantize with zero point 0")
    signed = bool(attrs.get("signed", 1))
    if bits != int(bits) or not (2 if signed else 1) <= bits <= MAX_QUANT_BITS:
        raise UserError(f"{node_label(node)}: bit width {bits:g} is not supported; use an integer from 2 to {MAX_QUANT_BITS}")
    return FixedType(signed, int(bits), 1 - exponent)


def _int_codes(node: onnx.NodeProto, attrs: dict[str, Any], values: np.ndarray, fmt: FixedType) -> np.ndarray:
    """The integer codes a Quant node with zero point 0 computes: clamp, then its own rounding."""
    narrow = bool(attrs.get("narrow", 0))
    low = fmt.min_code + int(narrow and fmt.signed)
    high = fmt.max_code - int(narrow and not fmt.signed)
    scaled = np.asarray(values, dtype=np.float64) * 2.0**fmt.frac
    return ROUNDING[_mode(node, attrs)](np.clip(scaled, low, high)).astype(np.int64)


def fold_quant_constant(node: onnx.NodeProto, ctx: ImportContext) -> None:
    """A Quant of a constant (a weight or bias): its values, exactly, in the format it fixes."""
    attrs = node_attributes(node)
    if node.op_type != "Quant":
        raise UserError(f"{node_label(node)}: {REFUSED.get(node.op_type, 'not supported')}")
    fmt = quant_format(node, attrs, ctx)
    codes = _int_codes(node, attrs, ctx.const(node, 0), fmt)
    ctx.consts[node.output[0]] = codes.astype(np.float64) * 2.0**-fmt.frac
    ctx.given[node.output[0]] = fmt


def _rounding(node: onnx.NodeProto, mode: str, fmt: FixedType, ctx: ImportContext) -> GivenRounding:
    """How quantize must round into the node's format; approximations warn (the option allows them)."""
    if mode in ("FLOOR", "CEIL"):
        return GivenRounding(mode.lower())
    if mode == "HALF_UP" and not fmt.signed:
        return GivenRounding.HALF_UP  # ties away from zero and toward +inf differ only below 0, where both clamp to 0
    if not ctx.approximate_rounding:
        return GivenRounding.EXACT_ONLY
    note = (f"{node_label(node)} rounds {mode}; imported with fpgaflow's round half up (toward +inf), "
            "which differs from it only on exact ties (--approximate-rounding)")
    ctx.notes.append(note)
    print(f"warning: {note}", file=sys.stderr)
    return GivenRounding.HALF_UP


def handle_quant(node: onnx.NodeProto, attrs: dict[str, Any], ctx: ImportContext) -> None:
    """A Quant of a feature map: the tensor keeps the node's format (it is the same IR tensor)."""
    fmt = quant_format(node, attrs, ctx)
    if attrs.get("narrow", 0):
        raise UserError(f"{node_label(node)}: a narrow-range activation quantizer is not supported (fpgaflow "
                        "saturates at the format's full range); quantize activations with narrow_range=False")
    x = ctx.activation(node)
    if ctx.consumers[node.input[0]] != 1 or node.input[0] in ctx.graph_outputs:
        raise UserError(f"{node_label(node)}: its input is also read unquantized; fpgaflow keeps one format per "
                        "tensor: quantize every reader of a tensor with the same Quant")
    tensor = ctx.tensors[x]
    rounding = _rounding(node, _mode(node, attrs), fmt, ctx)
    if tensor.given is not None:
        raise UserError(f"{node_label(node)}: tensor {x!r} is already quantized by another Quant; remove one of them")
    tensor.given, tensor.given_rounding = fmt, rounding
    ctx.alias(node.output[0], x)


HANDLERS = {"Quant": handle_quant}
