"""cocotb bench of a generated network top: frames in through the DMA-width slave, codes out.

The pytest side (fpgaflow.rtlgen.verify) writes `case.json` into FPGAFLOW_TB_DIR: the
input frames as DMA words (hex), the number of output words per frame, and the taps,
one per layer: the streams into and out of that layer's stage inside the top. Two tests:

- frames_with_pauses: random idle cycles on the input, random back-pressure on the
  output; records every output word and every beat on every tap's output stream, so a
  mismatch can be traced to the first layer that differs (writes `run.json`).
- frames_full_rate: no pauses; counts per layer the cycles its engine works: neither
  starved (input ready, nothing offered) nor blocked (output offered, not taken). The tap's
  input stream is the engine's own input (the windows of a conv), so this is the stage's
  compute time whichever stage is the bottleneck. Also records the cycles of the last
  words of the frames (writes `timing.json`).

It only records; the comparison with the reference happens in Python, where the codes
and their formats are known.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge
from cocotbext.axi import AxiStreamFrame

from fpgaflow.share.sim.axis_tb import TB_DIR_ENV, load_case, start


def _pauses(rng: random.Random, probability: float):
    while True:
        yield rng.random() < probability


def _handle(dut: Any, stream: str, signal: str) -> Any:
    return getattr(dut, f"{stream}_{signal}")


async def _record_taps(dut: Any, taps: list[dict[str, Any]], beats: dict[str, list[str]], stop: list[bool]) -> None:
    """Every handshake on every tap's output stream, as hex words."""
    handles = [(tap["layer"], _handle(dut, tap["out"], "tdata"), _handle(dut, tap["out"], "tvalid"), _handle(dut, tap["out"], "tready")) for tap in taps]
    while not stop[0]:
        await RisingEdge(dut.clk)
        await ReadOnly()
        for layer, data, valid, ready in handles:
            if valid.value == 1 and ready.value == 1:
                beats[layer].append(format(int(data.value), "x"))


async def _count_busy(dut: Any, taps: list[dict[str, Any]], busy: dict[str, int], last_times: list[int], stop: list[bool]) -> None:
    """Per layer: cycles its engine works, i.e. neither waits for input (ready, no valid) nor is blocked at its output."""
    probes = [
        (
            tap["layer"],
            _handle(dut, tap["in"], "tvalid"),
            _handle(dut, tap["in"], "tready"),
            _handle(dut, tap["out"], "tvalid"),
            _handle(dut, tap["out"], "tready"),
        )
        for tap in taps
    ]
    cycle = 0
    while not stop[0]:
        await RisingEdge(dut.clk)
        await ReadOnly()
        cycle += 1
        if dut.rst_n.value == 0:
            continue
        for layer, in_valid, in_ready, out_valid, out_ready in probes:
            starved = in_ready.value == 1 and in_valid.value == 0
            blocked = out_valid.value == 1 and out_ready.value == 0
            if not starved and not blocked:
                busy[layer] += 1
        if dut.m_axis_tvalid.value == 1 and dut.m_axis_tready.value == 1 and dut.m_axis_tlast.value == 1:
            last_times.append(cycle)


async def _stream(dut: Any, case: dict[str, Any], paused: bool) -> list[list[str]]:
    source, sink = await start(dut)
    if paused:
        rng = random.Random(case["seed"])
        source.set_pause_generator(_pauses(rng, case["src_pause"]))
        sink.set_pause_generator(_pauses(rng, case["sink_pause"]))
    for frame in case["frames_in"]:
        await source.send(AxiStreamFrame([int(word, 16) for word in frame]))
    outputs = []
    for _ in case["frames_in"]:
        got = await sink.recv(compact=False)
        outputs.append([format(int(word), "x") for word in got.tdata])
    return outputs


def _write(name: str, data: dict[str, Any]) -> None:
    (Path(os.environ[TB_DIR_ENV]) / name).write_text(json.dumps(data, sort_keys=True))


@cocotb.test()
async def frames_with_pauses(dut) -> None:
    """Idle cycles in, back-pressure out: record output words and every layer's output beats."""
    case = load_case()
    beats: dict[str, list[str]] = {tap["layer"]: [] for tap in case["taps"]}
    stop = [False]
    cocotb.start_soon(_record_taps(dut, case["taps"], beats, stop))
    outputs = await _stream(dut, case, paused=True)
    stop[0] = True
    await RisingEdge(dut.clk)
    _write("run.json", {"outputs": outputs, "taps": beats})


@cocotb.test()
async def frames_full_rate(dut) -> None:
    """No pauses: per-layer busy cycles and the frame interval at the output."""
    case = load_case()
    busy = {tap["layer"]: 0 for tap in case["taps"]}
    last_times: list[int] = []
    stop = [False]
    cocotb.start_soon(_count_busy(dut, case["taps"], busy, last_times, stop))
    outputs = await _stream(dut, case, paused=False)
    stop[0] = True
    await RisingEdge(dut.clk)
    _write("timing.json", {"busy": busy, "last_word_cycles": last_times, "outputs": outputs})
