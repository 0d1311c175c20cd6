"""lut_multiplier: the registered product of two signed codes, exact, for every pair at small widths."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from rtl_stream_cases import BUILD_ROOT

from fpgaflow.hw.simulate import rtl_sources, run_cocotb
from fpgaflow.hw.toolchain import run_verilator_lint


def codes(values: list[int], bits: int) -> list[int]:
    """Signed values as unsigned two's-complement codes of `bits` bits."""
    return [v & ((1 << bits) - 1) for v in values]


@pytest.mark.parametrize("a_bits, b_bits, exhaustive", [(5, 4, True), (3, 1, True), (9, 3, True), (17, 8, False)])
def test_products_are_exact(tmp_path: Path, a_bits: int, b_bits: int, exhaustive: bool) -> None:
    """Every pair (small widths) or 2,000 random pairs with the extremes: p == a * b."""
    a_range = range(-(1 << (a_bits - 1)), 1 << (a_bits - 1))
    b_range = range(-(1 << (b_bits - 1)), 1 << (b_bits - 1))
    if exhaustive:
        pairs = list(itertools.product(a_range, b_range))
    else:
        rng = np.random.default_rng(a_bits * 100 + b_bits)
        corners = list(itertools.product((a_range[0], -1, 0, 1, a_range[-1]), (b_range[0], -1, 0, 1, b_range[-1])))
        pairs = corners + [(int(rng.integers(a_range[0], a_range[-1] + 1)), int(rng.integers(b_range[0], b_range[-1] + 1)))
                           for _ in range(2000)]
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    case = {"a": codes(a, a_bits), "b": codes(b, b_bits), "p": codes([x * y for x, y in pairs], a_bits + b_bits)}
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "case.json").write_text(json.dumps(case))
    result = run_cocotb("lut_multiplier", rtl_sources("lut_multiplier"), "tb_lut_multiplier",
                        {"A_W": a_bits, "B_W": b_bits}, BUILD_ROOT, tmp_path)
    assert result.passed and result.tests == 1, f"see {tmp_path / 'sim.log'}"


@pytest.mark.parametrize("a_bits, b_bits", [(9, 4), (5, 1), (9, 2), (17, 8)])
def test_lint_clean(a_bits: int, b_bits: int) -> None:
    result = run_verilator_lint(rtl_sources("lut_multiplier"), "lut_multiplier", {"A_W": a_bits, "B_W": b_bits})
    assert result.returncode == 0, result.stderr
