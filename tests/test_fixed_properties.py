"""Property tests of the numeric contract in fpgaflow.fixed, against exact rational arithmetic."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fpgaflow import fixed
from fpgaflow.fixed import FixedType

formats = st.builds(
    FixedType,
    signed=st.booleans(),
    width=st.integers(2, 32),
    frac=st.integers(-8, 40),
)
reals = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(fmt=formats, value=reals)
def test_quantize_is_round_half_up_then_saturate(fmt: FixedType, value: float) -> None:
    exact = math.floor(Fraction(value) * Fraction(2) ** fmt.frac + Fraction(1, 2))
    assert int(fmt.quantize(np.array(value))) == min(max(exact, fmt.min_code), fmt.max_code)


@settings(max_examples=300, deadline=None)
@given(fmt=formats, value=reals)
def test_round_trip_within_half_a_step_inside_the_range(fmt: FixedType, value: float) -> None:
    code = int(fmt.quantize(np.array(value)))
    back = Fraction(code) * Fraction(2) ** -fmt.frac
    step = Fraction(2) ** -fmt.frac
    low, high = Fraction(fmt.min_code) * step, Fraction(fmt.max_code) * step
    if low - step / 2 <= Fraction(value) < high + step / 2:
        assert -step / 2 < back - Fraction(value) <= step / 2
    else:
        assert code == (fmt.max_code if value > 0 else fmt.min_code)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.integers(-(1 << 40), 1 << 40), min_size=1, max_size=20), shift=st.integers(-16, 40))
def test_shift_round_is_floor_of_v_over_2s_plus_half(values: list[int], shift: int) -> None:
    ours = fixed.shift_round(np.array(values, dtype=np.int64), shift)
    expected = [math.floor(Fraction(v, 1) / Fraction(2) ** shift + Fraction(1, 2)) for v in values]
    assert ours.tolist() == expected


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.integers(-(1 << 40), 1 << 40), min_size=2, max_size=30), acc_frac=st.integers(0, 30),
       out=formats)
def test_requantize_is_monotonic_and_in_range(values: list[int], acc_frac: int, out: FixedType) -> None:
    left_shift = max(0, out.frac - acc_frac)
    assume(max(abs(v) for v in values) < 1 << (61 - left_shift))  # int64 codes: the contract's domain
    ordered = np.sort(np.array(values, dtype=np.int64))
    result = fixed.requantize(ordered, acc_frac, out)
    assert np.all(np.diff(result) >= 0)
    assert out.contains(result)


@settings(max_examples=300, deadline=None)
@given(a=st.integers(-(1 << 40), 1 << 40), b=st.integers(-(1 << 40), 1 << 40))
def test_bits_for_range_is_minimal(a: int, b: int) -> None:
    lo, hi = min(a, b), max(a, b)
    signed, width = fixed.bits_for_range(lo, hi)
    fits = FixedType(signed, width, 0)
    assert fits.min_code <= lo and hi <= fits.max_code
    if signed and width > 2:
        smaller = FixedType(True, width - 1, 0)
        assert lo < smaller.min_code or hi > smaller.max_code
    if not signed and width > 1:
        assert hi > FixedType(False, width - 1, 0).max_code
    assert signed == (lo < 0)


@settings(max_examples=300, deadline=None)
@given(alpha=st.floats(2.0**-30, 1.0, exclude_min=False))
def test_leaky_slope_is_within_its_bound_and_exact_for_powers_of_two(alpha: float) -> None:
    code, frac = fixed.leaky_slope(alpha)
    assert 0 < code < 1 << fixed.SLOPE_BITS and code % 2 == 1
    assert abs(Fraction(code, 1) * Fraction(2) ** -frac - Fraction(alpha)) <= Fraction(alpha) * Fraction(2) ** -fixed.SLOPE_BITS
    power = 2.0 ** math.floor(math.log2(alpha))
    assert fixed.leaky_slope(power) == (1, -round(math.log2(power)))


@settings(max_examples=300, deadline=None)
@given(fmt=formats, acc=st.integers(-(1 << 40), 1 << 40), acc_frac=st.integers(-8, 40),
       alpha=st.sampled_from([0.1, 0.01, 0.125, 0.2, 1.0, 0.3]))
def test_leaky_requantize_rounds_once(fmt: FixedType, acc: int, acc_frac: int, alpha: float) -> None:
    """Negative values times the slope code, then one round half up and saturation; others as requantize."""
    code, frac = fixed.leaky_slope(alpha)
    assume(abs(acc).bit_length() + fixed.SLOPE_BITS + max(0, fmt.frac - acc_frac) < 61)  # int64 codes: the contract's domain
    assume(acc_frac + frac - fmt.frac < 62)  # shift_round's shifts stay inside int64
    real = Fraction(acc) * Fraction(2) ** -acc_frac * (Fraction(code) * Fraction(2) ** -frac if acc < 0 else 1)
    exact = math.floor(real * Fraction(2) ** fmt.frac + Fraction(1, 2))
    got = int(fixed.leaky_requantize(np.array(acc), acc_frac, fmt, alpha))
    assert got == min(max(exact, fmt.min_code), fmt.max_code)
    if acc >= 0:
        assert got == int(fixed.requantize(np.array(acc), acc_frac, fmt))
