"""Coupled channels from Torch-Pruning's dependency graph, turned into zeroing units.

Removing output channel c of a conv must also remove its BatchNorm entry, the input
slice c of every consumer, the matching channel on the other side of a residual Add,
the right offset inside a Concat and the depthwise group that reads it. Torch-Pruning
(`torch_pruning.DependencyGraph`) already traces these couplings from autograd; we use
its groups but not its pruning functions: instead of shrinking tensors we zero the
same slices, so shapes stay as they are, the zeros survive ONNX export, and fpgaflow's
channel-removal pass (not torch) decides what leaves the hardware.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import torch
import torch_pruning as tp
from torch import nn

from fpgaflow.prune.masks import Index, Slice, Unit


@dataclass(frozen=True)
class ChannelUnit:
    """One coupled channel: the conv that owns it, its index there, and every slice it zeroes."""

    root: str
    channel: int
    unit: Unit


def _last_compute_module(model: nn.Module) -> nn.Module:
    compute = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    return compute[-1]


def _slices(module: nn.Module, name: str, out_side: bool, index: int) -> list[Slice]:
    """The parameter slices that removing channel `index` on one side of `module` zeroes."""
    if out_side:
        if isinstance(module, (nn.Conv2d, nn.Linear, nn.BatchNorm2d)):
            pieces = [Slice(f"{name}.weight", (index,))]
            if module.bias is not None:
                pieces.append(Slice(f"{name}.bias", (index,)))
            return pieces
        return []
    if isinstance(module, nn.Conv2d) and module.groups > 1:
        group_in = module.in_channels // module.groups
        group_out = module.out_channels // module.groups
        group = index // group_in
        rows: Index = (slice(group * group_out, (group + 1) * group_out), index % group_in)
        return [Slice(f"{name}.weight", rows)]
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        return [Slice(f"{name}.weight", (slice(None), index))]
    return []


def channel_units(model: nn.Module, example: torch.Tensor) -> list[ChannelUnit]:
    """Every prunable channel of every conv, with everything coupled to it.

    The last conv or dense layer is left alone: its outputs are the model's outputs.
    """
    names = {module: name for name, module in model.named_modules()}
    was_training = model.training
    model.eval()
    graph = tp.DependencyGraph().build_dependency(model, example[:1], verbose=False)
    model.train(was_training)
    last = _last_compute_module(model)
    units = []
    for group in graph.get_all_groups(root_module_types=[nn.Conv2d]):
        root = group._group[0].dep.target.module
        if any(item.dep.target.module is last and graph.is_out_channel_pruning_fn(item.dep.handler) for item in group._group):
            continue
        per_channel: dict[int, list[Slice]] = defaultdict(list)
        for item in group._group:
            module = item.dep.target.module
            if module not in names:
                continue
            out_side = graph.is_out_channel_pruning_fn(item.dep.handler)
            for index, root_index in zip(item.idxs, item.root_idxs):
                per_channel[int(root_index)].extend(_slices(module, names[module], out_side, int(index)))
        for channel in sorted(per_channel):
            units.append(ChannelUnit(names[root], channel, tuple(per_channel[channel])))
    return units
