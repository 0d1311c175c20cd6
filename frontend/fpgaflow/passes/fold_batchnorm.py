"""Fold per-channel affine layers (inference BatchNorm, and the ScaleShift layers that Mul,
Div, Sub and Add by a constant import as) into the layer before them, or keep one ScaleShift.

BatchNorm is y = (x - mean) * gamma / sqrt(var + eps) + beta, an affine map per channel like
ScaleShift's y = scale * x + shift. After a Conv2d or Dense with no activation and no other
reader it is absorbed exactly into the weights (scaled per output channel) and the bias;
after a ScaleShift with no activation and no other reader the two maps compose into one
(a BatchNorm exported as Mul then Add). Anywhere else it stays (or becomes) a ScaleShift.
Layers are visited in graph order, so a chain of affine maps collapses into its first.
Scale and shift are kept in float64: a channel whose running variance is ~0 has a scale near
1/sqrt(eps), and float32 storage of such a scale and of the shift (a difference of large
numbers) would put the float reference further from the exact result than onnxruntime is.
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


def _affine(layer: BatchNorm | ScaleShift) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(layer, BatchNorm):
        return batchnorm_affine(layer)
    return layer.scale.values.astype(np.float64), layer.shift.values.astype(np.float64)


def _fold_into(layer: Conv2d | Dense, scale: np.ndarray, shift: np.ndarray) -> None:
    weight = layer.weight.values.astype(np.float64)
    scaled = weight * scale.reshape((-1,) + (1,) * (weight.ndim - 1))
    bias = layer.bias.values.astype(np.float64) if layer.bias is not None else np.zeros(len(scale))
    layer.weight = Weight(values=scaled.astype(np.float32))
    layer.bias = Weight(values=(bias * scale + shift).astype(np.float32))


def _compose_into(first: ScaleShift, scale: np.ndarray, shift: np.ndarray) -> None:
    """first becomes x -> scale * (first(x)) + shift."""
    inner_scale, inner_shift = _affine(first)
    first.scale = Weight(values=inner_scale * scale)
    first.shift = Weight(values=inner_shift * scale + shift)


class FoldBatchNorm(GraphPass):
    name = "fold_batchnorm"

    def run(self, graph: Graph) -> None:
        for layer in [layer for layer in graph.layers if isinstance(layer, BatchNorm | ScaleShift)]:
            scale, shift = _affine(layer)
            producer = graph.producer(layer.inputs[0])
            foldable = (
                isinstance(producer, Conv2d | Dense | ScaleShift)
                and producer.activation == Activation.NONE
                and sole_consumer(graph, producer.output) is layer
                and (isinstance(layer, BatchNorm) or layer.activation == Activation.NONE)
            )
            if foldable and isinstance(producer, ScaleShift):
                _compose_into(producer, scale, shift)
                absorb_next(graph, producer, layer)
            elif foldable:
                _fold_into(producer, scale, shift)  # type: ignore[arg-type]
                absorb_next(graph, producer, layer)  # type: ignore[arg-type]
            elif isinstance(layer, BatchNorm):
                replacement = ScaleShift(
                    name=layer.name, inputs=layer.inputs, output=layer.output,
                    scale=Weight(values=scale), shift=Weight(values=shift),
                )
                graph.layers[graph.layers.index(layer)] = replacement
