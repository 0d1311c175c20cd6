"""The sparsity record of a weight tensor: its mask and the structure of its zeros.

The pruning methods produce zeros at different granularities; the hardware pays for
each differently (a removed channel is not built at all, a zero kernel costs nothing, a
kernel pattern costs a small pattern id instead of per-weight indices, strided sparsity
costs a stride and an offset). The record classifies one mask at every granularity so
the backends and the reports read the structure instead of re-deriving it.

Conv weights are (O, I, KH, KW) with I the per-group input channels; dense weights are
(O, I) and are treated as 1x1 kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(kw_only=True)
class SparsityRecord:
    """Structure of the zeros of one weight tensor (see classify_sparsity)."""

    mask: np.ndarray
    """bool, same shape as the weight: True where the weight is nonzero."""
    removed_out: np.ndarray
    """int, indices of output channels whose whole filter is zero."""
    removed_in: np.ndarray
    """int, indices of (per-group) input channels that no output channel reads."""
    kernel_mask: np.ndarray
    """bool (O, I): True where the kernel has at least one nonzero."""
    patterns: np.ndarray
    """bool (NP, KH, KW): the library of distinct masks of the nonzero kernels, most used first."""
    pattern_ids: np.ndarray
    """int (O, I): index into patterns for every nonzero kernel, -1 for a zero kernel."""
    stride: np.ndarray
    """int (I,): intra-kernel stride shared by every nonzero kernel reading input channel i, 0 if none."""
    offset: np.ndarray
    """int (I,): intra-kernel offset that goes with stride."""
    density_per_out: np.ndarray
    """float (O,): nonzero fraction of each output channel's filter."""
    density_per_kernel: np.ndarray
    """float (O, I): nonzero fraction of each kernel."""

    @property
    def nnz(self) -> int:
        return int(self.mask.sum())

    @property
    def density(self) -> float:
        return float(self.mask.mean()) if self.mask.size else 0.0
