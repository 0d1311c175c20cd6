"""Array kernels shared by the float and the fixed-point reference executors.

Padding, pooling windows, average-pool counts and the im2col convolution are written
once here and used on float64 values by float_exec and on integer codes (or float64
holding exact integers) by fixed_exec, so the geometry of both executors is the same
code and cannot drift apart. Arrays are batched NCHW.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Padding = tuple[int, int, int, int]
"""(top, left, bottom, right), the order of the IR."""


def pool_output_size(size: int, kernel: int, stride: int, pad_lo: int, pad_hi: int, dilation: int, ceil_mode: bool) -> int:
    """Output length of a sliding window along one axis, ONNX/PyTorch rules.

    With ceil_mode the last window may hang over the padded input, but it must start
    inside the input or its leading padding (a window of padding only is dropped).
    """
    span = dilation * (kernel - 1) + 1
    room = size + pad_lo + pad_hi - span
    if not ceil_mode:
        return room // stride + 1
    out = -(-room // stride) + 1
    if (out - 1) * stride >= size + pad_lo:
        out -= 1
    return out


def pad_spatial(x: np.ndarray, padding: Padding, value: float | int = 0, extra: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Pad H and W of a batched NCHW array; `extra` adds rows/columns after bottom/right."""
    top, left, bottom, right = padding
    widths = ((0, 0), (0, 0), (top, bottom + extra[0]), (left, right + extra[1]))
    if not any(lo or hi for lo, hi in widths):
        return x
    return np.pad(x, widths, mode="constant", constant_values=value)


def sliding_windows(
    x: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: Padding,
    dilation: tuple[int, int] = (1, 1),
    ceil_mode: bool = False,
    fill: float | int = 0,
) -> np.ndarray:
    """View (N, C, OH, OW, KH, KW) of every window of x padded with `fill`.

    The ceil_mode overhang beyond the explicit padding is filled with `fill` too.
    """
    _, _, height, width = x.shape
    top, left, bottom, right = padding
    out_h = pool_output_size(height, kernel[0], stride[0], top, bottom, dilation[0], ceil_mode)
    out_w = pool_output_size(width, kernel[1], stride[1], left, right, dilation[1], ceil_mode)
    span_h = dilation[0] * (kernel[0] - 1) + 1
    span_w = dilation[1] * (kernel[1] - 1) + 1
    extra_h = max(0, (out_h - 1) * stride[0] + span_h - (height + top + bottom))
    extra_w = max(0, (out_w - 1) * stride[1] + span_w - (width + left + right))
    padded = pad_spatial(x, padding, fill, (extra_h, extra_w))
    view = sliding_window_view(padded, (span_h, span_w), axis=(2, 3))
    view = view[:, :, :: stride[0], :: stride[1], :: dilation[0], :: dilation[1]]
    return view[:, :, :out_h, :out_w]


def avg_pool_counts(
    shape_hw: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: Padding,
    ceil_mode: bool,
    count_include_pad: bool,
) -> np.ndarray:
    """(OH, OW) divisor of every average-pool window.

    Positions in the input always count; explicit padding counts when
    count_include_pad; the ceil_mode overhang never counts (ONNX and PyTorch agree).
    """
    ones = np.ones((1, 1, *shape_hw), dtype=np.int64)
    region_padding: Padding = (0, 0, 0, 0)
    if count_include_pad:
        ones = pad_spatial(ones, padding, 1)
        region_padding = padding
    window_padding = tuple(p - r for p, r in zip(padding, region_padding))
    windows = sliding_windows(ones, kernel, stride, window_padding, ceil_mode=ceil_mode, fill=0)  # type: ignore[arg-type]
    return windows.sum(axis=(-2, -1))[0, 0]


def conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    stride: tuple[int, int],
    padding: Padding,
    dilation: tuple[int, int],
    groups: int,
) -> np.ndarray:
    """Grouped 2-D convolution (no bias) as one batched im2col matrix product per group.

    x (N, C, H, W), weight (O, C/groups, KH, KW) in the same dtype; returns (N, O, OH, OW)
    in that dtype. Zero padding is the code 0 and the real value 0 alike.
    """
    batch = x.shape[0]
    out_channels, group_in, kh, kw = weight.shape
    group_out = out_channels // groups
    windows = sliding_windows(x, (kh, kw), stride, padding, dilation)
    out_h, out_w = windows.shape[2:4]
    # Rows (channel, ky, kx), columns (n, y, x): the copy reads the padded input along its
    # rows, which is several times faster than building position-major rows.
    cols = windows.reshape(batch, groups, group_in, out_h, out_w, kh, kw)
    cols = cols.transpose(1, 2, 5, 6, 0, 3, 4).reshape(groups, group_in * kh * kw, batch * out_h * out_w)
    kernels = weight.reshape(groups, group_out, group_in * kh * kw)
    out = np.matmul(kernels, cols).reshape(groups, group_out, batch, out_h, out_w).transpose(2, 0, 1, 3, 4)
    return out.reshape(batch, out_channels, out_h, out_w)


def permute_channels(x: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
    """Output channel k is input channel order[k] (ChannelPermute), for floats and codes alike."""
    return x[:, list(order)]


def upsample_nearest(x: np.ndarray, scale: tuple[int, int]) -> np.ndarray:
    """Repeat every pixel scale[1] times along W and every row scale[0] times along H (Upsample)."""
    return np.repeat(np.repeat(x, scale[0], axis=2), scale[1], axis=3)


def depth_to_space(x: np.ndarray, block: tuple[int, int]) -> np.ndarray:
    """(N, BH*BW*C, H, W) to (N, C, H*BH, W*BW): channel (i*BW + j)*C + o is output channel o at
    row offset i and column offset j of each block (ONNX DepthToSpace, DCR order)."""
    batch, depth, height, width = x.shape
    bh, bw = block
    channels = depth // (bh * bw)
    blocks = x.reshape(batch, bh, bw, channels, height, width).transpose(0, 3, 4, 1, 5, 2)
    return blocks.reshape(batch, channels, height * bh, width * bw)


def channel_vector(values: np.ndarray, ndim: int) -> np.ndarray:
    """Shape a per-channel vector (C,) to broadcast against a batched (N, C, ...) array."""
    return np.asarray(values).reshape((1, -1) + (1,) * (ndim - 2))
