"""Verify a generated top in Verilator against the bit-accurate reference, frame by frame.

The DMA words of every input frame go through sim/tb_network.py; the output words come
back, are unpacked with the same packing (fpgaflow.flow.dma) and compared with
run_fixed's output codes as integers. The bench also records each layer's output stream,
so a mismatch names the first layer, frame, position and channel where the hardware and
the reference part, and it counts each layer's busy cycles at full rate, the measured
cycles per frame the report puts beside the cycle model.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.fixed import FixedType
from fpgaflow.hw.simulate import run_cocotb
from fpgaflow.hw.streams import pack_beat
from fpgaflow.ir.graph import Graph
from fpgaflow.reference.fixed_exec import Saturation, run_fixed_counted
from fpgaflow.backends.rtl.netlist import Tap
from fpgaflow.flow.dma import pack_frame, unpack_frame

BENCH = "tb_network"
CLOCK_PERIOD_NS = 10
"""The bench's clock (sim/axis_tb.py starts a 10 ns clock)."""
BUDGET_FACTOR = 4
"""Safety factor of the cycle budget over the cycle model (the paused run idles 30 % of the
cycles at each end; the model is within a few per cent of the measured rate)."""
BUDGET_SLACK = 1000
"""Cycles the budget adds for the reset and the bench's start."""


@dataclass
class VerifyResult:
    """Outcome of one verification run."""

    frames: int
    mismatches: int
    rtl_codes: np.ndarray
    expected_codes: np.ndarray
    cycles_per_frame: dict[str, float]
    blocked_per_frame: dict[str, float]
    """Per layer, cycles per frame its output beat waited for the next stage (full rate)."""
    frame_interval: float
    simulated_cycles: int
    """Clock cycles simulated in both bench runs."""
    simulation_seconds: float
    """Wall time the simulator spent on them (the Verilator build excluded)."""
    first_mismatch: str = ""
    saturation: Saturation = field(default_factory=lambda: Saturation(0, {}))
    """Values the reference saturated on these inputs (beyond the calibrated ranges)."""
    details: dict[str, Any] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        """The `verify` object of report.json."""
        return {
            "frames": self.frames,
            "mismatches": self.mismatches,
            "first_mismatch": self.first_mismatch,
            "cycles_per_frame": self.cycles_per_frame,
            "blocked_per_frame": self.blocked_per_frame,
            "frame_interval_measured": self.frame_interval,
            "saturated": self.saturation.to_dict(),
        }


def _format(graph: Graph, tensor: str) -> FixedType:
    ftype = graph.tensors[tensor].ftype
    if ftype is None:
        raise ValueError(f"tensor {tensor!r} has no format")
    return ftype


def expected_layer_beats(codes: np.ndarray, ftype: FixedType) -> list[int]:
    """A layer's output tensor (N, *shape) as the pixel beats its stream carries, frame after frame."""
    beats = []
    for frame in codes:
        pixels = frame[None, :] if frame.ndim == 1 else frame.reshape(frame.shape[0], -1).T
        beats.extend(pack_beat(pixel, ftype.width) for pixel in pixels)
    return beats


def locate_first_difference(graph: Graph, taps: list[Tap], recorded: dict[str, list[str]], reference: dict[str, np.ndarray]) -> str:
    """Name the first layer (in execution order) whose output stream differs from the reference."""
    for tap in taps:
        ftype = _format(graph, tap.tensor)
        want = expected_layer_beats(reference[tap.tensor], ftype)
        got = [int(word, 16) for word in recorded.get(tap.layer, [])]
        shape = graph.tensors[tap.tensor].shape
        per_frame = 1 if len(shape) == 1 else int(np.prod(shape[1:]))
        width = shape[1:] if len(shape) == 3 else (1, 1)
        for index, (g, w) in enumerate(zip(got, want)):
            if g != w:
                frame, position = divmod(index, per_frame)
                row, col = divmod(position, width[1])
                channels = shape[0]
                mask = (1 << ftype.width) - 1
                channel = next(c for c in range(channels) if ((g ^ w) >> (c * ftype.width)) & mask)
                return (
                    f"layer {tap.layer}: frame {frame}, position (row {row}, col {col}), channel {channel}: "
                    f"rtl code bits {(g >> (channel * ftype.width)) & mask:#x}, reference {(w >> (channel * ftype.width)) & mask:#x}"
                )
        if len(got) < len(want):
            return f"layer {tap.layer}: produced {len(got)} of {len(want)} beats"
    return "the layers' streams match the reference; the output width conversion differs"


def cycle_budget(frames: int, frame_interval: int, latency: int, words_per_frame: int) -> int:
    """Cycles a bench run may take before it counts as stalled: the modelled pipeline fill plus
    `frames` modelled frame intervals (at least one cycle per DMA word), times BUDGET_FACTOR."""
    return BUDGET_FACTOR * (latency + frames * max(frame_interval, words_per_frame)) + BUDGET_SLACK


