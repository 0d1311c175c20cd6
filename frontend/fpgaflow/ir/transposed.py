"""A ConvTranspose2d (stride = kernel) as the 1x1 conv the references and the sparse engine compute.

Input pixel (y, x) writes output pixel (KH*y + i, KW*x + j), channel o, as
sum_c x[c, y, x] * w[c, o, i, j] + b[o]: a 1x1 conv with KH*KW*O output channels, channel
(i*KW + j)*O + o, followed by a depth-to-space (fpgaflow.reference.kernels.depth_to_space,
rtl/axis_depth_to_space.sv). Each output value is one such dot product, so the accumulator,
bias and requantization rules are those of that conv (docs/fixed-point.md).
"""

from __future__ import annotations

import numpy as np

from fpgaflow.ir.layers import Conv2d, ConvTranspose2d, Weight


def pointwise_rows(weight: np.ndarray) -> np.ndarray:
    """(I, O, KH, KW) to the 1x1 conv's weight (KH*KW*O, I, 1, 1), row (i*KW + j)*O + o."""
    in_channels = weight.shape[0]
    return np.ascontiguousarray(weight.transpose(2, 3, 1, 0)).reshape(-1, in_channels, 1, 1)


def _pointwise_weight(weight: Weight) -> Weight:
    codes = None if weight.codes is None else pointwise_rows(np.asarray(weight.codes))
    return Weight(values=pointwise_rows(np.asarray(weight.values)), ftype=weight.ftype, codes=codes)


def _tiled_bias(bias: Weight | None, blocks: int) -> Weight | None:
    if bias is None:
        return None
    codes = None if bias.codes is None else np.tile(np.asarray(bias.codes), blocks)
    return Weight(values=np.tile(np.asarray(bias.values), blocks), ftype=bias.ftype, codes=codes)


def as_pointwise_conv(layer: ConvTranspose2d) -> Conv2d:
    """The 1x1 conv (same name, input and output tensor names) whose depth-to-space is the layer."""
    blocks = layer.block[0] * layer.block[1]
    return Conv2d(name=layer.name, inputs=list(layer.inputs), output=layer.output, weight=_pointwise_weight(layer.weight),
                  bias=_tiled_bias(layer.bias, blocks), activation=layer.activation, alpha=layer.alpha, acc=layer.acc)
