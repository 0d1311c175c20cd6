"""Pruning units of the finer granularities: weight elements, kernels, im2col columns, strides.

Channel units (coupled across layers) come from coupling.py; the units here stay inside
one conv weight (O, I/groups, KH, KW). Each function returns the units with the conv
they belong to, so selection can normalise scores and protect every layer.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from fpgaflow.prune.cost import ConvSite
from fpgaflow.prune.masks import Slice, Unit


def weight_array(model: nn.Module, site: ConvSite) -> np.ndarray:
    return dict(model.named_parameters())[site.weight].detach().cpu().numpy().astype(np.float64)


def element_units(model: nn.Module, sites: list[ConvSite]) -> tuple[list[Unit], list[str], np.ndarray]:
    """One unit per conv weight; scores are |w|."""
    units, layers, scores = [], [], []
    for site in sites:
        weight = weight_array(model, site)
        for index in np.ndindex(weight.shape):
            units.append((Slice(site.weight, index),))
            layers.append(site.module)
        scores.append(np.abs(weight).ravel())
    return units, layers, np.concatenate(scores)


def kernel_units(model: nn.Module, sites: list[ConvSite]) -> tuple[list[Unit], list[str], np.ndarray]:
    """One unit per kernel plane (o, i); scores are the kernel's L2 norm."""
    units, layers, scores = [], [], []
    for site in sites:
        weight = weight_array(model, site)
        for out_channel, in_channel in np.ndindex(weight.shape[:2]):
            units.append((Slice(site.weight, (out_channel, in_channel)),))
            layers.append(site.module)
        scores.append(np.sqrt((weight**2).sum(axis=(2, 3))).ravel())
    return units, layers, np.concatenate(scores)


def column_units(model: nn.Module, sites: list[ConvSite]) -> tuple[list[Unit], list[str], np.ndarray]:
    """One unit per im2col column (c, kh, kw) shared by all filters; scores are the column's L1 norm."""
    units, layers, scores = [], [], []
    for site in sites:
        weight = weight_array(model, site)
        for column in np.ndindex(weight.shape[1:]):
            units.append((Slice(site.weight, (slice(None), *column)),))
            layers.append(site.module)
        scores.append(np.abs(weight).sum(axis=0).ravel())
    return units, layers, np.concatenate(scores)


def strided_keep(kernel_size: int, stride: int, offset: int) -> np.ndarray:
    """bool (kernel_size,): the flat kernel positions j with j % stride == offset."""
    return np.arange(kernel_size) % stride == offset


def stride_levels(kernel_size: int) -> list[int]:
    """Strides from mild to extreme for a kernel of this many elements (2, 3, ... and a single element)."""
    return sorted({s for s in (2, 3, 4, 5, kernel_size) if 2 <= s <= kernel_size})


def strided_units(
    model: nn.Module, sites: list[ConvSite], rng: np.random.Generator | None = None
) -> tuple[list[Unit], list[str], np.ndarray]:
    """Per conv, input channel and stride level, the unit that keeps only j % s == t of every kernel reading it.

    The offset t keeps the most weight energy, or with `rng` is drawn with probability
    proportional to that energy (a particle's perturbation). The score is the energy the
    unit removes. Every kernel reading one channel gets the same stride and offset, so
    im2col rows of the zeroed positions disappear for that channel (Anwar et al.).
    """
    units, layers, scores = [], [], []
    for site in sites:
        weight = weight_array(model, site)
        out_count, group_in, kh, kw = weight.shape
        energy = (weight**2).reshape(out_count, group_in, kh * kw).sum(axis=0)
        for in_channel in range(group_in):
            for stride in stride_levels(kh * kw):
                kept = np.array([energy[in_channel][strided_keep(kh * kw, stride, t)].sum() for t in range(stride)])
                offset = int(np.argmax(kept)) if rng is None else int(rng.choice(stride, p=(kept + 1e-12) / (kept + 1e-12).sum()))
                removed = ~strided_keep(kh * kw, stride, offset)
                pieces = tuple(Slice(site.weight, (slice(None), in_channel, j // kw, j % kw)) for j in np.flatnonzero(removed))
                units.append(pieces)
                layers.append(site.module)
                scores.append(energy[in_channel][removed].sum())
    return units, layers, np.asarray(scores)
