"""Cost functions the target is measured in: convolution MACs first, hardware terms pluggable.

The target T of every method is one number, defined once here: the fraction of
convolution MACs removed, counting for every Conv2d its nonzero weights times its output
positions, summed over all conv layers, against the same count with every weight
nonzero. Dense layers are not counted (the issue's benchmark speaks of conv MACs).
The hardware costs (cycles per frame at P lanes, weight-ROM bits) implement the same
`CostModel` protocol through the sparse engine's hardware contract
(fpgaflow.flow.ops.sparse_engine) and ROM layout (fpgaflow.flow.weight_rom), so the
cycles are the ones the build report shows (the slower of a conv's window generator and
its engine) and the taper method can constrain hardware cost while the target stays in MACs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import nn

from fpgaflow.errors import UserError
from fpgaflow.flow.cycles import Walk, engine_frame_cycles, window_walk
from fpgaflow.flow.weight_rom import WindowLayout, rom_depth, rom_word_bits, window_index_bits
from fpgaflow.ir.sparsity import input_channel_index
from fpgaflow.prune.masks import MaskSet


@dataclass(frozen=True)
class ConvSite:
    """A conv layer of the model: its weight parameter's name and its output positions."""

    module: str
    weight: str
    positions: int
    dense_macs: int


def _run_once(model: nn.Module, example: torch.Tensor, hooks: list[torch.utils.hooks.RemovableHandle]) -> None:
    """Run one sample through the model in eval mode so `hooks` can observe it, then remove them and restore the mode."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(example[:1])
    model.train(was_training)
    for hook in hooks:
        hook.remove()


def conv_sites(model: nn.Module, example: torch.Tensor) -> list[ConvSite]:
    """Every nn.Conv2d with its output positions per sample, found by running `example` once."""
    positions: dict[str, int] = {}
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            hooks.append(module.register_forward_hook(lambda m, i, o, name=name: positions.__setitem__(name, o.shape[2] * o.shape[3])))
    _run_once(model, example, hooks)
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


HARDWARE_COSTS = ("cycles", "weight-bits")
"""The hardware measures a method can report and taper can constrain."""


@dataclass(frozen=True)
class EngineSite:
    """A conv or dense layer as one sparse_conv_engine: its weight, output positions and window layout."""

    module: str
    weight: str
    positions: int
    kernel: int
    """Window elements per input channel (KH * KW; 1 for a dense layer, whose window is its inputs)."""
    channel_of: np.ndarray
    """The input channel every weight reads, shaped like the weight."""
    walk: Walk = ()
    """The walk of the conv's window generator (fpgaflow.flow.cycles.Walk; empty for a dense layer)."""

    @property
    def window_gen(self) -> int:
        """Cycles per frame of the conv's window generator: pixels of its padded input (0 for a dense layer)."""
        return sum(self.walk)


def _window_walks(model: nn.Module, example: torch.Tensor) -> dict[str, Walk]:
    """Every nn.Conv2d's window generator walk over its padded input, found by running `example` once."""
    pixels: dict[str, Walk] = {}

    def record(name: str, module: nn.Conv2d, inputs: tuple[torch.Tensor, ...]) -> None:
        left, right, top, bottom = module._reversed_padding_repeated_twice  # F.pad order, for int and "same" padding
        height, width = inputs[0].shape[2:]
        kernel = (int(module.kernel_size[0]), int(module.kernel_size[1]))
        stride = (int(module.stride[0]), int(module.stride[1]))
        pixels[name] = window_walk(int(height), int(width), kernel, stride, (int(top), int(left), int(bottom), int(right)))

    hooks = [module.register_forward_pre_hook(lambda m, i, name=name: record(name, m, i))
             for name, module in model.named_modules() if isinstance(module, nn.Conv2d)]
    _run_once(model, example, hooks)
    return pixels


def engine_sites(model: nn.Module, example: torch.Tensor) -> list[EngineSite]:
    """Every conv and dense layer in model order, as the hardware packs each into an engine."""
    positions = {site.module: site.positions for site in conv_sites(model, example)}
    walks = _window_walks(model, example)
    sites = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d) and name in positions:
            out_ch, per_group, kh, kw = module.weight.shape
            channel = input_channel_index((out_ch, per_group), module.groups)[:, :, None, None]
            sites.append(EngineSite(name, f"{name}.weight", positions[name], kh * kw, np.broadcast_to(channel, tuple(module.weight.shape)),
                                    walks[name]))
        elif isinstance(module, nn.Linear):
            sites.append(EngineSite(name, f"{name}.weight", 1, 1, np.broadcast_to(np.arange(module.in_features), tuple(module.weight.shape))))
    return sites


