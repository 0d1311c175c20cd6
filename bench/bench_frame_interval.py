"""Measured frame interval against the cycle model for every network the test suite verifies.

Builds each network for the PYNQ-Z2 (default balanced P), simulates it in Verilator at full
rate (`build --verify N`) and prints, per network, the modelled frame interval (the slowest
stage's cycles per frame), the measured one (cycles between the last output words of
consecutive frames, integers from Verilator), their ratio, and the branch FIFOs the generator
put in front of the joins (total beats). A row off by more than 2 % is marked.

Besides the networks, single convs of SINGLE_CONVS at a fixed P measure the conv model alone.

Rerun:  python bench/bench_frame_interval.py [--frames 4] [--only unet,residual_block]
(a Verilator build of one to three minutes per network).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

import onnx
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import models  # noqa: E402  (the test suite's model builders)

from fpgaflow.cli.main import main  # noqa: E402
from fpgaflow.importers.torch_import import export_onnx_bytes  # noqa: E402

ONNX_BUILDERS = ["residual_block", "grouped_conv_net", "pooled_concat_net", "arithmetic_bn_net", "shuffle_net", "leaky_net",
                 "line_net", "unet", "unet_transposed"]
TORCH_BRANCHES = [("concat", "1x1"), ("add", "1x1"), ("concat", "3x3")]
SINGLE_CONVS = [(1, 4, 8, 3, 1, 9), (1, 4, 16, 3, 1, 9), (1, 4, 32, 3, 1, 9), (1, 4, 32, 3, 0, 9), (1, 4, 32, 5, 2, 25),
                (4, 4, 32, 3, 1, 9), (10, 4, 32, 3, 1, 30), (10, 4, 32, 3, 1, 89)]
"""One conv + ReLU each, (C_in, C_out, map size, kernel, padding, P): the window generator's walk
against the engine's pace (fpgaflow.flow.cycles.engine_frame_cycles), 4 to 16 cycles a window."""


def _conv_name(cin: int, cout: int, size: int, kernel: int, pad: int, lanes: int) -> str:
    return f"conv_{cin}x{size}x{size}_to_{cout}_k{kernel}_pad{pad}_P{lanes}"


def _model(name: str, folder: Path) -> tuple[Path, list[str]]:
    """The ONNX file of a network and the extra build arguments it needs."""
    if name == "digits":
        return ROOT / "examples/digits_cnn.onnx", ["--calib", str(ROOT / "examples/digits_train.npz")]
    path = folder / f"{name}.onnx"
    convs = {_conv_name(*case): case for case in SINGLE_CONVS}
    if name in convs:
        cin, cout, size, kernel, pad, lanes = convs[name]
        torch.manual_seed(0)
        conv = torch.nn.Sequential(torch.nn.Conv2d(cin, cout, kernel, padding=pad), torch.nn.ReLU()).eval()
        path.write_bytes(export_onnx_bytes(conv, torch.randn(1, cin, size, size), dynamo=False))
        return path, ["--parallelism", str(lanes)]
    if name.startswith("branches_"):
        join, first = name.split("_")[1:]
        torch.manual_seed(0)
        model = models.TorchUnequalBranches(join, first).eval()
        path.write_bytes(export_onnx_bytes(model, torch.randn(2, 3, 12, 12), dynamo=False))
    else:
        onnx.save(getattr(models, name)(), path)
    return path, []


def measure(name: str, frames: int, folder: Path) -> dict[str, object]:
    """Build and verify one network; its modelled and measured frame interval and branch FIFO beats."""
    path, extra = _model(name, folder)
    out = folder / f"{name}_out"
    code = main(["build", str(path), "--board", "pynq", *extra, "--verify", str(frames), "--out", str(out)])
    report = json.loads((out / "report.json").read_text())
    top = next((out / "rtl").glob("*_top.sv")).read_text()
    fifos = [int(depth) for depth in re.findall(r"axis_fifo #\(\s*\.DW\(\d+\),\s*\.DEPTH\((\d+)\)\s*\) u_\w+_fifo\d+ \(", top)]
    model, measured = report["totals"]["cycles_per_frame"], report["verify"]["frame_interval_measured"]
    return {"network": name, "exit": code, "mismatches": report["verify"]["mismatches"], "model": model,
            "measured": measured, "ratio": measured / model, "fifo_beats": sum(fifos)}


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--only", default="", help="comma-separated network names")
    args = parser.parse_args()
    names = ["digits", *ONNX_BUILDERS, *(f"branches_{join}_{first}" for join, first in TORCH_BRANCHES),
             *(_conv_name(*case) for case in SINGLE_CONVS)]
    if args.only:
        names = [name for name in names if name in args.only.split(",")]
    print("| network | exit | mismatches | model | measured | measured / model | branch FIFO beats |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="fpgaflow_interval_") as scratch:
        for name in names:
            row = measure(name, args.frames, Path(scratch))
            mark = "" if abs(row["ratio"] - 1) <= 0.02 else " (off)"
            print(f"| {name} | {row['exit']} | {row['mismatches']} | {row['model']} | {row['measured']:.1f} | "
                  f"{row['ratio']:.3f}{mark} | {row['fifo_beats']} |", flush=True)


if __name__ == "__main__":
    main_bench()
