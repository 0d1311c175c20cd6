"""cocotb bench that runs the generated PYNQ driver against the Verilator simulation of the top.

The driver's overlay is replaced by a test double of the AXI DMA whose two channels are
served by the bench: MM2S sends the transferred buffer's bytes as one AXI4-Stream frame
(TLAST on its last word), S2MM completes when the top's output frame (its TLAST) has
arrived and copies it into the receive buffer, like a DMA in direct register mode; the
status and length registers the driver reads are modelled too. The driver itself runs
unchanged in a cocotb bridge thread, so `predict` is exercised exactly as on the board.

case.json (in FPGAFLOW_TB_DIR): driver_dir (folder holding the driver package), package,
dma_width, inputs (an .npy of float inputs), seed, sink_pause. The bench writes
driver_outputs.npz: the outputs of two successive predict calls (the second on the inputs
in reverse order), of predict_codes, and the exit code of the driver's --selftest.
"""

from __future__ import annotations

import importlib
import io
import os
import random
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import cocotb
import numpy as np
from cocotb.task import bridge, resume
from cocotb.triggers import ClockCycles
from cocotbext.axi import AxiStreamFrame

from fpgaflow.share.sim.axis_tb import TB_DIR_ENV, load_case, start

POLL_CYCLES = 8
"""Clock cycles the simulation advances each time the driver polls a channel's idle flag."""


class _SendChannel:
    """MM2S: a transfer sends the buffer as one frame of DMA words."""

    def __init__(self, dut: Any, source: Any, word_bytes: int) -> None:
        self.dut, self.source, self.word_bytes = dut, source, word_bytes
        self.status = 0x1  # halted until the first transfer, as after reset

    def transfer(self, buffer: np.ndarray) -> None:
        data = np.asarray(buffer, dtype=np.uint8).tobytes()
        words = [int.from_bytes(data[i : i + self.word_bytes], "little") for i in range(0, len(data), self.word_bytes)]
        resume(self._send)(words)
        self.status = 0x0

    async def _send(self, words: list[int]) -> None:
        await self.source.send(AxiStreamFrame(words))

    async def _step(self) -> bool:
        await ClockCycles(self.dut.clk, POLL_CYCLES)
        return self.source.empty() and self.source.idle()

    @property
    def idle(self) -> bool:
        done = resume(self._step)()
        if done:
            self.status = 0x1002  # idle, transfer complete
        return done


class _ReceiveChannel:
    """S2MM: completes on the frame's TLAST; a frame longer than the buffer is an internal error."""

    def __init__(self, dut: Any, sink: Any, word_bytes: int) -> None:
        self.dut, self.sink, self.word_bytes = dut, sink, word_bytes
        self.buffer: np.ndarray | None = None
        self.status, self.length = 0x1, 0

    def transfer(self, buffer: np.ndarray) -> None:
        self.buffer, self.status, self.length = buffer, 0x0, 0

    async def _step(self) -> None:
        await ClockCycles(self.dut.clk, POLL_CYCLES)

    @property
    def idle(self) -> bool:
        resume(self._step)()
        if self.buffer is None or self.status & 0x70:
            return self.buffer is None
        if self.sink.empty():
            return False
        frame = self.sink.recv_nowait(compact=False)
        data = b"".join(int(word).to_bytes(self.word_bytes, "little") for word in frame.tdata)
        if len(data) > self.buffer.size:
            self.status = 0x4011  # halted, DMAIntErr, Err_Irq: the packet overran the buffer
            return False
        self.buffer[: len(data)] = np.frombuffer(data, dtype=np.uint8)
        self.length, self.status, self.buffer = len(data), 0x1002, None
        return True


class SimulatedDma:
    """The attributes of pynq's AxiDMA the driver uses: sendchannel, recvchannel, read(offset)."""

    def __init__(self, dut: Any, source: Any, sink: Any, dma_width: int) -> None:
        self.sendchannel = _SendChannel(dut, source, dma_width // 8)
        self.recvchannel = _ReceiveChannel(dut, sink, dma_width // 8)

    def read(self, offset: int) -> int:
        registers = {0x04: self.sendchannel.status, 0x34: self.recvchannel.status, 0x58: self.recvchannel.length}
        return registers[offset]


class SimulatedOverlay:
    def __init__(self, dma_name: str, dma: SimulatedDma) -> None:
        setattr(self, dma_name, dma)


def _allocate(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def _pauses(rng: random.Random, probability: float):
    while True:
        yield rng.random() < probability


@cocotb.test()
async def driver_predicts(dut) -> None:
    """Two predict calls, predict_codes and the selftest, all through the simulated DMA."""
    case = load_case()
    source, sink = await start(dut)
    sink.set_pause_generator(_pauses(random.Random(case["seed"]), case["sink_pause"]))
    sys.path.insert(0, case["driver_dir"])
    driver = importlib.import_module(case["package"])
    selftest_module = importlib.import_module(f"{case['package']}.__main__")
    dma = SimulatedDma(dut, source, sink, case["dma_width"])
    accelerator = driver.Accelerator(overlay=SimulatedOverlay(driver.load_config()["dma"], dma), allocate=_allocate, timeout_s=600.0)
    x = np.load(case["inputs"])

    def session() -> dict[str, Any]:
        printed = io.StringIO()
        with redirect_stdout(printed):
            code = selftest_module.selftest(accelerator)
        return {
            "first": accelerator.predict(x),
            "second": accelerator.predict(x[::-1]),
            "codes": accelerator.predict_codes(accelerator.quantize(x)),
            "selftest": np.array(code),
            "selftest_text": np.array(printed.getvalue()),
        }

    results = await bridge(session)()
    np.savez(Path(os.environ[TB_DIR_ENV]) / "driver_outputs.npz", **results)
