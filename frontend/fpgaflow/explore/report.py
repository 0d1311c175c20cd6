"""DIR/report.md and its plots: the fronts, every point, and the commands that rebuild a front point.

Deterministic: the points appear in the space file's order, no times or absolute paths
(the paths are the ones the user gave), so the same sweep writes the same report however
many workers ran it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from fpgaflow.explore.front import OBJECTIVES, Objective, fits, pareto_front
from fpgaflow.explore.space import BALANCED, UNPRUNED, Point
from fpgaflow.explore.store import POINT_DIR
from fpgaflow.report.plots import _figure_bytes

PLOT_FILES = {objective.name: f"accuracy_vs_{objective.name}.png" for objective in OBJECTIVES}


@dataclass(frozen=True)
class SweepSetup:
    """What the commands in the report repeat: the files and board as the user named them."""

    model: str
    board: str
    data: str
    val: str | None
    out: str


def prune_command(point: Point, setup: SweepSetup) -> str | None:
    """The `fpgaflow prune` command that writes this point's pruned model (None for the unpruned point)."""
    if point.method.name == UNPRUNED:
        return None
    words = ["fpgaflow", "prune", setup.model, "--method", point.method.name, "--target", f"{point.target:g}",
             "--data", setup.data] + (["--val", setup.val] if setup.val else [])
    words += ["--epochs", str(point.epochs), "--seed", str(point.seed), "--lr", f"{point.lr:g}"]
    for key, value in point.method.options:
        words += ["--granularity", str(value)] if key == "granularity" else ["--option", f"{key}={value}"]
    return shlex.join(words + ["--out", "pruned.onnx"])


def build_command(point: Point, key: str, setup: SweepSetup) -> str:
    """The `fpgaflow build` command that rebuilds this point from the pruned model the sweep kept."""
    model = setup.model if point.method.name == UNPRUNED else f"{setup.out}/{POINT_DIR}/{key}/pruned.onnx"
    words = ["fpgaflow", "build", model, "--board", setup.board, "--calib", setup.data,
             *point.width.build_flags(f"{setup.out}/{POINT_DIR}/{key}")]
    if point.parallelism != BALANCED:
        words += ["--parallelism", str(point.parallelism)]
    return shlex.join(words + ["--out", f"{key}_build"])


def _row(record: dict[str, Any], point: Point) -> str:
    if record.get("status") != "ok":
        return f"| {point.label()} | failed | | | | | | | | |"
    used = record["resources"]
    flag = " (overflows: " + ", ".join(record["overflow"]) + ")" if record["overflow"] else ""
    return (f"| {point.label()} | {100 * record['accuracy']:.2f} | {record['frames_per_second']:,.0f} | "
            f"{record['cycles_per_frame']:,} | {used['lut']:,} | {used['ff']:,} | {used['bram18']:,} | {used['dsp']:,} | "
            f"{record['weight_bits_stored']:,} | `{record['key']}`{flag} |")


HEADER = ["| point | accuracy % (fixed point) | frames/s | cycles/frame | LUT | FF | BRAM18 | DSP | weight bits | key |",
          "|---|---|---|---|---|---|---|---|---|---|"]


