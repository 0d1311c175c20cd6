"""Fixed-point quantization: calibration and the choice of every tensor's format."""

from fpgaflow.quant.quantize import quantize

__all__ = ["quantize"]
