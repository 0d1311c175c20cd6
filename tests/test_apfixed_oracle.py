"""fixed.py and run_fixed against ap_fixed<W, I, AP_RND, AP_SAT> compiled with g++ (tests/cpp/apfixed_oracle.cpp).

The C++ program uses the ap_types headers that ship inside hls4ml, an implementation
fpgaflow shares no code with, so agreement here is independent evidence that the
reference obeys the numeric contract the HLS tools use.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import hls4ml
import numpy as np
import pytest

from fpgaflow import fixed
from fpgaflow.fixed import FixedType
from fpgaflow.ir import Activation, Conv2d, Weight
from fpgaflow.quant import quantize
from fpgaflow.reference.fixed_exec import run_fixed
from reference_graphs import random_weight, single

SOURCE = Path(__file__).parent / "cpp" / "apfixed_oracle.cpp"
AP_TYPES = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"


@pytest.fixture(scope="session")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The oracle binary, compiled once per session."""
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.skip("g++ is not installed: the ap_fixed oracle needs a C++ compiler")
    binary = tmp_path_factory.mktemp("apfixed") / "oracle"
    subprocess.run([compiler, "-O1", "-std=c++14", f"-I{AP_TYPES}", str(SOURCE), "-o", str(binary)], check=True)
    return binary


def ask(binary: Path, command: str) -> list[list[str]]:
    result = subprocess.run([str(binary)], input=command, capture_output=True, text=True, check=True)
    return [line.split() for line in result.stdout.splitlines()]


def edge_values(rng: np.random.Generator) -> np.ndarray:
    """Random values plus exact halves (both signs) at several F, saturation at both ends, zero."""
    halves = np.concatenate([(np.arange(-40, 40) + 0.5) * 2.0**-f for f in (-2, 0, 4, 5, 8, 15)])
    return np.concatenate([
        rng.normal(0, 3, 400), rng.uniform(-300, 300, 100), halves,
        [0.0, -0.0, 1e-9, -1e-9, 1e6, -1e6, 7.999, -8.0, -8.001, 3.96875, 3.984375, -3.984375],
    ])


def test_quantize_matches_ap_fixed(oracle: Path) -> None:
    values = edge_values(np.random.default_rng(0))
    lines = ask(oracle, f"quantize {len(values)} " + " ".join(float(v).hex() for v in values))
    assert len(lines) == 7
    for line in lines:
        signed, width, frac = int(line[1]), int(line[2]), int(line[3])
        fmt = FixedType(bool(signed), width, frac)
        theirs = np.array([int(c) for c in line[4:]])
        ours = fmt.quantize(values)
        bad = np.flatnonzero(ours != theirs)
        assert bad.size == 0, f"{fmt}: value {values[bad[0]]!r} ours {ours[bad[0]]} ap_fixed {theirs[bad[0]]}"


def test_requantize_matches_ap_fixed(oracle: Path) -> None:
    rng = np.random.default_rng(1)
    lo, hi = -(1 << 23), (1 << 23) - 1
    codes = np.concatenate([
        rng.integers(lo, hi + 1, 600), rng.integers(-5000, 5000, 300),
        (np.arange(-64, 64) << 8) + 128, (np.arange(-64, 64) << 2) + 2, (np.arange(-64, 64) << 16) + (1 << 15),
        (np.arange(-64, 64) << 12) + (1 << 11), [lo, hi, 0, -1, 1],
    ])
    lines = ask(oracle, f"requantize {len(codes)} " + " ".join(map(str, codes)))
    assert len(lines) == 6
    for line in lines:
        acc_frac = int(line[3])
        out = FixedType(bool(int(line[4])), int(line[5]), int(line[6]))
        theirs = np.array([int(c) for c in line[7:]])
        ours = fixed.requantize(codes, acc_frac, out)
        bad = np.flatnonzero(ours != theirs)
        assert bad.size == 0, f"s{line[2]}.{acc_frac} -> {out}: acc {codes[bad[0]]} ours {ours[bad[0]]} ap_fixed {theirs[bad[0]]}"


def test_conv_layer_matches_ap_fixed(oracle: Path) -> None:
    """A random 3x3 conv with padding, bias and ReLU: run_fixed vs the same loop in ap_fixed types."""
    rng = np.random.default_rng(2)
    cin, cout, h, w = 3, 4, 6, 5
    layer = Conv2d(name="c", inputs=["x"], output="y", weight=Weight(values=random_weight(rng, (cout, cin, 3, 3), 0.7)),
                   bias=Weight(values=rng.normal(size=cout)), padding=(1, 1, 1, 1), activation=Activation.RELU)
    graph = quantize(single(layer, (cin, h, w), (cout, h, w)), rng.normal(size=(4, cin, h, w)))
    # The formats the C++ program is compiled with: in s8.5, weights s8.6, acc s24.11, out s8.4.
    graph.tensors["x"].ftype = FixedType(True, 8, 5)
    graph.tensors["y"].ftype = FixedType(True, 8, 4)
    conv = graph.layer("c")
    conv.acc = FixedType(True, 24, 11)
    conv.weight.codes = rng.integers(-128, 128, size=(cout, cin, 3, 3)) * (rng.random((cout, cin, 3, 3)) < 0.7)
    conv.bias.codes = rng.integers(-4000, 4000, size=cout)
    x = rng.integers(-128, 128, size=(1, cin, h, w))
    x[0, 0] = -128  # drives some sums to large magnitudes
    command = " ".join(map(str, ["conv", cin, h, w, cout, *conv.weight.codes.ravel(), *conv.bias.codes, *x.ravel()]))
    theirs = np.array([int(c) for c in ask(oracle, command)[0][1:]]).reshape(cout, h, w)
    ours = run_fixed(graph, x)["y"][0]
    assert np.array_equal(ours, theirs), np.argwhere(ours != theirs)[:3]
    assert 0 < np.count_nonzero(ours) < ours.size
