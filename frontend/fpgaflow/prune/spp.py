"""SPP, structured probabilistic pruning (Wang et al., arXiv 1709.06994).

Weight groups are im2col columns: the same (c, kh, kw) across all filters of a layer.
Each group has a pruning probability p, starting at 0. Every step the groups of each
layer are ranked by L1 norm (rank 0 = smallest) and p += increment(rank), clipped to
[0, 1]; a mask is then sampled, each group pruned with probability p, for the next
iteration only, so a group whose norm recovers can come back. Masked weights are held
at the value they had when masked (they take no update while out). When every layer
has at least R * N_g groups at p = 1 (R = the target, N_g its groups), those masks are
fixed and the network is retrained. `finalize` meets the global MAC target exactly by
ranking groups by p, then by L1 norm.

The increment, our reading of the paper's rank-based, centre-symmetric function, with
N = R * N_g the zero crossing, A the largest step and u the value of exp(-alpha * N):
    f(r) = A * (exp(-alpha r) - u) / (1 - u)   for r <= N        (A at r = 0, 0 at r = N)
    f(r) = -f(2N - r)                            for N < r < 2N
    f(r) = -A                                    for r >= 2N
with alpha = ln(1/u) / N; defaults A = 0.05, u = 0.25.
Hardware: removed im2col columns; a column of all K*K positions of a channel removes
the input channel; otherwise every kernel reading a channel shares one pattern.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from fpgaflow.prune.base import PruningMethod
from fpgaflow.prune.masks import MaskSet
from fpgaflow.prune.selection import MIN_LAYER_SHARE, protect, select_to_target
from fpgaflow.prune.units import column_units, weight_array

MAX_LAYER_RATIO = 0.95
"""Largest share of a layer's groups the per-layer ratio R may ask for (the dense small layers raise R above T)."""


def spp_increment(ranks: np.ndarray, zero_rank: float, step: float = 0.05, u: float = 0.25) -> np.ndarray:
    """The probability increment of groups at the given L1 ranks (see module doc)."""
    ranks = np.asarray(ranks, dtype=np.float64)
    zero_rank = max(zero_rank, 1e-9)
    alpha = math.log(1.0 / u) / zero_rank

    def rising(r: np.ndarray) -> np.ndarray:
        return step * (np.exp(-alpha * r) - u) / (1.0 - u)

    mirrored = np.clip(2.0 * zero_rank - ranks, 0.0, None)
    return np.where(ranks <= zero_rank, rising(ranks), np.where(ranks < 2.0 * zero_rank, -rising(mirrored), -step))


class StructuredProbabilisticPruning(PruningMethod):
    name = "spp"

    def __init__(
        self, model: nn.Module, example: torch.Tensor, target: float, *, step_size: float = 0.05, u: float = 0.25, settle: float = 0.5, **kwargs: object
    ) -> None:
        super().__init__(model, example, target, **kwargs)  # type: ignore[arg-type]
        self.step_size = step_size
        self.u = u
        self.settle = settle
        small = self.macs.small_layers(MIN_LAYER_SHARE)
        modules = dict(model.named_modules())
        self.sites = [site for site in self.macs.sites if modules[site.module].groups == 1 and site.module not in small]  # type: ignore[union-attr]
        prunable = sum(site.dense_macs for site in self.sites)
        self.ratio = min(MAX_LAYER_RATIO, target * self.macs.dense / prunable) if prunable else target
        self.probability = {site.weight: np.zeros(weight_array(model, site).shape[1:]) for site in self.sites}
        self.initial = MaskSet(model)
        self.saved: dict[str, torch.Tensor] = {}
        self.fixed = False
        self.generator = torch.Generator().manual_seed(self.seed)

    def _restore(self) -> None:
        """Put the values back into the groups masked for the last iteration."""
        with torch.no_grad():
            for name, values in self.saved.items():
                param = self.masks.params[name]
                param.copy_(torch.where(self.masks.mask(name) == 0, values, param))

    def _update_probabilities(self) -> None:
        for site in self.sites:
            norms = np.abs(weight_array(self.model, site)).sum(axis=0).ravel()
            ranks = np.empty(len(norms))
            ranks[np.argsort(norms, kind="stable")] = np.arange(len(norms))
            p = self.probability[site.weight]
            p += spp_increment(ranks, self.ratio * len(norms), self.step_size, self.u).reshape(p.shape)
            np.clip(p, 0.0, 1.0, out=p)

    def _reached(self) -> bool:
        return all((p >= 1.0).sum() >= math.ceil(self.ratio * p.size) for p in self.probability.values())

    def _sample(self) -> MaskSet:
        masks = self.initial.copy()
        for site in self.sites:
            p = torch.from_numpy(self.probability[site.weight]).float()
            drop = torch.rand(p.shape, generator=self.generator) < p
            masks.mask(site.weight).mul_((~drop).float().unsqueeze(0))
        return masks

    def step(self, progress: float) -> None:
        if self.fixed:
            self.masks.apply()
            return
        self._restore()
        if progress >= self.settle or self._reached():
            self.masks = self._ranked_masks()
            self.fixed = True
        else:
            self._update_probabilities()
            self.masks = self._sample()
            self.saved = {site.weight: self.masks.params[site.weight].detach().clone() for site in self.sites}
        self.masks.apply()

    def _ranked_masks(self) -> MaskSet:
        """Masks meeting the global target exactly: groups ranked by probability, then by L1 norm."""
        units, layers, norms = column_units(self.model, self.sites)
        probability = np.concatenate([self.probability[site.weight].ravel() for site in self.sites])
        scores = -probability + 1e-3 * norms / (1.0 + norms.max())
        return select_to_target(self.initial.copy(), units, protect(scores, layers, self.macs), self.macs, self.target)

    def final_masks(self) -> MaskSet:
        if self.fixed:
            return self.masks
        self._restore()
        return self._ranked_masks()
