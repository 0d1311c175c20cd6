"""Seeded random end-to-end fuzz: small random CNNs from PyTorch through import, quantization and RTL.

Each seed draws a model (1-3 conv blocks of kernel 1 or 3, stride 1 or 2, padding, groups or
depthwise, ReLU/ReLU6, max pools, residual Add and Concat branches, a global-pool or flatten
dense head), a sparsity pattern (elements, kernels, output channels, sometimes a whole layer
all zero) and P. It checks the float reference against onnxruntime, the 16-bit fixed
reference against the float one, and `fpgaflow build --verify` bit for bit within the cycle
budget. Two seeds run by default (a Verilator build each); `-m slow` runs the campaign:
`test_fuzz_more` takes the other seeds of SLOW_SEEDS through Verilator, `test_fuzz_generation`
takes every seed through the references, quantization and RTL generation without Verilator
(`-k generation` runs only those, in seconds a seed). A failure names the seed:
`pytest tests/test_fuzz.py -m "slow or not slow" -k "seed_<n>]"` reproduces it.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from fpgaflow.api import load_model
from fpgaflow.cli.main import main
from fpgaflow.importers.torch_import import export_onnx_bytes
from fpgaflow.quant import quantize
from fpgaflow.reference.fixed_exec import quantize_input, run_fixed
from fpgaflow.reference.float_exec import run_float

DEFAULT_SEEDS = [1, 3]
SLOW_SEEDS = [2, *range(4, 202)]
"""The campaign's other seeds: 200 of them."""


class _Conv(torch.nn.Module):
    """A conv with a drawn kernel, stride, padding, groups and activation."""

    def __init__(self, rng: np.random.Generator, c_in: int, size: int, c_out: int | None = None, keep_size: bool = False) -> None:
        super().__init__()
        k = int(rng.choice([1, 3]))
        depthwise = c_out is None and rng.random() < 0.3
        c_out = c_in if depthwise else (c_out or int(rng.integers(2, 7)))
        stride = 1 if keep_size or size < 4 else int(rng.choice([1, 1, 2]))
        padding = k // 2 if keep_size or size < 4 or rng.random() < 0.7 else 0
        self.conv = torch.nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, groups=c_in if depthwise else 1)
        self.act = str(rng.choice(["relu", "relu6", "none"]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return torch.relu(y) if self.act == "relu" else torch.nn.functional.relu6(y) if self.act == "relu6" else y


class _Branches(torch.nn.Module):
    """Two convs on one input joined by a channel Concat or an Add (same shape: stride 1, same padding)."""

    def __init__(self, rng: np.random.Generator, c_in: int, size: int) -> None:
        super().__init__()
        self.add = bool(rng.random() < 0.5)
        c_out = int(rng.integers(2, 6))
        self.a = _Conv(rng, c_in, size, c_out, keep_size=True)
        self.b = _Conv(rng, c_in, size, c_out if self.add else int(rng.integers(2, 6)), keep_size=True)
        self.channels = c_out if self.add else c_out + self.b.conv.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.a(x), self.b(x)
        return a + b if self.add else torch.cat([a, b], 1)


class FuzzNet(torch.nn.Module):
    """The drawn network; `describe()` says what it is, for a failure message."""

    def __init__(self, rng: np.random.Generator, shape: tuple[int, int, int]) -> None:
        super().__init__()
        channels, size = shape[0], shape[1]
        self.blocks = torch.nn.ModuleList()
        for _ in range(int(rng.integers(1, 4))):
            block: torch.nn.Module = _Branches(rng, channels, size) if rng.random() < 0.35 else _Conv(rng, channels, size)
            self.blocks.append(block)
            if isinstance(block, _Branches):
                channels = block.channels
            else:
                conv = block.conv
                channels = conv.out_channels
                size = (size + 2 * conv.padding[0] - conv.kernel_size[0]) // conv.stride[0] + 1
            if size >= 4 and rng.random() < 0.25:
                self.blocks.append(torch.nn.MaxPool2d(2))
                size //= 2
        self.head = str(rng.choice(["gap", "flatten", "none"]))
        features = channels if self.head == "gap" else channels * size * size
        self.fc = torch.nn.Linear(features, int(rng.integers(2, 5))) if self.head != "none" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        if self.head == "gap":
            x = torch.nn.functional.adaptive_avg_pool2d(x, 1)
        if self.fc is not None:
            x = self.fc(torch.flatten(x, 1))
        return x


def _sparsify(model: torch.nn.Module, rng: np.random.Generator) -> list[str]:
    """Zero elements, kernels or output channels of each weight layer; sometimes a whole conv. Returns what it did."""
    done = []
    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        for index, layer in enumerate(layers):
            w = layer.weight
            kind = str(rng.choice(["dense", "elements", "kernels", "channels", "all_zero"], p=[0.2, 0.3, 0.2, 0.2, 0.1]))
            if kind == "all_zero" and index == len(layers) - 1:
                kind = "channels"  # the graph output keeps its values
            if kind == "elements":
                w.mul_(torch.from_numpy(rng.random(tuple(w.shape)) < 0.4).to(w.dtype))
            elif kind == "kernels" and w.dim() == 4:
                w.mul_(torch.from_numpy(rng.random(tuple(w.shape[:2])) < 0.5).to(w.dtype)[:, :, None, None])
            elif kind == "channels":
                dead = torch.from_numpy(rng.random(w.shape[0]) < 0.4)
                w[dead] = 0
                layer.bias[dead] = 0
            elif kind == "all_zero":
                w.zero_()
                layer.bias.zero_()
            done.append(f"{type(layer).__name__}{index}:{kind}")
    return done


def _case(seed: int, tmp_path):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 4)), int(rng.choice([6, 8])), int(rng.choice([6, 8])))
    shape = (shape[0], shape[1], shape[1])
    torch.manual_seed(seed)
    model = FuzzNet(rng, shape).eval()
    sparsity = _sparsify(model, rng)
    lanes = int(rng.choice([1, 2, 4]))
    path = tmp_path / f"fuzz_{seed}.onnx"
    path.write_bytes(export_onnx_bytes(model, torch.randn(2, *shape), dynamo=False))
    calib = rng.uniform(-1, 1, (16, *shape)).astype(np.float32)
    return model, path, calib, f"seed {seed}: input {shape}, P {lanes}, {model}, sparsity {sparsity}", lanes


