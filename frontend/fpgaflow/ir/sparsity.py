"""The sparsity record of a weight tensor: its mask and the structure of its zeros.

The pruning methods produce zeros at different granularities; the hardware pays for
each differently (a removed channel is not built at all, a zero kernel costs nothing, a
kernel pattern costs a small pattern id instead of per-weight indices, strided sparsity
costs a stride and an offset). The record classifies one mask at every granularity so
the backends and the reports read the structure instead of re-deriving it.

Conv weights are (O, I/groups, KH, KW); dense weights are (O, I) and are treated as
1x1 kernels. With groups > 1, output channel o belongs to group o // (O/groups) and
its kernel column j reads channel (o // (O/groups)) * (I/groups) + j of the layer's
input tensor. Everything indexed by "input channel" here (removed_in, stride, offset)
uses those input-tensor channels, 0 .. I-1, because that is what a neighbouring layer
and the window generator see; for groups = 1 they are the weight's axis-1 indices.

Strided sparsity (after Anwar et al., "Structured pruning of deep convolutional neural
networks", arXiv 1512.08571): a kernel of KH*KW elements is flattened row-major to
indices j = 0 .. KH*KW-1; it is strided with stride s >= 2 and offset 0 <= t < s when
its nonzeros are exactly {j : j % s == t}. An input channel gets a stride when every
nonzero kernel reading it is strided with the same (s, t); the smallest such s is
recorded, so the record is unique. A channel that no kernel reads gets 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

PATTERN_LIBRARY_LIMIT = 16
"""Most patterns a layer may use and still count as pattern-structured.

