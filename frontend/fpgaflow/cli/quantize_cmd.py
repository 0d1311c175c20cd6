"""`fpgaflow quantize`: search per-layer word lengths within an accuracy tolerance and write them as a build --config."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from fpgaflow.api import load_model
from fpgaflow.boards import load_board
from fpgaflow.errors import UserError
from fpgaflow.prune.load import load_split
from fpgaflow.prune.train import Split
from fpgaflow.progress import counter
from fpgaflow.wordlength.hardware_cost import COSTS
from fpgaflow.wordlength.search import search_widths
from fpgaflow.quant.widths import widths_yaml

HELD_OUT_SHARE = 0.25
"""Share of --data held out (seeded) to measure accuracy on when no --val is given."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "quantize", help="search per-layer weight and activation widths within an accuracy tolerance",
        description="Greedy word-length search against the float model's accuracy; writes a YAML that "
                    "`build --config` reads. See docs/quantization.md.",
    )
    parser.add_argument("model", type=Path, help="ONNX model or saved IR directory")
    parser.add_argument("--data", type=Path, required=True,
                        help=".npz with x (N, C, H, W) float and y (N,) labels; calibrates the formats (give it to build --calib too)")
    parser.add_argument("--val", type=Path, help="held-out .npz (x, y) to measure accuracy on "
                                                   f"(default: a seeded {HELD_OUT_SHARE * 100:.0f} %% of --data)")  # %% : argparse formats help with %
    parser.add_argument("--tolerance", type=float, required=True, help="largest accuracy drop against the float model, in percentage points")
    parser.add_argument("--cost", default="weight-bits", help=f"what to minimise: {'|'.join(COSTS)} (default weight-bits)")
    parser.add_argument("--bits", type=int, default=8, help="start width of every weight and activation (default 8)")
    parser.add_argument("--board", default="pynq", help="board whose balanced P the cost is measured at (default pynq)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out split (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="the widths, .yaml")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    parser.set_defaults(handler=run)


def held_out_split(data: Split, share: float, seed: int) -> tuple[Split, Split]:
    """(a seeded share of the samples, the rest), each in the original order; together they are `data`.

    The rest is what a benchmark reports on when the share is the validation data the search measures.
    """
    count = max(1, int(round(share * len(data.y))))
    chosen = np.zeros(len(data.y), dtype=bool)
    chosen[np.random.default_rng(seed).permutation(len(data.y))[:count]] = True
    return Split(data.x[chosen], data.y[chosen]), Split(data.x[~chosen], data.y[~chosen])


def held_out(data: Split, share: float, seed: int) -> Split:
    """A seeded share of the samples, in their original order."""
    return held_out_split(data, share, seed)[0]


def run(args: argparse.Namespace) -> int:
    if args.cost not in COSTS:
        raise UserError(f"--cost {args.cost} is not one of {', '.join(COSTS)}")
    if args.out.suffix.lower() not in (".yaml", ".yml"):
        raise UserError(f"--out {args.out} must end in .yaml")
    if args.out.exists() and not args.force:
        raise UserError(f"--out {args.out} exists; choose another name or pass --force to overwrite it")
    board = load_board(args.board)
    graph = load_model(args.model)
    shape = tuple(graph.tensors[graph.inputs[0]].shape)
    classes = int(np.prod(graph.tensors[graph.outputs[0]].shape))
    data = load_split(args.data, shape, classes, "training data")
    check = load_split(args.val, shape, classes, "validation data") if args.val is not None else held_out(data, HELD_OUT_SHARE, args.seed)
    with counter("word-length search (reference runs)") as update:
        result = search_widths(graph, data.x, check.x, check.y, args.tolerance, board, bits=args.bits, cost=args.cost,
                               progress=update)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"# fpgaflow quantize {args.model.name}: {result.final_line()}\n" + widths_yaml(result.widths))
    print(f"{result.final_line()}; wrote {args.out}")
    return 0
