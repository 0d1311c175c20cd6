"""Board descriptions, read from the shipped boards/<name>.yaml files.

Board facts (part, clock, resources, DMA width) live only in those YAML files, so adding
a board is adding a file; this module finds a board by its name or an alias and checks
that the file has every field the generator and the report read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from fpgaflow.errors import UserError
from fpgaflow.resources import share_dir

RESOURCE_KINDS = ("lut", "ff", "bram18", "dsp")
"""The resources every board file lists and every report compares against."""


@dataclass(frozen=True)
class Board:
    """One FPGA board: its part, fabric clock, DMA stream width and resource capacity."""

    name: str
    aliases: tuple[str, ...]
    part: str
    clock_mhz: float
    dma_data_width: int
    resources: dict[str, int]

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "part": self.part,
            "clock_mhz": self.clock_mhz,
            "dma_data_width": self.dma_data_width,
            "resources": dict(sorted(self.resources.items())),
        }


def _board_files() -> list[Path]:
    return sorted(share_dir("boards").glob("*.yaml"))


def _parse(path: Path) -> Board:
    """A Board from one YAML file; a malformed shipped file is a bug, so it raises ValueError."""
    data = yaml.safe_load(path.read_text())
    try:
        resources = {kind: int(data["resources"][kind]) for kind in RESOURCE_KINDS}
        board = Board(
            name=str(data["name"]),
            aliases=tuple(str(a) for a in data.get("aliases", [])),
            part=str(data["part"]),
            clock_mhz=float(data["clock_mhz"]),
            dma_data_width=int(data["dma_data_width"]),
            resources=resources,
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"board file {path} lacks field {error}") from None
    if board.dma_data_width % 8 or board.dma_data_width <= 0:
        raise ValueError(f"board file {path}: dma_data_width {board.dma_data_width} is not a whole number of bytes")
    return board


def known_boards() -> list[Board]:
    """Every shipped board, sorted by name."""
    return sorted((_parse(path) for path in _board_files()), key=lambda b: b.name)


def load_board(name: str) -> Board:
    """The board called `name` (or with `name` among its aliases); UserError listing the known ones otherwise."""
    boards = known_boards()
    wanted = name.strip().lower()
    for board in boards:
        if wanted == board.name.lower() or wanted in (a.lower() for a in board.aliases):
            return board
    listing = ", ".join(
        f"{b.name} (alias {', '.join(b.aliases)})" if b.aliases else b.name for b in boards
    )
    raise UserError(f"unknown board {name!r}; known boards: {listing}")