def engine_cost(kind: str, lanes: int, weight_bits: int, window: int, nonzeros: int, walk: Walk = ()) -> int:
    """One engine's cost as the build computes it for per-element ROM entries.

    cycles: the sparse engine's contract (fpgaflow.flow.cycles.engine_frame_cycles)
    with a ROM of depth ceil(nonzeros / P) and the narrowest window write that keeps up with
    it, behind a window generator walking `walk` (a conv's; empty for a dense layer, one
    window a frame, whose window counts as one beat here: a dense layer after a flatten
    streams its map pixel by pixel, which costs more only when the writer cannot keep up);
    weight-bits: depth words of fpgaflow.flow.weight_rom's layout with one finish unit (P entries
    of weight, window index and segment bits, and the word's closed-channel count). pack_engine
    may take more finish units where that saves cycles; the cost then differs by those few
    bits per word (and the cycles by their padding words, at most 2 %).
    """
    depth = rom_depth(nonzeros, lanes)
    if kind == "cycles":
        return engine_frame_cycles(depth, WindowLayout(window, 1).fitted(depth).words, walk or (1,))
    return depth * rom_word_bits({"P": lanes, "WW": weight_bits, "IDX_W": window_index_bits(window), "K_FIN": 1, "INDEX_MODE": 0})


def relaxed_engine_cost(kind: str, positions: int, lanes: int, weight_bits: int, window: float, nonzeros: torch.Tensor,
                        window_gen: int = 0) -> torch.Tensor:
    """engine_cost with the ROM depth relaxed to nonzeros / P, differentiable in `nonzeros`.

    The word padding (ceil), the one-word minimum, the window writer and the index width
    (log2 of the window, taken at the rounded window) are steps without a useful gradient;
    the cycles never drop below the window generator's, where pruning no longer helps.
    """
    if kind == "cycles":
        return torch.clamp(nonzeros * (positions / lanes), min=float(window_gen))
    word = rom_word_bits({"P": lanes, "WW": weight_bits, "IDX_W": window_index_bits(max(1, round(window))), "K_FIN": 1, "INDEX_MODE": 0})
    return nonzeros * (word / lanes)


class EngineCost:
    """Hardware cost of the model under masks, summed over its engines: cycles per frame or weight-ROM bits.

    It is what the build computes for the exported model after channel removal and
    quantization to `weight_bits`-bit weights, with per-element ROM entries (pack_engine
    may choose the pattern-id encoding where it is smaller): a layer's window counts
    only input channels with a kept weight, which is what the channel-removal pass
    leaves for channel-pruned models. `parallelism` is P for every layer, or per module
    name (default 1).
    """

    def __init__(self, model: nn.Module, example: torch.Tensor, kind: str, parallelism: int | dict[str, int] = 1, weight_bits: int = 8) -> None:
        if kind not in HARDWARE_COSTS:
            raise UserError(f"unknown hardware cost {kind!r}; choose one of {', '.join(HARDWARE_COSTS)}")
        self.kind = kind
        self.sites = engine_sites(model, example)
        self.parallelism = parallelism
        self.weight_bits = weight_bits
        for site in self.sites:
            if self.lanes(site) < 1:
                raise UserError(f"parallelism of {site.module} must be at least 1, got {self.lanes(site)}")

    def lanes(self, site: EngineSite) -> int:
        """P of this layer's engine."""
        return self.parallelism if isinstance(self.parallelism, int) else self.parallelism.get(site.module, 1)

    def layer_costs(self, masks: MaskSet) -> list[int]:
        """The exact cost of every engine, in model order."""
        costs = []
        for site in self.sites:
            kept = masks.kept(site.weight).numpy().astype(bool)
            window = len(np.unique(site.channel_of[kept])) * site.kernel
            costs.append(engine_cost(self.kind, self.lanes(site), self.weight_bits, window, int(kept.sum()), site.walk))
        return costs

    def __call__(self, masks: MaskSet) -> float:
        return float(sum(self.layer_costs(masks)))

    @property
    def label(self) -> str:
        """How the final line names this cost."""
        lanes = self.parallelism if isinstance(self.parallelism, int) else "per layer"
        return f"cycles/frame at P={lanes}" if self.kind == "cycles" else f"weight-ROM bits at P={lanes}"