def _check(seed: int, tmp_path, verify: bool = True) -> None:
    """Float vs onnxruntime, 16-bit fixed vs float, then `build` (with `--verify 2` when `verify`)."""
    model, path, calib, what, lanes = _case(seed, tmp_path)
    graph = load_model(path)
    session = ort.InferenceSession(onnx.load(path).SerializeToString(), providers=["CPUExecutionProvider"])
    want = np.concatenate([session.run(None, {session.get_inputs()[0].name: pair})[0] for pair in np.split(calib, len(calib) // 2)])
    got = run_float(graph, calib.astype(np.float64))[graph.outputs[0]]
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-4, atol=1e-4, err_msg=f"float vs onnxruntime, {what}")
    fixed = quantize(graph, calib, bits=16)
    codes = run_fixed(fixed, quantize_input(fixed, calib))[fixed.hardware_outputs[0]]
    real = fixed.tensors[fixed.hardware_outputs[0]].ftype.to_real(codes)
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(real.reshape(want.shape), want, atol=0.01 * scale, err_msg=f"fixed 16 bit vs float, {what}")
    np.savez(tmp_path / "calib.npz", x=calib)
    out = tmp_path / "build"
    argv = ["build", str(path), "--board", "pynq", "--calib", str(tmp_path / "calib.npz"), "--parallelism", str(lanes),
            "--out", str(out)]
    assert main([*argv, "--verify", "2"] if verify else argv) == 0, f"build{' --verify' if verify else ''} failed, {what}"
    if verify:
        result = json.loads((out / "report.json").read_text())["verify"]
        assert result["mismatches"] == 0, f"{result['first_mismatch']}, {what}"


@pytest.mark.parametrize("seed", DEFAULT_SEEDS, ids=lambda s: f"seed_{s}")
def test_fuzz(seed, tmp_path):
    _check(seed, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SLOW_SEEDS, ids=lambda s: f"seed_{s}")
def test_fuzz_more(seed, tmp_path):
    _check(seed, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", sorted([*DEFAULT_SEEDS, *SLOW_SEEDS]), ids=lambda s: f"seed_{s}")
def test_fuzz_generation(seed, tmp_path):
    _check(seed, tmp_path, verify=False)
