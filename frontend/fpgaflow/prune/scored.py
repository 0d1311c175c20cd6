"""Methods that rank units by a score and prune them on a gradual schedule.

During the pruning phase the target is approached in `stages` steps on the cubic
schedule of Zhu and Gupta (most pruning early, little at the end), so training can
recover between steps; `final_masks` reaches the full target.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence

import numpy as np

from fpgaflow.prune.base import PruningMethod
from fpgaflow.prune.masks import MaskSet, Unit
from fpgaflow.prune.selection import normalise_per_layer, protect, select_to_target


def cubic_schedule(target: float, fraction: float) -> float:
    """Share of the target reached after `fraction` of the pruning phase."""
    return target * (1.0 - (1.0 - min(max(fraction, 0.0), 1.0)) ** 3)


class ScoredMethod(PruningMethod):
    """Prune the lowest-scored units; subclasses say what a unit is and how it scores."""

    stages = 4
    normalise: Callable[[np.ndarray, Sequence[str]], np.ndarray] | None = staticmethod(normalise_per_layer)
    """How scores of different layers are made comparable before the global ranking (None: as they are)."""

    @abstractmethod
    def scored_units(self) -> tuple[list[Unit], list[str], np.ndarray]:
        """Units, the conv each belongs to, and their current scores (higher = keep)."""

    def base_masks(self) -> MaskSet:
        """Masks the units are removed on top of (none by default)."""
        return MaskSet(self.model)

    def masks_for(self, target: float) -> MaskSet:
        units, layers, scores = self.scored_units()
        if self.normalise is not None:
            scores = self.normalise(scores, layers)
        return select_to_target(self.base_masks(), units, protect(scores, layers, self.macs), self.macs, target)

    def step(self, progress: float) -> None:
        stage = min(self.stages, int(progress * self.stages) + 1)
        if stage != getattr(self, "_stage", 0):
            self._stage = stage
            self.masks = self.masks_for(cubic_schedule(self.target, stage / self.stages))
        self.masks.apply()

    def final_masks(self) -> MaskSet:
        return self.masks_for(self.target)
