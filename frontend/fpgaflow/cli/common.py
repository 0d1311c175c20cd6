"""Option checks shared by the sub-commands."""

from __future__ import annotations

from fpgaflow.errors import UserError
from fpgaflow.quant.quantize import MAX_BITS, MIN_BITS


def check_bits(bits: int) -> int:
    """A --bits value quantize can use; the upper limit is where accumulators outgrow the reference."""
    if not MIN_BITS <= bits <= MAX_BITS:
        raise UserError(
            f"--bits {bits} is outside {MIN_BITS}..{MAX_BITS} (wider codes overflow the accumulator); "
            "8 is the usual width for small FPGAs"
        )
    return bits
