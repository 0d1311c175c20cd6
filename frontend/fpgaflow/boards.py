"""Board descriptions, read from the shipped boards/<name>.yaml files.

Board facts (part, board part, clock, resources, DMA width, the processing system's IP and
ports) live only in those YAML files, so adding a board is adding a file; this module finds
a board by its name or an alias and checks that the file has every field the generator, the
report and the Vivado scripts (fpgaflow.deploy) read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from fpgaflow.errors import UserError
from fpgaflow.package_data import share_dir

RESOURCE_KINDS = ("lut", "ff", "bram18", "dsp")
"""The resources every board file lists, the resource model counts and every report compares against."""
FAMILIES = ("zynq7", "zynquplus")
"""Device families: Zynq-7000 (DSP48E1, no UltraRAM) and Zynq UltraScale+ (DSP48E2, UltraRAM)."""


@dataclass(frozen=True)
class VivadoPorts:
    """How the block design reaches the board's processing system: its IP, ports, pins and properties."""

    ps_ip: str
    """IP name of the processing system (processing_system7, zynq_ultra_ps_e); the version comes from get_ipdefs."""
    data_port: str
    """High-performance slave port the DMA's memory side uses."""
    control_port: str
    """General-purpose master port that reaches the DMA's AXI-Lite registers."""
    clock_pin: str
    """Fabric clock output of the processing system."""
    reset_pin: str
    """Active-low fabric reset output."""
    port_clock_pins: tuple[str, ...]
    """Clock inputs of the two ports, driven by the fabric clock."""
    clock_property: str
    """Configuration property that sets the fabric clock in MHz."""
    data_width_property: str
    """Configuration property that sets the data port's width in bits."""
    enable: tuple[str, ...]
    """Configuration properties set to 1 (ports and clock/reset outputs the design uses)."""
    disable: tuple[str, ...] = ()
    """Configuration properties set to 0 (ports a board preset enables that the design leaves open)."""


@dataclass(frozen=True)
class Board:
    """One FPGA board: its part, fabric clock, DMA stream width and resource capacity."""

    name: str
    aliases: tuple[str, ...]
    part: str
    clock_mhz: float
    dma_data_width: int
    resources: dict[str, int]
    family: str = "zynq7"
    board_part: str = ""
    """Vivado board part; the project uses it where the board files are installed, else the part alone."""
    uram: int = 0
    """UltraRAM blocks (288 Kb each); zero on Zynq-7000."""
    vivado: VivadoPorts | None = None

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
        ports = data["vivado"]
        board = Board(
            name=str(data["name"]),
            aliases=tuple(str(a) for a in data.get("aliases") or []),
            part=str(data["part"]),
            clock_mhz=float(data["clock_mhz"]),
            dma_data_width=int(data["dma_data_width"]),
            resources=resources,
            family=str(data["family"]),
            board_part=str(data["board_part"]),
            uram=int(data["resources"]["uram"]),
            vivado=VivadoPorts(
                ps_ip=str(ports["ps_ip"]),
                data_port=str(ports["data_port"]),
                control_port=str(ports["control_port"]),
                clock_pin=str(ports["clock_pin"]),
                reset_pin=str(ports["reset_pin"]),
                port_clock_pins=tuple(str(p) for p in ports["port_clock_pins"]),
                clock_property=str(ports["clock_property"]),
                data_width_property=str(ports["data_width_property"]),
                enable=tuple(str(p) for p in ports["enable"]),
                disable=tuple(str(p) for p in ports.get("disable") or []),
            ),
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"board file {path} lacks field {error}") from None
    if board.family not in FAMILIES:
        raise ValueError(f"board file {path}: family {board.family!r} is not one of {', '.join(FAMILIES)}")
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
    raise UserError(f"unknown board {name!r}; known boards: {board_listing(boards)} (see `fpgaflow boards`)")


def board_listing(boards: list[Board]) -> str:
    """The boards on one line, each with its part and resources, for error messages."""
    return "; ".join(
        f"{b.name}{' (alias ' + ', '.join(b.aliases) + ')' if b.aliases else ''}: {b.part}, "
        + ", ".join(f"{count} {kind.upper()}" for kind, count in capacity(b).items())
        for b in boards
    )


def capacity(board: Board) -> dict[str, int]:
    """Every resource count of the board in a fixed order, UltraRAM included."""
    return {**{kind: board.resources[kind] for kind in ("lut", "ff", "bram18")}, "uram": board.uram, "dsp": board.resources["dsp"]}
