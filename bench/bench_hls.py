"""Benchmark of the HLS C++ back end: generated size and g++ C-simulation speed against Verilator.

For the digits CNN (examples/digits_cnn.onnx) and the CIFAR-sized VGG-style net of
bench/bench_engine_v2.py (random weights), planned for the PYNQ-Z2 with the default P:
- the generated C++: lines of the per-model files (top, header, test bench) and of the shipped
  kernels header, and the bytes of the constant arrays (the engine ROMs' word fields, the pattern
  and channel tables and constant codes, the other layers' arrays) at their HLS element widths;
- the g++ C simulation (hls4ml's ap_types, -O1): compile seconds, frames per second of the test
  bench (process start and text I/O included), bit-exact against run_fixed;
- with --rtl-frames N, the Verilator simulation of the same build: frames per second of
  simulator wall time (the Verilator build excluded), bit-exact.

Rerun:  python bench/bench_hls.py [--frames 32] [--rtl-frames 4] [--only digits|vgg_cifar]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_engine_v2 import VggCifar, _torch_model  # noqa: E402

from fpgaflow.api import load_model  # noqa: E402
from fpgaflow.backends.hls.build import verify_hls  # noqa: E402
from fpgaflow.backends.hls.generate import KERNELS_HEADER, generate_hls  # noqa: E402
from fpgaflow.boards import load_board  # noqa: E402
from fpgaflow.outdir import OutputDir  # noqa: E402
from fpgaflow.quant import quantize  # noqa: E402
from fpgaflow.pipeline import BuildOptions, build_design, verify_build  # noqa: E402
from fpgaflow.backends.rtl.generate import top_name  # noqa: E402

BOARD = load_board("pynq")


def network_row(name: str, model: Path, calibration: np.ndarray, folder: Path, frames: int, rtl_frames: int) -> dict[str, object]:
    graph = quantize(load_model(model), calibration, 8)
    with OutputDir(folder / name) as out:
        design = build_design(graph, BuildOptions(board=BOARD, bits=8, backends=("rtl", "hls")), out)
        top = top_name(graph)
        generated = generate_hls(graph, BOARD, top, {n: c.parallelism for n, c in design.engines.items()}, design.store_zeros)
        model_lines = sum(text.count("\n") for rel, text in generated.files.items() if rel != KERNELS_HEADER)
        array_bytes = sum(array.bits for layer in generated.layers for array in layer.arrays) // 8
        csim = verify_hls(out, frames, calibration)
        assert csim.mismatches == 0, csim.first_mismatch
        rtl_fps = None
        if rtl_frames:
            rtl = verify_build(out, rtl_frames, calibration)
            assert rtl.mismatches == 0, rtl.first_mismatch
            rtl_fps = rtl.frames / rtl.simulation_seconds
        out.commit()
    return {
        "network": name,
        "C++ lines (model)": model_lines,
        "C++ lines (kernels)": generated.files[KERNELS_HEADER].count("\n"),
        "array bytes": array_bytes,
        "dense weight bytes": sum(p.dense_weights for p in design.plans),
        "g++ compile s": round(csim.compile_seconds, 1),
        "C-sim frames/s": f"{csim.frames / csim.run_seconds:.3g}",
        "Verilator frames/s": f"{rtl_fps:.3g}" if rtl_fps is not None else "-",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=32, help="frames of the C simulation")
    parser.add_argument("--rtl-frames", type=int, default=0, help="frames of the Verilator simulation (0: skip)")
    parser.add_argument("--only", choices=("digits", "vgg_cifar"), help="measure one network")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for index, name in enumerate(n for n in ("digits", "vgg_cifar") if args.only in (None, n)):
            if name == "digits":
                path, calibration = Path("examples/digits_cnn.onnx"), np.load("examples/digits_train.npz")["x"][:64]
            else:
                path, calibration = _torch_model(VggCifar, (3, 32, 32), folder, "vgg_cifar")
            row = network_row(name, path, calibration, folder, args.frames, args.rtl_frames)
            if index == 0:
                print("| " + " | ".join(row) + " |")
                print("|" + "---|" * len(row))
            print("| " + " | ".join(str(value) for value in row.values()) + " |", flush=True)


if __name__ == "__main__":
    main()
