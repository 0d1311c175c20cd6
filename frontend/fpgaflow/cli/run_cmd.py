"""`fpgaflow run`: the float or bit-accurate reference on a batch of inputs.

Its outputs (and with --trace every intermediate tensor with its format) are the golden
vectors a hardware engineer feeds a test bench.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from fpgaflow.api import load_model
from fpgaflow.cli.common import add_approximate_rounding, check_bits
from fpgaflow.inputs import load_batch
from fpgaflow.errors import UserError
from fpgaflow.quant import quantize
from fpgaflow.reference.fixed_exec import Saturation, quantize_input_counted, run_fixed_counted
from fpgaflow.reference.float_exec import run_float
from fpgaflow.reference.trace import dump_trace


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run the float or bit-accurate reference on inputs")
    parser.add_argument("model", type=Path, help="ONNX model or saved IR directory")
    add_approximate_rounding(parser)
    parser.add_argument("--input", type=Path, required=True, help="inputs, float32 NCHW (.npy, or .npz with x)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the outputs (.npy)")
    parser.add_argument("--fixed", action="store_true", help="run the bit-accurate fixed-point reference")
    parser.add_argument("--bits", type=int, default=8, help="fixed-point width of weights and activations")
    parser.add_argument("--calib", type=Path, help="calibration inputs (.npz with x); default: the inputs")
    parser.add_argument("--codes", action="store_true", help="write integer codes instead of real values")
    parser.add_argument("--trace", type=Path, help="directory for every intermediate tensor and formats.json")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.out.suffix != ".npy":
        raise UserError(f"--out {args.out} must end in .npy")
    if args.codes and not args.fixed:
        raise UserError("--codes needs --fixed (the float reference has no integer codes)")
    graph = load_model(args.model, args.approximate_rounding)
    x = load_batch(args.input, graph, "input")
    if args.fixed:
        calibration = load_batch(args.calib, graph, "calibration") if args.calib else x
        graph = quantize(graph, calibration, check_bits(args.bits))
        codes, input_saturated = quantize_input_counted(graph, x)
        counted = run_fixed_counted(graph, codes)
        tensors = counted.tensors
        warning = Saturation(input_saturated, counted.saturated).warning()
        if warning is not None:
            print(f"warning: {warning}; calibrate with --calib on data that covers these inputs", file=sys.stderr)
        output = graph.hardware_outputs[0]
        result = tensors[output]
        if not args.codes:
            ftype = graph.tensors[output].ftype
            assert ftype is not None
            result = ftype.to_real(result)
    else:
        tensors = run_float(graph, x)
        output = graph.outputs[0]
        result = tensors[output]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.out, result)
    if args.trace:
        dump_trace(graph, tensors, args.trace)
    print(f"wrote {args.out}: {output} {tuple(result.shape)} {result.dtype}")
    return 0
