"""The accelerator on the board: quantize, pack, DMA each frame through the overlay, unpack.

Needs numpy and, on the board, pynq. Everything it must know about the design (the
formats, shapes and packing widths, the DMA's name in the overlay) is read from
config.json beside this file, written by `fpgaflow build`; nothing is recomputed here.
The overlay and the buffer allocator can be passed in, so the same class runs against a
simulation of the generated top (the fpgaflow test suite does exactly that).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .packing import code_limits, frame_bytes, pack_frame_bytes, quantize_codes, real_values, unpack_frame_bytes

HERE = Path(__file__).resolve().parent
CONFIG_FILE = "config.json"

MM2S_DMASR, S2MM_DMASR, S2MM_LENGTH = 0x04, 0x34, 0x58
"""AXI DMA register offsets (Xilinx PG021, register map, direct register mode)."""
STATUS_BITS = {
    0: "Halted (the channel is stopped: reset, or stopped after an error)",
    1: "Idle",
    4: "DMAIntErr (internal error: e.g. a buffer length of 0, or a received packet longer than the buffer)",
    5: "DMASlvErr (the memory answered the DMA with a slave error)",
    6: "DMADecErr (the buffer address decodes to no memory)",
    12: "IOC_Irq (transfer complete)",
    14: "Err_Irq (an error occurred)",
}
"""Bits of MM2S_DMASR / S2MM_DMASR (PG021) and what they mean."""


class DeviceError(RuntimeError):
    """The DMA did not complete a frame as expected; the message says what the status register shows."""


def explain_status(channel: str, status: int) -> str:
    """The set bits of a DMA status register in words, and what they usually mean for this design."""
    names = [text for bit, text in sorted(STATUS_BITS.items()) if status >> bit & 1]
    meaning = ", ".join(names) if names else "no bit set (running, no error)"
    hint = ""
    if channel == "S2MM" and not status & 0x71:
        hint = (" The receive channel is still running: the accelerator has not sent a word with TLAST "
                "(it needs a whole input frame first, is stalled, or its clock/reset is not running).")
    elif channel == "MM2S" and not status & 0x71:
        hint = " The send channel is still running: the accelerator does not take input (s_axis_tready low)."
    elif status & 0x70:
        hint = " Reload the overlay (create the Accelerator again) to reset the DMA before the next call."
    return f"{channel} status {status:#010x}: {meaning}.{hint}"


def load_config(folder: Path = HERE) -> dict[str, Any]:
    """The design description `fpgaflow build` wrote beside the driver."""
    return json.loads((folder / CONFIG_FILE).read_text())


class Accelerator:
    """One generated accelerator in a PYNQ overlay: `predict(x)` on floats, `predict_codes(q)` on integer codes.

    The two DMA buffers are allocated once and reused by every call. Each frame is one
    send and one receive; the receive completes on the accelerator's TLAST. A frame that
    does not complete within `timeout_s` raises DeviceError with the DMA's status explained.
    """

    def __init__(
        self,
        bitstream: str | Path | None = None,
        *,
        overlay: Any = None,
        allocate: Callable[..., np.ndarray] | None = None,
        timeout_s: float | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.config = load_config() if config is None else config
        if overlay is None:
            import pynq  # only on the board; tests pass an overlay and an allocator

            overlay = pynq.Overlay(str(bitstream if bitstream is not None else HERE / self.config["bitstream"]))
            allocate = pynq.allocate
        if allocate is None:
            raise ValueError("pass `allocate` together with `overlay`")
        self.overlay = overlay
        self.dma = getattr(overlay, self.config["dma"])
        self.timeout_s = float(self.config["timeout_s"] if timeout_s is None else timeout_s)
        width = int(self.config["dma_width"])
        self._in_bytes = frame_bytes(tuple(self.config["input"]["shape"]), self.config["input"]["width"], width)
        self._out_bytes = frame_bytes(tuple(self.config["output"]["shape"]), self.config["output"]["width"], width)
        self._send = allocate(shape=(self._in_bytes,), dtype=np.uint8)
        self._receive = allocate(shape=(self._out_bytes,), dtype=np.uint8)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.config["input"]["shape"])

    @property
    def output_shape(self) -> tuple[int, ...]:
        return tuple(self.config["output"]["shape"])

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Float inputs (N, *input shape) to the input format's codes, exactly as the reference does."""
        fmt = self.config["input"]
        return quantize_codes(self._batch(x, "inputs"), fmt["signed"], fmt["width"], fmt["frac"])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Real-valued outputs (N, *output shape) for float inputs (N, *input shape)."""
        return real_values(self.predict_codes(self.quantize(x)), self.config["output"]["frac"])

    def predict_codes(self, codes: np.ndarray) -> np.ndarray:
        """Output codes (N, *output shape) for input codes (N, *input shape), one DMA frame each."""
        codes = self._batch(codes, "input codes")
        fmt_in, fmt_out, width = self.config["input"], self.config["output"], int(self.config["dma_width"])
        low, high = code_limits(fmt_in["signed"], fmt_in["width"])
        if codes.size and (codes.min() < low or codes.max() > high):
            raise ValueError(f"input codes must lie in {low}..{high} (the input format); use predict() for floats")
        outputs = np.empty((len(codes), *self.output_shape), dtype=np.int64)
        for index, frame in enumerate(codes):
            self._send[:] = pack_frame_bytes(frame, fmt_in["width"], width)
            _sync(self._send, "flush")
            self.dma.recvchannel.transfer(self._receive)
            self.dma.sendchannel.transfer(self._send)
            self._wait(self.dma.sendchannel, "MM2S", MM2S_DMASR, index)
            self._wait(self.dma.recvchannel, "S2MM", S2MM_DMASR, index)
            received = int(self.dma.read(S2MM_LENGTH))
            if received != self._out_bytes:
                raise DeviceError(
                    f"frame {index}: the accelerator sent {received} bytes before TLAST, the design's output frame "
                    f"is {self._out_bytes}; the bitstream and this driver's config.json come from different builds"
                )
            _sync(self._receive, "invalidate")
            outputs[index] = unpack_frame_bytes(np.asarray(self._receive), self.output_shape, fmt_out["width"], fmt_out["signed"], width)
        return outputs

    def _batch(self, x: np.ndarray, what: str) -> np.ndarray:
        x = np.asarray(x)
        if x.shape[1:] != self.input_shape:
            raise ValueError(f"{what} have shape {x.shape}; expected (N, {', '.join(map(str, self.input_shape))})")
        return x

    def _wait(self, channel: Any, name: str, status_offset: int, frame: int) -> None:
        """Poll until the channel is idle; past the deadline raise with the status register explained."""
        deadline = time.monotonic() + self.timeout_s
        while not channel.idle:
            if time.monotonic() > deadline:
                status = int(self.dma.read(status_offset))
                raise DeviceError(f"frame {frame}: DMA {name} did not finish within {self.timeout_s} s. {explain_status(name, status)}")


def _sync(buffer: Any, method: str) -> None:
    """Flush or invalidate a cacheable pynq buffer (a plain numpy array has nothing to sync)."""
    action = getattr(buffer, method, None)
    if callable(action):
        action()
