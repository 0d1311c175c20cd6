"""The fan-out buffering rule (fpgaflow.flow.branch_buffers) on graphs whose branches read unequally far ahead."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

import models
from fpgaflow.api import load_model
from fpgaflow.importers.torch_import import export_onnx_bytes
from fpgaflow.flow.branch_buffers import FIFO_MARGIN, branch_fifo_depths


def _graph(tmp_path, model: torch.nn.Module | onnx.ModelProto, shape=(3, 12, 12)):
    path = tmp_path / "m.onnx"
    if isinstance(model, onnx.ModelProto):
        onnx.save(model, path)
    else:
        path.write_bytes(export_onnx_bytes(model.eval(), torch.randn(2, *shape), dynamo=False))
    return load_model(path)


@pytest.mark.parametrize("join", ["concat", "add"])
@pytest.mark.parametrize("first", ["1x1", "3x3"])
def test_the_fast_branch_buffers_what_the_window_reads_first(tmp_path, join, first):
    """A padded 3x3 on 12-wide rows emits its first window after 12 + 2 input pixels; the 1x1
    after one: the 1x1 branch needs 13 beats of room, whichever input of the join it is."""
    graph = _graph(tmp_path, models.TorchUnequalBranches(join, first))
    tensor = graph.inputs[0]
    readers = [layer.kernel[0] for layer in graph.consumers(tensor)]
    depths = dict(zip(readers, branch_fifo_depths(graph, tensor), strict=True))
    assert depths == {1: 13 + FIFO_MARGIN, 3: 0}


def test_residual_block_short_branch_covers_two_windows(tmp_path):
    """Add(conv3x3(conv3x3(x)), x) on 6x6: the long branch's first output needs conv1's 8th
    output, whose window reaches input pixel (2, 2): 15 beats, the skip offers its first at 1."""
    graph = _graph(tmp_path, models.residual_block())
    assert branch_fifo_depths(graph, graph.inputs[0]) == [0, 14 + FIFO_MARGIN]


def test_branches_that_need_the_same_beats_buffer_nothing(tmp_path):
    """GAP(conv1x1(x)) + GAP(x): both branches offer their one beat after the whole frame."""
    class TwoPools(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 3, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            pooled = torch.nn.functional.adaptive_avg_pool2d
            return pooled(self.conv(x), 1) + pooled(x, 1)

    graph = _graph(tmp_path, TwoPools(), (3, 4, 4))
    assert branch_fifo_depths(graph, graph.inputs[0]) == [0, 0]


def test_the_rate_rule_adds_what_the_copy_delivers_while_the_skip_waits(tmp_path):
    """unet's skip (the first conv's output to the Concat) against the pooled branch, whose conv spends 16
    cycles a position: with the stages' modelled cycles the skip buffers more than the beat rule's
    three rows, the beats the first conv emits (4 cycles each) while the long branch finishes its frame."""
    from fpgaflow.boards import load_board
    from fpgaflow.quant import quantize
    from fpgaflow.backends.rtl.generate import plan_design

    graph = _graph(tmp_path, models.unet())
    fixed = quantize(graph, np.random.default_rng(0).uniform(0, 1, (8, 1, 32, 32)), bits=8)
    design = plan_design(fixed, load_board("pynq"))
    cycles = {name: choice.cycles_model for name, choice in design.engines.items()}
    beats, rated = branch_fifo_depths(fixed, "enc1_relu_out"), branch_fifo_depths(fixed, "enc1_relu_out", cycles)
    assert beats[0] == rated[0] == 0, "the pooled branch reads furthest ahead"
    assert rated[1] > beats[1] + 32, (beats, rated)
