"""Fuse stand-alone ReLU/ReLU6/LeakyRelu layers into the Conv2d, ConvTranspose2d, Dense, ScaleShift or Add before them.

The engines apply the activation while requantizing, at no cost, so a Relu layer whose
input comes from such a layer (with no activation yet, and no other reader) becomes that
layer's `activation` attribute. A Relu that cannot be fused stays a Relu layer.
"""

from __future__ import annotations

from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import Activation, Add, Conv2d, ConvTranspose2d, Dense, Relu, ScaleShift
from fpgaflow.passes.base import GraphPass
from fpgaflow.passes.graph_edit import absorb_next, sole_consumer

FUSABLE = (Conv2d, ConvTranspose2d, Dense, ScaleShift, Add)


class FuseActivation(GraphPass):
    name = "fuse_activation"
    requires = ("fold_batchnorm",)

    def run(self, graph: Graph) -> None:
        for relu in [layer for layer in graph.layers if isinstance(layer, Relu)]:
            producer = graph.producer(relu.inputs[0])
            if (
                isinstance(producer, FUSABLE)
                and producer.activation == Activation.NONE
                and sole_consumer(graph, producer.output) is relu
            ):
                producer.activation, producer.alpha = relu.activation, relu.alpha
                _keep_given_format(graph, producer.output, relu.output)
                absorb_next(graph, producer, relu)


def _keep_given_format(graph: Graph, inner: str, outer: str) -> None:
    """A format the model fixed between a layer and its ReLU holds after it too (ReLU only clamps at 0)."""
    before, after = graph.tensors[inner], graph.tensors[outer]
    if before.given is not None and after.given is None:
        after.given, after.given_rounding = before.given, before.given_rounding