Sixteen patterns take a 4-bit id per kernel and a 16-entry table of KH*KW bits, a few
LUTs. A per-weight index into a 3x3 window costs 4 bits per nonzero weight, so with
two or more nonzeros per kernel the pattern id is the cheaper index, and the table
stays small enough to sit beside every engine. PatDNN-style pruning uses 4 to 8."""


@dataclass(kw_only=True)
class SparsityRecord:
    """Structure of the zeros of one weight tensor (see classify_sparsity)."""

    mask: np.ndarray
    """bool, same shape as the weight: True where the weight is nonzero."""
    removed_out: np.ndarray
    """int, indices of output channels whose whole filter is zero."""
    removed_in: np.ndarray
    """int, indices of input-tensor channels that no output channel reads (see module doc for groups)."""
    kernel_mask: np.ndarray
    """bool (O, I/groups): True where the kernel has at least one nonzero."""
    patterns: np.ndarray
    """bool (NP, KH, KW): the library of distinct masks of the nonzero kernels, most used first."""
    pattern_ids: np.ndarray
    """int (O, I/groups): index into patterns for every nonzero kernel, -1 for a zero kernel."""
    stride: np.ndarray
    """int (I,): intra-kernel stride shared by every nonzero kernel reading input channel i, 0 if none."""
    offset: np.ndarray
    """int (I,): intra-kernel offset that goes with stride."""
    density_per_out: np.ndarray
    """float (O,): nonzero fraction of each output channel's filter."""
    density_per_kernel: np.ndarray
    """float (O, I/groups): nonzero fraction of each kernel."""
    groups: int = 1
    """Convolution groups of the weight (1 for dense)."""

    @property
    def nnz(self) -> int:
        return int(self.mask.sum())

    @property
    def density(self) -> float:
        """Overall nonzero fraction of the weight tensor."""
        return float(self.mask.mean()) if self.mask.size else 0.0

    @property
    def out_channels(self) -> int:
        return int(self.kernel_mask.shape[0])

    @property
    def in_channels(self) -> int:
        """Channels of the layer's input tensor (all groups)."""
        return int(self.kernel_mask.shape[1]) * self.groups

    @property
    def kernel_size(self) -> int:
        """Elements per kernel, KH*KW (1 for dense)."""
        return int(self.patterns.shape[1] * self.patterns.shape[2]) if self.patterns.ndim == 3 else 1

    @property
    def out_channel_density(self) -> float:
        """Fraction of output channels that have a nonzero filter."""
        return _fraction(self.out_channels - len(self.removed_out), self.out_channels)

    @property
    def in_channel_density(self) -> float:
        """Fraction of input channels that some output channel reads."""
        return _fraction(self.in_channels - len(self.removed_in), self.in_channels)

    @property
    def kept_kernel_mask(self) -> np.ndarray:
        """bool (O, I/groups): kernels whose output and input channel both survive channel removal."""
        kept_out = np.ones(self.out_channels, dtype=bool)
        kept_out[self.removed_out] = False
        kept_in = np.ones(self.in_channels, dtype=bool)
        kept_in[self.removed_in] = False
        return kept_out[:, None] & kept_in[input_channel_index(self.kernel_mask.shape, self.groups)]

    @property
    def kernel_density(self) -> float:
        """Fraction of nonzero kernels among the kernels of kept channels."""
        return _fraction(int(self.kernel_mask.sum()), int(self.kept_kernel_mask.sum()))

    @property
    def element_density(self) -> float:
        """Fraction of nonzero weights inside the nonzero kernels."""
        return _fraction(self.nnz, int(self.kernel_mask.sum()) * self.kernel_size)

    @property
    def num_patterns(self) -> int:
        return int(self.patterns.shape[0])

    @property
    def is_pattern_structured(self) -> bool:
        """Nonzero kernels of more than one element, not all full, drawn from a small library.

        A layer whose kernels are all full (or 1x1) has one pattern trivially; that is
        no pattern structure, so it does not count.
        """
        return (
            self.kernel_size > 1
            and 0 < self.num_patterns <= PATTERN_LIBRARY_LIMIT
            and self.element_density < 1.0
        )

    @property
    def strided_in_channels(self) -> int:
        """Input channels whose nonzero kernels share one stride and offset."""
        return int((self.stride > 0).sum())

    @property
    def is_strided(self) -> bool:
        """Every input channel that is read has a shared intra-kernel stride and offset."""
        read = np.ones(self.in_channels, dtype=bool)
        read[self.removed_in] = False
        return bool(read.any()) and bool((self.stride[read] > 0).all())

    def granularity_summary(self) -> dict[str, Any]:
        """Plain numbers for reports and JSON: densities at every granularity and the structure found."""
        return {
            "shape": [int(d) for d in self.mask.shape],
            "groups": self.groups,
            "nnz": self.nnz,
            "size": int(self.mask.size),
            "density": self.density,
            "out_channel_density": self.out_channel_density,
            "in_channel_density": self.in_channel_density,
            "kernel_density": self.kernel_density,
            "element_density": self.element_density,
            "removed_out": len(self.removed_out),
            "removed_in": len(self.removed_in),
            "num_patterns": self.num_patterns,
            "pattern_structured": self.is_pattern_structured,
            "strided": self.is_strided,
            "strided_in_channels": self.strided_in_channels,
        }


def classify_sparsity(weights: np.ndarray, groups: int = 1) -> SparsityRecord:
    """Classify the zeros of a conv (O, I/groups, KH, KW) or dense (O, I) weight at every granularity.

    Works on floats or integer codes alike: only `weights != 0` matters.
    """
    weights = np.asarray(weights)
    if weights.ndim not in (2, 4):
        raise ValueError(f"weights must be (O, I) or (O, I, KH, KW), got shape {weights.shape}")
    if groups < 1 or weights.shape[0] % groups:
        raise ValueError(f"{weights.shape[0]} output channels do not split into {groups} groups")
    mask = weights != 0
    kernels = mask if mask.ndim == 4 else mask[:, :, None, None]
    out_count, in_per_group, kh, kw = kernels.shape
    kernel_mask = kernels.any(axis=(2, 3))
    flat = kernels.reshape(out_count, in_per_group, kh * kw)
    patterns, pattern_ids = _pattern_library(flat, kernel_mask)
    channel_of = input_channel_index(kernel_mask.shape, groups)
    read = np.zeros(in_per_group * groups, dtype=bool)
    np.logical_or.at(read, channel_of[kernel_mask], True)
    stride, offset = _channel_strides(patterns, pattern_ids, channel_of, in_per_group * groups)
    return SparsityRecord(
        mask=mask,
        removed_out=np.flatnonzero(~kernel_mask.any(axis=1)).astype(np.int64),
        removed_in=np.flatnonzero(~read).astype(np.int64),
        kernel_mask=kernel_mask,
        patterns=patterns.reshape(-1, kh, kw),
        pattern_ids=pattern_ids,
        stride=stride,
        offset=offset,
        density_per_out=flat.reshape(out_count, -1).mean(axis=1) if flat.size else np.zeros(out_count),
        density_per_kernel=flat.mean(axis=2),
        groups=groups,
    )


