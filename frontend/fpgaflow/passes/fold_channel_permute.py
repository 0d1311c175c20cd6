"""Fold a ChannelPermute (a channel shuffle) into the conv that writes or the conv that reads it.

A permutation of channels is free when a neighbour can absorb it: the plain conv (groups = 1)
before it writes its output channels in the permuted order (its weight rows and bias are
permuted; the activation is per channel, so it commutes), or the plain conv after it reads
its input channels in the permuted order (its weight columns are permuted). Either is exact.
A grouped or depthwise neighbour (ShuffleNet's case) would lose its group structure, so the
ChannelPermute stays and the RTL generator makes it a wire permutation of the pixel beat.
"""

from __future__ import annotations

import numpy as np

from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import ChannelPermute, Conv2d, Weight
from fpgaflow.passes.base import GraphPass
from fpgaflow.passes.graph_edit import absorb_next, absorb_previous, sole_consumer


def _plain_conv(layer: object) -> bool:
    return isinstance(layer, Conv2d) and layer.groups == 1


class FoldChannelPermute(GraphPass):
    name = "fold_channel_permute"

    def run(self, graph: Graph) -> None:
        for permute in [layer for layer in graph.layers if isinstance(layer, ChannelPermute)]:
            order = list(permute.order)
            producer = graph.producer(permute.inputs[0])
            consumer = sole_consumer(graph, permute.output)
            if _plain_conv(producer) and sole_consumer(graph, producer.output) is permute:  # type: ignore[union-attr]
                assert isinstance(producer, Conv2d)
                producer.weight = Weight(values=producer.weight.values[order])
                if producer.bias is not None:
                    producer.bias = Weight(values=producer.bias.values[order])
                absorb_next(graph, producer, permute)
            elif _plain_conv(consumer):
                assert isinstance(consumer, Conv2d)
                consumer.weight = Weight(values=consumer.weight.values[:, np.argsort(order)])
                absorb_previous(graph, permute, consumer)
