"""The word-length search: per-layer weight and activation widths within an accuracy tolerance, at the least hardware cost.

Greedy descent, one bit at a time. Every width starts at `bits` (one width the whole
network accepts: the search refuses to start when even that loses more than the
tolerance). At each step every width still free is tried one bit narrower: the network
is re-quantized (formats from the same calibration ranges, fpgaflow.quant.quantize) and
run through the bit-accurate reference (integer numpy, fpgaflow.reference.fixed_exec) on
the held-out data. A trial whose accuracy falls more than `tolerance` percentage points
below the float model's freezes that width (narrower would only lose more); among the
others the step takes the one with the largest hardware saving per point of accuracy lost
(a loss counts at least one held-out sample, so a free saving is not infinitely better than
a cheap one; ties go to the first layer in graph order, weights before activations). A
width whose saving is zero (an activation width under the weight-bits cost) is taken only
when nothing saves, by its saving in total activation bits, so it never spends accuracy
a saving step could use. The search ends when no width can move. Deterministic: no
randomness at all, same inputs, same widths.

Why greedy: each step costs one reference run per free width (a digits search is a few
hundred runs of a second), and the widths interact (a narrower activation changes the
next layer's accumulator and its error), which a per-layer sensitivity analysis would miss.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from fpgaflow.boards import Board
from fpgaflow.errors import UserError
from fpgaflow.ir.graph import Graph
from fpgaflow.wordlength.hardware_cost import CostFn, cost_function, design_figures
from fpgaflow.quant.quantize import calibration_ranges, quantize_calibrated
from fpgaflow.quant.widths import MAX_LAYER_BITS, MIN_LAYER_BITS, REFORMATTING_LAYERS, WEIGHTED_LAYERS, LayerWidths, WidthConfig
from fpgaflow.reference.fixed_exec import quantize_input, run_fixed
from fpgaflow.reference.float_exec import run_float

ACCURACY_EPSILON = 1e-9
"""Percentage points below which two accuracies count as equal (they are float means of the same samples)."""

Knob = tuple[str, str]
"""(layer name, 'weight_bits' or 'activation_bits')."""
Progress = Callable[[int, int], None]
"""progress(trials done, trials known so far)."""


@dataclass
class WidthSearchResult:
    """What the search found; `widths` is what `build --config` reads (fpgaflow.quant.widths.widths_yaml)."""

    widths: WidthConfig
    accuracy_float: float
    accuracy_start: float
    accuracy: float
    """Fixed-point accuracy on the held-out data, in percent, at the start width and at the widths found."""
    cost_name: str
    cost_start: float
    cost: float
    weight_bits_start: int
    weight_bits: int
    """Stored weight-memory bits (the generator's count) at the start width and at the widths found."""
    trials: int
    steps: list[tuple[Knob, int, float, float]] = field(default_factory=list)
    """Each accepted step: the width, its new value, accuracy and cost after it."""

    def final_line(self) -> str:
        widths = ", ".join(f"{name} w{w.weight_bits if w.weight_bits is not None else '-'}/a{w.activation_bits}"
                           for name, w in self.widths.items())
        return (f"accuracy {self.accuracy:.2f}% (float {self.accuracy_float:.2f}%, {self.accuracy_start:.2f}% at the start width); "
                f"weight bits {self.weight_bits_start} -> {self.weight_bits}; {self.cost_name} {self.cost_start:g} -> {self.cost:g}; "
                f"widths {widths}")


def accuracy_percent(outputs: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy in percent of class scores (N, classes, ...) against integer labels."""
    scores = np.asarray(outputs).reshape(len(labels), -1)
    return float(100.0 * np.mean(scores.argmax(axis=1) == labels))


def fixed_accuracy(graph: Graph, x: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of the bit-accurate reference (what the hardware computes) in percent."""
    return accuracy_percent(run_fixed(graph, quantize_input(graph, x))[graph.hardware_outputs[0]], labels)


def _knobs(graph: Graph) -> list[Knob]:
    knobs: list[Knob] = []
    for layer in graph.layers:
        if isinstance(layer, WEIGHTED_LAYERS):
            knobs.append((layer.name, "weight_bits"))
        if isinstance(layer, REFORMATTING_LAYERS):
            knobs.append((layer.name, "activation_bits"))
    return knobs


def _config(graph: Graph, values: Mapping[Knob, int]) -> WidthConfig:
    config: WidthConfig = {}
    for layer in graph.layers:
        w, a = values.get((layer.name, "weight_bits")), values.get((layer.name, "activation_bits"))
        if w is not None or a is not None:
            config[layer.name] = LayerWidths(w, a)
    return config


def search_widths(
    graph: Graph,
    calibration: np.ndarray,
    x: np.ndarray,
    labels: np.ndarray,
    tolerance: float,
    board: Board,
    *,
    bits: int = 8,
    cost: str = "weight-bits",
    progress: Progress | None = None,
) -> WidthSearchResult:
    """Per-layer widths of the float IR `graph` whose fixed-point accuracy on (x, labels) stays within
    `tolerance` percentage points of the float model's, at the least `cost` (fpgaflow.wordlength.hardware_cost.COSTS).

    `calibration` is the batch the formats are fitted to (the file `build --calib` will get);
    (x, labels) the held-out data the accuracy is measured on; `board` fixes P per layer (the
    balanced design at the start width, held while the widths move) for the cost.
    """
    if tolerance < 0:
        raise UserError(f"--tolerance {tolerance} must be >= 0 percentage points")
    if not MIN_LAYER_BITS <= bits <= MAX_LAYER_BITS:
        raise UserError(f"the start width {bits} must be {MIN_LAYER_BITS}..{MAX_LAYER_BITS} (per-layer widths)")
    floats = calibration_ranges(graph, calibration)
    accuracy_float = accuracy_percent(run_float(graph, np.asarray(x, dtype=np.float64))[graph.outputs[0]], labels)
    floor = accuracy_float - tolerance
    knobs = _knobs(graph)
    values = {knob: bits for knob in knobs}

    def quantized(chosen: Mapping[Knob, int]) -> Graph:
        return quantize_calibrated(graph, floats, bits, _config(graph, chosen))

    start = quantized(values)
    start_figures = design_figures(start, board)
    measure: CostFn = cost_function(cost, board, start_figures.lanes)
    weight_bits: CostFn = cost_function("weight-bits", board, start_figures.lanes)
    accuracy_start = fixed_accuracy(start, x, labels)
    if accuracy_start < floor:
        raise UserError(f"at {bits} bits everywhere the fixed-point accuracy is {accuracy_start:.2f}% against "
                        f"{accuracy_float:.2f}% in float, beyond the tolerance of {tolerance:g} points; start wider (--bits)")
    current_accuracy, current_cost = accuracy_start, measure(start)
    sample = 100.0 / max(len(labels), 1)
    frozen: set[Knob] = set()
    trials = 0
    steps: list[tuple[Knob, int, float, float]] = []
    while True:
        free = [knob for knob in knobs if knob not in frozen and values[knob] > MIN_LAYER_BITS]
        best: tuple[tuple[float, float], Knob, float, float] | None = None
        for done, knob in enumerate(free):
            trial = {**values, knob: values[knob] - 1}
            trial_graph = quantized(trial)
            trial_accuracy = fixed_accuracy(trial_graph, x, labels)
            trials += 1
            if progress is not None:
                progress(trials, trials + len(free) - done - 1)
            if trial_accuracy < floor - ACCURACY_EPSILON:
                frozen.add(knob)
                continue
            trial_cost = measure(trial_graph)
            if trial_cost > current_cost:
                continue
            loss = max(current_accuracy - trial_accuracy, 0.0) + sample
            bits_saved = float(sum(values.values()) - sum(trial.values()))
            score = ((current_cost - trial_cost) / loss, bits_saved / loss)
            if best is None or score > best[0]:
                best = (score, knob, trial_accuracy, trial_cost)
        if best is None:
            break
        _, knob, current_accuracy, current_cost = best
        values[knob] -= 1
        steps.append((knob, values[knob], current_accuracy, current_cost))
    final = quantized(values)
    return WidthSearchResult(
        widths=_config(graph, values), accuracy_float=accuracy_float, accuracy_start=accuracy_start,
        accuracy=current_accuracy, cost_name=cost, cost_start=measure(start), cost=current_cost,
        weight_bits_start=int(weight_bits(start)), weight_bits=int(weight_bits(final)), trials=trials, steps=steps,
    )