def describe_stall(graph: Graph, taps: list[Tap], stall: dict[str, Any], frames: int) -> str:
    """One line: when the pipeline stopped, and the first stage (in execution order) whose output fell short."""
    short = []
    for tap in taps:
        shape = graph.tensors[tap.tensor].shape
        want = frames * (1 if len(shape) == 1 else int(np.prod(shape[1:])))
        got = int(stall["beats"].get(tap.layer, 0))
        if got < want:
            state = "its output held by the next stage" if stall["held"].get(tap.layer) else "waiting for input"
            short.append(f"{tap.layer} {got} of {want} output beats, {state}")
    first = short[0] if short else "every stage delivered; the output converter"
    rest = f"; then {', '.join(s.split(' ', 1)[0] for s in short[1:])}" if len(short) > 1 else ""
    return (f"the simulated pipeline stopped moving: {stall['frames_out']} of {frames} output frames after "
            f"{stall['cycles']} cycles (the budget from the cycle model); first stage short of its output: "
            f"{first}{rest}. This is a bug in the generated top; report it with the model")


def simulation_time(results_xml: Path) -> tuple[float, float]:
    """Simulated nanoseconds and simulator wall seconds of every test in a cocotb results file."""
    simulated, wall = 0.0, 0.0
    for case in ElementTree.parse(results_xml).iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        if properties.get("sim_time_unit") != "ns":
            raise RuntimeError(f"{results_xml}: simulation time in {properties.get('sim_time_unit')!r}, expected ns")
        simulated += float(properties.get("sim_time_duration", 0.0))
        wall += float(case.get("time", 0.0))
    return simulated, wall


def run_verification(
    graph: Graph,
    top: str,
    sources: list[Path],
    taps: list[Tap],
    dma_width: int,
    input_codes: np.ndarray,
    work_dir: Path,
    budget: int,
    seed: int = 1,
    input_saturated: int = 0,
) -> VerifyResult:
    """Simulate the top on input_codes (N, *input shape) and compare with run_fixed, bit for bit.

    input_saturated: how many float inputs saturated when they became input_codes (reported
    with the layers' counts).

    Each bench run gets `budget` cycles (cycle_budget); a run that does not finish in them
    raises a UserError naming the first stage whose output stopped short.
    """
    if input_codes.shape[0] < 1:
        raise UserError("--verify needs at least one frame")
    in_tensor, out_tensor = graph.inputs[0], graph.hardware_outputs[0]
    in_type, out_type = _format(graph, in_tensor), _format(graph, out_tensor)
    counted = run_fixed_counted(graph, input_codes)
    reference = counted.tensors
    expected = reference[out_tensor]
    case = {
        "frames_in": [[format(w, "x") for w in pack_frame(frame, in_type.width, dma_width)] for frame in input_codes],
        "taps": [tap.to_dict() for tap in taps],
        "seed": seed,
        "cycle_budget": budget,
        "src_pause": 0.3,
        "sink_pause": 0.3,
    }
    case_dir = work_dir / "run"
    case_dir.mkdir(parents=True, exist_ok=True)
    (case_dir / "case.json").write_text(json.dumps(case, sort_keys=True))
    for folder in sorted({source.parent for source in sources}):
        for memory in sorted(folder.glob("*.mem")):
            shutil.copy(memory, case_dir / memory.name)  # $readmemh opens names relative to the simulator's folder
    for stale in case_dir.glob("stall_*.json"):
        stale.unlink()
    result = run_cocotb(top, sources, BENCH, {}, work_dir / "sim_build", case_dir)
    for test in ("frames_with_pauses", "frames_full_rate"):
        stall = case_dir / f"stall_{test}.json"
        if stall.exists():
            raise UserError(describe_stall(graph, taps, json.loads(stall.read_text()), len(input_codes)))
    if result.tests != 2:
        raise RuntimeError(f"the network bench ran {result.tests} of 2 tests; see {case_dir / 'sim.log'}")
    run = json.loads((case_dir / "run.json").read_text()) if (case_dir / "run.json").exists() else {"outputs": [], "taps": {}}
    timing = json.loads((case_dir / "timing.json").read_text()) if (case_dir / "timing.json").exists() else {"busy": {}, "last_word_cycles": []}
    shape = graph.tensors[out_tensor].shape
    rtl = np.zeros_like(expected)
    bad = np.zeros(len(input_codes), dtype=bool)
    for outputs in (timing.get("outputs", []), run["outputs"]):
        bad[len(outputs):] = True
        for index, words in enumerate(outputs):
            try:
                rtl[index] = unpack_frame([int(w, 16) for w in words], shape, out_type.width, out_type.signed, dma_width)
            except ValueError:
                bad[index] = True
                continue
            bad[index] |= not np.array_equal(rtl[index], expected[index])
    mismatches = int(bad.sum())
    first = locate_first_difference(graph, taps, run["taps"], reference) if mismatches or result.failed else ""
    sim_ns, sim_seconds = simulation_time(result.results_xml)
    frames = len(input_codes)
    last = timing["last_word_cycles"]
    interval = (last[-1] - last[0]) / (len(last) - 1) if len(last) > 1 else float(last[0] if last else 0)
    return VerifyResult(
        frames=frames,
        mismatches=mismatches,
        rtl_codes=rtl,
        expected_codes=expected,
        cycles_per_frame={layer: busy / frames for layer, busy in sorted(timing["busy"].items())},
        blocked_per_frame={layer: cycles / frames for layer, cycles in sorted(timing.get("blocked", {}).items())},
        frame_interval=interval,
        simulated_cycles=round(sim_ns / CLOCK_PERIOD_NS),
        simulation_seconds=sim_seconds,
        first_mismatch=first,
        saturation=Saturation(input_saturated, counted.saturated),
    )
