"""The named flows: ordered lists of passes, one function per flow.

A new flow is a new function here; Flow checks that every pass's requirements run
before it, so an ordering mistake fails as soon as the flow is built.
"""

from __future__ import annotations

from fpgaflow.passes.base import Flow
from fpgaflow.passes.classify_sparsity import ClassifySparsity
from fpgaflow.passes.fold_batchnorm import FoldBatchNorm
from fpgaflow.passes.fold_channel_permute import FoldChannelPermute
from fpgaflow.passes.fold_pad import FoldPad
from fpgaflow.passes.fuse_activation import FuseActivation
from fpgaflow.passes.infer_shapes import InferShapes
from fpgaflow.passes.remove_pruned_channels import RemovePrunedChannels


def import_flow() -> Flow:
    """Clean up a freshly imported graph: fold BatchNorm, fuse activations, fold Pad and channel
    permutations, take out all-zero channels (so a channel-pruned model is smaller, not carried
    as zeros), and record the sparsity of every weight."""
    return Flow(
        "import",
        [FoldBatchNorm(), FuseActivation(), FoldPad(), FoldChannelPermute(), InferShapes(), RemovePrunedChannels(),
         ClassifySparsity()],
    )
