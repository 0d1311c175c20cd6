"""`fpgaflow inspect`: what the network costs, layer by layer, and how sparse it is.

The table answers the first questions a hardware engineer asks of a model: shapes,
parameters, multiply-accumulates dense and nonzero, density at each granularity the
hardware can exploit, and (when quantized) the formats of every tensor.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from fpgaflow.api import load_model
from fpgaflow.cli.common import add_approximate_rounding, check_bits
from fpgaflow.inputs import load_batch
from fpgaflow.quant import quantize
from fpgaflow.stats import layer_stats, totals


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("inspect", help="per-layer shapes, parameters, MACs, sparsity and formats")
    parser.add_argument("model", type=Path, help="ONNX model or saved IR directory")
    add_approximate_rounding(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    parser.add_argument("--calib", type=Path, help="quantize first, calibrating on these inputs (.npz with x)")
    parser.add_argument("--bits", type=int, default=8, help="fixed-point width when quantizing (with --calib)")
    parser.set_defaults(handler=run)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.0f}%"


def _shape(shape: list[int]) -> str:
    return "x".join(map(str, shape))


def _table(rows: list[dict[str, Any]], summary: dict[str, Any], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for header in ("layer", "op", "input", "output", "params", "MACs", "nonzero MACs", "density"):
        table.add_column(header, justify="right" if header in ("params", "MACs", "nonzero MACs") else "left")
    for header in ("chan out/in", "kernels", "elements", "patterns"):
        table.add_column(header, justify="right")
    for row in rows:
        density = row.get("density") or {}
        cells = [
            row["name"],
            row["op"],
            _shape(row["input_shape"]),
            _shape(row["output_shape"]),
            f"{row['params']:,}",
            f"{row['macs']:,}",
            f"{row['nonzero_macs']:,}",
            _percent(density.get("density")),
            f"{_percent(density['out_channel_density'])}/{_percent(density['in_channel_density'])}" if density else "",
            _percent(density.get("kernel_density")),
            _percent(density.get("element_density")),
            str(density.get("num_patterns", "")),
        ]
        table.add_row(*cells)
    table.add_section()
    density = summary["nonzero_macs"] / summary["macs"] if summary["macs"] else 1.0
    table.add_row("total", "", "", "", f"{summary['params']:,}", f"{summary['macs']:,}", f"{summary['nonzero_macs']:,}", _percent(density))
    return table


FORMAT_COLUMNS = ("input", "weight", "bias", "acc", "reciprocal", "output")


def _formats_table(rows: list[dict[str, Any]]) -> Table:
    """Fixed-point formats per layer: s/u, width, fractional bits (s8.5 = signed 8 bits, 5 fractional)."""
    table = Table(title="fixed-point formats (s|u width . frac)", title_justify="left")
    table.add_column("layer")
    for header in FORMAT_COLUMNS:
        table.add_column(header)
    for row in rows:
        formats = row.get("formats") or {}
        table.add_row(row["name"], *(formats.get(key, "") for key in FORMAT_COLUMNS))
    return table


def run(args: argparse.Namespace) -> int:
    graph = load_model(args.model, args.approximate_rounding)
    if args.calib:
        calibration = load_batch(args.calib, graph, "calibration")
        graph = quantize(graph, calibration, check_bits(args.bits))
    rows = layer_stats(graph)
    summary = totals(rows)
    if args.json:
        json.dump({"model": graph.name, "layers": rows, "totals": summary, "notes": graph.notes}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    console = Console(width=max(Console().width, 160))
    console.print(_table(rows, summary, f"{args.model}  ({graph.name})"))
    if any(row.get("formats") for row in rows):
        console.print(_formats_table(rows))
    for note in graph.notes:
        console.print(f"note: {note}")
    return 0
