"""Fake quantization in torch that follows the fixed-point contract (docs/fixed-point.md) exactly.

Forward: q = saturate(floor(x * 2^F + 1/2)) * 2^-F, round half up then clamp to the W-bit
range, the rule of `FixedType.quantize`; the bias: the same rounding at the accumulator's F
without saturation. Backward: straight-through, the gradient passes unchanged where x lies
inside the format's range and is 0 where it saturated. The formats themselves come from
fpgaflow.quant (power-of-two steps chosen by the same rules as for the build).
"""

from __future__ import annotations

import torch

from fpgaflow.fixed import FixedType


def _round_half_up(x: torch.Tensor) -> torch.Tensor:
    """floor(x + 1/2) forward, identity backward."""
    return x + (torch.floor(x + 0.5) - x).detach()


def fake_quantize(x: torch.Tensor, fmt: FixedType) -> torch.Tensor:
    """x on the grid of `fmt`: round half up, saturate, back to reals; straight-through gradients inside the range."""
    scale = 2.0 ** fmt.frac
    low, high = fmt.min_code / scale, fmt.max_code / scale
    inside = torch.clamp(x, low, high)
    return _round_half_up(inside * scale) / scale


def fake_quantize_bias(bias: torch.Tensor, frac: int) -> torch.Tensor:
    """A bias at the accumulator's F: round half up, no saturation (its format is as wide as its codes)."""
    scale = 2.0 ** frac
    return _round_half_up(bias * scale) / scale
