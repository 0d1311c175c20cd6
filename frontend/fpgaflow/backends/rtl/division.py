"""Division parameters of the average pools (pool_avg, pool_global_avg): RECIP_W, RECIP_CODE, SHIFT.

An average divides a sum of codes by its count. docs/fixed-point.md fixes how: a power of
two is a shift by log2(count); any other count multiplies by the code of 1/count in the
layer's reciprocal format first. The generator and the RTL tests both derive the module
parameters here, from the same IR formats run_fixed reads, so they cannot drift apart.
"""

from __future__ import annotations

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.fixed import FixedType


def division_parameters(count: int, in_frac: int, out_frac: int, reciprocal: FixedType | None) -> dict[str, int]:
    """RECIP_W, RECIP_CODE and SHIFT of an average over `count` codes with in_frac fractional bits.

    `reciprocal` is the layer's IR format of 1/count (None is only valid for a power of two).
    """
    if count < 1:
        raise ValueError(f"an average needs a positive count, got {count}")
    if count & (count - 1) == 0:
        return {"RECIP_W": 0, "RECIP_CODE": 0, "SHIFT": in_frac + count.bit_length() - 1 - out_frac}
    if reciprocal is None:
        raise UserError(f"an average over {count} values has no reciprocal format; run quantize first")
    code = int(reciprocal.quantize(np.array(1.0 / count)))
    return {"RECIP_W": reciprocal.width, "RECIP_CODE": code, "SHIFT": reciprocal.frac + in_frac - out_frac}
