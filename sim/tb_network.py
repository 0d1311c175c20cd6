"""cocotb bench of a generated network top: frames in through the DMA-width slave, codes out.

The pytest side (fpgaflow.backends.rtl.verify) writes `case.json` into FPGAFLOW_TB_DIR: the
input frames as DMA words (hex), the number of output words per frame, and the taps,
one per layer: the stream out of that layer's stage inside the top and, for timed
stages, the path of its work signal. Two tests:

- frames_with_pauses: random idle cycles on the input, random back-pressure on the
  output; records every output word and every beat on every tap's output stream, so a
  mismatch can be traced to the first layer that differs (writes `run.json`).
- frames_full_rate: no pauses; counts per layer the cycles in which the tap's work signal
  (a signal inside the layer's engine that is high exactly when it does a step of work,
  e.g. sparse_conv_engine consuming a ROM word) is high: the stage's own compute time,
  whichever stage is the bottleneck and however the others stall it; and per layer the
  cycles its output stream holds a beat the next stage does not take (valid, not ready):
  where a stage stands still because of the one behind it. Also records the cycles of the
  frames' last output words (writes `timing.json`).

Each test gets `cycle_budget` cycles (from the cycle model, fpgaflow.backends.rtl.verify) to
deliver every output frame. When they run out the pipeline has stopped moving: the test
writes `stall_<test>.json` (the cycle, the output frames received, every tap's output beat
count and whether its last beat was held by the next stage) and fails, so a deadlock
ends in seconds instead of spinning forever.

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
from cocotb.triggers import ReadOnly, RisingEdge, with_timeout
from cocotb.triggers import SimTimeoutError
from cocotbext.axi import AxiStreamFrame

from fpgaflow.share.sim.axis_tb import CLOCK_PERIOD_NS, TB_DIR_ENV, load_case, start


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


def _signal(dut: Any, path: str) -> Any:
    """A signal inside the top by its dotted instance path, e.g. "u_conv1_engine.consume"."""
    handle = dut
    for part in path.split("."):
        handle = getattr(handle, part)
    return handle


async def _count_work(dut: Any, taps: list[dict[str, Any]], work: dict[str, int], blocked: dict[str, int],
                      last_times: list[int], stop: list[bool]) -> None:
    """Per layer: cycles its engine's work signal is high, and cycles its output waits for the next stage."""
    probes = [(tap["layer"], _signal(dut, tap["work"])) for tap in taps if tap.get("work")]
    outputs = [(tap["layer"], _handle(dut, tap["out"], "tvalid"), _handle(dut, tap["out"], "tready")) for tap in taps]
    cycle = 0
    while not stop[0]:
        await RisingEdge(dut.clk)
        await ReadOnly()
        cycle += 1
        for layer, signal in probes:
            if signal.value == 1:
                work[layer] += 1
        for layer, valid, ready in outputs:
            if valid.value == 1 and ready.value == 0:
                blocked[layer] += 1
        if dut.m_axis_tvalid.value == 1 and dut.m_axis_tready.value == 1 and dut.m_axis_tlast.value == 1:
            last_times.append(cycle)


async def _count_beats(dut: Any, taps: list[dict[str, Any]], beats: dict[str, int], stop: list[bool]) -> None:
    """Every tap's output handshakes, counted (what a stall report needs)."""
    handles = [(tap["layer"], _handle(dut, tap["out"], "tvalid"), _handle(dut, tap["out"], "tready")) for tap in taps]
    while not stop[0]:
        await RisingEdge(dut.clk)
        await ReadOnly()
        for layer, valid, ready in handles:
            if valid.value == 1 and ready.value == 1:
                beats[layer] += 1


async def _frames(dut: Any, case: dict[str, Any], paused: bool, outputs: list[list[str]]) -> None:
    source, sink = await start(dut)
    if paused:
        rng = random.Random(case["seed"])
        source.set_pause_generator(_pauses(rng, case["src_pause"]))
        sink.set_pause_generator(_pauses(rng, case["sink_pause"]))
    for frame in case["frames_in"]:
        await source.send(AxiStreamFrame([int(word, 16) for word in frame]))
    for _ in case["frames_in"]:
        got = await sink.recv(compact=False)
        outputs.append([format(int(word), "x") for word in got.tdata])


async def _stream(dut: Any, case: dict[str, Any], paused: bool, name: str, beats: dict[str, int]) -> list[list[str]]:
    """Send every frame and receive every output frame within the cycle budget, else report the stall and fail."""
    outputs: list[list[str]] = []
    budget = int(case["cycle_budget"])
    try:
        await with_timeout(_frames(dut, case, paused, outputs), budget * CLOCK_PERIOD_NS, "ns")
    except SimTimeoutError:
        held = {tap["layer"]: bool(_handle(dut, tap["out"], "tvalid").value == 1 and _handle(dut, tap["out"], "tready").value == 0)
                for tap in case["taps"]}
        _write(f"stall_{name}.json", {"cycles": budget, "frames_out": len(outputs), "beats": beats, "held": held})
        raise AssertionError(f"no progress within the cycle budget of {budget} cycles") from None
    return outputs


def _write(name: str, data: dict[str, Any]) -> None:
    (Path(os.environ[TB_DIR_ENV]) / name).write_text(json.dumps(data, sort_keys=True))


@cocotb.test()
async def frames_with_pauses(dut) -> None:
    """Idle cycles in, back-pressure out: record output words and every layer's output beats."""
    case = load_case()
    beats: dict[str, list[str]] = {tap["layer"]: [] for tap in case["taps"]}
    counts = {tap["layer"]: 0 for tap in case["taps"]}
    stop = [False]
    cocotb.start_soon(_record_taps(dut, case["taps"], beats, stop))
    cocotb.start_soon(_count_beats(dut, case["taps"], counts, stop))
    try:
        outputs = await _stream(dut, case, True, "frames_with_pauses", counts)
    finally:
        stop[0] = True
    await RisingEdge(dut.clk)
    _write("run.json", {"outputs": outputs, "taps": beats})


@cocotb.test()
async def frames_full_rate(dut) -> None:
    """No pauses: per-layer busy and blocked cycles and the frame interval at the output."""
    case = load_case()
    busy = {tap["layer"]: 0 for tap in case["taps"] if tap.get("work")}
    blocked = {tap["layer"]: 0 for tap in case["taps"]}
    last_times: list[int] = []
    counts = {tap["layer"]: 0 for tap in case["taps"]}
    stop = [False]
    cocotb.start_soon(_count_work(dut, case["taps"], busy, blocked, last_times, stop))
    cocotb.start_soon(_count_beats(dut, case["taps"], counts, stop))
    try:
        outputs = await _stream(dut, case, False, "frames_full_rate", counts)
    finally:
        stop[0] = True
    await RisingEdge(dut.clk)
    _write("timing.json", {"busy": busy, "blocked": blocked, "last_word_cycles": last_times, "outputs": outputs})
