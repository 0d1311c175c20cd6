"""Per-layer word lengths: which layers may have their own widths, reading and writing them as `--config` YAML.

A layer's `weight_bits` is the width of its weight codes (Conv2d, ConvTranspose2d, Dense,
ScaleShift); its `activation_bits` the width of its output tensor, for every layer that
chooses a new output format (those and Add, Concat, AvgPool, GlobalAvgPool). Layers that
move or clamp codes (MaxPool, Flatten, Pad, Relu, ChannelPermute, Upsample) keep their
input's format and so take no width. Biases and accumulators follow the contract
(docs/fixed-point.md): they are derived from the chosen formats, never set. A layer the
file does not name, and the graph input, use `--bits`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from fpgaflow.errors import UserError
from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import Add, AvgPool, Concat, Conv2d, ConvTranspose2d, Dense, GlobalAvgPool, ScaleShift

MIN_LAYER_BITS = 2
MAX_LAYER_BITS = 16
"""Per-layer widths are 2..16: below 2 a signed code holds only -1 and 0; above 16 a word stops being narrow."""

WIDTH_KEYS = ("weight_bits", "activation_bits")
WEIGHTED_LAYERS = (Conv2d, ConvTranspose2d, Dense, ScaleShift)
"""Layers with weight codes (so a `weight_bits`)."""
REFORMATTING_LAYERS = (*WEIGHTED_LAYERS, Add, Concat, AvgPool, GlobalAvgPool)
"""Layers that choose their output's format (so an `activation_bits`)."""


@dataclass(frozen=True)
class LayerWidths:
    """One layer's widths; None means `--bits` (the quantizer's default width)."""

    weight_bits: int | None = None
    activation_bits: int | None = None

    def to_dict(self) -> dict[str, int]:
        return {key: value for key in WIDTH_KEYS if (value := getattr(self, key)) is not None}


WidthConfig = dict[str, LayerWidths]
"""Layer name -> its widths: what `build --config` reads and `fpgaflow quantize` writes."""


def check_width(value: object, what: str) -> int:
    """A per-layer width from user input: a whole number in 2..16."""
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_LAYER_BITS <= value <= MAX_LAYER_BITS:
        raise UserError(f"{what} must be a whole number of bits from {MIN_LAYER_BITS} to {MAX_LAYER_BITS}, got {value!r}")
    return value


def read_widths_config(path: Path) -> WidthConfig:
    """The `weight_bits`/`activation_bits` of every layer of a --config YAML file (layers without them left out).

    Call after fpgaflow.flow.parallelism.read_parallelism_config has checked that the file
    is YAML with a `layers:` mapping. A key other than parallelism and the two widths is an error.
    """
    data = yaml.safe_load(path.read_text()) or {}
    layers = data.get("layers", {}) or {}
    known = ("parallelism", *WIDTH_KEYS)
    config: WidthConfig = {}
    for name, settings in layers.items():
        unknown = sorted(str(key) for key in settings if key not in known)
        if unknown:
            raise UserError(f"config file {path}: layer {name} has unknown settings {', '.join(unknown)}; "
                            f"use {', '.join(known)}")
        values = {key: check_width(settings[key], f"{key} of layer {name} in {path}") for key in WIDTH_KEYS if key in settings}
        if values:
            config[str(name)] = LayerWidths(**values)
    return config


def check_widths_for_graph(config: Mapping[str, LayerWidths], graph: Graph, where: str) -> None:
    """UserError when a width names a layer that is not in the graph or cannot take that width."""
    layers = {layer.name: layer for layer in graph.layers}
    for name in sorted(config):
        layer = layers.get(name)
        if layer is None:
            takers = ", ".join(layer.name for layer in graph.layers if isinstance(layer, REFORMATTING_LAYERS))
            raise UserError(f"{where} sets widths of unknown layer {name}; the layers with widths are {takers}")
        if config[name].weight_bits is not None and not isinstance(layer, WEIGHTED_LAYERS):
            raise UserError(f"{where}: layer {name} ({layer.OP}) has no weights, so no weight_bits")
        if config[name].activation_bits is not None and not isinstance(layer, REFORMATTING_LAYERS):
            raise UserError(f"{where}: layer {name} ({layer.OP}) keeps its input's format, so no activation_bits; "
                            "set it on the layer before")


def widths_yaml(config: Mapping[str, LayerWidths]) -> str:
    """The widths as `--config` YAML text, layers in the given (graph) order."""
    layers = {name: widths.to_dict() for name, widths in config.items() if widths.to_dict()}
    return yaml.safe_dump({"layers": layers}, sort_keys=False, default_flow_style=None)
