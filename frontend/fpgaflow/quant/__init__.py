"""Fixed-point quantization: calibration and the choice of every tensor's format."""
