"""Benchmark of the sparse engines: simulated cycles against the zero-skip bound and a dense engine.

The digits CNN (examples/digits_cnn.onnx) is pruned at weight densities 100/50/25/10 %
three ways, on the float weights, per layer, without fine-tuning (the cycles depend on
the zeros, not on the accuracy):

- unstructured: the largest-magnitude weights of each layer are kept;
- kernel: the 3x3 kernels with the largest L1 norm are kept (dense layer: unstructured);
- kep: kernel-element pruning as fpgaflow's `kep` method masks (fpgaflow.prune.kep): every
  3x3 kernel keeps the n elements of its best pattern from a library of 8 (n = about
  sqrt(density) of the kernel, the centre always kept), then the kernels with the largest
  remaining L2 norm are kept until the layer is at the density (dense layer: unstructured);
- channel: the conv output channels with the largest L1 norm are kept, their bias with
  them, and remove_pruned_channels takes the others out of the graph (dense layer:
  unstructured).

Each variant is quantized (8 bits, calibrated on the training set), generated with the
default balanced P, and simulated in Verilator on 8 frames of the test set through the
generated top (bit-exactness is checked on every run). Per compute layer it reports the
measured cycles per frame, the zero-skip bound nonzero MACs / P, and their ratio; the same
design with the zero weights kept in the ROMs (the same engine fed dense weights, the
same P) gives the speedup of skipping zeros; and the weight-memory bits as stored against
dense. Finally it times `fpgaflow build examples/digits_cnn.onnx --board pynq --verify 8`.

Rerun:  python bench/bench_sparse_engine.py [--frames 8] [--densities 1 0.5 0.25 0.1]
        [--structures unstructured kernel kep channel] [--baseline-densities 0.25]
(prints markdown tables; minutes per variant: each is a Verilator build).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fpgaflow.api import load_model
from fpgaflow.boards import load_board
from fpgaflow.ir import Conv2d, Dense, Graph
from fpgaflow.outdir import OutputDir
from fpgaflow.passes.remove_pruned_channels import RemovePrunedChannels
from fpgaflow.prune.kep import pattern_library, pattern_size
from fpgaflow.quant import quantize
from fpgaflow.pipeline import BuildOptions, build_design, verify_build
from fpgaflow.flow.design import Design
from fpgaflow.backends.rtl.verify import VerifyResult

KEP_LIBRARY = 8
"""Patterns per layer, the kep method's default library size."""
ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "digits_cnn.onnx"


def _keep_largest(scores: np.ndarray, density: float) -> np.ndarray:
    """bool mask keeping the ceil(density * n) largest scores (ties: the first in order)."""
    flat = scores.ravel()
    keep = int(np.ceil(density * flat.size))
    mask = np.zeros(flat.size, dtype=bool)
    mask[np.argsort(-flat, kind="stable")[:keep]] = True
    return mask.reshape(scores.shape)


def prune_unstructured(weights: np.ndarray, density: float) -> np.ndarray:
    return weights * _keep_largest(np.abs(weights), density)


def prune_kernels(weights: np.ndarray, density: float) -> np.ndarray:
    kept = _keep_largest(np.abs(weights).sum(axis=(2, 3)), density)
    return weights * kept[:, :, None, None]


def prune_kep(weights: np.ndarray, density: float) -> np.ndarray:
    """Pattern per kernel (KEP's library), then whole kernels by L2 norm to `density` of the weights.

    Kernels of fewer than 4 elements have no patterns (as in the kep method): unstructured.
    """
    kh, kw = weights.shape[2:]
    if kh * kw < 4:
        return prune_unstructured(weights, density)
    keep = pattern_size(kh * kw, 1.0 - density)
    library, choice = pattern_library(weights, keep, KEP_LIBRARY)
    patterned = weights * library[choice].reshape(weights.shape)
    kernels = _keep_largest(np.sqrt((patterned**2).sum(axis=(2, 3))), min(1.0, density * kh * kw / keep))
    return patterned * kernels[:, :, None, None]


def prune_channels(layer: Conv2d, density: float) -> None:
    kept = _keep_largest(np.abs(layer.weight.values).reshape(layer.weight.values.shape[0], -1).sum(axis=1), density)
    layer.weight.values = layer.weight.values * kept[:, None, None, None]
    if layer.bias is not None:
        layer.bias.values = layer.bias.values * kept


PRUNERS: dict[str, Callable[[Conv2d, float], None]] = {
    "unstructured": lambda layer, d: setattr(layer.weight, "values", prune_unstructured(layer.weight.values, d)),
    "kernel": lambda layer, d: setattr(layer.weight, "values", prune_kernels(layer.weight.values, d)),
    "kep": lambda layer, d: setattr(layer.weight, "values", prune_kep(layer.weight.values, d)),
    "channel": prune_channels,
}


