"""Filter pruning with additional importance weights and an error tolerance (Applied Sciences 12(21):11184, 2022).

Every coupled channel's output is multiplied by a learnable importance weight, trained
beside the network with its own optimizer and an L1 penalty that pushes unimportant
ones down. Initialisations: `uniform` U(0, 1), `logistic` (the chaotic logistic map
x <- 4x(1-x) from a seeded start), `he` N(0, 2/fan_in), `lecun` N(0, 1/fan_in),
`xavier` U(+-sqrt(6/(fan_in+fan_out))); the absolute values are rescaled per layer to
mean 1 so the network starts near its trained function and only the order differs.
Filters are then removed in order of |importance| in growing steps towards the target,
and the removal stops at the last step whose validation loss rose by at most epsilon
(`tolerance`, in nats) over the unpruned loss, instead of forcing a fixed rate: the
reduction reached can fall short of the target, and the result says so. The
importance weights are folded into the weights and the network is fine-tuned.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from fpgaflow.errors import UserError
from fpgaflow.prune.base import PruningMethod
from fpgaflow.prune.gates import ChannelGates
from fpgaflow.prune.masks import MaskSet
from fpgaflow.prune.selection import protect, select_to_target

INITIALISATIONS = ("uniform", "logistic", "he", "lecun", "xavier")


def initial_importance(kind: str, fan_in: np.ndarray, fan_out: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Raw importance weights of len(fan_in) channels under one initialisation scheme."""
    count = len(fan_in)
    if kind == "uniform":
        return rng.uniform(0.0, 1.0, count)
    if kind == "logistic":
        values = np.empty(count)
        x = rng.uniform(0.05, 0.95)
        for i in range(count):
            x = 4.0 * x * (1.0 - x)
            values[i] = x
        return values
    if kind == "he":
        return rng.standard_normal(count) * np.sqrt(2.0 / fan_in)
    if kind == "lecun":
        return rng.standard_normal(count) * np.sqrt(1.0 / fan_in)
    if kind == "xavier":
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-1.0, 1.0, count) * bound
    raise UserError(f"unknown importance initialisation {kind!r}; choose one of {', '.join(INITIALISATIONS)}")


class ImportancePruning(PruningMethod):
    name = "importance"

    def __init__(
        self,
        model: nn.Module,
        example: torch.Tensor,
        target: float,
        *,
        init: str = "uniform",
        tolerance: float = 0.1,
        sparsity: float = 1e-3,
        lr: float = 0.01,
        steps: int = 10,
        **kwargs: object,
    ) -> None:
        super().__init__(model, example, target, **kwargs)  # type: ignore[arg-type]
        self.tolerance = tolerance
        self.sparsity = sparsity
        self.steps = steps
        roots = [c.root for c in self.channels]
        modules = dict(model.named_modules())
        fan_in = np.array([modules[r].weight[0].numel() for r in roots], dtype=np.float64)
        fan_out = np.array([modules[r].weight.shape[0] * modules[r].weight[0, 0].numel() for r in roots], dtype=np.float64)
        raw = np.abs(initial_importance(init, fan_in, fan_out, self.rng)) + 1e-6
        for root in dict.fromkeys(roots):
            chosen = np.array([r == root for r in roots])
            raw[chosen] /= raw[chosen].mean()
        self.gates = ChannelGates(model, self.channels, torch.from_numpy(raw), lambda values: values)
        self.optimizer = torch.optim.Adam([self.gates.raw], lr=lr)
        self.refused: tuple[float, float] | None = None
        """(step target, validation loss rise) of the first step the tolerance refused, if any."""

    def regularization(self) -> torch.Tensor:
        return self.sparsity * self.gates.raw.abs().sum()

    def step(self, progress: float) -> None:
        self.optimizer.step()
        self.optimizer.zero_grad()
        self.masks.apply()

    def _masks(self, target: float) -> MaskSet:
        scores = self.gates.values().detach().abs().numpy().astype(np.float64)
        units = [c.unit for c in self.channels]
        return select_to_target(MaskSet(self.model), units, protect(scores, [c.root for c in self.channels], self.macs), self.macs, target)

    def final_masks(self) -> MaskSet:
        """The largest step towards the target whose validation loss stays within the tolerance."""
        if self.evaluate is None:
            return self._masks(self.target)
        reference = self.evaluate_with(MaskSet(self.model))[0]
        accepted = MaskSet(self.model)
        for step in range(1, self.steps + 1):
            masks = self._masks(self.target * step / self.steps)
            rise = self.evaluate_with(masks)[0] - reference
            if rise > self.tolerance:
                self.refused = (self.target * step / self.steps, rise)
                break
            accepted = masks
        return accepted

    def note(self) -> str | None:
        if self.refused is None:
            return None
        step, rise = self.refused
        loosen = math.ceil(rise * 100) / 100
        return (
            f"stopped before the target {self.target:g}: the tolerance was reached (removing {100 * step:.1f}% of conv MACs "
            f"raised the validation loss by {rise:.3f} nats, over tolerance={self.tolerance:g}); "
            f"to remove more, loosen it, e.g. --option tolerance={loosen:g}"
        )

    def finalize(self) -> None:
        self.masks = self.final_masks()
        self.gates.fold()
        self.masks.apply()
        self.finalized = True
