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

The relaxed cost is a sum over conv layers of weight(layer) * K * (sum of output gates)
* (sum of input gates): weight = output positions gives MACs (default), weight = 1
gives weight-memory words ("weight-bits"), weight = positions / P gives the cycles of
an engine with P lanes ("cycles", P from `parallelism`), as in the cost model.
"""

from __future__ import annotations


import numpy as np
import torch
from torch import nn

from fpgaflow.errors import UserError
from fpgaflow.prune.base import PruningMethod
from fpgaflow.prune.cost import ConvSite
from fpgaflow.prune.gates import ChannelGates
from fpgaflow.prune.masks import MaskSet
from fpgaflow.prune.selection import protect, select_to_target

COSTS = ("macs", "weight-bits", "cycles")


def site_weight(site: ConvSite, cost: str, parallelism: dict[str, int] | None) -> float:
    """How much one weight of this conv costs under the chosen hardware measure."""
    if cost == "macs":
        return float(site.positions)
    if cost == "weight-bits":
        return 1.0
    lanes = (parallelism or {}).get(site.module, 1)
    return site.positions / lanes


class TaperPruning(PruningMethod):
    name = "taper"

    def __init__(
        self,
        model: nn.Module,
        example: torch.Tensor,
        target: float,
        *,
        cost: str = "macs",
        parallelism: dict[str, int] | None = None,
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
        self._build_cost(cost, parallelism)
        with torch.no_grad():
            self.start_budget = float(self.relaxed_cost())
        self.budget = self.last_cost = self.start_budget
        self.final_budget = (1.0 - target) * self.start_budget

    def _build_cost(self, cost: str, parallelism: dict[str, int] | None) -> None:
        """Per conv: its weight, kernel size, and which gate drives each output and input channel."""
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
        for site in self.macs.sites:
            conv = modules[site.module]
            out_gate = torch.tensor([position.get((site.weight, "out", o), count) for o in range(conv.out_channels)])
            in_gate = torch.tensor([position.get((site.weight, "in", i), count) for i in range(conv.weight.shape[1])]) if conv.groups == 1 else None
            kernel = conv.weight.shape[2] * conv.weight.shape[3] * (1 if conv.groups == 1 else conv.weight.shape[1])
            self.terms.append((site_weight(site, cost, parallelism) * kernel, out_gate, in_gate, conv.weight.shape[1]))
        self.dense_cost = sum(w * len(o) * (len(i) if i is not None else 1) for w, o, i, _ in self.terms)

    def relaxed_cost(self) -> torch.Tensor:
        """Cost with every channel counted by its gate, relative to the dense network."""
        gates = torch.cat([self.gates.values(), torch.ones(1)])
        total = torch.zeros(())
        for weight, out_gate, in_gate, _ in self.terms:
            inputs = gates[in_gate].sum() if in_gate is not None else torch.ones(())
            total = total + weight * gates[out_gate].sum() * inputs
        return total / self.dense_cost

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
