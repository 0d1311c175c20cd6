"""Real values to codes, and frames of codes to and from the bytes of DMA words: numpy only.

This module is the one implementation of the host side of the generated top's streams. The
simulation (fpgaflow.flow.dma, fpgaflow.fixed) uses it and `fpgaflow build` copies it
unchanged into the PYNQ driver, so the bytes the board's DMA sends are the bytes the build
verified in Verilator. It must import nothing but numpy (the board has no fpgaflow).

The contract (docs/fixed-point.md, docs/build.md):
- a real x becomes the code saturate(floor(x * 2^F + 1/2)) of a format (signed, width W, F);
- a frame is a sequence of pixels in raster order (a vector of N codes is one pixel of N
  channels); a pixel's C codes of W bits form one C*W-bit value, channel 0 in the low bits,
  two's complement when signed; that value is cut into ceil(C*W / D) words of D bits, lowest
  bits first, the unused high bits of the last word zero; a word of D bits is D/8 bytes,
  least significant byte first (the order AXI DMA writes memory on a little-endian system).
"""

from __future__ import annotations

import numpy as np

MAX_WIDTH = 62
"""Codes live in int64; no format is wider (fpgaflow rejects widths above 32 at quantize)."""


def code_limits(signed: bool, width: int) -> tuple[int, int]:
    """The smallest and largest code of a format of `width` bits."""
    if signed:
        return -(1 << (width - 1)), (1 << (width - 1)) - 1
    return 0, (1 << width) - 1


def quantize_codes(values: np.ndarray, signed: bool, width: int, frac: int) -> np.ndarray:
    """Float to code: saturate(floor(x * 2**F + 1/2)), round half up (AP_RND), then saturate (AP_SAT).

    Scaling by a power of two and adding 1/2 are exact in float64 for the ranges used here,
    so the only rounding is the one the contract asks for.
    """
    low, high = code_limits(signed, width)
    return np.clip(round_codes(values, frac), low, high)


def round_codes(values: np.ndarray, frac: int) -> np.ndarray:
    """floor(x * 2**F + 1/2) before saturation (held within +-2**MAX_WIDTH): quantize_codes without the clamp."""
    scaled = np.asarray(values, dtype=np.float64) * np.float64(2.0) ** frac
    if not np.all(np.isfinite(scaled)):
        raise ValueError("cannot quantize NaN or infinite values")
    limit = float(1 << MAX_WIDTH)
    return np.floor(np.clip(scaled, -limit, limit) + 0.5).astype(np.int64)


def real_values(codes: np.ndarray, frac: int) -> np.ndarray:
    """Code to real value, q * 2**-F, as float64 (exact for widths up to 53 bits)."""
    return np.asarray(codes, dtype=np.int64).astype(np.float64) * np.float64(2.0) ** -frac


def words_per_pixel(channels: int, elem_bits: int, dma_width: int) -> int:
    """DMA words one pixel of `channels` codes occupies."""
    return -(-channels * elem_bits // dma_width)


def _check_width(dma_width: int) -> None:
    if dma_width <= 0 or dma_width % 8:
        raise ValueError(f"DMA width {dma_width} is not a whole number of bytes")


def frame_pixels(shape: tuple[int, ...]) -> int:
    """Pixels of a frame of this per-sample shape: H * W of a (C, H, W) map, 1 for an (N,) vector."""
    return 1 if len(shape) == 1 else int(np.prod(shape[1:]))


def frame_bytes(shape: tuple[int, ...], elem_bits: int, dma_width: int) -> int:
    """Bytes of DMA words one frame of this shape occupies."""
    _check_width(dma_width)
    return frame_pixels(shape) * words_per_pixel(shape[0], elem_bits, dma_width) * dma_width // 8


def _stream_pixels(frame: np.ndarray) -> np.ndarray:
    """(pixels, channels) in stream order for a (C, H, W) map or an (N,) vector."""
    frame = np.asarray(frame, dtype=np.int64)
    if frame.ndim == 1:
        return frame[None, :]
    return frame.reshape(frame.shape[0], -1).T


def pack_frame_bytes(frame: np.ndarray, elem_bits: int, dma_width: int) -> np.ndarray:
    """One frame of codes, (C, H, W) or (N,), as the bytes of its DMA words (uint8)."""
    _check_width(dma_width)
    pixels = _stream_pixels(frame)
    count, channels = pixels.shape[0], pixels.shape[1]
    bits = ((pixels[:, :, None] >> np.arange(elem_bits, dtype=np.int64)) & 1).astype(np.uint8)
    row_bits = words_per_pixel(channels, elem_bits, dma_width) * dma_width
    padded = np.zeros((count, row_bits), dtype=np.uint8)
    padded[:, : channels * elem_bits] = bits.reshape(count, channels * elem_bits)
    return np.packbits(padded, axis=1, bitorder="little").reshape(-1)


def unpack_frame_bytes(data: np.ndarray, shape: tuple[int, ...], elem_bits: int, signed: bool, dma_width: int) -> np.ndarray:
    """The inverse of pack_frame_bytes: the bytes of one frame's DMA words back to codes of `shape`.

    The unused high bits of each pixel's last word are ignored, as the hardware leaves them undefined.
    """
    data = np.asarray(data, dtype=np.uint8).reshape(-1)
    expected = frame_bytes(shape, elem_bits, dma_width)
    if data.size != expected:
        raise ValueError(f"frame of shape {tuple(shape)} needs {expected} bytes of DMA words, got {data.size}")
    channels, count = shape[0], frame_pixels(shape)
    bits = np.unpackbits(data.reshape(count, -1), axis=1, bitorder="little")[:, : channels * elem_bits]
    weights = np.int64(1) << np.arange(elem_bits, dtype=np.int64)
    codes = (bits.reshape(count, channels, elem_bits).astype(np.int64) * weights).sum(axis=2)
    if signed:
        codes -= ((codes >> (elem_bits - 1)) & 1) << elem_bits
    if len(shape) == 1:
        return codes[0]
    return codes.T.reshape(shape)
