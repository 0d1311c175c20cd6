"""Baseline: global unstructured magnitude pruning of conv weights (Han et al., 2015).

Irregular zeros: the hardware saves their MACs only with a per-weight index, so this is
the accuracy reference the structured methods are measured against, not a deployment
target. Scores are |w| divided by the layer's mean |w| and ranked across all conv layers:
folded BatchNorm scales layers differently, and raw global magnitude would empty the
layers whose weights happen to be small.
"""

from __future__ import annotations

import numpy as np

from fpgaflow.prune.masks import Unit
from fpgaflow.prune.scored import ScoredMethod
from fpgaflow.prune.units import element_units


class MagnitudePruning(ScoredMethod):
    name = "magnitude"

    def scored_units(self) -> tuple[list[Unit], list[str], np.ndarray]:
        return element_units(self.model, self.macs.sites)