def pruned(graph: Graph, structure: str, density: float) -> Graph:
    """A copy of the float graph pruned to `density` per layer with the given structure."""
    result = copy.deepcopy(graph)
    for layer in result.layers:
        if isinstance(layer, Conv2d):
            PRUNERS[structure](layer, density)
        elif isinstance(layer, Dense):
            layer.weight.values = prune_unstructured(layer.weight.values, density)
    if structure == "channel":
        RemovePrunedChannels().run(result)
    return result


def simulate(graph: Graph, options: BuildOptions, frames: int, test_x: np.ndarray, folder: Path) -> tuple[Design, VerifyResult]:
    """Build into folder, verify `frames` test frames; return the design and the verify result."""
    out = OutputDir(folder)
    design = build_design(graph, options, out)
    with contextlib.redirect_stdout(sys.stderr):
        result = verify_build(out, frames, test_x)
    out.commit()
    if result.mismatches:
        raise SystemExit(f"{folder}: {result.mismatches} frames differ from the reference: {result.first_mismatch}")
    return design, result


def layer_rows(design: Design, measured: dict[str, float], dense_measured: dict[str, float]) -> list[dict]:
    rows = []
    for plan in design.plans:
        if not plan.is_compute:
            continue
        choice = design.engines[plan.name]
        bound = plan.zero_skip_bound(choice.parallelism)
        rows.append(
            {
                "layer": plan.name,
                "P": choice.parallelism,
                "density": plan.nonzero_weights / plan.dense_weights,
                "measured": measured[plan.name],
                "model": choice.cycles_model,
                "bound": bound,
                "ratio": measured[plan.name] / bound if bound else float("nan"),
                "dense_measured": dense_measured.get(plan.name, 0.0),
                "stored_bits": choice.weight_bits_stored,
                "dense_bits": choice.weight_bits_dense,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--densities", type=float, nargs="+", default=[1.0, 0.5, 0.25, 0.1])
    parser.add_argument("--structures", nargs="+", default=list(PRUNERS))
    parser.add_argument("--baseline-densities", type=float, nargs="+", default=[0.25],
                        help="densities at which the dense-weight engine is simulated too (each costs a build)")
    parser.add_argument("--no-build-time", action="store_true", help="skip timing `fpgaflow build --verify 8` at the end")
    args = parser.parse_args()
    board = load_board("pynq")
    graph = load_model(MODEL)
    train = np.load(ROOT / "examples" / "digits_train.npz")["x"]
    test = np.load(ROOT / "examples" / "digits_test.npz")["x"]
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}\n")
    total_cycles, total_wall = 0, 0.0
    with tempfile.TemporaryDirectory(prefix="fpgaflow_bench_") as scratch:
        for structure in args.structures:
            print(f"### {structure}\n")
            print("| density | layer | P | weight density | cycles measured | cycles model | bound nnz/P | measured/bound | dense-weight engine | speedup | ROM bits stored / dense |")
            print("|---|---|---|---|---|---|---|---|---|---|---|")
            for density in args.densities:
                q = quantize(pruned(graph, structure, density), train, 8)
                tag = f"{structure}_{int(density * 100)}"
                sparse_design, sparse = simulate(q, BuildOptions(board, 8, synthesize=False), args.frames, test, Path(scratch) / tag)
                runs = [sparse]
                dense_measured: dict[str, float] = {}
                if density in args.baseline_densities:
                    lanes = {p.name: sparse_design.engines[p.name].parallelism for p in sparse_design.plans if p.is_compute}
                    dense_options = BuildOptions(board, 8, per_layer=lanes, synthesize=False, store_zeros=True)
                    _, dense = simulate(q, dense_options, args.frames, test, Path(scratch) / f"{tag}_dense")
                    dense_measured = dense.cycles_per_frame
                    runs.append(dense)
                for run in runs:
                    total_cycles += run.simulated_cycles
                    total_wall += run.simulation_seconds
                for row in layer_rows(sparse_design, sparse.cycles_per_frame, dense_measured):
                    dense_cells = (
                        f"{row['dense_measured']:.0f} | {row['dense_measured'] / row['measured']:.2f}x"
                        if row["dense_measured"] else "- | -"
                    )
                    print(
                        f"| {density:.0%} | {row['layer']} | {row['P']} | {row['density']:.1%} | {row['measured']:.0f} | {row['model']} "
                        f"| {row['bound']:.0f} | {row['ratio']:.3f} | {dense_cells} | {row['stored_bits']} / {row['dense_bits']} |",
                        flush=True,
                    )
            print()
        print(f"simulation speed: {total_cycles / total_wall:.0f} cycles/s (simulated clock cycles over the simulator's wall time, Verilator build excluded)\n")
        if args.no_build_time:
            return
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "fpgaflow.cli.main", "build", str(MODEL), "--board", "pynq", "--verify", "8",
             "--out", str(Path(scratch) / "cli")],
            check=True,
        )
        print(f"`fpgaflow build examples/digits_cnn.onnx --board pynq --verify 8`: {time.perf_counter() - started:.1f} s wall")


if __name__ == "__main__":
    main()
