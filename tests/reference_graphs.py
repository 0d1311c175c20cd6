"""Small hand-built IR graphs for the reference and quantization tests.

Built directly from IR dataclasses so these tests depend on nothing but the IR.
"""

from __future__ import annotations

import numpy as np

from fpgaflow.ir import Graph, Layer, Tensor


def chain(name: str, input_shape: tuple[int, ...], steps: list[tuple[Layer, tuple[int, ...]]]) -> Graph:
    """A graph whose layers (already naming their inputs/outputs) run in the given order.

    `steps` pairs each layer with its output's per-sample shape; the input tensor is "x".
    """
    tensors = {"x": Tensor(name="x", shape=input_shape)}
    for layer, shape in steps:
        tensors[layer.output] = Tensor(name=layer.output, shape=shape)
    graph = Graph(name=name, inputs=["x"], outputs=[steps[-1][0].output], tensors=tensors, layers=[s[0] for s in steps])
    graph.check()
    return graph


def single(layer: Layer, input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> Graph:
    """A one-layer graph reading "x"."""
    return chain(layer.name, input_shape, [(layer, output_shape)])


def random_weight(rng: np.random.Generator, shape: tuple[int, ...], density: float = 1.0) -> np.ndarray:
    """Gaussian weights with roughly `density` of them nonzero."""
    values = rng.normal(0.0, 0.5, size=shape)
    return values * (rng.random(shape) < density)
