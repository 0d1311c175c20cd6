"""Choosing the number of MAC lanes P of every compute engine.

The layers form a pipeline, so the slowest stage sets the frame interval and lanes
spent on any other stage buy nothing. The default therefore grows P only on the current
bottleneck, one step at a time, while the whole design still fits the board (the `fits`
predicate: the resource model's DSP, BRAM18, LUT and FF counts against the board's) and
the step still shortens that stage; every other layer keeps the smallest P that does not
make it the bottleneck. Lanes and memory only grow with P, so when the bottleneck's next
faster step does not fit, no larger one does: the frame rate reached is the best the
greedy finds within the board. `--parallelism N` and the per-layer `--config` file
override the choice (the report then says if it does not fit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import yaml

from fpgaflow.errors import UserError

CyclesAt = Callable[[str, int], int]
"""cycles(layer name, P) -> the layer's cycles per frame with P lanes (the cycle model)."""
Fits = Callable[[Mapping[str, int]], bool]
"""fits(P per layer) -> whether the design with those lanes fits the board."""


def balance_parallelism(max_lanes: Mapping[str, int], cycles: CyclesAt, fits: Fits) -> dict[str, int]:
    """P per layer so the slowest stage is as fast as the lane budget allows.

    max_lanes: for each compute layer the largest useful P (more lanes than the longest
    run of nonzero weights of one output channel never shortens it).
    """
    chosen = {name: 1 for name in sorted(max_lanes)}
    if not chosen:
        return chosen
    while True:
        current = {name: cycles(name, p) for name, p in chosen.items()}
        bottleneck = max(sorted(current), key=lambda name: current[name])
        step = _next_faster(bottleneck, chosen[bottleneck], max_lanes[bottleneck], cycles)
        if step is None or not fits({**chosen, bottleneck: step}):
            break
        chosen[bottleneck] = step
    target = max(cycles(name, p) for name, p in chosen.items())
    return {name: _smallest_meeting(name, target, p, cycles) for name, p in chosen.items()}


def _next_faster(name: str, p: int, limit: int, cycles: CyclesAt) -> int | None:
    """The smallest P above p (up to limit) that takes fewer cycles than p, or None."""
    now = cycles(name, p)
    for candidate in range(p + 1, limit + 1):
        if cycles(name, candidate) < now:
            return candidate
    return None


def _smallest_meeting(name: str, target: int, upper: int, cycles: CyclesAt) -> int:
    """The fewest lanes (at most upper) with which the layer stays within target cycles."""
    for candidate in range(1, upper + 1):
        if cycles(name, candidate) <= target:
            return candidate
    return upper


def read_parallelism_config(path: Path) -> dict[str, int]:
    """Per-layer P from a YAML file `layers: {name: {parallelism: N}}`; UserError on anything else.

    Read before any model work, so a typo costs no import or quantization; the names are
    checked against the model with `check_config_layers` once it is imported.
    """
    if not path.is_file():
        raise UserError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise UserError(f"config file {path} is not valid YAML ({str(error).splitlines()[0]})") from None
    layers = data.get("layers", {}) if isinstance(data, dict) else None
    if not isinstance(layers, dict):
        raise UserError(f"config file {path} must hold a mapping 'layers: {{name: {{parallelism: N}}}}'")
    result = {}
    for name, settings in layers.items():
        if not isinstance(settings, dict):
            raise UserError(f"config file {path}: layer {name} must hold a mapping of settings, e.g. {{parallelism: N}}")
        if "parallelism" in settings:  # other keys (the widths) are read by fpgaflow.quant.widths
            result[str(name)] = check_parallelism(settings["parallelism"], f"parallelism of layer {name} in {path}")
    return result


def check_config_layers(config: Mapping[str, int], path: Path, layer_names: list[str]) -> None:
    """UserError when the config names a layer that is not one of the model's compute layers."""
    unknown = sorted(set(config) - set(layer_names))
    if unknown:
        raise UserError(
            f"config file {path} names unknown layers {', '.join(unknown)}; the compute layers are {', '.join(layer_names)}"
        )


def check_parallelism(value: object, what: str) -> int:
    """A P from user input: a positive whole number."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(f"{what} must be a whole number >= 1, got {value!r}")
    return value


def resolve_parallelism(
    max_lanes: Mapping[str, int],
    cycles: CyclesAt,
    fits: Fits,
    everywhere: int | None = None,
    per_layer: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """The P of every compute layer: balanced by default, `everywhere` for all, then per-layer overrides."""
    if everywhere is not None:
        chosen = {name: check_parallelism(everywhere, "--parallelism") for name in sorted(max_lanes)}
    else:
        chosen = balance_parallelism(max_lanes, cycles, fits)
    chosen.update(per_layer or {})
    return chosen
