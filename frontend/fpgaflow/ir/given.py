"""How a model file rounds into a format it fixes for a tensor (QONNX Quant nodes).

fpgaflow's contract rounds half up (docs/fixed-point.md); a model quantized elsewhere may
round otherwise. The importer records which rounding the model asks for, and quantize
honours it exactly or refuses (docs/quantization.md, QONNX / Brevitas models).
"""

from __future__ import annotations

from enum import Enum


class GivenRounding(str, Enum):
    """The rounding a model asks for where a tensor is quantized into its given format."""

    HALF_UP = "half_up"
    """The contract's own rounding (half toward +inf), or an accepted approximation of the model's."""
    FLOOR = "floor"
    """Toward -inf: exact after a Conv2d/Dense/ScaleShift/ConvTranspose2d (a bias offset)."""
    CEIL = "ceil"
    """Toward +inf: exact after the same layers (a bias offset)."""
    EXACT_ONLY = "exact_only"
    """Any other rounding (half to even, ...): accepted only where no rounding happens."""
