"""Benchmark of the v2 sparse engine: what the planner builds and what the engines cost.

Measures, for the PYNQ-Z2 (boards/pynq-z2.yaml):

1. networks planned with the default balanced P (model figures: frame interval, P, LUT / FF /
   BRAM18 / DSP by fpgaflow.backends.rtl.resource_model, share of the DSP-limit MAC rate, which placement of
   the window memories the planner took):
   - the digits CNN (examples/digits_cnn.onnx);
   - a CIFAR-sized VGG-style net (3x32x32, four 3x3 convs in two blocks with max pools, one
     dense layer), random weights;
   - one conv followed by a 4096 -> 10 dense layer (16 channels of 16x16 flattened);
2. LUTs per lane of the engine against the window size, by the model: the v2 lane (window
   memory, WR_N : 1 pick) beside the v1 lane's WIN_N : 1 multiplexer (4.4 LUT per element
   and lane measured by Yosys on v1, docs/benchmarks.md);
3. with --verify N, each network is also built and simulated in Verilator for N frames
   (bit-exact against run_fixed; the measured frame interval).

Rerun:  python bench/bench_engine_v2.py [--verify 4]
(model-only in about a minute; each --verify network is a Verilator build of minutes).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from fpgaflow.api import load_model
from fpgaflow.boards import load_board
from fpgaflow.backends.rtl.resource_model import sparse_conv_engine
from fpgaflow.importers.torch_import import export_onnx_bytes
from fpgaflow.outdir import OutputDir
from fpgaflow.quant import quantize
from fpgaflow.pipeline import BuildOptions, build_design, verify_build

ROOT = Path(__file__).resolve().parent.parent
BOARD = load_board("pynq")
V1_LUT_PER_ELEMENT = 4.4
"""LUTs per window element and lane of the v1 engine's WIN_N : 1 lane multiplexer (Yosys synth_xilinx, docs/benchmarks.md)."""


class VggCifar(nn.Module):
    """3x32x32 -> four 3x3 convs (32, 32, 64, 64) in two blocks with 2x2 max pools -> dense 4096 -> 10.

    Unpruned at 8 bits its weights (about 106 k) fill 40 % of the PYNQ-Z2's block RAM; the
    six-conv variant (32 .. 128 channels, 288 k weights) does not fit on chip unpruned.
    """

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for width in (32, 64):
            for _ in range(2):
                layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
                channels = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(64 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


class WideDense(nn.Module):
    """1x16x16 -> conv 16 (3x3, padding 1) -> flatten 4096 -> dense 10."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 16 * 16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(torch.relu(self.conv(x)), 1))


def _torch_model(build: type[nn.Module], shape: tuple[int, ...], folder: Path, name: str) -> tuple[Path, np.ndarray]:
    """The module with seeded random weights exported to ONNX, and seeded calibration inputs."""
    torch.manual_seed(0)
    module = build().eval()
    path = folder / f"{name}.onnx"
    path.write_bytes(export_onnx_bytes(module, torch.randn(2, *shape), dynamo=False))
    calibration = np.random.default_rng(0).uniform(0.0, 1.0, size=(64, *shape)).astype(np.float32)
    return path, calibration


def network_row(name: str, model: Path, calibration: np.ndarray, folder: Path, frames: int) -> dict[str, object]:
    graph = quantize(load_model(model), calibration, 8)
    with OutputDir(folder / name) as out:
        design = build_design(graph, BuildOptions(board=BOARD, bits=8), out)
        measured = None
        if frames:
            measured = verify_build(out, frames, calibration).report().get("frame_interval_measured")
    used = design.resources["model"]["used"]  # type: ignore[index]
    nonzero = sum(plan.nonzero_macs for plan in design.plans)
    dsp_limit = BOARD.resources["dsp"]
    return {
        "network": name,
        "P": "/".join(str(design.engines[p.name].parallelism) for p in design.plans if p.is_compute),
        "interval": design.frame_interval,
        "measured": measured,
        "frames/s": design.frames_per_second(),
        "window memory": design.window_memory,
        "lut": used["lut"], "ff": used["ff"], "bram18": used["bram18"], "dsp": used["dsp"],
        "DSP-limit share": nonzero / design.frame_interval / dsp_limit,
    }


def lane_luts(window: int, depth: int) -> tuple[float, str]:
    """Model LUTs of one v2 lane (the engine at P = 2 minus P = 1) on a window of `window` 8-bit elements."""
    write_n = 1
    while -(-window // write_n) + 1 > depth and write_n < window:
        write_n *= 2

    def engine(lanes: int) -> int:
        params = {"BEAT_N": window, "BEATS": 1, "WR_N": write_n, "IN_W": 8, "C_OUT": 16, "OUT_W": 8, "P": lanes,
                  "WW": 8, "IDX_W": max(1, (window - 1).bit_length()) + 1, "K_FIN": 1, "ACC_W": 24, "DEPTH": depth,
                  "NZ_OC": 16, "OC_W": 4, "INDEX_MODE": 0, "ROM_STYLE": "block", "WIN_RAM_STYLE": "distributed"}
        return sparse_conv_engine(params).lut

    return float(engine(2) - engine(1)), f"WR_N {write_n}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verify", type=int, default=0, help="simulate N frames of each network in Verilator")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fpgaflow_bench_v2_") as scratch:
        folder = Path(scratch)
        digits_calibration = np.load(ROOT / "examples" / "digits_train.npz")["x"]
        rows = [network_row("digits", ROOT / "examples" / "digits_cnn.onnx", digits_calibration, folder, args.verify)]
        for name, build, shape in (("vgg_cifar", VggCifar, (3, 32, 32)), ("dense_4096", WideDense, (1, 16, 16))):
            path, calibration = _torch_model(build, shape, folder, name)
            onnx.checker.check_model(onnx.load(path))
            rows.append(network_row(name, path, calibration, folder, args.verify))
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) and v < 10 else f"{v:.0f}" if isinstance(v, float) else str(v)
                                for v in row.values()) + " |")
    print()
    print("| window elements | v1 lane LUTs (WIN_N : 1 mux, 4.4 / element) | v2 lane LUTs (model, ROM depth 64) |")
    print("|---|---|---|")
    for window in (72, 144, 288, 576):
        luts, how = lane_luts(window, 64)
        print(f"| {window} | {V1_LUT_PER_ELEMENT * window:.0f} | {luts:.0f} ({how}) |")


if __name__ == "__main__":
    main()
