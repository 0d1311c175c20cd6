"""Front ends: ONNX models and PyTorch modules to the IR."""
