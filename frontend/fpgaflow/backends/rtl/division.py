"""Division parameters of the average pools (pool_avg, pool_global_avg): RECIP_W, RECIP_CODE, SHIFT.

An average divides a sum of codes by its count; fpgaflow.fixed.average_division is the
rule (docs/fixed-point.md), which run_fixed follows too. The generator and the RTL tests
both derive the module parameters here from it, so they cannot drift apart.
"""

from __future__ import annotations

from fpgaflow.fixed import FixedType, average_division, divides_by_shift


def division_parameters(count: int, in_frac: int, out_frac: int, reciprocal: FixedType | None) -> dict[str, int]:
    """RECIP_W, RECIP_CODE and SHIFT of an average over `count` codes with in_frac fractional bits.

    `reciprocal` is the layer's IR format of 1/count (None is only valid for a power of two).
    """
    code, frac = average_division(count, reciprocal)
    if divides_by_shift(count):
        return {"RECIP_W": 0, "RECIP_CODE": 0, "SHIFT": in_frac + frac - out_frac}
    assert reciprocal is not None
    return {"RECIP_W": reciprocal.width, "RECIP_CODE": code, "SHIFT": frac + in_frac - out_frac}
