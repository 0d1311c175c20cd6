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


def stride_chain(energy: np.ndarray, rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Nested keep sets of one input channel, each the previous one intersected with a strided set.

    The intersection of {j % a == b} and {j % c == d} is again such a set (stride
    lcm(a, c)), so every level is strided. Each step removes as few positions as
    possible; among equal steps the one keeping most weight energy wins, or with `rng`
    one is drawn with probability proportional to the energy it keeps (a particle's
    perturbation). The last level is empty: the input channel goes entirely (a removed
    input channel in the IR), so weak channels can give up their last position and
    strong ones keep more.
    """
    size = len(energy)
    keep = np.ones(size, dtype=bool)
    chain = []
    while keep.sum() > 1:
        options = []
        for stride in range(2, size + 1):
            for offset in range(stride):
                new = keep & strided_keep(size, stride, offset)
                if 0 < new.sum() < keep.sum():
                    options.append(new)
        largest = max(int(o.sum()) for o in options)
        options = [o for o in options if o.sum() == largest]
        kept = np.array([energy[o].sum() for o in options]) + 1e-12
        keep = options[int(np.argmax(kept)) if rng is None else int(rng.choice(len(options), p=kept / kept.sum()))]
        chain.append(keep)
    chain.append(np.zeros(size, dtype=bool))
    return chain


def strided_units(
    model: nn.Module, sites: list[ConvSite], rng: np.random.Generator | None = None
) -> tuple[list[Unit], list[str], np.ndarray]:
    """Per conv, input channel and level of its stride chain, the unit removing that level's positions.

    Every kernel reading one channel gets the same positions removed, so each channel's
    kernels share one stride and offset and im2col rows of the removed positions
    disappear (Anwar et al.). A level's score is the energy removed up to and including
    it, so deeper levels rank after shallower ones.
    """
    units, layers, scores = [], [], []
    for site in sites:
        weight = weight_array(model, site)
        out_count, group_in, kh, kw = weight.shape
        energy = (weight**2).reshape(out_count, group_in, kh * kw).sum(axis=0)
        for in_channel in range(group_in):
            previous = np.ones(kh * kw, dtype=bool)
            for keep in stride_chain(energy[in_channel], rng):
                removed = previous & ~keep
                units.append(tuple(Slice(site.weight, (slice(None), in_channel, j // kw, j % kw)) for j in np.flatnonzero(removed)))
                layers.append(site.module)
                scores.append(energy[in_channel][~keep].sum())
                previous = keep
    return units, layers, np.asarray(scores)
