"""The design space of `fpgaflow explore`: read space.yaml and list its points.

A space is the product of pruning settings (method with its options, and target), width
settings and parallelism policies; every combination is one point, built and measured
on its own. The file is checked whole before anything runs, each mistake one UserError
line. A point's settings are plain JSON (what points.jsonl records and what its key is
the hash of), so a point means the same thing on every node and in every later run.

```yaml
epochs: 2                 # pruning + fine-tuning epochs per point (default 4)
lr: 0.001                 # Adam learning rate (default 1e-3)
methods:                  # fpgaflow.prune method names, or a mapping with its options
  - magnitude
  - {method: structured, granularity: kernel}
  - {method: taper, cost: cycles, parallelism: 4}
  - none                  # the unpruned model (targets do not apply)
targets: [0.5, 0.75]      # fraction of conv MACs removed, each in (0, 1)
widths:                   # one of the WIDTH_KINDS per entry
  - {bits: 8}
  - {bits: 6}
parallelism: [balanced, 4]   # the build's policies: balanced, or P lanes on every layer
front:                    # optional checks of the points on the Pareto front
  verify: 16              # frames simulated in Verilator against the reference
  timing: false           # nextpnr fmax of every engine (minutes per engine)
```
"""

from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fpgaflow.errors import UserError
from fpgaflow.explore.widths import WidthSetting, parse_width
from fpgaflow.prune.methods import METHODS, method_class
from fpgaflow.prune.structured import GRANULARITIES
from fpgaflow.flow.parallelism import check_parallelism

UNPRUNED = "none"
"""The method name of the unpruned baseline point."""
BALANCED = "balanced"
"""The build's default parallelism policy (the balancer); an integer means P on every compute layer."""
DEFAULT_EPOCHS = 4
DEFAULT_LR = 1e-3
KEYS = frozenset({"epochs", "lr", "methods", "targets", "widths", "parallelism", "front"})
_METHOD_FLAGS = frozenset({"seed", "evaluate"})
"""Pruner keyword arguments the sweep sets itself, not the space."""


@dataclass(frozen=True)
class Method:
    """A pruning method by its CLI name and its options (what `fpgaflow prune --option` would pass)."""

    name: str
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        return self.name + "".join(f" {k}={v}" for k, v in self.options)


@dataclass(frozen=True)
class FrontChecks:
    """What the sweep adds for the points on the front: Verilator frames, nextpnr timing."""

    verify: int = 0
    timing: bool = False


@dataclass(frozen=True)
class Point:
    """One design: how the model is pruned, quantized and parallelized; its settings are its identity."""

    method: Method
    target: float
    width: WidthSetting
    parallelism: int | str
    epochs: int
    lr: float
    seed: int

    def settings(self) -> dict[str, Any]:
        """Plain JSON of every setting (points.jsonl's `settings`, the input of the key)."""
        return {
            "method": self.method.name,
            "options": dict(self.method.options),
            "target": self.target,
            "width": self.width.as_dict(),
            "parallelism": self.parallelism,
            "epochs": self.epochs,
            "lr": self.lr,
            "seed": self.seed,
        }

    def label(self) -> str:
        prune = "unpruned" if self.method.name == UNPRUNED else f"{self.method.label} @ {self.target:g}"
        return f"{prune}, {self.width.label}, P {self.parallelism}"


@dataclass(frozen=True)
class Space:
    points: tuple[Point, ...]
    front: FrontChecks


