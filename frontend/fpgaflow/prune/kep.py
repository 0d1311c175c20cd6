"""KEP, kernel-element pruning (Zhang et al., Neural Networks 2024), with a PatDNN-style pattern library.

1. Prior-knowledge mask: every kernel plane keeps `n` of its KH*KW elements, drawn from
   a small library of patterns (the `library_size` patterns that best fit the trained
   weights' magnitudes across the layer, the centre always kept); each kernel gets the
   library pattern that keeps most of its energy. n follows the target, sqrt(1-T) of the
   elements, so the rest of the target is left to connectivity pruning.
2. Controllable regularization: lambda(progress) * sum over layers of the energy outside
   the pattern relative to the layer's energy; lambda grows quadratically over the
   pruning phase, driving the elements to remove towards zero before they are cut.
3. Hard pruning, in the second half of the pruning phase: the elements outside the
   patterns are zeroed, then whole kernels with the smallest remaining L2 norm are
   removed (connectivity pruning) in stages until the conv-MAC target is met;
   fine-tuning follows.
Hardware: a pattern id per kernel (the IR records `pattern_ids`) and zero kernels.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
from torch import nn

from fpgaflow.prune.masks import MaskSet, Unit
from fpgaflow.prune.scored import ScoredMethod
from fpgaflow.prune.units import kernel_units, weight_array


def pattern_size(kernel_size: int, target: float) -> int:
    """Elements a pattern keeps: about sqrt(1 - T) of the kernel, between 2 and kernel_size - 1."""
    return min(kernel_size - 1, max(2, math.ceil(kernel_size * math.sqrt(1.0 - target))))


def candidate_patterns(kh: int, kw: int, keep: int) -> np.ndarray:
    """bool (C, kh*kw): every pattern of `keep` elements that keeps the centre."""
    centre = (kh // 2) * kw + kw // 2
    others = [j for j in range(kh * kw) if j != centre]
    rows = []
    for chosen in itertools.combinations(others, keep - 1):
        row = np.zeros(kh * kw, dtype=bool)
        row[[centre, *chosen]] = True
        rows.append(row)
    return np.array(rows)


def pattern_library(weight: np.ndarray, keep: int, library_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(library bool (L, KH*KW), pattern index (O, I)): the patterns most kernels prefer, and each kernel's best."""
    out_count, group_in, kh, kw = weight.shape
    energy = (weight**2).reshape(out_count * group_in, kh * kw)
    candidates = candidate_patterns(kh, kw, keep)
    fit = energy @ candidates.T.astype(np.float64)
    votes = np.bincount(fit.argmax(axis=1), minlength=len(candidates))
    library = candidates[np.argsort(-votes, kind="stable")[:library_size]]
    choice = (energy @ library.T.astype(np.float64)).argmax(axis=1)
    return library, choice.reshape(out_count, group_in)


class KernelElementPruning(ScoredMethod):
    name = "kep"

    def __init__(self, model: nn.Module, example: torch.Tensor, target: float, *, library_size: int = 8, strength: float = 2.0, elements: int | None = None, **kwargs: object) -> None:
        super().__init__(model, example, target, **kwargs)  # type: ignore[arg-type]
        self.strength = strength
        self.progress = 0.0
        self.prior: dict[str, torch.Tensor] = {}
        for site in self.macs.sites:
            weight = weight_array(model, site)
            kh, kw = weight.shape[2:]
            if kh * kw < 4:
                continue
            library, choice = pattern_library(weight, elements or pattern_size(kh * kw, target), library_size)
            self.prior[site.weight] = torch.from_numpy(library[choice].reshape(weight.shape).astype(np.float32))

    def regularization(self) -> torch.Tensor:
        weight_of = self.masks.params
        penalty = torch.zeros(())
        for name, keep in self.prior.items():
            weight = weight_of[name]
            penalty = penalty + (weight * (1 - keep)).pow(2).sum() / weight.detach().pow(2).sum().clamp_min(1e-12)
        return self.strength * self.progress**2 * penalty

    def step(self, progress: float) -> None:
        """First half: the penalty grows, nothing is cut. Second half: patterns cut, kernels removed in stages."""
        self.progress = progress
        if progress < 0.5:
            self.masks.apply()
        else:
            super().step(2.0 * progress - 1.0)

    def base_masks(self) -> MaskSet:
        masks = MaskSet(self.model)
        for name, keep in self.prior.items():
            masks.mask(name).mul_(keep)
        return masks

    def scored_units(self) -> tuple[list[Unit], list[str], np.ndarray]:
        units, layers, _ = kernel_units(self.model, self.macs.sites)
        scores = []
        for site in self.macs.sites:
            weight = weight_array(self.model, site)
            if site.weight in self.prior:
                weight = weight * self.prior[site.weight].numpy()
            scores.append(np.sqrt((weight**2).sum(axis=(2, 3))).ravel())
        return units, layers, np.concatenate(scores)
