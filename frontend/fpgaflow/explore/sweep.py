"""A whole sweep: check the inputs, run the points not yet recorded on Ray, check the front, write the report.

What `fpgaflow explore` runs and what the tests and the benchmark call. Every input is
checked before Ray starts (one UserError line for a bad file, board or space), and Ray
is not started at all when every point is already in points.jsonl.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fpgaflow.boards import load_board
from fpgaflow.errors import UserError
from fpgaflow.explore.front import OBJECTIVES, pareto_front
from fpgaflow.explore.point import Inputs, Outcome, check_point, run_point
from fpgaflow.explore.ray_pool import ray_session, run_tasks
from fpgaflow.explore.report import SweepSetup, render_markdown, render_plots
from fpgaflow.explore.space import FrontChecks, Point, point_key, read_space
from fpgaflow.explore.store import FRONT_CHECKS, POINT_DIR, SweepFolder
from fpgaflow.progress import TaskCounter
from fpgaflow.prune.load import load_graph, load_split


@dataclass(frozen=True)
class SweepRequest:
    model: Path
    board: str
    data: Path
    space: Path
    out: Path
    val: Path | None = None
    address: str | None = None
    max_parallel: int | None = None
    seed: int = 0
    retry_failed: bool = False
    verify: int | None = None
    """--verify: frames simulated per front point, instead of the space file's `front: verify`."""
    timing: bool = False
    """--timing: nextpnr on the front points, as if the space file said `front: {timing: true}`."""


@dataclass(frozen=True)
class SweepResult:
    records: list[dict[str, Any]]
    """Every point of the space, in the space file's order."""
    ran: list[str]
    """The keys this run computed (the others came from points.jsonl)."""


def _read(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise UserError(f"{what} {path} does not exist")
    return path.read_bytes()


def _check_files(request: SweepRequest) -> Inputs:
    """The model and data as bytes, after the checks `fpgaflow prune` would make (model imports, data fits it)."""
    if request.model.suffix.lower() != ".onnx":
        raise UserError(f"model {request.model} must be an .onnx file")
    model = _read(request.model, "model file")
    graph = load_graph(request.model)
    shape = tuple(graph.tensors[graph.inputs[0]].shape)
    classes = int(graph.tensors[graph.outputs[0]].shape[0])
    load_split(request.data, shape, classes, "training data")
    if request.val is not None:
        load_split(request.val, shape, classes, "validation data")
    board = load_board(request.board)
    return Inputs(model, _read(request.data, "training data"), _read(request.val, "validation data") if request.val else None,
                  board.name)


def _failed(key: str, point: Point, error: str) -> Outcome:
    return Outcome({"key": key, "settings": point.settings(), "status": "failed", "error": error}, {})


def explore(request: SweepRequest) -> SweepResult:
    if request.max_parallel is not None and request.max_parallel < 1:
        raise UserError(f"--max-parallel {request.max_parallel} must be at least 1")
    if request.verify is not None and request.verify < 0:
        raise UserError(f"--verify {request.verify} must be 0 (no simulation) or a number of frames")
    space = read_space(request.space, request.seed)
    inputs = _check_files(request)
    context = {
        "board": inputs.board,
        "model_sha256": hashlib.sha256(inputs.model).hexdigest(),
        "train_sha256": hashlib.sha256(inputs.train).hexdigest(),
        "val_sha256": hashlib.sha256(inputs.val).hexdigest() if inputs.val is not None else None,
    }
    keyed = {point_key(p.settings(), context): p for p in space.points}
    folder = SweepFolder(request.out, {"model": request.model.name, "board": inputs.board})
    recorded = folder.records()
    todo = [k for k in keyed if k not in recorded or (request.retry_failed and recorded[k].get("status") != "ok")]
    if todo:
        _run_points(request, folder, keyed, todo, inputs, done_before=len(keyed) - len(todo),
                    failed_before=sum(recorded[k].get("status") != "ok" for k in keyed if k in recorded and k not in todo))
    recorded = folder.records()
    records = [recorded[k] for k in keyed]
    wanted = FrontChecks(space.front.verify if request.verify is None else request.verify, request.timing or space.front.timing)
    checks = _front_checks(request, folder, keyed, records, wanted, inputs) if wanted.verify or wanted.timing else {}
    setup = SweepSetup(str(request.model), request.board, str(request.data), str(request.val) if request.val else None,
                       str(request.out))
    folder.write("report.md", render_markdown(records, keyed, setup, checks).encode())
    for name, data in render_plots(records, keyed).items():
        folder.write(name, data)
    return SweepResult(records, todo)


def _run_points(request: SweepRequest, folder: SweepFolder, keyed: dict[str, Point], todo: list[str], inputs: Inputs,
                done_before: int, failed_before: int) -> None:
    """Run the points `todo` on Ray, appending each record to points.jsonl as it arrives."""
    state = {"done": done_before, "failed": failed_before, "running": 0}
    with TaskCounter("explore: points", len(keyed)) as counter, ray_session(request.address, request.max_parallel) as slots:
        counter.update(state["done"], 0, state["failed"])

        def started(running: int) -> None:
            state["running"] = running
            counter.update(state["done"], running, state["failed"])

        def finished(index: int, outcome: Outcome | None, error: str | None) -> None:
            key = todo[index]
            outcome = outcome if outcome is not None else _failed(key, keyed[key], error or "no result")
            folder.keep(key, outcome.files)
            folder.append(outcome.record)
            state["done"] += 1
            state["failed"] += outcome.record["status"] != "ok"
            counter.update(state["done"], state["running"], state["failed"])

        run_tasks(run_point, [(key, keyed[key]) for key in todo], inputs, slots, finished, started)


def _front_checks(request: SweepRequest, folder: SweepFolder, keyed: dict[str, Point], records: list[dict[str, Any]],
                  checks_wanted: FrontChecks, inputs: Inputs) -> dict[str, dict[str, Any]]:
    """Verify/timing runs for the front points, each once per choice of checks (front_checks.jsonl, like points.jsonl)."""
    front = list(dict.fromkeys(r["key"] for o in OBJECTIVES for r in pareto_front(records, o)))
    wanted = {"verify": checks_wanted.verify, "timing": checks_wanted.timing}
    done = {k: r for k, r in folder.records(FRONT_CHECKS).items() if r.get("checks") == wanted}
    todo = [k for k in front if k not in done]
    if todo:
        calls = [(k, keyed[k], folder.path(f"{POINT_DIR}/{k}/pruned.onnx").read_bytes(), checks_wanted) for k in todo]
        with TaskCounter("explore: front checks", len(todo)) as counter, ray_session(request.address, request.max_parallel) as slots:
            count = {"done": 0, "failed": 0}

            def finished(index: int, result: dict[str, Any] | None, error: str | None) -> None:
                record = result if result is not None else {"key": todo[index], "status": "failed", "error": error}
                record["checks"] = wanted
                folder.append(record, FRONT_CHECKS)
                count["done"] += 1
                count["failed"] += record["status"] != "ok"
                counter.update(count["done"], 0, count["failed"])

            run_tasks(check_point, calls, inputs, slots, finished)
        done = {k: r for k, r in folder.records(FRONT_CHECKS).items() if r.get("checks") == wanted}
    return {k: done[k] for k in front if k in done}
