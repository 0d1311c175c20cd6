"""`fpgaflow boards`: the shipped boards with their part, clock, DMA width and resources."""

from __future__ import annotations

import argparse

from fpgaflow.boards import Board, capacity, known_boards


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("boards", help="list the boards a build can target, with their resources")
    parser.set_defaults(handler=run)


def board_table(boards: list[Board]) -> str:
    """A plain-text table, one board a row: the facts a user picks a board by."""
    header = ["board", "aliases", "part", "MHz", "DMA bits", "LUT", "FF", "BRAM18", "URAM", "DSP"]
    rows = [header]
    for board in boards:
        counts = capacity(board)
        rows.append([
            board.name, ", ".join(board.aliases) or "-", board.part, f"{board.clock_mhz:g}",
            str(board.dma_data_width), *(str(counts[kind]) for kind in ("lut", "ff", "bram18", "uram", "dsp")),
        ])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def run(args: argparse.Namespace) -> int:
    print(board_table(known_boards()))
    return 0
