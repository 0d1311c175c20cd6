"""Width settings of a sweep: how a point chooses its word lengths.

A width setting is one `widths:` entry of the space file, a one-key mapping such as
`{bits: 8}` (one width everywhere) or `{tolerance: 0.5}` (per-layer widths searched by
fpgaflow.wordlength within 0.5 percentage points of the float accuracy). Each kind is a
small class with the members of WidthSetting and a parser registered in WIDTH_KINDS under
its key; the sweep only ever calls those members, so a new kind is one class and one line.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from fpgaflow.boards import Board
from fpgaflow.errors import UserError
from fpgaflow.ir.graph import Graph
from fpgaflow.prune.train import Split
from fpgaflow.quant.quantize import MAX_BITS, MIN_BITS, quantize
from fpgaflow.quant.widths import widths_yaml
from fpgaflow.wordlength.search import search_widths

WIDTHS_FILE = "widths.yaml"
"""The per-layer widths a searched point chose, kept beside its pruned model (a `build --config` file)."""


@dataclass(frozen=True)
class Quantized:
    """A point's quantized graph and, for per-layer widths, the `--config` YAML that repeats them."""

    graph: Graph
    config_yaml: str | None = None


class WidthSetting(Protocol):
    """How a point quantizes its (pruned, float) graph, and how a user repeats it by hand."""

    label: str
    """Short text for tables and plots, e.g. '8 bits'."""

    bits: int
    """The nominal width the build records (report.json `bits`)."""

    def as_dict(self) -> dict[str, Any]:
        """The space-file entry it was read from, as plain JSON (part of the point's key)."""
        ...

    def quantize(self, graph: Graph, calibration: np.ndarray, held_out: Split, board: Board) -> Quantized:
        """The quantized graph the build generates (`held_out` and `board` for kinds that search)."""
        ...

    def build_flags(self, point_folder: str) -> list[str]:
        """The `fpgaflow build` options that choose the same widths (files kept in `point_folder`)."""
        ...

    def quantize_command(self, model: str, data: str, val: str | None) -> str | None:
        """The command that makes the widths file build_flags names (into the working folder, as the report's
        prune command makes pruned.onnx), or None when the flags say it all."""
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

    def quantize(self, graph: Graph, calibration: np.ndarray, held_out: Split, board: Board) -> Quantized:
        return Quantized(quantize(graph, calibration, self.bits))

    def build_flags(self, point_folder: str) -> list[str]:
        return ["--bits", str(self.bits)]

    def quantize_command(self, model: str, data: str, val: str | None) -> str | None:
        return None


@dataclass(frozen=True)
class SearchedWidths:
    """Per-layer widths from `fpgaflow quantize --tolerance T` (start width 8), measured on the point's held-out data."""

    tolerance: float
    bits: int = 8

    @property
    def label(self) -> str:
        return f"searched, {self.tolerance:g} pt"

    def as_dict(self) -> dict[str, Any]:
        return {"tolerance": self.tolerance}

    def quantize(self, graph: Graph, calibration: np.ndarray, held_out: Split, board: Board) -> Quantized:
        result = search_widths(graph, calibration, held_out.x, held_out.y, self.tolerance, board, bits=self.bits)
        return Quantized(quantize(graph, calibration, self.bits, result.widths), widths_yaml(result.widths))

    def build_flags(self, point_folder: str) -> list[str]:
        return ["--bits", str(self.bits), "--config", f"{point_folder}/{WIDTHS_FILE}"]

    def quantize_command(self, model: str, data: str, val: str | None) -> str | None:
        return shlex.join(["fpgaflow", "quantize", model, "--data", data, "--val", val or data, "--tolerance",
                           f"{self.tolerance:g}", "--bits", str(self.bits), "--out", WIDTHS_FILE])


def _uniform(value: object, where: str) -> UniformBits:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_BITS <= value <= MAX_BITS:
        raise UserError(f"{where}: bits {value!r} must be a whole number in {MIN_BITS}..{MAX_BITS}")
    return UniformBits(value)


def _searched(value: object, where: str) -> SearchedWidths:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise UserError(f"{where}: tolerance {value!r} must be a number of percentage points in 0..100")
    return SearchedWidths(float(value))


WIDTH_KINDS: dict[str, Callable[[object, str], WidthSetting]] = {"bits": _uniform, "tolerance": _searched}
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
