"""fpgaflow: prune, quantize and deploy CNNs as sparse-convolution dataflow hardware."""

__version__ = "0.1.0"
