"""Pruning masks as zeroed slices of parameters, and the units a method removes at once.

Every method, whatever its granularity, ends in the same place: some pieces of some
parameters are forced to zero. A `Unit` names those pieces (one weight element, one
kernel, one coupled channel with its BatchNorm and its consumers' input slices), so one
mask type, one MAC count and one target search serve all methods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

Index = tuple[int | slice, ...]


@dataclass(frozen=True)
class Slice:
    """One piece of one parameter, `param[index]`, that a unit forces to zero."""

    param: str
    index: Index


Unit = tuple[Slice, ...]
"""The smallest thing a method removes: all its slices go to zero together."""


class MaskSet:
    """A 0/1 float mask per parameter; `apply` multiplies the model's parameters by it.

    Zeros already in a weight matrix when the set is made are masked from the start: a
    model pruned before stays pruned, and costs count masks only, never weights that a
    training step happens to leave at zero for a moment.
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.params = dict(model.named_parameters())
        self.masks: dict[str, torch.Tensor] = {
            name: (param.detach() != 0).float() for name, param in self.params.items() if param.dim() >= 2 and bool((param == 0).any())
        }

    def copy(self) -> MaskSet:
        other = MaskSet(self.model)
        other.masks = {name: mask.clone() for name, mask in self.masks.items()}
        return other

    def mask(self, name: str) -> torch.Tensor:
        """The mask of a parameter, all ones until something zeroes it."""
        if name not in self.masks:
            self.masks[name] = torch.ones_like(self.params[name], dtype=torch.float32, requires_grad=False)
        return self.masks[name]

    def zero(self, units: list[Unit] | tuple[Unit, ...]) -> None:
        """Zero every slice of the units."""
        self.zero_prefix(PreparedUnits(self, units), len(units))

    def zero_prefix(self, prepared: PreparedUnits, count: int) -> None:
        """Zero the slices of the first `count` prepared units."""
        for name, (positions, flat) in prepared.elements.items():
            self.mask(name).view(-1)[flat[positions < count]] = 0.0
        for position, piece in prepared.others:
            if position < count:
                self.mask(piece.param)[piece.index] = 0.0

    def kept(self, name: str) -> torch.Tensor:
        """bool: where the parameter is not masked."""
        return self.masks[name] != 0 if name in self.masks else torch.ones_like(self.params[name], dtype=torch.bool)

    @torch.no_grad()
    def apply(self) -> None:
        for name, mask in self.masks.items():
            self.params[name].mul_(mask)


class PreparedUnits:
    """Units in a fixed order with their single-element slices batched per parameter.

    Magnitude pruning has one unit per weight; zeroing them one slice at a time would
    dominate the run time, so element slices become flat index arrays once.
    """

    def __init__(self, masks: MaskSet, units: list[Unit] | tuple[Unit, ...]) -> None:
        gathered: dict[str, tuple[list[int], list[Index]]] = {}
        self.others: list[tuple[int, Slice]] = []
        for position, unit in enumerate(units):
            for piece in unit:
                shape = masks.params[piece.param].shape
                if len(piece.index) == len(shape) and all(isinstance(i, int) for i in piece.index):
                    entry = gathered.setdefault(piece.param, ([], []))
                    entry[0].append(position)
                    entry[1].append(piece.index)
                else:
                    self.others.append((position, piece))
        self.elements: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        for name, (positions, indices) in gathered.items():
            shape = tuple(masks.params[name].shape)
            flat = np.ravel_multi_index(tuple(np.asarray(indices).T), shape)
            self.elements[name] = (torch.tensor(positions), torch.from_numpy(flat))
