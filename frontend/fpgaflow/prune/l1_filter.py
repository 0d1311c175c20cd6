"""Baseline: L1-norm filter pruning (Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017).

Filters with the smallest sum of absolute weights are removed with everything coupled
to them (coupling.py), so whole channels leave the hardware; each layer loses the same
fraction (Li et al. choose per-layer fractions by a sensitivity analysis; one fraction
for all is the simple default).
"""

from __future__ import annotations

import numpy as np
import torch

from fpgaflow.prune.masks import Unit
from fpgaflow.prune.scored import ScoredMethod
from fpgaflow.prune.selection import rank_per_layer


def filter_l1(model_params: dict[str, torch.nn.Parameter], root: str, channel: int) -> float:
    """Sum of |w| of one conv filter."""
    return float(model_params[f"{root}.weight"][channel].detach().abs().sum())


class L1FilterPruning(ScoredMethod):
    name = "l1-filter"
    normalise = staticmethod(rank_per_layer)
    """Every layer loses the same fraction of its filters, smallest L1 first, as Li et al. prune per layer.

    Ranking L1 norms across layers (even divided by each layer's mean) stripped the
    digits model's last conv to one filter at T = 0.75 (22% accuracy after 4 epochs)."""

    def scored_units(self) -> tuple[list[Unit], list[str], np.ndarray]:
        channels = self.channels
        params = dict(self.model.named_parameters())
        scores = np.array([filter_l1(params, c.root, c.channel) for c in channels])
        return [c.unit for c in channels], [c.root for c in channels], scores