def _fraction(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def input_channel_index(kernel_shape: tuple[int, ...], groups: int) -> np.ndarray:
    """int (O, I/groups): the input-tensor channel each kernel of a grouped weight reads."""
    out_count, in_per_group = kernel_shape
    group_of = np.arange(out_count) // (out_count // groups) if out_count else np.zeros(0, dtype=np.int64)
    return group_of[:, None] * in_per_group + np.arange(in_per_group)[None, :]


def _pattern_library(flat: np.ndarray, kernel_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct nonzero kernel masks, most used first; ties in ascending lexicographic order of the mask bits."""
    nonzero = flat[kernel_mask]
    pattern_ids = np.full(kernel_mask.shape, -1, dtype=np.int64)
    if not len(nonzero):
        return np.zeros((0, flat.shape[2]), dtype=bool), pattern_ids
    if nonzero.shape[1] <= 62:
        # One integer per mask, element 0 most significant: sorting the integers is the same
        # lexicographic order as sorting the rows, and much faster on large layers.
        weights = np.left_shift(np.int64(1), np.arange(nonzero.shape[1] - 1, -1, -1, dtype=np.int64))
        keys, first, inverse, counts = np.unique(
            nonzero.astype(np.int64) @ weights, return_index=True, return_inverse=True, return_counts=True
        )
        unique = nonzero[first]
    else:
        unique, inverse, counts = np.unique(nonzero, axis=0, return_inverse=True, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    pattern_ids[kernel_mask] = rank[inverse.reshape(-1)]
    return unique[order], pattern_ids


def _pattern_stride(pattern: np.ndarray) -> tuple[int, int]:
    """(s, t) with the smallest s >= 2 such that the pattern's nonzeros are exactly {j : j % s == t}, else (0, 0)."""
    size = len(pattern)
    kept = np.flatnonzero(pattern)
    if size < 2 or not len(kept):
        return 0, 0
    start = int(kept[0])
    for step in range(max(2, start + 1), size + 1):
        if np.array_equal(kept, np.arange(start, size, step)):
            return step, start
    return 0, 0


def _channel_strides(
    patterns: np.ndarray, pattern_ids: np.ndarray, channel_of: np.ndarray, channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per input channel: the (stride, offset) all its nonzero kernels share, (0, 0) where they do not."""
    per_pattern = np.array([_pattern_stride(p) for p in patterns], dtype=np.int64).reshape(-1, 2)
    stride = np.zeros(channels, dtype=np.int64)
    offset = np.zeros(channels, dtype=np.int64)
    used = pattern_ids >= 0
    if not used.any():
        return stride, offset
    # A channel is strided when every nonzero kernel reading it has the same (s, t) with s > 0:
    # encode (s, t) as one key per kernel and compare each channel's smallest and largest key.
    key = per_pattern[:, 0] * (patterns.shape[1] + 1) + per_pattern[:, 1]
    kernel_key, kernel_channel = key[pattern_ids[used]], channel_of[used]
    lowest = np.full(channels, np.iinfo(np.int64).max)
    highest = np.full(channels, -1)
    np.minimum.at(lowest, kernel_channel, kernel_key)
    np.maximum.at(highest, kernel_channel, kernel_key)
    shared = (lowest == highest) & (highest > 0)
    first_pattern = np.zeros(channels, dtype=np.int64)
    first_pattern[kernel_channel[::-1]] = pattern_ids[used][::-1]
    stride[shared] = per_pattern[first_pattern[shared], 0]
    offset[shared] = per_pattern[first_pattern[shared], 1]
    return stride, offset
