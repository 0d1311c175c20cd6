"""Seeded random end-to-end fuzz: small random CNNs from PyTorch through import, quantization and RTL.

Each seed draws a model (1-4 conv blocks of kernel 1, 3 or 5, stride 1 or 2, padding, groups
or depthwise, BatchNorm, ReLU/ReLU6, max and average pools, residual Add and Concat branches,
a global-pool or flatten dense head), a sparsity structure per weight layer (elements,
kernels, output channels, KEP-style kernel patterns, strided kernels, a single nonzero, a
whole layer all zero), P and a word length (2-16 bits). It checks the float reference
against onnxruntime, the 16-bit fixed reference against the float one, and `fpgaflow build
--bits N --verify` bit for bit within the cycle budget. Two seeds run by default (a Verilator build each); `-m slow` runs the campaign:
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
        k = int(rng.choice([1, 3, 3, 5])) if size >= 5 else int(rng.choice([1, 3]))
        depthwise = c_out is None and rng.random() < 0.3
        c_out = c_in if depthwise else (c_out or int(rng.integers(2, 7)))
        groups = c_in if depthwise else (2 if c_in % 2 == 0 and c_out % 2 == 0 and rng.random() < 0.3 else 1)
        stride = 1 if keep_size or size < 4 else int(rng.choice([1, 1, 2]))
        padding = k // 2 if keep_size or size < k + 1 or rng.random() < 0.7 else 0
        self.conv = torch.nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, groups=groups)
        self.norm = torch.nn.BatchNorm2d(c_out) if rng.random() < 0.3 else None
        if self.norm is not None:  # trained-looking statistics, so folding it changes the weights
            with torch.no_grad():
                self.norm.running_mean.copy_(torch.from_numpy(rng.normal(0, 0.2, c_out)))
                self.norm.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, c_out)))
                self.norm.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, c_out)))
                self.norm.bias.copy_(torch.from_numpy(rng.normal(0, 0.1, c_out)))
        self.act = str(rng.choice(["relu", "relu6", "none"]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        if self.norm is not None:
            y = self.norm(y)
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
        for _ in range(int(rng.integers(1, 5))):
            block: torch.nn.Module = _Branches(rng, channels, size) if rng.random() < 0.35 else _Conv(rng, channels, size)
            self.blocks.append(block)
            if isinstance(block, _Branches):
                channels = block.channels
            else:
                conv = block.conv
                channels = conv.out_channels
                size = (size + 2 * conv.padding[0] - conv.kernel_size[0]) // conv.stride[0] + 1
            if size >= 4 and rng.random() < 0.3:
                self.blocks.append(torch.nn.MaxPool2d(2) if rng.random() < 0.6 else torch.nn.AvgPool2d(2))
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


SPARSITY_KINDS = {"dense": 0.15, "elements": 0.2, "kernels": 0.15, "channels": 0.15, "patterns": 0.13, "strided": 0.1,
                  "single": 0.05, "all_zero": 0.07}
"""The structures a weight layer's zeros are drawn from, with their chances (every one the IR records)."""


def _kernel_patterns(rng: np.random.Generator, w: torch.Tensor) -> None:
    """KEP-style: every kernel keeps the positions of one of a few drawn patterns of equal size."""
    positions = w.shape[2] * w.shape[3]
    keep = max(1, positions // 2)
    library = [rng.permutation(positions)[:keep] for _ in range(int(rng.integers(1, 4)))]
    mask = np.zeros((w.shape[0], w.shape[1], positions), dtype=bool)
    for o in range(w.shape[0]):
        for i in range(w.shape[1]):
            mask[o, i, library[int(rng.integers(len(library)))]] = True
    w.mul_(torch.from_numpy(mask.reshape(tuple(w.shape))).to(w.dtype))


def _strided(rng: np.random.Generator, w: torch.Tensor) -> None:
    """Every kernel keeps the positions j with j % s == t (one stride and offset per layer)."""
    positions = w.shape[2] * w.shape[3]
    stride = int(rng.integers(2, 4)) if positions > 2 else 2
    offset = int(rng.integers(stride))
    mask = (np.arange(positions) % stride == offset).reshape(w.shape[2], w.shape[3])
    w.mul_(torch.from_numpy(mask).to(w.dtype)[None, None])


def _sparsify(model: torch.nn.Module, rng: np.random.Generator) -> list[str]:
    """Draw a sparsity structure for each weight layer (SPARSITY_KINDS) and zero its weights so. Returns what it did."""
    done = []
    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    kinds, chances = list(SPARSITY_KINDS), list(SPARSITY_KINDS.values())
    with torch.no_grad():
        for index, layer in enumerate(layers):
            w = layer.weight
            kind = str(rng.choice(kinds, p=chances))
            if kind in ("patterns", "strided") and (w.dim() != 4 or w.shape[2] * w.shape[3] == 1):
                kind = "elements"
            if kind == "all_zero" and index == len(layers) - 1:
                kind = "channels"  # the graph output keeps its values
            if kind == "patterns":
                _kernel_patterns(rng, w)
            elif kind == "strided":
                _strided(rng, w)
            elif kind == "single":
                keep = int(rng.integers(w.numel()))
                flat = w.view(-1)
                value = float(flat[keep]) or 0.5
                flat.zero_()
                flat[keep] = value
            elif kind == "elements":
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
    bits = int(rng.choice([2, 3, 4, 6, 8, 8, 8, 10, 12, 16]))
    path = tmp_path / f"fuzz_{seed}.onnx"
    path.write_bytes(export_onnx_bytes(model, torch.randn(2, *shape), dynamo=False))
    calib = rng.uniform(-1, 1, (16, *shape)).astype(np.float32)
    return model, path, calib, f"seed {seed}: input {shape}, P {lanes}, {bits} bits, {model}, sparsity {sparsity}", lanes, bits


def _check(seed: int, tmp_path, verify: bool = True) -> None:
    """Float vs onnxruntime, 16-bit fixed vs float, then `build` (with `--verify 2` when `verify`)."""
    model, path, calib, what, lanes, bits = _case(seed, tmp_path)
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
            "--bits", str(bits), "--out", str(out)]
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
