"""Tiny models and data for the pruning tests: seconds per test, structure over accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from fpgaflow.prune.train import Split

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def digits_subset(count: int = 128) -> Split:
    """The first `count` bundled digits training images (real data keeps gradients meaningful)."""
    with np.load(EXAMPLES / "digits_train.npz") as data:
        return Split(data["x"][:count].astype(np.float32), data["y"][:count].astype(np.int64))


class BranchyNet(nn.Module):
    """A residual Add of two convs, a Concat of two branches, a depthwise conv: every coupling kind."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(2, 4, 3, padding=1)
        self.left = nn.Conv2d(4, 4, 3, padding=1)
        self.right = nn.Conv2d(4, 4, 1)
        self.branch_a = nn.Conv2d(4, 3, 3, padding=1)
        self.branch_b = nn.Conv2d(4, 2, 1)
        self.depthwise = nn.Conv2d(5, 5, 3, padding=1, groups=5)
        self.head = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(x))
        x = torch.relu(self.left(x) + self.right(x))
        x = torch.cat([self.branch_a(x), self.branch_b(x)], dim=1)
        x = torch.relu(self.depthwise(x))
        return self.head(x.mean(dim=(2, 3)))
