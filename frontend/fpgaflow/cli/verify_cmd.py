"""`fpgaflow verify DIR`: re-run the Verilator check of an existing build."""

from __future__ import annotations

import argparse
from pathlib import Path

from fpgaflow.errors import UserError
from fpgaflow.outdir import OutputDir
from fpgaflow.build_folder import DESIGN_FILE
from fpgaflow.pipeline import print_summary, verify_backends


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("verify", help="re-run the RTL simulation check of a build folder")
    parser.add_argument("dir", type=Path, help="output folder of `fpgaflow build`")
    parser.add_argument("--frames", type=int, default=8, help="frames to simulate (default 8)")
    parser.add_argument("--calib", type=Path, help="inputs to use (.npz with x); default seeded random")
    parser.add_argument("--hls", action="store_true",
                        help="check the HLS C++ (OUT/hls/, from build --hls) in its g++ C simulation instead of the RTL")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not (args.dir / DESIGN_FILE).is_file():
        raise UserError(f"{args.dir} is not an fpgaflow build folder (no {DESIGN_FILE}); run `fpgaflow build` first")
    if args.frames < 1:
        raise UserError(f"--frames {args.frames} must be at least 1")
    with OutputDir(args.dir, existing_build=True) as out:
        out.keep_previous()
        mismatches = verify_backends(out, args.frames, None, ("hls",) if args.hls else ("rtl",), calib_path=args.calib)
        out.commit()
    print_summary(args.dir)
    return 0 if mismatches == 0 else 1