def render_markdown(records: list[dict[str, Any]], points: dict[str, Point], setup: SweepSetup,
                    checks: dict[str, dict[str, Any]]) -> str:
    """report.md: summary, one front table per objective, commands for the front points, every point, failures."""
    ok = [r for r in records if r.get("status") == "ok"]
    failed = [r for r in records if r.get("status") != "ok"]
    lines = [
        f"# fpgaflow explore: {setup.model} on {setup.board}",
        "",
        f"{len(records)} points: {len(ok)} built ({sum(fits(r) for r in ok)} fit the board), {len(failed)} failed. "
        f"Accuracy: the bit-accurate fixed-point reference on {setup.val or setup.data + ' (the training data: no --val given)'}. "
        "Hardware figures: each point's build report (report.json; cycle and resource models, board clock).",
        "",
    ]
    on_front: dict[str, None] = {}
    for objective in OBJECTIVES:
        front = pareto_front(records, objective)
        on_front.update(dict.fromkeys(r["key"] for r in front))
        lines += [f"## Front: accuracy against {objective.label}", "", f"![front]({PLOT_FILES[objective.name]})", "",
                  *HEADER, *(_row(r, points[r["key"]]) for r in front), ""]
    lines += ["## Rebuilding a front point", ""]
    for key in on_front:
        point = points[key]
        lines += [f"### `{key}`: {point.label()}", ""]
        check = checks.get(key)
        if check is not None:
            lines += [_check_line(check), ""]
        prune = prune_command(point, setup)
        model = setup.model if point.method.name == UNPRUNED else f"{setup.out}/{POINT_DIR}/{key}/pruned.onnx"
        search = point.width.quantize_command(model, setup.data, setup.val)
        lines += ["```", *([prune] if prune else []), *([search] if search else []), build_command(point, key, setup), "```", ""]
        if prune:
            lines += [f"(the sweep kept the pruned model as `{setup.out}/{POINT_DIR}/{key}/pruned.onnx`, "
                      f"its build report as `{setup.out}/{POINT_DIR}/{key}/report.json`)", ""]
    lines += ["## Every point", "", *HEADER, *(_row(r, points[r["key"]]) for r in records), ""]
    if failed:
        lines += ["## Failed points", ""]
        lines += [f"- `{r['key']}` {points[r['key']].label()}: {r['error']}" for r in failed]
        lines.append("")
    return "\n".join(lines)


def _check_line(check: dict[str, Any]) -> str:
    """The front check of a point: Verilator's verdict, nextpnr's fmax."""
    if check["status"] != "ok":
        return f"front check failed: {check['error']}"
    parts = []
    if check.get("verify"):
        verify = check["verify"]
        verdict = "bit-exact" if verify["mismatches"] == 0 else f"{verify['mismatches']} mismatching frames"
        parts.append(f"Verilator: {verify['frames']} frames {verdict}, measured frame interval "
                     f"{verify.get('frame_interval_measured')} cycles")
    if check.get("timing"):
        parts.append(f"nextpnr-ecp5: fmax {check['timing'].get('fmax_mhz')} MHz")
    return "front check: " + "; ".join(parts)


def render_plots(records: list[dict[str, Any]], points: dict[str, Point]) -> dict[str, bytes]:
    """One PNG per objective: every built point by method and width, hollow where it overflows, the front joined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return {PLOT_FILES[o.name]: _plot(plt, o, records, points) for o in OBJECTIVES}


def _plot(plt: Any, objective: Objective, records: list[dict[str, Any]], points: dict[str, Point]) -> bytes:
    figure, axes = plt.subplots(figsize=(8, 5))
    ok = [r for r in records if r.get("status") == "ok"]
    methods = list(dict.fromkeys(points[r["key"]].method.label for r in ok))
    widths = list(dict.fromkeys(points[r["key"]].width.label for r in ok))
    colors, markers = plt.get_cmap("tab10").colors, "osD^v<>p*h"
    for record in ok:
        point = points[record["key"]]
        color = colors[methods.index(point.method.label) % len(colors)]
        marker = markers[widths.index(point.width.label) % len(markers)]
        axes.scatter(objective.value(record), 100 * record["accuracy"], marker=marker, s=40,
                     facecolors=color if fits(record) else "none", edgecolors=color)
    front = pareto_front(records, objective)
    if front:
        axes.plot([objective.value(r) for r in front], [100 * r["accuracy"] for r in front], color="black",
                  linewidth=1, linestyle="--", drawstyle="steps-post" if objective.higher_is_better else "steps-pre")
    for index, label in enumerate(methods):
        axes.scatter([], [], color=colors[index % len(colors)], label=label)
    for index, label in enumerate(widths):
        axes.scatter([], [], color="grey", marker=markers[index % len(markers)], label=label)
    axes.plot([], [], color="black", linestyle="--", label="front (points that fit)")
    axes.set_xlabel(objective.label + ("" if objective.higher_is_better else ", fewer is better"))
    axes.set_ylabel("accuracy % (fixed-point reference, held-out data)")
    axes.set_title(f"Accuracy against {objective.label} (hollow: does not fit the board)")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    axes.grid(alpha=0.3)
    data = _figure_bytes(figure)
    plt.close(figure)
    return data
