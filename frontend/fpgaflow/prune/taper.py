"""Channel pruning with a tapering resource constraint (Kruglov, arXiv 1812.07060).

Every coupled channel gets a gate sigmoid(theta) on its output, trained by its own
optimizer. The loss gets lambda * (cost(gates) - budget): cost is the relaxed cost of
the network with each channel counted by its gate, relative to the dense network, and
lambda is a Lagrange multiplier for the equality constraint cost = budget, raised by
the constraint violation after every step (dual ascent); an augmented-Lagrangian term
damping/2 * (cost - budget)^2 keeps the gates from overshooting (without it the gates
either collapsed far below the budget or lagged far above it). The budget starts at the
relaxed cost of the initial gates (all sigmoid(3), about 0.9 of dense; a budget of 1
can never be met, so the taper would not start) and tapers to 1 - T times that: it
moves down by a rate that grows while the gates keep up with
the budget and shrinks while they lag behind (the adaptive rate), and it is never
later than a linear taper over 80% of the pruning phase. Finally channels are ranked
by gate, removed until the conv-MAC target is met, and the gates of the kept channels
are folded into the weights.

The relaxed cost is a sum over layers of the layer's cost with its nonzero weights
relaxed to K * (sum of output gates) * (sum of input gates): `macs` (default) weighs
them by output positions over the conv layers; `cycles` and `weight-bits` are the
hardware cost model of the sparse engine (fpgaflow.prune.cost) over every conv and dense engine (cycles per frame
at P = `parallelism` lanes, or weight-ROM bits at `weight_bits`-bit weights), relaxed
by prune.cost.relaxed_engine_cost, and `cost_report` gives the exact figure
(prune.cost.EngineCost) for the final masks.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from fpgaflow.errors import UserError
from fpgaflow.prune.base import PruningMethod
from fpgaflow.prune.cost import (
    HARDWARE_COSTS,
    EngineCost,
    engine_sites,
    relaxed_engine_cost,
)
from fpgaflow.prune.gates import ChannelGates
from fpgaflow.prune.masks import MaskSet
from fpgaflow.prune.selection import protect, select_to_target

COSTS = ("macs", *HARDWARE_COSTS)


class TaperPruning(PruningMethod):
    name = "taper"

    def __init__(
        self,
        model: nn.Module,
        example: torch.Tensor,
        target: float,
        *,
        cost: str = "macs",
        parallelism: int | dict[str, int] = 1,
        weight_bits: int = 8,
        gate_lr: float = 0.02,
        multiplier_lr: float = 0.1,
        tolerance: float = 0.02,
        damping: float = 10.0,
        **kwargs: object,
    ) -> None:
        if cost not in COSTS:
            raise UserError(f"unknown cost {cost!r}; choose one of {', '.join(COSTS)}")
        super().__init__(model, example, target, **kwargs)  # type: ignore[arg-type]
        self.gates = ChannelGates(model, self.channels, torch.full((len(self.channels),), 3.0), torch.sigmoid)
        self.optimizer = torch.optim.Adam([self.gates.raw], lr=gate_lr)
        self.multiplier_lr = multiplier_lr
        self.tolerance = tolerance
        self.damping = damping
        self.multiplier = 0.0
        self.rate = 0.01
        self.cost = cost
        self.hardware = EngineCost(model, example, cost, parallelism, weight_bits) if cost in HARDWARE_COSTS else None
        self.dense_hardware = self.hardware(self.masks) if self.hardware is not None else 0.0
        self._build_cost()
        with torch.no_grad():
            self.start_budget = float(self.relaxed_cost())
        self.budget = self.last_cost = self.start_budget
        self.final_budget = (1.0 - target) * self.start_budget

    def _build_cost(self) -> None:
        """Per layer: which gate drives each output and input channel, and its relaxed cost function."""
        modules = dict(self.model.named_modules())
        position: dict[tuple[str, str, int], int] = {}
        for g, unit in enumerate(self.channels):
            for piece in unit.unit:
                if len(piece.index) == 1:
                    position[(piece.param, "out", int(piece.index[0]))] = g
                elif len(piece.index) == 2 and piece.index[0] == slice(None):
                    position[(piece.param, "in", int(piece.index[1]))] = g  # type: ignore[arg-type]
        count = len(self.channels)
        self.terms = []
        for site in engine_sites(self.model, self.example):
            layer = modules[site.module]
            if self.hardware is None and not isinstance(layer, nn.Conv2d):
                continue
            weight = layer.weight
            grouped = getattr(layer, "groups", 1) > 1
            out_gate = torch.tensor([position.get((site.weight, "out", o), count) for o in range(weight.shape[0])])
            in_gate = None if grouped else torch.tensor([position.get((site.weight, "in", i), count) for i in range(weight.shape[1])])
            per_output = site.kernel * (weight.shape[1] if grouped else 1)
            self.terms.append((site, per_output, out_gate, in_gate, int(site.channel_of.max()) + 1))
        with torch.no_grad():
            self.dense_cost = float(self._absolute_cost(torch.ones(count + 1)))

    def _absolute_cost(self, gates: torch.Tensor) -> torch.Tensor:
        """The relaxed cost with `gates` (one per channel, then 1 for ungated channels)."""
        total = torch.zeros(())
        for site, per_output, out_gate, in_gate, channels in self.terms:
            inputs = gates[in_gate].sum() if in_gate is not None else torch.tensor(1.0)
            nonzeros = per_output * gates[out_gate].sum() * inputs
            if self.hardware is None:
                total = total + site.positions * nonzeros
            else:
                window = float(inputs.detach() if in_gate is not None else channels) * site.kernel
                total = total + relaxed_engine_cost(self.cost, site.positions, self.hardware.lanes(site), self.hardware.weight_bits, window, nonzeros,
                                                    site.window_gen)
        return total

    def relaxed_cost(self) -> torch.Tensor:
        """Cost with every channel counted by its gate, relative to the dense network."""
        return self._absolute_cost(torch.cat([self.gates.values(), torch.ones(1)])) / self.dense_cost

    def cost_report(self) -> tuple[str, float, float] | None:
        """(name, dense, current) of the hardware cost, exact from the build's contract (fpgaflow.prune.cost); None for MACs."""
        if self.hardware is None:
            return None
        return self.hardware.label, self.dense_hardware, self.hardware(self.masks)

    def regularization(self) -> torch.Tensor:
        cost = self.relaxed_cost()
        self.last_cost = float(cost.detach())
        gap = cost - self.budget
        return self.multiplier * gap + 0.5 * self.damping * gap**2

    def step(self, progress: float) -> None:
        self.optimizer.step()
        self.optimizer.zero_grad()
        violation = self.last_cost - self.budget
        self.multiplier += self.multiplier_lr * violation
        if abs(violation) < self.tolerance:
            self.budget -= self.rate
            self.rate = min(self.rate * 1.2, 0.05)
        else:
            self.rate = max(self.rate * 0.8, 1e-3)
        linear = self.start_budget - (self.start_budget - self.final_budget) * min(1.0, progress / 0.8)
        self.budget = max(self.final_budget, min(self.budget, linear))
        self.masks.apply()

    def final_masks(self) -> MaskSet:
        scores = self.gates.values().detach().numpy().astype(np.float64)
        units = [c.unit for c in self.channels]
        return select_to_target(MaskSet(self.model), units, protect(scores, [c.root for c in self.channels], self.macs), self.macs, self.target)

    def finalize(self) -> None:
        self.masks = self.final_masks()
        self.gates.fold()
        self.masks.apply()
        self.finalized = True
