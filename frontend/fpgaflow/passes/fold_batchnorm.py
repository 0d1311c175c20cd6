"""Fold inference BatchNorm layers into the Conv2d/Dense before them, or make them ScaleShift.

BatchNorm is y = (x - mean) * gamma / sqrt(var + eps) + beta, an affine map per channel.
After a Conv2d or Dense with no activation and no other reader it is absorbed exactly
into the weights (scaled per output channel) and the bias, so hardware never sees it.
Anywhere else it becomes a ScaleShift layer with scale and shift precomputed and kept in
float64: a channel whose running variance is ~0 has a scale near 1/sqrt(eps), and float32
storage of such a scale and of the shift (a difference of large numbers) would put the float
reference further from the exact result than onnxruntime is.
"""

from __future__ import annotations

import numpy as np

from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import Activation, BatchNorm, Conv2d, Dense, ScaleShift, Weight
from fpgaflow.passes.base import GraphPass
from fpgaflow.passes.graph_edit import absorb_next, sole_consumer


def batchnorm_affine(bn: BatchNorm) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift) per channel, computed in float64 so folding adds no rounding of its own."""
    scale = bn.scale.values.astype(np.float64) / np.sqrt(bn.var.values.astype(np.float64) + bn.epsilon)
    shift = bn.bias.values.astype(np.float64) - bn.mean.values.astype(np.float64) * scale
    return scale, shift


def _fold_into(layer: Conv2d | Dense, scale: np.ndarray, shift: np.ndarray) -> None:
    weight = layer.weight.values.astype(np.float64)
    scaled = weight * scale.reshape((-1,) + (1,) * (weight.ndim - 1))
    bias = layer.bias.values.astype(np.float64) if layer.bias is not None else np.zeros(len(scale))
    layer.weight = Weight(values=scaled.astype(np.float32))
    layer.bias = Weight(values=(bias * scale + shift).astype(np.float32))


class FoldBatchNorm(GraphPass):
    name = "fold_batchnorm"

    def run(self, graph: Graph) -> None:
        for bn in [layer for layer in graph.layers if isinstance(layer, BatchNorm)]:
            scale, shift = batchnorm_affine(bn)
            producer = graph.producer(bn.inputs[0])
            foldable = (
                isinstance(producer, Conv2d | Dense)
                and producer.activation == Activation.NONE
                and sole_consumer(graph, producer.output) is bn
            )
            if foldable:
                _fold_into(producer, scale, shift)  # type: ignore[arg-type]
                absorb_next(graph, producer, bn)  # type: ignore[arg-type]
            else:
                replacement = ScaleShift(
                    name=bn.name, inputs=bn.inputs, output=bn.output,
                    scale=Weight(values=scale), shift=Weight(values=shift),
                )
                graph.layers[graph.layers.index(bn)] = replacement
