"""Baseline: L1-norm filter pruning (Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017).

Filters with the smallest sum of absolute weights are removed with everything coupled
to them (coupling.py), so whole channels leave the hardware.
"""

from __future__ import annotations

import numpy as np
import torch

from fpgaflow.prune.masks import Unit
from fpgaflow.prune.scored import ScoredMethod


def filter_l1(model_params: dict[str, torch.nn.Parameter], root: str, channel: int) -> float:
    """Sum of |w| of one conv filter."""
    return float(model_params[f"{root}.weight"][channel].detach().abs().sum())


class L1FilterPruning(ScoredMethod):
    name = "l1-filter"

    def scored_units(self) -> tuple[list[Unit], list[str], np.ndarray]:
        channels = self.channels
        params = dict(self.model.named_parameters())
        scores = np.array([filter_l1(params, c.root, c.channel) for c in channels])
        return [c.unit for c in channels], [c.root for c in channels], scores
