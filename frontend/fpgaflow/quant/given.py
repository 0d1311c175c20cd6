"""Formats a model file fixes (QONNX Quant nodes): kept by quantize exactly, or refused.

The importer records them (Weight.given, Tensor.given and Tensor.given_rounding); this
module is where quantize honours them (docs/quantization.md, QONNX / Brevitas models):

- a weight keeps its given format, and its values must be codes of it exactly (refused when
  the node that reads them scaled them, such as Gemm's alpha; a BatchNorm folded into the
  layer makes new weights, which are calibrated like any others);
- a bias must sit on its accumulator's grid (its given F at most F_acc), so its codes are exact;
- a feature map keeps its given format; where it is rounded into it, the model's rounding
  must be the contract's (half up), or FLOOR or CEIL right after a Conv2d, Dense, ScaleShift
  or ConvTranspose2d, where an offset in the bias codes makes the contract's rounding exact:
  requantizing acc + o by a shift s >= 1 computes floor((acc + o + 2^(s-1)) / 2^s), so
  o = -2^(s-1) gives floor(acc / 2^s) and o = 2^(s-1) - 1 gives ceil(acc / 2^s).
"""

from __future__ import annotations

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.fixed import MAX_WIDTH, FixedType, bits_for_range
from fpgaflow.ir.given import GivenRounding
from fpgaflow.ir.graph import Tensor
from fpgaflow.ir.layers import Activation, Layer, Weight

ROUNDING_HINT = ("fpgaflow rounds half up and reproduces FLOOR and CEIL only right after a Conv/Dense/affine layer; "
                 "re-export with FLOOR rounding there (Brevitas: float_to_int_impl_type = FLOOR) or pass "
                 "--approximate-rounding (half up instead of half to even differs only on exact ties)")
MODEL_ROUNDING = {
    GivenRounding.FLOOR: "FLOOR (toward -inf)",
    GivenRounding.CEIL: "CEIL (toward +inf)",
    GivenRounding.EXACT_ONLY: "half to even (or another mode fpgaflow cannot reproduce)",
}
"""How the messages name the model's rounding."""


def given_weight_codes(weight: Weight, label: str) -> np.ndarray:
    """The codes of a weight in its given format; a UserError if its values are not exactly such codes."""
    assert weight.given is not None
    fmt = weight.given
    scaled = np.asarray(weight.values, dtype=np.float64) * 2.0**fmt.frac
    codes = np.rint(scaled).astype(np.int64)
    if not np.array_equal(codes, scaled) or codes.min(initial=0) < fmt.min_code or codes.max(initial=0) > fmt.max_code:
        raise UserError(f"{label}: its weights are no longer codes of the format {fmt} their Quant node fixes (scaled "
                        "by the node that reads them, such as Gemm's alpha); quantize the weights as that node uses them")
    return codes


def check_given_bias(bias: Weight, acc_frac: int, label: str) -> None:
    """A bias whose given format is finer than its accumulator's cannot be added exactly: refuse."""
    if bias.given is not None and bias.given.frac > acc_frac:
        raise UserError(f"{label}: its bias is quantized with {bias.given.frac} fractional bits, finer than the "
                        f"accumulator's {acc_frac} (input F + weight F); quantize the bias at the accumulator's scale "
                        "(Brevitas: Int32Bias) or coarser")


def rounding_offsets(layer: Layer, out: Tensor, acc_fracs: np.ndarray) -> np.ndarray | None:
    """Per output channel, the bias code offset that makes the contract's rounding the model's
    (None when none is needed); a UserError where the model's rounding cannot be reproduced."""
    if out.given is None or out.given_rounding in (None, GivenRounding.HALF_UP):
        return None
    shifts = np.asarray(acc_fracs, dtype=np.int64) - out.given.frac
    if np.all(shifts <= 0):
        return None  # an exact left shift: nothing is rounded
    if out.given_rounding is GivenRounding.EXACT_ONLY:
        raise UserError(f"layer {layer.name!r}: the model rounds its output {MODEL_ROUNDING[out.given_rounding]}; "
                        f"{ROUNDING_HINT}")
    if getattr(layer, "activation", Activation.NONE) is Activation.LEAKY:
        raise UserError(f"layer {layer.name!r}: {MODEL_ROUNDING[out.given_rounding]} rounding after a LeakyRelu cannot be "
                        "reproduced (its slope scales the bias); quantize its output with round half up")
    half = np.where(shifts > 0, np.left_shift(np.int64(1), np.maximum(shifts - 1, 0)), 0)
    if out.given_rounding is GivenRounding.FLOOR:
        return -half
    return np.where(shifts > 0, half - 1, 0)


def offset_bias(bias: Weight | None, offsets: np.ndarray, acc_frac: int, channels: int) -> Weight:
    """The bias (a zero one when there is none) with the rounding offsets added to its codes;
    its format is widened to hold them, or a UserError past MAX_WIDTH."""
    if bias is None:
        bias = Weight(values=np.zeros(channels, dtype=np.float32), codes=np.zeros(channels, dtype=np.int64))
    assert bias.codes is not None
    codes = np.asarray(bias.codes, dtype=np.int64) + offsets
    signed, width = bits_for_range(min(int(codes.min(initial=0)), -1), int(codes.max(initial=0)))
    if width > MAX_WIDTH:
        raise UserError(f"a bias with its rounding offset needs {width} bits, more than {MAX_WIDTH}; use fewer bits")
    frac = acc_frac if bias.ftype is None else bias.ftype.frac
    bias.codes, bias.ftype = codes, FixedType(signed, width, frac)
    return bias


def rounds_into(out: Tensor, input_fracs: list[int], label: str) -> None:
    """An Add or Concat rounds only when an input has more fractional bits than its output;
    there a given rounding other than half up is refused."""
    if out.given is None or out.given_rounding in (None, GivenRounding.HALF_UP):
        return
    if max(input_fracs) > out.given.frac:
        raise UserError(f"{label}: the model rounds its output {MODEL_ROUNDING[out.given_rounding]}; {ROUNDING_HINT}")


def check_same_format(out: Tensor, in_fmt: FixedType, label: str) -> None:
    """A layer that moves codes keeps its input's format: a different given format is refused."""
    if out.given is not None and out.given != in_fmt:
        raise UserError(f"{label}: the model quantizes its output to {out.given}, but it keeps its input's format "
                        f"{in_fmt}; quantize its input to that format instead")
