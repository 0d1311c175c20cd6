"""`fpgaflow export-hls4ml`: the quantized model as an hls4ml project (docs/hls4ml.md).

For users who live in hls4ml: the project carries fpgaflow's pruned, quantized weights and
its formats on every tensor, so hls4ml's C simulation computes fpgaflow's codes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fpgaflow.api import load_model
from fpgaflow.cli.common import check_bits
from fpgaflow.inputs import load_batch
from fpgaflow.outdir import OutputDir
from fpgaflow.quant import quantize

PROJECT_FOLDER = "hls4ml"
"""The hls4ml project's folder inside --out (owned whole: hls4ml decides its files)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export-hls4ml", help="write an hls4ml project with fpgaflow's weights and formats")
    parser.add_argument("model", type=Path, help="ONNX model or saved IR directory")
    parser.add_argument("--calib", type=Path, required=True, help="calibration inputs, float32 NCHW (.npz with x, or .npy)")
    parser.add_argument("--out", type=Path, required=True, help="output folder; the project goes to OUT/hls4ml")
    parser.add_argument(
        "--force", action="store_true",
        help="write into a non-empty folder that is not fpgaflow's (no file already there is overwritten)",
    )
    parser.add_argument("--bits", type=int, default=8, help="fixed-point width of weights and activations")
    parser.add_argument("--io", choices=("stream", "parallel"), default="stream",
                        help="hls4ml's io_stream (default) or io_parallel")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from fpgaflow.export.hls4ml_bridge import BACKEND, IO_TYPES, PROJECT_NAME, check_expressible, convert, settle_project

    bits = check_bits(args.bits)
    graph = load_model(args.model)
    check_expressible(graph, args.io)
    graph = quantize(graph, load_batch(args.calib, graph, "calibration"), bits)
    with OutputDir(args.out, force=args.force) as out:
        folder = out.work_dir(PROJECT_FOLDER)
        hls_model = convert(graph, folder, args.io)
        hls_model.write()
        settle_project(folder)
        out.commit()
    print(f"wrote {out.root / PROJECT_FOLDER}: hls4ml project {PROJECT_NAME} ({BACKEND}, {IO_TYPES[args.io]}), "
          f"{len(list(hls_model.get_layers()))} layers with fpgaflow's {bits}-bit formats")
    return 0
