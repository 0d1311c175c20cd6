"""The generated top as a netlist of stages joined by AXI4-Stream streams, and its rendering.

A stage is one instance of a library module with its parameters and the streams on its
prefixed ports. The netlist gives each tensor of the graph a stream, converts the DMA
words to pixel beats at the input and back at the output, and splits a tensor read by
several layers (a residual branch) with a broadcast and a FIFO on each branch that is
sized so the branch can never stall the others. rtl/network_top.sv.j2 renders it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from fpgaflow.package_data import share_dir

TOP_TEMPLATE = "network_top.sv.j2"


@dataclass(frozen=True)
class Stream:
    """A valid/ready stream between two stage ports: <name>_tdata[width-1:0], _tvalid, _tready, _tlast."""

    name: str
    width: int


@dataclass(frozen=True)
class Tap:
    """One layer's stage inside the top: its output stream and the signal that marks its work."""

    layer: str
    tensor: str
    stream_out: str
    work: str = ""
    """Dotted path of a signal high in every cycle the stage's engine works ("" if not timed)."""

    def to_dict(self) -> dict[str, str]:
        return {"layer": self.layer, "tensor": self.tensor, "out": self.stream_out, "work": self.work}


@dataclass(frozen=True)
class Stage:
    """One module instance of the top."""

    instance: str
    module: str
    comment: str
    parameters: tuple[tuple[str, str], ...]
    ports: tuple[tuple[str, str], ...]
    """(port prefix, stream name) pairs, e.g. ("s_axis", "conv1_in")."""


@dataclass(frozen=True)
class Wire:
    """Two streams joined without a module: the sink takes the source's low bits, or gets zeros on
    top; or, with `slices`, the sink's slice k (slice_width bits) is the source's slice slices[k]."""

    source: Stream
    sink: Stream
    slices: tuple[int, ...] = ()
    slice_width: int = 0


@dataclass(frozen=True)
class Fanout:
    """One stream copied to several: a beat leaves when every sink takes it in the same cycle."""

    source: Stream
    sinks: tuple[Stream, ...]


@dataclass
class Netlist:
    """Streams and stages in the order they are declared and instantiated."""

    top: str
    model: str
    dma_width: int
    streams: dict[str, Stream] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    wires: list[Wire] = field(default_factory=list)
    fanouts: list[Fanout] = field(default_factory=list)
    input_stream: str = ""
    output_stream: str = ""

    def stream(self, name: str, width: int) -> str:
        """Declare a new stream and return its name; a name may be declared only once."""
        if name in self.streams:
            raise ValueError(f"stream {name!r} declared twice")
        if width < 1:
            raise ValueError(f"stream {name!r} has width {width}")
        self.streams[name] = Stream(name, width)
        return name

    def add(self, instance: str, module: str, comment: str, parameters: dict[str, int | str], ports: list[tuple[str, str]]) -> None:
        if "\n" in comment or "*/" in comment:
            raise ValueError(f"comment of stage {instance!r} must be one line")
        for _, stream in ports:
            if stream not in self.streams:
                raise ValueError(f"stage {instance!r} uses undeclared stream {stream!r}")
        values = tuple((name, _literal(value)) for name, value in parameters.items())
        self.stages.append(Stage(instance, module, comment, values, tuple(ports)))

    def wire(self, source: str, sink: str, slices: tuple[int, ...] = (), slice_width: int = 0) -> None:
        """Join two streams; with `slices`, a permutation of equal slices (both streams slices * width bits)."""
        if slices and not (sorted(slices) == list(range(len(slices)))
                           and self.streams[source].width == self.streams[sink].width == len(slices) * slice_width):
            raise ValueError(f"wire {source} -> {sink}: {slices} is not a permutation of {slice_width}-bit slices")
        self.wires.append(Wire(self.streams[source], self.streams[sink], tuple(slices), slice_width))

    def fanout(self, source: str, sinks: list[str]) -> None:
        self.fanouts.append(Fanout(self.streams[source], tuple(self.streams[s] for s in sinks)))

    @property
    def modules(self) -> list[str]:
        """Library modules the top instantiates, sorted."""
        return sorted({stage.module for stage in self.stages})


def _literal(value: int | str) -> str:
    """A SystemVerilog parameter value: integers as decimals, strings quoted (file names only)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"parameter value {value!r} must be an int or a str")
    if isinstance(value, str):
        if '"' in value or "\\" in value or "\n" in value:
            raise ValueError(f"string parameter {value!r} would not be a plain literal")
        return f'"{value}"'
    return str(value)


def _environment(rtl_dirs: Sequence[Path]) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(folder) for folder in rtl_dirs] or [str(share_dir("rtl"))]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render_top(netlist: Netlist, rtl_dirs: Sequence[Path] = ()) -> str:
    """The SystemVerilog text of the top module, from the first TOP_TEMPLATE on rtl_dirs (default: the shipped one)."""
    template = _environment(rtl_dirs).get_template(TOP_TEMPLATE)
    return template.render(
        top=netlist.top,
        model=netlist.model,
        dma_width=netlist.dma_width,
        streams=list(netlist.streams.values()),
        stages=netlist.stages,
        wires=netlist.wires,
        fanouts=netlist.fanouts,
        input_stream=netlist.input_stream,
        output_stream=netlist.output_stream,
    )
