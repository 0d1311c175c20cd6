"""The named flows: ordered lists of passes, one function per flow.

A new flow is a new function here; Flow checks that every pass's requirements run
before it, so an ordering mistake fails as soon as the flow is built.
"""

from __future__ import annotations

from fpgaflow.passes.base import Flow
from fpgaflow.passes.fold_batchnorm import FoldBatchNorm
from fpgaflow.passes.fold_pad import FoldPad
from fpgaflow.passes.fuse_activation import FuseActivation
from fpgaflow.passes.infer_shapes import InferShapes


def import_flow() -> Flow:
    """Clean up a freshly imported graph: fold BatchNorm, fuse activations, fold Pad."""
    return Flow("import", [FoldBatchNorm(), FuseActivation(), FoldPad(), InferShapes()])
