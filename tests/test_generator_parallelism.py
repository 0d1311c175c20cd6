"""P selection: the bottleneck gets lanes within the budget, others the fewest that keep up; overrides."""

import pytest

from fpgaflow.errors import UserError
from fpgaflow.flow.parallelism import (
    balance_parallelism,
    check_config_layers,
    read_parallelism_config,
    resolve_parallelism,
)

# Work per output position and positions per frame of a three-layer toy pipeline.
RUNS = {"a": ([9] * 16, 64), "b": ([144] * 32, 64), "c": ([128] * 10, 1)}


def toy_cycles(name, p):
    runs, positions = RUNS[name]
    return positions * sum(-(-run // p) for run in runs)


MAX = {name: max(runs) for name, (runs, _) in RUNS.items()}


def lanes_within(budget):
    """A fit predicate that only counts lanes (one DSP each) against a budget."""
    return lambda chosen: sum(chosen.values()) <= budget


def test_bottleneck_gets_the_lanes_and_others_just_keep_up():
    chosen = balance_parallelism(MAX, toy_cycles, lanes_within(24))
    assert sum(chosen.values()) <= 24
    slowest = max(toy_cycles(n, p) for n, p in chosen.items())
    assert toy_cycles("b", chosen["b"]) == slowest
    for name, p in chosen.items():
        if p > 1:
            assert toy_cycles(name, p - 1) > slowest
    assert chosen["b"] > chosen["a"]


def test_more_budget_never_slows_the_pipeline():
    frame = [max(toy_cycles(n, p) for n, p in balance_parallelism(MAX, toy_cycles, lanes_within(b)).items()) for b in (3, 8, 32, 400)]
    assert frame == sorted(frame, reverse=True) and frame[0] > frame[-1]


def test_lanes_stop_at_the_longest_run():
    chosen = balance_parallelism(MAX, toy_cycles, lanes_within(10_000))
    assert all(p <= MAX[n] for n, p in chosen.items())


def test_everywhere_and_per_layer_overrides():
    chosen = resolve_parallelism(MAX, toy_cycles, lanes_within(24), everywhere=4, per_layer={"c": 2})
    assert chosen == {"a": 4, "b": 4, "c": 2}


def test_config_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("layers:\n  b: {parallelism: 8}\n")
    assert read_parallelism_config(path) == {"b": 8}
    check_config_layers({"b": 8}, path, list(RUNS))
    with pytest.raises(UserError, match="unknown layers nope"):
        check_config_layers({"nope": 8}, path, list(RUNS))
    path.write_text("layers:\n  b: {parallelism: 0}\n")
    with pytest.raises(UserError, match=">= 1"):
        read_parallelism_config(path)
