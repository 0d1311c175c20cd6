"""Cost functions the target is measured in: convolution MACs first, hardware terms pluggable.

The target T of every method is one number, defined once here: the fraction of
convolution MACs removed, counting for every Conv2d its nonzero weights times its output
positions, summed over all conv layers, against the same count with every weight
nonzero. Dense layers are not counted (the issue's benchmark speaks of conv MACs).
Other costs (weight-memory bits, a cycle model) implement the same `CostModel` protocol,
so the taper method can constrain hardware cost while the target stays in MACs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from fpgaflow.prune.masks import MaskSet


@dataclass(frozen=True)
class ConvSite:
    """A conv layer of the model: its weight parameter's name and its output positions."""

    module: str
    weight: str
    positions: int
    dense_macs: int


def conv_sites(model: nn.Module, example: torch.Tensor) -> list[ConvSite]:
    """Every nn.Conv2d with its output positions per sample, found by running `example` once."""
    positions: dict[str, int] = {}
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            hooks.append(module.register_forward_hook(lambda m, i, o, name=name: positions.__setitem__(name, o.shape[2] * o.shape[3])))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(example[:1])
    model.train(was_training)
    for hook in hooks:
        hook.remove()
    modules = dict(model.named_modules())
    return [
        ConvSite(name, f"{name}.weight", count, modules[name].weight.numel() * count)  # type: ignore[union-attr]
        for name, count in positions.items()
    ]


class CostModel(Protocol):
    """A cost of the model under masks; lower is cheaper."""

    def __call__(self, masks: MaskSet) -> float: ...


class ConvMacs:
    """Nonzero convolution MACs per sample under the masks (see module doc)."""

    def __init__(self, model: nn.Module, example: torch.Tensor) -> None:
        self.sites = conv_sites(model, example)
        self.dense = float(sum(site.dense_macs for site in self.sites))

    def __call__(self, masks: MaskSet) -> float:
        return float(sum(int(masks.kept(site.weight).sum()) * site.positions for site in self.sites))

    def small_layers(self, share: float) -> set[str]:
        """Conv modules holding less than `share` of the dense conv MACs."""
        return {site.module for site in self.sites if site.dense_macs < share * self.dense}

    def reduction(self, masks: MaskSet) -> float:
        """Fraction of conv MACs removed: the target's measure."""
        return 1.0 - self(masks) / self.dense if self.dense else 0.0


class WeightBits:
    """Bits of weight memory for the nonzero weights of every conv and dense layer at a fixed width."""

    def __init__(self, model: nn.Module, bits: int = 8) -> None:
        self.names = [f"{name}.weight" for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        self.bits = bits

    def __call__(self, masks: MaskSet) -> float:
        return float(sum(int(masks.kept(name).sum()) for name in self.names) * self.bits)
