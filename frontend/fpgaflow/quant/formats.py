"""How fpgaflow chooses a fixed-point format: activations, weights, biases, accumulators, reciprocals.

The rules are the law written in docs/fixed-point.md; this module is their one
implementation. Each function is pure: numbers in, a FixedType (and codes) out.
"""

from __future__ import annotations

import math

import numpy as np

from fpgaflow.fixed import MAX_WIDTH, FixedType, bits_for_range

RECIPROCAL_WIDTH = 16
"""Unsigned bits of the reciprocal 1/count of an average pool: 16 keeps its relative error below 2^-15."""


def _fits(value: float, frac: int, fmt_min: int, fmt_max: int) -> bool:
    code = math.floor(value * 2.0**frac + 0.5)
    return fmt_min <= code <= fmt_max


def fit_format(lo: float, hi: float, bits: int, signed: bool) -> FixedType:
    """The finest format of `bits` bits in which both observed extremes round without saturating.

    The first guess puts the top of the range in the top integer bit; when a value is
    exactly a power of two (or rounds up to one) it needs one more integer bit, so the
    guess steps F down until both ends fit. An all-zero range gets the range [-1, 1)
    (signed) or [0, 1) (unsigned): its codes are 0 either way.
    """
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    probe = FixedType(signed, bits, 0)
    magnitude = max(-lo, hi)
    frac = bits - int(signed)
    if magnitude > 0.0:
        frac -= math.ceil(math.log2(magnitude))
        while not (_fits(hi, frac, probe.min_code, probe.max_code) and _fits(lo, frac, probe.min_code, probe.max_code)):
            frac -= 1
    return FixedType(signed, bits, frac)


def weight_format(values: np.ndarray, bits: int) -> FixedType:
    """Signed per-tensor format of a weight tensor from its extremes."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return FixedType(True, bits, bits - 1)
    return fit_format(float(values.min()), float(values.max()), bits, signed=True)


CHANNEL_SPREAD_LIMIT = 3
"""Bits by which the output channels' own weight formats may differ before each keeps its own
(docs/fixed-point.md, per-channel weight formats: within 3 bits every channel keeps at least
W-4 bits in the tensor's format)."""


def channel_weight_format(values: np.ndarray, bits: int) -> tuple[FixedType, np.ndarray | None]:
    """The tensor's weight format, and each output channel's F when their spread exceeds CHANNEL_SPREAD_LIMIT.

    A channel's F comes from its own extremes (weight_format); an all-zero channel takes the
    tensor's F. With per-channel F the tensor's format is the coarsest of them.
    """
    values = np.asarray(values, dtype=np.float64)
    tensor = weight_format(values, bits)
    if values.size == 0:
        return tensor, None
    rows = values.reshape(values.shape[0], -1)
    fracs = np.array([weight_format(row, bits).frac if np.any(row != 0) else tensor.frac for row in rows], dtype=np.int64)
    if int(fracs.max() - fracs.min()) <= CHANNEL_SPREAD_LIMIT:
        return tensor, None
    return FixedType(True, bits, int(fracs.min())), fracs


def channel_codes(values: np.ndarray, ftype: FixedType, channel_frac: np.ndarray | None) -> np.ndarray:
    """Codes of a tensor in its format, each output channel (axis 0) at its own F when channel_frac is given."""
    values = np.asarray(values, dtype=np.float64)
    if channel_frac is None:
        return ftype.quantize(values)
    rows = values.reshape(values.shape[0], -1)
    codes = [FixedType(ftype.signed, ftype.width, int(frac)).quantize(row) for row, frac in zip(rows, channel_frac)]
    return np.stack(codes).reshape(values.shape).astype(np.int64)


def bias_codes(values: np.ndarray, acc_frac: int | np.ndarray) -> tuple[FixedType, np.ndarray]:
    """A bias (or shift) quantized at the accumulator's F: codes round half up, no saturation.

    Its width is just what its codes need; the accumulator format accounts for it. With an
    array acc_frac (per-channel formats) channel c is quantized at acc_frac[c] and the
    format's F is the smallest.
    """
    fracs = np.asarray(acc_frac, dtype=np.int64)
    wide = FixedType(True, MAX_WIDTH, int(fracs.min()) if fracs.ndim else int(fracs))
    codes = channel_codes(values, wide, fracs if fracs.ndim else None)
    signed, width = bits_for_range(min(int(codes.min(initial=0)), -1), int(codes.max(initial=0)))
    return FixedType(signed, width, wide.frac), codes


def accumulator_format(lo: int, hi: int, acc_frac: int) -> FixedType:
    """Signed accumulator wide enough for every sum in [lo, hi] (codes at acc_frac)."""
    _, width = bits_for_range(min(lo, -1), hi)
    if width > MAX_WIDTH:
        raise ValueError(f"accumulator needs {width} bits, more than the reference's {MAX_WIDTH}")
    return FixedType(True, width, acc_frac)


def widest_bits(narrowest: int) -> int:
    """The widest weight and activation width whose smallest dot product still has an accumulator.

    The smallest accumulator of a Conv2d or Dense layer sums two products of the most
    negative codes; a width whose accumulator for that already exceeds MAX_WIDTH cannot
    quantize any real layer, so the option check refuses it before any work.
    """
    bits = narrowest
    while True:
        wider = FixedType(True, bits + 1, 0)
        lo, hi = dot_product_range(np.full((1, 2), wider.min_code), wider, None)
        try:
            accumulator_format(int(lo[0]), int(hi[0]), 0)
        except ValueError:
            return bits
        bits += 1


def dot_product_range(
    weight_codes: np.ndarray, input_type: FixedType, bias: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per output channel, the smallest and largest sum any representable input can produce.

    weight_codes is (O, ...): each row is one output channel's filter. A positive weight
    reaches its largest product at the largest input code and a negative one at the
    smallest, so the extremes are sums of per-weight extremes (zeros contribute nothing,
    so only the actual nonzero weights count). Weight sums fit int64 (W <= 32 bits, fewer
than 2^30 weights per channel); the products with input codes are Python integers.
    """
    rows = np.asarray(weight_codes, dtype=np.int64).reshape(weight_codes.shape[0], -1)
    positive = np.where(rows > 0, rows, 0).sum(axis=1).astype(object)
    negative = np.where(rows < 0, rows, 0).sum(axis=1).astype(object)
    in_min, in_max = input_type.min_code, input_type.max_code
    hi = positive * in_max + negative * in_min
    lo = positive * in_min + negative * in_max
    if bias is not None:
        offset = np.asarray(bias, dtype=np.int64).astype(object)
        hi, lo = hi + offset, lo + offset
    return lo, hi


def reciprocal_format(count: int) -> tuple[FixedType, int]:
    """Unsigned RECIPROCAL_WIDTH-bit format of 1/count with its top bit set, and the code.

    With 2^(k-1) < count < 2^k, F = RECIPROCAL_WIDTH - 1 + k puts 2^F / count in
    [2^(W-1), 2^W): the most precise format of that width that still holds it.
    """
    k = math.ceil(math.log2(count))
    fmt = FixedType(False, RECIPROCAL_WIDTH, RECIPROCAL_WIDTH - 1 + k)
    code = int(fmt.quantize(np.array(1.0 / count)))
    if math.floor(2.0**fmt.frac / count + 0.5) != code:
        raise ValueError(f"1/{count} does not fit the reciprocal format {fmt}")
    return fmt, code
