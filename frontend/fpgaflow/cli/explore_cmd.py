"""`fpgaflow explore`: sweep pruning, widths and parallelism on Ray and report the Pareto fronts (docs/explore.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from fpgaflow.explore.front import fits
from fpgaflow.explore.sweep import SweepRequest, explore


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explore",
        help="sweep pruning methods, targets, widths and parallelism on Ray; report the Pareto fronts",
        description="Build and measure every point of a design space (space.yaml) as a Ray task; see docs/explore.md.",
    )
    parser.add_argument("model", type=Path, help="the trained model, .onnx")
    parser.add_argument("--board", required=True, help="board name or alias (e.g. pynq)")
    parser.add_argument("--data", type=Path, required=True, help="training data .npz with x and y (pruning, calibration)")
    parser.add_argument("--val", type=Path, help="held-out data .npz with x and y for the accuracy (default: the training data)")
    parser.add_argument("--space", type=Path, required=True, help="the design space, YAML (docs/explore.md)")
    parser.add_argument("--out", type=Path, required=True, help="the sweep's folder; an earlier sweep's folder is resumed")
    parser.add_argument("--address", help="a running Ray cluster (e.g. ray://head:10001 or auto); default: a local Ray")
    parser.add_argument("--max-parallel", type=int, help="points at a time (default: the machine's cores, or the cluster's CPUs)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every point's pruning and fine-tuning (default 0)")
    parser.add_argument("--retry-failed", action="store_true", help="run the points recorded as failed again")
    parser.add_argument("--verify", type=int, metavar="N",
                        help="simulate N frames of every front point in Verilator (instead of the space file's front: verify)")
    parser.add_argument("--timing", action="store_true",
                        help="place and route the front points' engines with nextpnr (minutes per engine; as front: timing in the space file)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    request = SweepRequest(args.model, args.board, args.data, args.space, args.out, val=args.val, address=args.address,
                           max_parallel=args.max_parallel, seed=args.seed, retry_failed=args.retry_failed,
                           verify=args.verify, timing=args.timing)
    result = explore(request)
    failed = sum(r.get("status") != "ok" for r in result.records)
    print(f"explore: {len(result.records)} points ({len(result.ran)} run now), {failed} failed, "
          f"{sum(fits(r) for r in result.records)} fit the board; wrote {args.out / 'report.md'}")
    return 0
