"""Graph passes and flows: small named transformations run in a declared order.

A pass does one job on the graph in place and names the passes that must have run
before it. A flow is an ordered list of passes; building one checks that every pass's
requirements come earlier in the list, so an ordering mistake fails at import time of
the flow rather than as a wrong graph later.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from fpgaflow.ir.graph import Graph


class GraphPass(ABC):
    """One transformation of the graph, named after what it does."""

    name: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def run(self, graph: Graph) -> None:
        """Transform graph in place."""


class Flow:
    """An ordered list of passes whose requirements are checked when the flow is built."""

    def __init__(self, name: str, passes: list[GraphPass]) -> None:
        done: set[str] = set()
        for graph_pass in passes:
            missing = [req for req in graph_pass.requires if req not in done]
            if missing:
                raise ValueError(f"flow {name!r}: pass {graph_pass.name!r} needs {missing} to run before it")
            done.add(graph_pass.name)
        self.name = name
        self.passes = passes

    def run(self, graph: Graph) -> Graph:
        for graph_pass in self.passes:
            graph_pass.run(graph)
        graph.check()
        return graph
