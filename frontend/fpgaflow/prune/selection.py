"""Remove the least important units until the conv-MAC target is met, exactly once.

Units overlap in cost (a channel's slices and a kernel inside it share weights), so the
MACs removed by the k lowest-scored units are measured, not summed; they only grow with
k, so a binary search finds the smallest k that reaches the target.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fpgaflow.prune.cost import ConvMacs
from fpgaflow.prune.masks import MaskSet, PreparedUnits, Unit

MIN_LAYER_SHARE = 0.05
"""Conv layers with less than this share of the conv MACs are not pruned.

They save little, and the typical one, a first layer on one or three input channels,
holds few, essential filters: ranked globally on normalised scores, a 1 -> 16 first
conv of the digits model lost 15 of its 16 filters at T = 0.88 and the network could
no longer fit its training set."""


def protect(scores: np.ndarray, layers: Sequence[str], macs: ConvMacs) -> np.ndarray:
    """Scores with the best unit of every layer, and every unit of a small layer, set to +inf.

    No layer is ever emptied, and layers below MIN_LAYER_SHARE of the MACs stay whole.
    """
    scores = np.asarray(scores, dtype=np.float64).copy()
    small = macs.small_layers(MIN_LAYER_SHARE)
    scores[[i for i, layer in enumerate(layers) if layer in small]] = np.inf
    best: dict[str, int] = {}
    for i, layer in enumerate(layers):
        if layer not in best or scores[i] > scores[best[layer]]:
            best[layer] = i
    scores[list(best.values())] = np.inf
    return scores


def normalise_per_layer(scores: np.ndarray, layers: Sequence[str]) -> np.ndarray:
    """Scores divided by their layer's mean, so layers of different scale rank together."""
    scores = np.asarray(scores, dtype=np.float64)
    keys = np.asarray(layers)
    result = scores.copy()
    for layer in dict.fromkeys(layers):
        chosen = keys == layer
        mean = scores[chosen].mean()
        result[chosen] = scores[chosen] / mean if mean > 0 else scores[chosen]
    return result


def rank_per_layer(scores: np.ndarray, layers: Sequence[str]) -> np.ndarray:
    """Each score replaced by its quantile in its layer: a global cut then takes the same fraction of every layer."""
    scores = np.asarray(scores, dtype=np.float64)
    keys = np.asarray(layers)
    result = np.empty_like(scores)
    for layer in dict.fromkeys(layers):
        chosen = np.flatnonzero(keys == layer)
        order = np.argsort(scores[chosen], kind="stable")
        result[chosen[order]] = (np.arange(len(chosen)) + 1) / len(chosen)
    return result


def select_to_target(base: MaskSet, units: Sequence[Unit], scores: np.ndarray, macs: ConvMacs, target: float) -> MaskSet:
    """Masks zeroing the lowest-scored units, as few as reach `target` (or all finite ones)."""
    order = [int(i) for i in np.argsort(scores, kind="stable") if np.isfinite(scores[i])]
    prepared = PreparedUnits(base, [units[i] for i in order])

    def masks_for(count: int) -> MaskSet:
        masks = base.copy()
        masks.zero_prefix(prepared, count)
        return masks

    low, high = 0, len(order)
    while low < high:
        middle = (low + high) // 2
        if macs.reduction(masks_for(middle)) >= target:
            high = middle
        else:
            low = middle + 1
    return masks_for(low)
