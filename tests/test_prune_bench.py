"""The pruning benchmark runs end to end and measures at equal MACs (slow: run with -m slow)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_pruning.py"


@pytest.mark.slow
def test_benchmark_rows_for_each_kind_of_baseline() -> None:
    spec = importlib.util.spec_from_file_location("bench_pruning", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = bench.run(["kep", "tp-magnitude", "torch-global-l1"], [0.5], [0], epochs=2)
    assert [row["method"] for row in rows] == ["kep", "tp-magnitude", "torch-global-l1"]
    for row in rows:
        assert row["reduction"] >= 0.5 - 1e-9
        assert 0.0 <= row["accuracy"] <= 1.0
    assert "| kep | 0.5 |" in bench.table(rows)
