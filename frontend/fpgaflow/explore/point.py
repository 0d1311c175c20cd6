"""One point of a sweep, start to finish, on whichever node runs it.

prune and fine-tune (fpgaflow.prune.run.prune_files, what `fpgaflow prune` runs), quantize
(the point's width setting), build with the model-only build (fpgaflow.pipeline.
build_design, what `fpgaflow build` runs without --verify/--synth), then measure the
accuracy of the quantized graph with the bit-accurate reference on the held-out data.
The hardware figures are the build's own report.json fields, copied, never recomputed.

Everything a point needs travels with it as bytes (the model and data files), and
everything it makes comes back as bytes (the pruned ONNX, report.json), so a node needs
no shared file system: it works in a temporary folder of its own.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fpgaflow.api import load_model
from fpgaflow.boards import load_board
from fpgaflow.errors import UserError
from fpgaflow.explore.space import BALANCED, UNPRUNED, FrontChecks, Point
from fpgaflow.explore.widths import WIDTHS_FILE
from fpgaflow.inputs import load_batch
from fpgaflow.outdir import OutputDir
from fpgaflow.prune.load import load_split
from fpgaflow.prune.run import prune_files
from fpgaflow.prune.train import seed_everything
from fpgaflow.reference.fixed_exec import quantize_input, run_fixed
from fpgaflow.build_folder import REPORT_FILE
from fpgaflow.pipeline import BuildOptions, build_design, verify_build

MODEL_FILE = "model.onnx"
TRAIN_FILE = "train.npz"
VAL_FILE = "val.npz"
PRUNED_FILE = "pruned.onnx"


@dataclass(frozen=True)
class Inputs:
    """The files every point reads, as bytes (shipped once to the cluster's object store)."""

    model: bytes
    train: bytes
    val: bytes | None
    board: str

    def write(self, folder: Path) -> None:
        (folder / MODEL_FILE).write_bytes(self.model)
        (folder / TRAIN_FILE).write_bytes(self.train)
        if self.val is not None:
            (folder / VAL_FILE).write_bytes(self.val)

    def val_path(self, folder: Path) -> Path:
        return folder / (VAL_FILE if self.val is not None else TRAIN_FILE)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or "no message"
    return text if isinstance(error, UserError) else f"{type(error).__name__}: {text}"


def _prune(point: Point, work: Path, inputs: Inputs) -> dict[str, Any]:
    """Write work/pruned.onnx; the float accuracy and conv-MAC reduction that `fpgaflow prune` reports."""
    if point.method.name == UNPRUNED:
        (work / PRUNED_FILE).write_bytes(inputs.model)
        return {"float_accuracy": None, "conv_macs_removed": 0.0}
    options = dict(point.method.options)
    result = prune_files(work / MODEL_FILE, point.method.name, point.target, work / TRAIN_FILE, work / PRUNED_FILE,
                         val=work / VAL_FILE if inputs.val is not None else None, epochs=point.epochs, seed=point.seed,
                         lr=point.lr, options=options)
    return {"float_accuracy": result.accuracy_after, "conv_macs_removed": result.reduction}


def _build(point: Point, work: Path, inputs: Inputs, checks: FrontChecks) -> tuple[dict[str, Any], float, str | None]:
    """Quantize and build work/pruned.onnx into work/build: its report.json, the fixed-point accuracy on the
    held-out data, and the per-layer widths file of a searched width setting (None for uniform widths)."""
    graph = load_model(work / PRUNED_FILE)
    calibration = load_batch(work / TRAIN_FILE, graph, "calibration")
    shape = graph.tensors[graph.inputs[0]].shape
    classes = int(np.prod(graph.tensors[graph.hardware_outputs[0]].shape))
    held_out = load_split(inputs.val_path(work), tuple(shape), classes, "validation data")
    quantized = point.width.quantize(graph, calibration, held_out, load_board(inputs.board))
    everywhere = None if point.parallelism == BALANCED else int(point.parallelism)
    options = BuildOptions(board=load_board(inputs.board), bits=point.width.bits, everywhere=everywhere, timing=checks.timing)
    with OutputDir(work / "build") as out:
        build_design(quantized.graph, options, out)
        if checks.verify:
            verify_build(out, checks.verify, calibration)
        out.commit()
    report = json.loads((work / "build" / REPORT_FILE).read_text())
    logits = run_fixed(quantized.graph, quantize_input(quantized.graph, held_out.x))[quantized.graph.hardware_outputs[0]]
    accuracy = float((logits.reshape(len(held_out.x), -1).argmax(1) == held_out.y).mean())
    return report, accuracy, quantized.config_yaml


def hardware_figures(report: dict[str, Any]) -> dict[str, Any]:
    """The figures a sweep compares, copied from the build's report.json (docs/build.md names each)."""
    totals, model = report["totals"], report["resources"]["model"]
    return {
        "cycles_per_frame": totals["cycles_per_frame"],
        "frames_per_second": totals["frames_per_second"],
        "latency_cycles": totals["latency_cycles"],
        "lanes": totals["lanes"],
        "bottleneck": totals["bottleneck"],
        "weight_bits_stored": totals["weight_bits_stored"],
        "weight_bits_dense": totals["weight_bits_dense"],
        "resources": model["used"],
        "utilization": model["utilization"],
        "overflow": model["overflow"],
    }


@dataclass(frozen=True)
class Outcome:
    """What a point sends back: its record for points.jsonl and the files kept in DIR/points/KEY/."""

    record: dict[str, Any]
    files: dict[str, bytes]


def run_point(key: str, point: Point, inputs: Inputs) -> Outcome:
    """Prune, quantize, build and measure one point; a failure becomes a record with its error, never an exception."""
    start = time.monotonic()
    record: dict[str, Any] = {"key": key, "settings": point.settings()}
    files: dict[str, bytes] = {}
    try:
        seed_everything(point.seed)
        with tempfile.TemporaryDirectory(prefix="fpgaflow_point_") as folder, contextlib.redirect_stdout(io.StringIO()):
            work = Path(folder)
            inputs.write(work)
            record.update(_prune(point, work, inputs))
            files[PRUNED_FILE] = (work / PRUNED_FILE).read_bytes()
            report, accuracy, widths = _build(point, work, inputs, FrontChecks())
            files[REPORT_FILE] = (work / "build" / REPORT_FILE).read_bytes()
            if widths is not None:
                files[WIDTHS_FILE] = widths.encode()
        record.update(status="ok", accuracy=accuracy, **hardware_figures(report))
    except Exception as error:  # a failed point is a result; the sweep goes on
        record.update(status="failed", error=_one_line(error))
    record["seconds"] = round(time.monotonic() - start, 1)
    return Outcome(record, files)


def check_point(key: str, point: Point, pruned: bytes, checks: FrontChecks, inputs: Inputs) -> dict[str, Any]:
    """Rebuild a front point from its pruned model with the front checks; the report's verify and timing entries."""
    try:
        seed_everything(point.seed)
        with tempfile.TemporaryDirectory(prefix="fpgaflow_check_") as folder, contextlib.redirect_stdout(io.StringIO()):
            work = Path(folder)
            inputs.write(work)
            (work / PRUNED_FILE).write_bytes(pruned)
            report, _, _ = _build(point, work, inputs, checks)
        return {"key": key, "status": "ok", "verify": report.get("verify"), "timing": report["timing"] if checks.timing else None}
    except Exception as error:
        return {"key": key, "status": "failed", "error": _one_line(error)}
