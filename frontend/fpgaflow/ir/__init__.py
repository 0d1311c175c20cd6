"""The intermediate representation between the front end and every backend."""

from fpgaflow.ir.graph import Graph, Tensor
from fpgaflow.ir.layers import (
    COMPUTE_OPS,
    LAYER_TYPES,
    Activation,
    Add,
    AvgPool,
    BatchNorm,
    ChannelPermute,
    Concat,
    Conv2d,
    Dense,
    Flatten,
    GlobalAvgPool,
    Layer,
    MaxPool,
    Pad,
    Relu,
    ScaleShift,
    Softmax,
    Weight,
)
from fpgaflow.ir.serialize import load_graph, save_graph
from fpgaflow.ir.sparsity import SparsityRecord

__all__ = [
    "COMPUTE_OPS",
    "LAYER_TYPES",
    "Activation",
    "Add",
    "AvgPool",
    "BatchNorm",
    "ChannelPermute",
    "Concat",
    "Conv2d",
    "Dense",
    "Flatten",
    "GlobalAvgPool",
    "Graph",
    "Layer",
    "MaxPool",
    "Pad",
    "Relu",
    "ScaleShift",
    "Softmax",
    "SparsityRecord",
    "Tensor",
    "Weight",
    "load_graph",
    "save_graph",
]
