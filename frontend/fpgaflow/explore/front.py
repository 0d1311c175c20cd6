"""Pareto fronts of a sweep: the points no other point beats on both accuracy and a hardware figure.

Only points that built and fit the board (the build's resource model reports no
overflow) compete: a design that does not fit is no trade-off. A point is on a front
when no other point is at least as good on both axes and better on one; points with
equal figures are all kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Objective:
    """A hardware axis against accuracy: where to read it in a record, and which way is better."""

    name: str
    label: str
    higher_is_better: bool

    def value(self, record: dict[str, Any]) -> float:
        if self.name in record["resources"]:
            return float(record["resources"][self.name])
        return float(record[self.name])


OBJECTIVES = (
    Objective("frames_per_second", "frames/s at the board clock (model)", True),
    Objective("lut", "LUTs (model)", False),
    Objective("weight_bits_stored", "weight memory, bits stored", False),
)


def fits(record: dict[str, Any]) -> bool:
    """Built, and within the board by the build's resource model."""
    return record.get("status") == "ok" and not record["overflow"]


def pareto_front(records: list[dict[str, Any]], objective: Objective) -> list[dict[str, Any]]:
    """The fitting records on the accuracy/objective front, best hardware figure first."""
    sign = 1.0 if objective.higher_is_better else -1.0
    candidates = [(r["accuracy"], sign * objective.value(r), r) for r in records if fits(r)]
    front = [
        (acc, hw, r) for acc, hw, r in candidates
        if not any(a >= acc and h >= hw and (a > acc or h > hw) for a, h, _ in candidates)
    ]
    return [r for _, _, r in sorted(front, key=lambda item: (-item[1], -item[0], item[2]["key"]))]
