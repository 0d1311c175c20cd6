"""Option checks shared by the sub-commands."""

from __future__ import annotations

import argparse

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


def add_approximate_rounding(parser: argparse.ArgumentParser) -> None:
    """The opt-in that imports QONNX activation quantizers rounding half to even with fpgaflow's half up."""
    parser.add_argument(
        "--approximate-rounding", action="store_true",
        help="accept QONNX Quant nodes on activations that round half to even (Brevitas's default): fpgaflow rounds "
             "them half up, which differs only on exact ties (a warning each); FLOOR and CEIL are exact without it",
    )
