"""Per-channel multipliers on layer outputs, trained apart from the weights.

The taper method (gates in [0, 1]) and the importance method (free importance weights)
both scale every coupled channel by a learnable factor. The factor sits on the output
of the channel's BatchNorm when it has one (a gate before BatchNorm would be normalised
away in training), otherwise on the conv's output; coupled channels (both sides of a
residual Add) share one factor. `fold` multiplies the factors into those layers'
weights and biases and removes the hooks, which leaves the function unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from fpgaflow.prune.coupling import ChannelUnit


def _gated_modules(model: nn.Module, unit: ChannelUnit) -> list[tuple[str, int]]:
    """(module name, channel) pairs whose output carries this coupled channel."""
    outputs = [(piece.param.rsplit(".", 1)[0], int(piece.index[0])) for piece in unit.unit if piece.param.endswith(".weight") and len(piece.index) == 1]
    norms = [(name, c) for name, c in outputs if isinstance(model.get_submodule(name), nn.BatchNorm2d)]
    return norms or outputs


class ChannelGates:
    """One learnable factor per coupled channel, applied by forward hooks."""

    def __init__(self, model: nn.Module, channels: list[ChannelUnit], initial: torch.Tensor, transform: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self.model = model
        self.channels = channels
        self.raw = nn.Parameter(initial.clone().float())
        self.transform = transform
        index: dict[str, torch.Tensor] = {}
        for position, unit in enumerate(channels):
            for name, channel in _gated_modules(model, unit):
                if name not in index:
                    index[name] = torch.full((_out_channels(model.get_submodule(name)),), len(channels), dtype=torch.long)
                index[name][channel] = position
        self.index = index
        self.hooks = [model.get_submodule(name).register_forward_hook(self._hook(name)) for name in index]

    def values(self) -> torch.Tensor:
        """The factor of every channel, in the order of `channels`."""
        return self.transform(self.raw)

    def _full(self, name: str) -> torch.Tensor:
        return torch.cat([self.values(), torch.ones(1)])[self.index[name]]

    def _hook(self, name: str) -> Callable[[nn.Module, tuple[torch.Tensor, ...], torch.Tensor], torch.Tensor]:
        def scale(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> torch.Tensor:
            return output * self._full(name).view(1, -1, *([1] * (output.dim() - 2)))

        return scale

    @torch.no_grad()
    def fold(self) -> None:
        """Multiply the factors into the gated layers' parameters and remove the hooks."""
        for hook in self.hooks:
            hook.remove()
        for name in self.index:
            module = self.model.get_submodule(name)
            factor = self._full(name)
            module.weight.mul_(factor.view(-1, *([1] * (module.weight.dim() - 1))))
            if module.bias is not None:
                module.bias.mul_(factor)


def _out_channels(module: nn.Module) -> int:
    return int(module.weight.shape[0])  # type: ignore[union-attr]
