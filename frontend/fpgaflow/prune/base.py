"""The API every pruning method shares, PyTorch first.

A method is built from a model, an example input and a target T (the fraction of conv
MACs to remove, see cost.py). Inside any training loop the user calls, per iteration,
`loss = task_loss + method.regularization()`, `loss.backward()`, `optimizer.step()`,
`method.step(progress)`; after the pruning phase `method.finalize()` fixes the masks,
and during fine-tuning `method.masks.apply()` after each step keeps the zeros zero.
`fpgaflow.prune.train.prune_and_finetune` is that loop, ready made.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import cached_property
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from fpgaflow.errors import UserError
from fpgaflow.prune.cost import ConvMacs
from fpgaflow.prune.coupling import ChannelUnit, channel_units
from fpgaflow.prune.masks import MaskSet

Evaluate = Callable[[nn.Module], tuple[float, float]]
"""Validation (loss, error rate) of a model; methods that search masks by accuracy need it."""


class PruningMethod(ABC):
    """One structured-pruning method; subclasses set `name` and implement `final_masks`."""

    name: ClassVar[str]

    def __init__(self, model: nn.Module, example: torch.Tensor, target: float, *, seed: int = 0, evaluate: Evaluate | None = None) -> None:
        if not 0.0 < target < 1.0:
            raise UserError(f"target {target} is outside (0, 1); give the fraction of conv MACs to remove, e.g. 0.75")
        self.model = model
        self.example = example
        self.target = target
        self.seed = seed
        self.evaluate = evaluate
        self.rng = np.random.default_rng(seed)
        self.macs = ConvMacs(model, example)
        if self.macs.dense == 0:
            raise UserError("the model has no convolution layers; pruning targets a fraction of conv MACs")
        self.masks = MaskSet(model)
        self.finalized = False

    def regularization(self) -> torch.Tensor:
        """Term to add to the task loss during the pruning phase (zero unless the method penalises)."""
        return torch.zeros(())

    def step(self, progress: float) -> None:
        """Call after each optimizer step of the pruning phase; progress runs from 0 to 1."""
        self.masks.apply()

    @abstractmethod
    def final_masks(self) -> MaskSet:
        """The permanent masks, meeting the target."""

    def finalize(self) -> None:
        """Make the masks permanent: from now on `masks.apply()` keeps exactly these zeros."""
        self.masks = self.final_masks()
        self.masks.apply()
        self.finalized = True

    def cost_report(self) -> tuple[str, float, float] | None:
        """(name, dense, current) of a hardware cost the method constrains besides the MAC target, if any."""
        return None

    def note(self) -> str | None:
        """A remark for the final line, e.g. why the method stopped before the target (None: nothing to say)."""
        return None

    @torch.no_grad()
    def evaluate_with(self, masks: MaskSet) -> tuple[float, float]:
        """Validation (loss, error rate) with `masks` applied for a moment; the weights come back unchanged."""
        if self.evaluate is None:
            raise ValueError(f"method {self.name!r} needs an evaluate function (validation data)")
        saved = {name: param.detach().clone() for name, param in masks.params.items() if name in masks.masks}
        masks.apply()
        try:
            return self.evaluate(self.model)
        finally:
            for name, values in saved.items():
                masks.params[name].copy_(values)

    @cached_property
    def channels(self) -> list[ChannelUnit]:
        """Every prunable coupled channel of the model (traced once)."""
        return channel_units(self.model, self.example)

    @property
    def reduction(self) -> float:
        """Fraction of conv MACs removed by the current weights and masks."""
        return self.macs.reduction(self.masks)