def point_key(settings: dict[str, Any], context: dict[str, Any]) -> str:
    """A stable name of a point: the hash of its settings and of what it is built from (model, data, board).

    Canonical JSON (sorted keys), so the same point gets the same key in every run and on
    every machine; a changed model or data file gives new keys, never stale results.
    """
    text = json.dumps({"settings": settings, "context": context}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fail(path: Path, message: str) -> UserError:
    return UserError(f"space file {path}: {message}")


def _method(entry: object, path: Path) -> Method:
    """A `methods:` entry: a name, or {method: NAME, option: value, ...} checked against the method's keywords."""
    if isinstance(entry, str):
        name, options = entry, {}
    elif isinstance(entry, dict) and isinstance(entry.get("method"), str):
        name, options = entry["method"], {str(k): v for k, v in entry.items() if k != "method"}
    else:
        raise _fail(path, f"methods entry {entry!r} must be a method name or a mapping with 'method: NAME'")
    if name == UNPRUNED:
        if options:
            raise _fail(path, f"method {UNPRUNED} (the unpruned model) takes no options")
        return Method(name)
    if name not in METHODS:
        raise _fail(path, f"unknown pruning method {name!r}; choose one of {', '.join(sorted(METHODS))} or {UNPRUNED}")
    parameters = inspect.signature(method_class(name).__init__).parameters.items()
    accepted = sorted(n for n, p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY and n not in _METHOD_FLAGS)
    for key, value in options.items():
        if key not in accepted:
            raise _fail(path, f"method {name} has no option {key!r}; its options are {', '.join(accepted) or 'none'}")
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise _fail(path, f"option {key} of method {name} must be a number or a word, got {value!r}")
    if "granularity" in options and options["granularity"] not in GRANULARITIES:
        raise _fail(path, f"granularity {options['granularity']!r} is not one of {', '.join(GRANULARITIES)}")
    return Method(name, tuple(sorted(options.items())))


def _list(data: dict, key: str, path: Path) -> list:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise _fail(path, f"'{key}' must be a non-empty list")
    return value


def _target(value: object, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        raise _fail(path, f"target {value!r} is outside (0, 1); give the fraction of conv MACs to remove, e.g. 0.75")
    return float(value)


def _parallelism(value: object, path: Path) -> int | str:
    if value == BALANCED:
        return BALANCED
    return check_parallelism(value, f"space file {path}: parallelism {BALANCED!r} or a number of lanes")


def _front(value: object, path: Path) -> FrontChecks:
    if value is None:
        return FrontChecks()
    if not isinstance(value, dict) or set(value) - {"verify", "timing"}:
        raise _fail(path, "'front' must be a mapping with 'verify: FRAMES' and/or 'timing: true'")
    verify, timing = value.get("verify", 0), value.get("timing", False)
    if isinstance(verify, bool) or not isinstance(verify, int) or verify < 0:
        raise _fail(path, f"front verify {verify!r} must be a number of frames (0: none)")
    if not isinstance(timing, bool):
        raise _fail(path, f"front timing {timing!r} must be true or false")
    return FrontChecks(verify, timing)


def _positive(data: dict, key: str, default: float, kind: type, path: Path) -> Any:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)) or value <= 0:
        raise _fail(path, f"'{key}' must be a positive {'whole number' if kind is int else 'number'}, got {value!r}")
    return kind(value)


def read_space(path: Path, seed: int) -> Space:
    """Every point of the space file, in the file's order (methods, then targets, widths, policies)."""
    if not path.is_file():
        raise UserError(f"space file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise _fail(path, f"not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise _fail(path, "must be a mapping with methods, targets, widths and parallelism")
    unknown = sorted(set(map(str, data)) - KEYS)
    if unknown:
        raise _fail(path, f"unknown keys {', '.join(unknown)}; the keys are {', '.join(sorted(KEYS))}")
    methods = [_method(entry, path) for entry in _list(data, "methods", path)]
    pruned = [m for m in methods if m.name != UNPRUNED]
    targets = [_target(t, path) for t in _list(data, "targets", path)] if pruned or "targets" in data else []
    widths = [parse_width(entry, f"space file {path}") for entry in _list(data, "widths", path)]
    listed = data.get("parallelism", [BALANCED])
    policies = [_parallelism(p, path) for p in (listed if isinstance(listed, list) else [listed])]
    if not policies:
        raise _fail(path, f"'parallelism' must list at least one policy ({BALANCED} or a number of lanes)")
    epochs = _positive(data, "epochs", DEFAULT_EPOCHS, int, path)
    lr = _positive(data, "lr", DEFAULT_LR, float, path)
    points: list[Point] = []
    for method in methods:
        for target in [0.0] if method.name == UNPRUNED else targets:
            for width in widths:
                for policy in policies:
                    points.append(Point(method, target, width, policy, epochs, lr, seed))
    if len({json.dumps(p.settings(), sort_keys=True) for p in points}) != len(points):
        raise _fail(path, "lists the same point twice; remove the repeated method, target, width or policy")
    return Space(tuple(points), _front(data.get("front"), path))
