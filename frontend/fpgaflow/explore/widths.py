"""Width settings of a sweep: how a point chooses its word lengths.

A width setting is one `widths:` entry of the space file, a one-key mapping such as
`{bits: 8}`. Each kind is a small class with the same four members (WidthSetting) and a
parser registered in WIDTH_KINDS under its key; the sweep only ever calls those members.

The extension point: a searched width (`{tolerance: 0.01}`, per-layer word lengths within
an accuracy tolerance) is one more class whose `quantize` calls the search and whose
`commands` give the `fpgaflow quantize --tolerance T` step, plus one line in WIDTH_KINDS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.ir.graph import Graph
from fpgaflow.quant.quantize import MAX_BITS, MIN_BITS, quantize


class WidthSetting(Protocol):
    """How a point quantizes its (pruned, float) graph, and how a user repeats it by hand."""

    label: str
    """Short text for tables and plots, e.g. '8 bits'."""

    bits: int
    """The nominal width the build records (report.json `bits`)."""

    def as_dict(self) -> dict[str, Any]:
        """The space-file entry it was read from, as plain JSON (part of the point's key)."""
        ...

    def quantize(self, graph: Graph, calibration: np.ndarray) -> Graph:
        """The quantized graph the build generates."""
        ...

    def build_flags(self) -> list[str]:
        """The `fpgaflow build` options that choose the same widths."""
        ...


@dataclass(frozen=True)
class UniformBits:
    """One width for weights and activations everywhere: `fpgaflow build --bits N`."""

    bits: int

    @property
    def label(self) -> str:
        return f"{self.bits} bits"

    def as_dict(self) -> dict[str, Any]:
        return {"bits": self.bits}

    def quantize(self, graph: Graph, calibration: np.ndarray) -> Graph:
        return quantize(graph, calibration, self.bits)

    def build_flags(self) -> list[str]:
        return ["--bits", str(self.bits)]


def _uniform(value: object, where: str) -> UniformBits:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_BITS <= value <= MAX_BITS:
        raise UserError(f"{where}: bits {value!r} must be a whole number in {MIN_BITS}..{MAX_BITS}")
    return UniformBits(value)


WIDTH_KINDS: dict[str, Callable[[object, str], WidthSetting]] = {"bits": _uniform}
"""Parsers of the width kinds by their key in the space file."""


def parse_width(entry: object, where: str) -> WidthSetting:
    """A `widths:` entry: a one-key mapping {kind: value}; a bare number means {bits: number}."""
    if isinstance(entry, int) and not isinstance(entry, bool):
        entry = {"bits": entry}
    if not isinstance(entry, dict) or len(entry) != 1:
        raise UserError(f"{where}: widths entry {entry!r} must be one of {', '.join(f'{{{k}: ...}}' for k in WIDTH_KINDS)}")
    (kind, value), = entry.items()
    if kind not in WIDTH_KINDS:
        raise UserError(f"{where}: unknown width kind {kind!r}; the kinds are {', '.join(WIDTH_KINDS)}")
    return WIDTH_KINDS[kind](value, where)
