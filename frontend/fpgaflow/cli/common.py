"""Option checks shared by the sub-commands."""

from __future__ import annotations

from fpgaflow.errors import UserError


def check_bits(bits: int) -> int:
    if not 2 <= bits <= 32:
        raise UserError(f"--bits {bits} is outside 2..32; 8 is the usual width for small FPGAs")
    return bits
