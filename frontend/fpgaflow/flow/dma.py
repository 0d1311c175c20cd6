"""How frames of integer codes travel in the DMA words of the generated top's AXI4-Stream ports.

One packing, used by the network test bench, by `fpgaflow verify` and by the PYNQ driver,
described in docs/build.md: a frame is a sequence of pixels in raster order (a vector of N
codes is one pixel of N channels); a pixel's channel codes are packed low channel in the
low bits (two's complement for signed codes) and that pixel is cut into
ceil(C * W / DMA width) words, lowest bits first, the unused high bits of its last word
zero. TLAST marks the last word of a frame.

The bit work is fpgaflow.deploy.pynq_driver.packing (numpy only, shipped in the driver);
this module only turns its bytes into the integer words the test bench sends.
"""

from __future__ import annotations

import numpy as np

from fpgaflow.deploy.pynq_driver.packing import pack_frame_bytes, unpack_frame_bytes, words_per_pixel

__all__ = ["frame_words", "pack_frame", "unpack_frame", "words_per_pixel"]


def frame_words(shape: tuple[int, ...], elem_bits: int, dma_width: int) -> int:
    """DMA words of one frame of the given per-sample shape, (C, H, W) or (N,) (one pixel of N channels)."""
    pixels = 1 if len(shape) == 1 else int(np.prod(shape[1:]))
    return pixels * words_per_pixel(shape[0], elem_bits, dma_width)


def pack_frame(frame: np.ndarray, elem_bits: int, dma_width: int) -> list[int]:
    """One frame of codes, (C, H, W) or (N,), as its DMA words."""
    data = pack_frame_bytes(frame, elem_bits, dma_width).tobytes()
    step = dma_width // 8
    return [int.from_bytes(data[i : i + step], "little") for i in range(0, len(data), step)]


def unpack_frame(words: list[int], shape: tuple[int, ...], elem_bits: int, signed: bool, dma_width: int) -> np.ndarray:
    """The inverse of pack_frame: DMA words back to a frame of codes of the given shape."""
    step = dma_width // 8
    data = b"".join(int(word).to_bytes(step, "little") for word in words)
    return unpack_frame_bytes(np.frombuffer(data, dtype=np.uint8), shape, elem_bits, signed, dma_width)
