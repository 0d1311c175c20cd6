"""The registry of methods by their CLI names."""

from __future__ import annotations

from fpgaflow.errors import UserError
from fpgaflow.prune.base import PruningMethod
from fpgaflow.prune.importance import ImportancePruning
from fpgaflow.prune.kep import KernelElementPruning
from fpgaflow.prune.l1_filter import L1FilterPruning
from fpgaflow.prune.magnitude import MagnitudePruning
from fpgaflow.prune.spp import StructuredProbabilisticPruning
from fpgaflow.prune.structured import AnwarStructured
from fpgaflow.prune.taper import TaperPruning

METHODS: dict[str, type[PruningMethod]] = {cls.name: cls for cls in (MagnitudePruning, L1FilterPruning, KernelElementPruning, AnwarStructured, StructuredProbabilisticPruning, TaperPruning, ImportancePruning)}


def method_class(name: str) -> type[PruningMethod]:
    if name not in METHODS:
        raise UserError(f"unknown pruning method {name!r}; choose one of {', '.join(sorted(METHODS))}")
    return METHODS[name]
