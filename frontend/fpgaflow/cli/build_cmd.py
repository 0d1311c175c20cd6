"""`fpgaflow build`: model to RTL, report and (with --verify) a bit-exact simulation check.

The command only strings the steps together; each step lives in its own module
(import: fpgaflow.api, quantize: fpgaflow.quant, generator: fpgaflow.backends.rtl, report:
fpgaflow.report, output folder: fpgaflow.outdir).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from fpgaflow.api import load_model
from fpgaflow.boards import load_board
from fpgaflow.cli.common import add_approximate_rounding, check_bits
from fpgaflow.inputs import load_batch
from fpgaflow.progress import step
from fpgaflow.errors import UserError
from fpgaflow.outdir import OutputDir
from fpgaflow.quant import quantize
from fpgaflow.quant.quantize import needs_calibration
from fpgaflow.quant.widths import check_widths_for_graph, read_widths_config
from fpgaflow.pipeline import BuildOptions, build_design, print_summary, verify_backends
from fpgaflow.flow.layer_plan import compute_layer_names
from fpgaflow.backends.rtl.templates import Templates, check_templates_folder, templates_in_config
from fpgaflow.flow.parallelism import check_config_layers, check_parallelism, read_parallelism_config

RANDOM_CALIBRATION = 64
"""Seeded random samples that stand in for calibration data when none is given."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("build", help="generate RTL and a report for a board, optionally verify it")
    parser.add_argument("model", type=Path, help="ONNX model or saved IR directory")
    add_approximate_rounding(parser)
    parser.add_argument("--board", required=True, help="board name or alias (e.g. pynq)")
    parser.add_argument("--out", type=Path, help="output folder (default: MODEL-STEM_build)")
    parser.add_argument(
        "--force", action="store_true",
        help="write into a non-empty folder that is not an fpgaflow build (no file already there is overwritten)",
    )
    parser.add_argument("--calib", type=Path, help="calibration inputs, float32 NCHW (.npz with x, or .npy)")
    parser.add_argument("--bits", type=int, default=8, help="fixed-point width of weights and activations")
    parser.add_argument("--parallelism", type=int, help="MAC lanes P for every compute layer (default: balanced)")
    parser.add_argument("--config", type=Path, help="YAML file with per-layer settings: layers: {name: {parallelism: N, weight_bits: W, activation_bits: A}}")
    parser.add_argument(
        "--templates", type=Path, metavar="DIR",
        help="use DIR/rtl/* (from `fpgaflow templates export DIR`, edited) instead of the shipped files of the same name",
    )
    parser.add_argument("--synth", action="store_true", help="count LUT/FF/BRAM/DSP with yosys synth_xilinx (minutes)")
    parser.add_argument("--timing", action="store_true",
                        help="place and route every engine with nextpnr-ecp5 and report its fmax (minutes per engine)")
    parser.add_argument("--verify", type=int, default=0, metavar="N",
                        help="simulate N frames in Verilator (and with --hls in the g++ C simulation) and compare")
    parser.add_argument("--hls", action="store_true", help="also write HLS C++ for Vitis/Vivado HLS into OUT/hls/")
    parser.set_defaults(handler=run)


def calibration_batch(graph, path: Path | None) -> np.ndarray:
    """The calibration batch from --calib, else seeded uniform [0, 1) inputs (with a warning,
    unless the model fixes every format itself: a QONNX model quantized everywhere)."""
    if path is not None:
        return load_batch(path, graph, "calibration")
    shape = graph.tensors[graph.inputs[0]].shape
    if needs_calibration(graph):
        print(
            f"warning: no --calib given; calibrating formats on {RANDOM_CALIBRATION} random inputs in [0, 1). "
            "Pass real inputs (e.g. your training set as .npz with x) for formats that fit your data.",
            file=sys.stderr,
        )
    return np.random.default_rng(0).random((RANDOM_CALIBRATION, *shape)).astype(np.float32)


def _templates(args: argparse.Namespace) -> Templates:
    """The template search path: --templates, else the config file's `templates:`, else the shipped files only."""
    if args.templates is not None:
        return check_templates_folder(args.templates, "--templates")
    folder = templates_in_config(args.config) if args.config is not None else None
    return check_templates_folder(folder, f"templates of {args.config}") if folder is not None else Templates()


def run(args: argparse.Namespace) -> int:
    bits = check_bits(args.bits)
    if args.verify < 0:
        raise UserError(f"--verify {args.verify} must be 0 (no simulation) or a number of frames")
    everywhere = check_parallelism(args.parallelism, "--parallelism") if args.parallelism is not None else None
    per_layer = read_parallelism_config(args.config) if args.config is not None else None
    widths = read_widths_config(args.config) if args.config is not None else {}
    templates = _templates(args)
    board = load_board(args.board)
    backends = ("rtl", "hls") if args.hls else ("rtl",)
    with OutputDir(args.out if args.out is not None else Path(f"{args.model.stem}_build"), force=args.force) as out:
        with step("import and quantize"):
            graph = load_model(args.model, args.approximate_rounding)
            if per_layer is not None:
                check_config_layers(per_layer, args.config, compute_layer_names(graph))
            check_widths_for_graph(widths, graph, f"config file {args.config}")
            calibration = calibration_batch(graph, args.calib)
            graph = quantize(graph, calibration, bits, widths)
        options = BuildOptions(board=board, bits=bits, everywhere=everywhere, per_layer=per_layer, synthesize=args.synth,
                               templates=templates, timing=args.timing, backends=backends)
        with step("generate RTL and report"):
            build_design(graph, options, out)
        mismatches = 0
        if args.verify:
            mismatches = verify_backends(out, args.verify, calibration if args.calib is not None else None, backends)
        out.commit()
    print_summary(out.root)
    print(f"wrote {out.root}")
    return 0 if mismatches == 0 else 1
