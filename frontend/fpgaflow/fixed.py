"""Fixed-point types and the numeric contract shared by the reference, the RTL and the HLS code.

Everything here works on integer codes (numpy int64). The real value of a code q in a
type with F fractional bits is q * 2**-F. The rules are written down in
docs/fixed-point.md and mirror ap_fixed<W, W-F, AP_RND, AP_SAT>; a test checks them
against the ap_types headers compiled with g++.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fpgaflow.deploy.pynq_driver.packing import MAX_WIDTH, real_values, round_codes
from fpgaflow.errors import UserError

# MAX_WIDTH: the widest code the int64 reference can hold with headroom for one addition.


@dataclass(frozen=True)
class FixedType:
    """A fixed-point format: signedness, total width W (sign bit included) and F fractional bits.

    F may be negative (coarse steps) or larger than W (a small-magnitude tensor); the
    integer part is W - F bits, as in ap_fixed<W, W-F>.
    """

    signed: bool
    width: int
    frac: int

    def __post_init__(self) -> None:
        if not 1 <= self.width <= MAX_WIDTH:
            raise ValueError(f"fixed-point width {self.width} is outside 1..{MAX_WIDTH}")
        if self.signed and self.width < 2:
            raise ValueError("a signed fixed-point type needs at least 2 bits")

    @property
    def min_code(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_code(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def step(self) -> float:
        """The real value of one code step, 2**-F."""
        return float(2.0**-self.frac)

    @property
    def int_bits(self) -> int:
        """Integer bits including the sign bit, the I of ap_fixed<W, I>."""
        return self.width - self.frac

    def saturate(self, codes: np.ndarray) -> np.ndarray:
        """Clamp integer codes to the range of W bits (AP_SAT)."""
        return np.clip(np.asarray(codes, dtype=np.int64), self.min_code, self.max_code)

    def quantize(self, values: np.ndarray) -> np.ndarray:
        """Float to code: saturate(floor(x * 2**F + 1/2)), round half up (AP_RND), then AP_SAT.

        The PYNQ driver quantizes with the same function (fpgaflow.deploy.pynq_driver.packing),
        so the board sends exactly the codes the reference and the simulation saw.
        """
        return self.saturate(self.round(values))

    def round(self, values: np.ndarray) -> np.ndarray:
        """floor(x * 2**F + 1/2) before saturation: `quantize` without the clamp (the driver's own code)."""
        return round_codes(values, self.frac)

    def count_outside(self, codes: np.ndarray) -> int:
        """How many codes lie outside this type's range (saturation would clip them)."""
        codes = np.asarray(codes)
        return int(np.count_nonzero((codes < self.min_code) | (codes > self.max_code)))

    def to_real(self, codes: np.ndarray) -> np.ndarray:
        """Code to real value, q * 2**-F, as float64 (exact for widths up to 53 bits)."""
        return real_values(codes, self.frac)

    def contains(self, codes: np.ndarray) -> bool:
        """True when every code is inside this type's range."""
        codes = np.asarray(codes)
        return bool(codes.size == 0 or (codes.min() >= self.min_code and codes.max() <= self.max_code))

    def hls_type(self) -> str:
        """The same type in Vitis/Vivado HLS spelling."""
        kind = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{kind}<{self.width}, {self.int_bits}, AP_RND, AP_SAT>"

    def __str__(self) -> str:
        return f"{'s' if self.signed else 'u'}{self.width}.{self.frac}"

    def to_dict(self) -> dict[str, int | bool]:
        return {"signed": self.signed, "width": self.width, "frac": self.frac}

    @classmethod
    def from_dict(cls, data: dict[str, int | bool]) -> "FixedType":
        return cls(signed=bool(data["signed"]), width=int(data["width"]), frac=int(data["frac"]))


def shift_round(values: np.ndarray, shift: int) -> np.ndarray:
    """Divide integer codes by 2**shift rounding half up; a shift <= 0 multiplies exactly.

    (v + 2**(s-1)) >> s with an arithmetic (floor) shift, the rounding of AP_RND.
    """
    values = np.asarray(values, dtype=np.int64)
    if shift <= 0:
        return values << np.int64(-shift)
    return (values + np.int64(1 << (shift - 1))) >> np.int64(shift)


def requantize(acc: np.ndarray, acc_frac: int, out: FixedType) -> np.ndarray:
    """Requantize accumulator codes with acc_frac fractional bits to the output type.

    Shift by s = acc_frac - out.frac with round half up, then saturate to the output type.
    """
    return out.saturate(shift_round(acc, acc_frac - out.frac))


def relu(codes: np.ndarray) -> np.ndarray:
    """ReLU on codes: clamp at zero."""
    return np.maximum(np.asarray(codes, dtype=np.int64), 0)


def relu6_ceiling(out: FixedType) -> int:
    """The code of 6.0 in the output type (saturated): the upper clamp of ReLU6."""
    return int(out.quantize(np.array(6.0)))


SLOPE_BITS = 16
"""Bits of a LeakyRelu slope code before its trailing zeros are dropped (leaky_slope)."""


def leaky_slope(alpha: float) -> tuple[int, int]:
    """LeakyRelu's alpha as an unsigned code and its fractional bits F_a: alpha ~ code * 2**-F_a.

    The most precise SLOPE_BITS-bit format (top bit set, relative error at most 2**-SLOPE_BITS),
    rounded half up, then reduced by its trailing zero bits: the value is unchanged, and a
    power of two becomes code 1 (the multiply is a shift). 0 < alpha <= 1 (the importer checks).
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"a LeakyRelu slope must lie in (0, 1], got {alpha}")
    exponent = math.frexp(alpha)[1]  # alpha = m * 2**exponent with 0.5 <= m < 1
    frac = SLOPE_BITS - exponent
    code = math.floor(alpha * 2.0**frac + 0.5)
    while code % 2 == 0:
        code //= 2
        frac -= 1
    return code, frac


def leaky_rescaled(acc: np.ndarray, acc_frac: int, out_frac: int, alpha: float) -> np.ndarray:
    """LeakyRelu and the rescale to out_frac in one rounding, before saturation.

    A negative value is multiplied by the slope code and shifted by acc_frac + F_a - out_frac;
    any other is shift_round(acc, acc_frac - out_frac), which equals shifting acc * 2**F_a by
    acc_frac + F_a - out_frac exactly (what the RTL computes), without the wider intermediate.
    """
    code, slope_frac = leaky_slope(alpha)
    acc = np.asarray(acc, dtype=np.int64)
    negative = shift_round(np.minimum(acc, 0) * np.int64(code), acc_frac + slope_frac - out_frac)
    return np.where(acc < 0, negative, shift_round(acc, acc_frac - out_frac))


def leaky_requantize(acc: np.ndarray, acc_frac: int, out: FixedType, alpha: float) -> np.ndarray:
    """Requantize with LeakyRelu: leaky_rescaled, then saturate to the output type."""
    return out.saturate(leaky_rescaled(acc, acc_frac, out.frac, alpha))


def divides_by_shift(count: int) -> bool:
    """Whether an average over `count` codes divides by a shift (a power of two) rather than a reciprocal."""
    return count & (count - 1) == 0


def average_division(count: int, reciprocal: FixedType | None) -> tuple[int, int]:
    """(multiplier code, fractional bits it adds) that turn a sum of `count` codes into their mean.

    The one rule for averages (docs/fixed-point.md), read by the quantizer, the reference and
    the RTL parameters: a power of two is a shift by log2(count) (multiplier 1); any other
    count multiplies by the code of 1/count in the layer's reciprocal format, whose F bits
    the shift then removes. The sum times the multiplier, with the added bits on its
    fraction, is requantized to the output format.
    """
    if count < 1:
        raise ValueError(f"an average needs a positive count, got {count}")
    if divides_by_shift(count):
        return 1, count.bit_length() - 1
    if reciprocal is None:
        raise UserError(f"an average over {count} values has no reciprocal format; run quantize first")
    return int(reciprocal.quantize(np.array(1.0 / count))), reciprocal.frac


def bits_for_range(lo: int, hi: int) -> tuple[bool, int]:
    """Smallest (signed, width) whose code range contains [lo, hi]."""
    if lo >= 0:
        return False, max(1, int(hi).bit_length())
    width = max(max(int(hi), 0).bit_length(), int(-lo - 1).bit_length()) + 1
    return True, max(2, width)
