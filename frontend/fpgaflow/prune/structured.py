"""Structured pruning at channel, kernel and intra-kernel-strided scale (Anwar, Hwang, Sung, arXiv 1512.08571).

Granularities: `channel` (whole coupled channels), `kernel` (whole k x k kernel planes),
`strided` (every kernel reading an input channel keeps only the positions j with
j % stride == offset, one stride and offset per input channel, so whole im2col rows and
columns vanish). Which connections go is chosen by a particle filter, as in the paper:
a particle is a perturbation of the units' importance (L1/L2 norms, normalised per
layer, and for strided a drawn offset per channel); each particle's masks are scored by
the misclassification rate on validation data, particles are resampled in proportion
to exp(-error / temperature) and perturbed again, and the best masks seen are kept. The
target is approached in stages with training in between; retraining follows.
Without validation data the plain norm ranking is used (one unperturbed particle).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from fpgaflow.errors import UserError
from fpgaflow.prune.masks import MaskSet, Unit
from fpgaflow.prune.scored import ScoredMethod
from fpgaflow.prune.selection import normalise_per_layer, protect, select_to_target
from fpgaflow.prune.units import kernel_units, strided_units

GRANULARITIES = ("channel", "kernel", "strided")


@dataclass
class Particle:
    units: list[Unit]
    layers: list[str]
    scores: np.ndarray


class AnwarStructured(ScoredMethod):
    name = "structured"

    def __init__(
        self,
        model: nn.Module,
        example: torch.Tensor,
        target: float,
        *,
        granularity: str = "channel",
        particles: int = 8,
        rounds: int = 3,
        noise: float = 0.3,
        temperature: float = 0.01,
        **kwargs: object,
    ) -> None:
        if granularity not in GRANULARITIES:
            raise UserError(f"unknown granularity {granularity!r}; choose one of {', '.join(GRANULARITIES)}")
        super().__init__(model, example, target, **kwargs)  # type: ignore[arg-type]
        self.granularity = granularity
        self.particles = particles
        self.rounds = rounds
        self.noise = noise
        self.temperature = temperature

    def scored_units(self, rng: np.random.Generator | None = None) -> tuple[list[Unit], list[str], np.ndarray]:
        if self.granularity == "channel":
            params = self.masks.params
            scores = np.array([float(params[f"{c.root}.weight"][c.channel].detach().abs().sum()) for c in self.channels])
            return [c.unit for c in self.channels], [c.root for c in self.channels], scores
        if self.granularity == "kernel":
            return kernel_units(self.model, self.macs.sites)
        return strided_units(self.model, self.macs.sites, rng)

    def base_masks(self) -> MaskSet:
        """The last stage's masks: each stage only adds zeros.

        Re-deriving them from the weights would miss masked weights the optimizer nudged
        off zero before `apply` and bring them back in some kernels only, which breaks a
        channel's shared stride.
        """
        return self.masks.copy()

    def _particle(self, first: bool) -> Particle:
        units, layers, scores = self.scored_units(None if first else self.rng)
        scores = normalise_per_layer(scores, layers)
        if not first:
            scores = scores * np.exp(self.noise * self.rng.standard_normal(len(scores)))
        return Particle(units, layers, scores)

    def _masks(self, particle: Particle, target: float) -> MaskSet:
        return select_to_target(self.base_masks(), particle.units, protect(particle.scores, particle.layers, self.macs), self.macs, target)

    def masks_for(self, target: float) -> MaskSet:
        if self.evaluate is None:
            return self._masks(self._particle(first=True), target)
        population = [self._particle(first=index == 0) for index in range(self.particles)]
        best: tuple[float, float, MaskSet] | None = None
        for _ in range(self.rounds):
            results = []
            for particle in population:
                masks = self._masks(particle, target)
                loss, error = self.evaluate_with(masks)
                results.append(error)
                if best is None or (error, loss) < best[:2]:
                    best = (error, loss, masks)
            errors = np.array(results)
            weights = np.exp(-(errors - errors.min()) / self.temperature)
            chosen = self.rng.choice(len(population), size=len(population), p=weights / weights.sum())
            population = [
                Particle(population[i].units, population[i].layers, population[i].scores * np.exp(0.5 * self.noise * self.rng.standard_normal(len(population[i].scores))))
                for i in chosen
            ]
        assert best is not None
        return best[2]
