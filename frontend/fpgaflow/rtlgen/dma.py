"""How frames of integer codes travel in the DMA words of the generated top's AXI4-Stream ports.

One packing, used by the network test bench, by `fpgaflow verify` and described for host
drivers in docs/build.md: a frame is a sequence of pixels in raster order (a vector of N
codes is one pixel of N channels); a pixel's channel codes are packed low channel in the
low bits (fpgaflow.hw.streams.pack_beat, two's complement for signed codes) and that
pixel beat is cut into ceil(C * W / DMA width) words, lowest bits first, the unused high
bits of its last word zero. TLAST marks the last word of a frame.
"""

from __future__ import annotations

import numpy as np

from fpgaflow.hw.streams import pack_beat, unpack_beat


def words_per_pixel(channels: int, elem_bits: int, dma_width: int) -> int:
    """DMA words one pixel of `channels` codes occupies."""
    return -(-channels * elem_bits // dma_width)


def _pixels(frame: np.ndarray) -> np.ndarray:
    """(pixels, channels) in stream order for a (C, H, W) map or an (N,) vector."""
    frame = np.asarray(frame, dtype=np.int64)
    if frame.ndim == 1:
        return frame[None, :]
    return frame.reshape(frame.shape[0], -1).T


def pack_frame(frame: np.ndarray, elem_bits: int, dma_width: int) -> list[int]:
    """One frame of codes, (C, H, W) or (N,), as its DMA words."""
    pixels = _pixels(frame)
    count = words_per_pixel(pixels.shape[1], elem_bits, dma_width)
    mask = (1 << dma_width) - 1
    words = []
    for pixel in pixels:
        beat = pack_beat(pixel, elem_bits)
        words.extend((beat >> (i * dma_width)) & mask for i in range(count))
    return words


def unpack_frame(words: list[int], shape: tuple[int, ...], elem_bits: int, signed: bool, dma_width: int) -> np.ndarray:
    """The inverse of pack_frame: DMA words back to a frame of codes of the given shape."""
    channels = shape[0]
    pixel_count = 1 if len(shape) == 1 else int(np.prod(shape[1:]))
    count = words_per_pixel(channels, elem_bits, dma_width)
    if len(words) != pixel_count * count:
        raise ValueError(f"frame of shape {shape} needs {pixel_count * count} DMA words, got {len(words)}")
    pixels = np.empty((pixel_count, channels), dtype=np.int64)
    for index in range(pixel_count):
        beat = 0
        for i, word in enumerate(words[index * count : (index + 1) * count]):
            beat |= int(word) << (i * dma_width)
        pixels[index] = unpack_beat(beat, channels, elem_bits, signed)
    if len(shape) == 1:
        return pixels[0]
    return pixels.T.reshape(shape)
