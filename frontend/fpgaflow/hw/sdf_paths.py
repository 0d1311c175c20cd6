"""The longest register-to-register path of a placed design, read from nextpnr's SDF.

nextpnr prints a critical path only after routing, and routing the large engines takes hours
(router2 on two cores). After placement it can still write an SDF whose net delays are its
placement estimates (the same estimates behind its "Max frequency" line after placement).
This module walks that SDF: a path starts at a clocked output (an IOPATH from a CLK pin: the
clock-to-out), follows net delays (INTERCONNECT) and cell delays (IOPATH), and ends at a pin
with a setup check (SETUPHOLD against a clock). The longest such path is the critical path
the estimate stands for. Delays are the SDF's maximum corner, in picoseconds.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

_CELL = re.compile(r'\(CELLTYPE "([^"]*)"\)\s*\(INSTANCE ([^)]*)\)')
_INTERCONNECT = re.compile(r"\(INTERCONNECT (\S+) (\S+) (\([^)]*\))")
_IOPATH = re.compile(r"\(IOPATH (\S+) (\S+) (\([^)]*\))")
_SETUP = re.compile(r"\(SETUPHOLD \(\w+ (\S+)\) \(posedge (\S+)\) (\([^)]*\))")
_UNREACHABLE = -(1 << 60)


@dataclass(frozen=True)
class Path:
    """A register-to-register path: its pins ("instance/pin") with their arrival times (ps)."""

    pins: list[tuple[str, int]]
    total_ps: int
    logic_ps: int
    routing_ps: int

    @property
    def fmax_mhz(self) -> float:
        return 1e6 / self.total_ps if self.total_ps > 0 else float("inf")


@dataclass
class TimingGraph:
    """Pins joined by delays: net arcs, cell arcs, clocked launches and setup checks."""

    arcs: dict[str, list[tuple[str, int, bool]]]  # pin -> [(next pin, delay, is a net)]
    launches: dict[str, int]                       # clocked output pin -> clock-to-out
    setups: dict[str, int]                         # checked input pin -> setup time


def _max_corner(triple: str) -> int:
    """The max of an SDF "(min:typ:max)" delay."""
    return int(triple.strip("()").split(":")[-1])


def _unescape(name: str) -> str:
    return name.replace("\\", "")


def read_sdf(text: str) -> TimingGraph:
    arcs: dict[str, list[tuple[str, int, bool]]] = defaultdict(list)
    launches: dict[str, int] = {}
    setups: dict[str, int] = {}
    for block in re.split(r"\n\s*\(CELL\b", text):
        header = _CELL.search(block)
        if header is None:
            continue
        instance = _unescape(header.group(2).strip())
        for start, end, delay in _INTERCONNECT.findall(block):
            arcs[_unescape(start)].append((_unescape(end), _max_corner(delay), True))
        for start, end, delay in _IOPATH.findall(block):
            pin = f"{instance}/{end}"
            if start.startswith("CLK"):
                launches[pin] = max(launches.get(pin, 0), _max_corner(delay))
            else:
                arcs[f"{instance}/{start}"].append((pin, _max_corner(delay), False))
        for pin, _clock, delay in _SETUP.findall(block):
            name = f"{instance}/{pin}"
            setups[name] = max(setups.get(name, 0), _max_corner(delay))
    return TimingGraph(dict(arcs), launches, setups)


def _longest_to_endpoint(graph: TimingGraph) -> tuple[dict[str, int], dict[str, tuple[str, int, bool] | None]]:
    """For every pin, the longest delay from it to a setup check (plus the setup), and the arc taken."""
    best: dict[str, int] = {}
    step: dict[str, tuple[str, int, bool] | None] = {}
    for root in graph.launches:
        stack = [(root, iter(graph.arcs.get(root, ())))]
        if root in best:
            continue
        best[root] = _UNREACHABLE  # on the stack: a combinational loop reads as unreachable
        while stack:
            pin, pending = stack[-1]
            advanced = False
            for arc in pending:
                if arc[0] not in best:
                    best[arc[0]] = _UNREACHABLE
                    stack.append((arc[0], iter(graph.arcs.get(arc[0], ()))))
                    advanced = True
                    break
            if advanced:
                continue
            stack.pop()
            value = graph.setups.get(pin, _UNREACHABLE)
            taken = None
            for arc in graph.arcs.get(pin, ()):
                reach = best[arc[0]]
                if reach > _UNREACHABLE and reach + arc[1] > value:
                    value, taken = reach + arc[1], arc
            best[pin], step[pin] = value, taken
    return best, step


def critical_path(graph: TimingGraph) -> Path | None:
    """The longest launch-to-setup path, or None when no launch reaches a setup check."""
    best, step = _longest_to_endpoint(graph)
    totals = [(best[pin] + clock_to_out, pin) for pin, clock_to_out in graph.launches.items() if best[pin] > _UNREACHABLE]
    if not totals:
        return None
    total, pin = max(totals)
    arrival = graph.launches[pin]
    pins, logic, routing = [(pin, arrival)], arrival, 0
    while (arc := step.get(pin)) is not None:
        pin, arrival = arc[0], arrival + arc[1]
        pins.append((pin, arrival))
        if arc[2]:
            routing += arc[1]
        else:
            logic += arc[1]
    return Path(pins, total, logic + graph.setups.get(pin, 0), routing)
