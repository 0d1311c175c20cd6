"""fpgaflow: prune, quantize and deploy CNNs as sparse-convolution dataflow hardware."""

__version__ = "0.1.0"

__all__ = ["from_torch", "import_onnx", "load_model"]


def __getattr__(name: str) -> object:
    """Load the model entry points on first use, so `import fpgaflow` stays light (no torch)."""
    if name in __all__:
        from fpgaflow import api

        return getattr(api, name)
    raise AttributeError(f"module 'fpgaflow' has no attribute {name!r}")
