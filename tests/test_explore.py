"""`fpgaflow explore`: a small sweep on a local Ray with 2 workers, resume, a failing point, 1 vs 2 workers.

One Ray session (2 CPUs) serves the whole module, and the 2-worker sweep runs once and
is shared: Ray's start-up and the builds are the slow part. The model is the tiny
digits-like CNN of tests/models.py on a few hundred real digits images, 1 epoch.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from fpgaflow.cli.main import main
from fpgaflow.errors import UserError
from fpgaflow.explore.front import OBJECTIVES, pareto_front
from fpgaflow.explore.space import read_space
from fpgaflow.explore.store import POINTS
from fpgaflow.explore.sweep import SweepRequest, explore
from fpgaflow.explore.widths import WIDTHS_FILE, SearchedWidths, UniformBits, parse_width
from models import digits_cnn

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SPACE = """
epochs: 1
methods: [magnitude, {method: taper, cost: bogus}, none]
targets: [0.5]
widths: [{bits: 6}]
parallelism: [balanced]
"""
"""3 points: magnitude and the unpruned model at 6 bits, and a taper whose cost does not exist (fails in its task).
The width axis of a space is read by test_the_space_is_the_product_in_file_order; one width keeps the sweep short."""


@pytest.fixture(scope="module")
def ray_two_cpus():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("explore_inputs")
    onnx.save(digits_cnn(), folder / "model.onnx")
    for name, count in (("train", 300), ("test", 100)):
        with np.load(EXAMPLES / f"digits_{name}.npz") as data:
            np.savez(folder / f"{name}.npz", x=data["x"][:count], y=data["y"][:count])
    (folder / "space.yaml").write_text(SPACE)
    return {"model": folder / "model.onnx", "train": folder / "train.npz", "val": folder / "test.npz",
            "space": folder / "space.yaml"}


def _request(files: dict[str, Path], out: Path, workers: int) -> SweepRequest:
    return SweepRequest(files["model"], "pynq", files["train"], files["space"], out, val=files["val"], max_parallel=workers)


@pytest.fixture(scope="module")
def two_workers(ray_two_cpus, files, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep2") / "sweep"
    return out, explore(_request(files, out, 2))


def _without_times(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def test_sweep_runs_every_point_and_reports_the_front(two_workers):
    out, result = two_workers
    assert len(result.records) == 3 and len(result.ran) == 3
    ok = [r for r in result.records if r["status"] == "ok"]
    failed = [r for r in result.records if r["status"] == "failed"]
    assert len(ok) == 2 and len(failed) == 1
    assert all("unknown cost 'bogus'" in r["error"] for r in failed)
    lines = (out / POINTS).read_text().splitlines()
    assert sorted(json.loads(line)["key"] for line in lines) == sorted(r["key"] for r in result.records)
    for record in ok:
        report = json.loads((out / "points" / record["key"] / "report.json").read_text())
        assert record["frames_per_second"] == report["totals"]["frames_per_second"]
        assert record["resources"] == report["resources"]["model"]["used"]
        assert record["weight_bits_stored"] == report["totals"]["weight_bits_stored"]
        assert report["bits"] == record["settings"]["width"]["bits"]
        assert 0.0 <= record["accuracy"] <= 1.0
    pruned = next(r for r in ok if r["settings"]["method"] == "magnitude" and r["settings"]["width"]["bits"] == 6)
    dense = next(r for r in ok if r["settings"]["method"] == "none" and r["settings"]["width"]["bits"] == 6)
    assert pruned["weight_bits_stored"] < dense["weight_bits_stored"]
    report = (out / "report.md").read_text()
    assert "## Front: accuracy against frames/s" in report and "## Failed points" in report
    assert f"fpgaflow build {out}/points/" in report and "--bits" in report
    for objective in OBJECTIVES:
        assert (out / f"accuracy_vs_{objective.name}.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow  # a second sweep (1 worker); the default suite keeps the 2-worker sweep
def test_one_worker_gives_the_same_results(ray_two_cpus, files, two_workers, tmp_path):
    out2, two = two_workers
    one = explore(_request(files, tmp_path / "sweep", 1))
    assert _without_times(one.records) == _without_times(two.records)
    for record in one.records:
        if record["status"] == "ok":
            assert (tmp_path / "sweep/points" / record["key"] / "pruned.onnx").read_bytes() == \
                   (out2 / "points" / record["key"] / "pruned.onnx").read_bytes()


def test_resume_runs_only_the_missing_points(ray_two_cpus, files, two_workers, tmp_path):
    source, full = two_workers
    out = tmp_path / "sweep"
    shutil.copytree(source, out)
    lines = (out / POINTS).read_text().splitlines()
    missing = json.loads(lines[-1])["key"]
    # an interrupted run: the last point never finished, and a write was cut short mid-line
    (out / POINTS).write_text("\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])
    resumed = explore(_request(files, out, 2))
    assert resumed.ran == [missing]
    assert _without_times(resumed.records) == _without_times(full.records)
    assert explore(_request(files, out, 2)).ran == []


def test_retry_failed_runs_the_failed_points_again(ray_two_cpus, files, two_workers, tmp_path):
    source, full = two_workers
    out = tmp_path / "sweep"
    shutil.copytree(source, out)
    request = SweepRequest(files["model"], "pynq", files["train"], files["space"], out, val=files["val"], retry_failed=True)
    again = explore(request)
    assert sorted(again.ran) == sorted(r["key"] for r in full.records if r["status"] == "failed")


def test_a_foreign_folder_is_refused(files, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not an fpgaflow explore folder"):
        explore(_request(files, tmp_path, 1))
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("text, message", [
    ("methods: [sculpt]\ntargets: [0.5]\nwidths: [8]", "unknown pruning method 'sculpt'"),
    ("methods: [magnitude]\ntargets: [1.5]\nwidths: [8]", "target 1.5 is outside"),
    ("methods: [magnitude]\ntargets: [0.5]\nwidths: [{bits: 40}]", "bits 40"),
    ("methods: [magnitude]\ntargets: [0.5]\nwidths: [{tolerance: -1}]", "tolerance -1"),
    ("methods: [magnitude]\ntargets: [0.5]\nwidths: [{words: 4}]", "unknown width kind 'words'"),
    ("methods: [{method: kep, colour: red}]\ntargets: [0.5]\nwidths: [8]", "method kep has no option 'colour'"),
    ("methods: [magnitude]\ntargets: [0.5, 0.5]\nwidths: [8]", "the same point twice"),
    ("methods: [magnitude]\ntargets: [0.5]\nwidths: [8]\nparallelism: [fast]", "parallelism"),
    ("methods: [magnitude]\ntargets: [0.5]\nwidth: [8]", "unknown keys width"),
])
def test_a_bad_space_is_one_line_and_exit_2(files, tmp_path, capsys, text, message):
    space = tmp_path / "space.yaml"
    space.write_text(text)
    code = main(["explore", str(files["model"]), "--board", "pynq", "--data", str(files["train"]), "--space", str(space),
                 "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert code == 2 and message in error and len(error.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_negative_verify_is_refused(files, tmp_path, capsys):
    code = main(["explore", str(files["model"]), "--board", "pynq", "--data", str(files["train"]), "--space", str(files["space"]),
                 "--out", str(tmp_path / "out"), "--verify", "-1"])
    assert code == 2 and "--verify -1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_space_is_the_product_in_file_order(tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("methods: [none, kep, {method: structured, granularity: kernel}]\ntargets: [0.5, 0.75]\n"
                     "widths: [8, {bits: 6}]\nparallelism: [balanced, 4]\nfront: {verify: 4}")
    read = read_space(space, seed=3)
    assert len(read.points) == 4 + 2 * 2 * 2 * 2
    assert read.points[0].settings() == {"method": "none", "options": {}, "target": 0.0, "width": {"bits": 8},
                                         "parallelism": "balanced", "epochs": 4, "lr": 0.001, "seed": 3}
    assert read.points[-1].method.options == (("granularity", "kernel"),) and read.points[-1].parallelism == 4
    assert read.front.verify == 4 and not read.front.timing
    assert parse_width(6, "x") == UniformBits(6)


def test_pareto_front_keeps_the_points_nothing_beats():
    def record(key: str, accuracy: float, fps: float, lut: int, overflow: tuple[str, ...] = ()) -> dict:
        return {"key": key, "status": "ok", "accuracy": accuracy, "frames_per_second": fps, "overflow": list(overflow),
                "resources": {"lut": lut}, "weight_bits_stored": 1}

    records = [record("a", 0.99, 100, 500), record("b", 0.98, 200, 400), record("c", 0.97, 150, 300),
               record("d", 0.999, 1000, 1, overflow=("dsp",)), {"key": "e", "status": "failed"}]
    assert [r["key"] for r in pareto_front(records, OBJECTIVES[0])] == ["b", "a"]
    assert [r["key"] for r in pareto_front(records, OBJECTIVES[1])] == ["c", "b", "a"]


@pytest.mark.slow
def test_front_points_are_verified_in_verilator(ray_two_cpus, files, tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("methods: [none]\nwidths: [8]\nfront: {verify: 3}\n")
    out = tmp_path / "sweep"
    result = explore(SweepRequest(files["model"], "pynq", files["train"], space, out, val=files["val"]))
    key = result.records[0]["key"]
    check = json.loads((out / "front_checks.jsonl").read_text().splitlines()[0])
    assert check["key"] == key and check["status"] == "ok"
    assert check["verify"]["frames"] == 3 and check["verify"]["mismatches"] == 0
    assert "Verilator: 3 frames bit-exact" in (out / "report.md").read_text()


def test_a_searched_width_setting_quantizes_with_the_searched_widths_and_says_how_to_repeat_it(files):
    """{tolerance: T} runs fpgaflow.wordlength's search on the held-out data; its YAML is what build --config reads."""
    from fpgaflow.api import load_model
    from fpgaflow.boards import load_board
    from fpgaflow.inputs import load_batch
    from fpgaflow.prune.load import load_split
    from fpgaflow.quant.widths import read_widths_config

    setting = parse_width({"tolerance": 1}, "test")
    assert setting == SearchedWidths(1.0) and setting.as_dict() == {"tolerance": 1.0}
    graph = load_model(files["model"])
    held_out = load_split(files["val"], tuple(graph.tensors[graph.inputs[0]].shape), 10, "validation data")
    quantized = setting.quantize(graph, load_batch(files["train"], graph, "calibration"), held_out, load_board("pynq"))
    assert quantized.config_yaml is not None
    path = files["model"].parent / WIDTHS_FILE
    path.write_text(quantized.config_yaml)
    chosen = read_widths_config(path)
    assert chosen, "a 1-point tolerance narrows at least one layer below 8 bits on this model"
    for name, widths in chosen.items():
        layer_format = quantized.graph.tensors[quantized.graph.layer(name).output].ftype
        if widths.activation_bits is not None:
            assert layer_format.width == widths.activation_bits
    assert setting.build_flags("out/points/k") == ["--bits", "8", "--config", "out/points/k/widths.yaml"]
    assert "--tolerance 1 " in setting.quantize_command("m.onnx", "t.npz", None) + " "
