"""A count of the four resources a board lists, whichever back end estimated or measured it,
and the block RAMs a memory of a given shape takes (both back ends size their memories so).

The RTL back end's model (fpgaflow.backends.rtl.resource_model), the Yosys count and the
report all add and compare these; keeping the type here lets the report and the balancer
work with resources without importing a back end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import ceil


BRAM18_MODES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
"""RAMB18E1 (depth, width) aspect ratios (512 x 36 is the simple dual-port mode, which Yosys uses for ROMs too)."""


@dataclass(frozen=True)
class Resources:
    """Counts of the four resources a board lists (fpgaflow.boards.RESOURCE_KINDS)."""

    lut: int = 0
    ff: int = 0
    bram18: int = 0
    dsp: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.lut + other.lut, self.ff + other.ff, self.bram18 + other.bram18, self.dsp + other.dsp)

    def as_dict(self) -> dict[str, int]:
        return {"bram18": self.bram18, "dsp": self.dsp, "ff": self.ff, "lut": self.lut}


def total(items: list[Resources]) -> Resources:
    result = Resources()
    for item in items:
        result = result + item
    return result


def overflow(used: Resources, available: Mapping[str, int]) -> list[str]:
    """The resource kinds where `used` exceeds the board's capacity, sorted."""
    counts = used.as_dict()
    return sorted(kind for kind, count in counts.items() if count > available.get(kind, 0))


def bram18_count(depth: int, width: int) -> int:
    """RAMB18E1 blocks holding a depth x width memory in its best aspect ratio."""
    if depth < 1 or width < 1:
        return 0
    return min(ceil(width / w) * ceil(depth / d) for d, w in BRAM18_MODES)
