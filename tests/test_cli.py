"""The inspect and run sub-commands: their outputs agree with the library, and bad input gets one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fpgaflow.api import load_model
from fpgaflow.cli.main import COMMAND_MODULES, main
from fpgaflow.quant import quantize
from fpgaflow.reference.fixed_exec import quantize_input, run_fixed
from fpgaflow.reference.float_exec import run_float
from fpgaflow.stats import layer_stats

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "examples" / "digits_cnn.onnx"
TRAIN = REPO / "examples" / "digits_train.npz"


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inputs") / "x.npy"
    with np.load(REPO / "examples" / "digits_test.npz") as data:
        np.save(path, data["x"][:6])
    return path


def test_inspect_json_matches_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(MODEL), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    expected = layer_stats(load_model(MODEL))
    assert [row["name"] for row in document["layers"]] == [row["name"] for row in expected]
    for row in document["layers"]:
        assert {"name", "op", "input_shape", "output_shape", "params", "macs", "nonzero_macs"} <= set(row)
    assert document["totals"]["macs"] == sum(row["macs"] for row in expected) == 452_864
    assert document["totals"]["nonzero_macs"] == sum(row["nonzero_macs"] for row in expected)


def test_inspect_table_shows_formats_when_quantized(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(MODEL), "--calib", str(TRAIN)]) == 0
    out = capsys.readouterr().out
    assert "fixed-point formats" in out and "452,864" in out


def test_run_float_matches_the_float_reference(images: Path, tmp_path: Path) -> None:
    out = tmp_path / "y.npy"
    assert main(["run", str(MODEL), "--input", str(images), "--out", str(out)]) == 0
    graph = load_model(MODEL)
    expected = run_float(graph, np.load(images))[graph.outputs[0]]
    np.testing.assert_array_equal(np.load(out), expected)


def test_run_fixed_writes_codes_reals_and_a_trace(images: Path, tmp_path: Path) -> None:
    codes_path, reals_path, trace = tmp_path / "codes.npy", tmp_path / "reals.npy", tmp_path / "trace"
    common = ["run", str(MODEL), "--input", str(images), "--fixed", "--calib", str(TRAIN)]
    assert main([*common, "--out", str(codes_path), "--codes", "--trace", str(trace)]) == 0
    assert main([*common, "--out", str(reals_path)]) == 0
    with np.load(TRAIN) as data:
        graph = quantize(load_model(MODEL), data["x"], 8)
    output = graph.hardware_outputs[0]
    expected = run_fixed(graph, quantize_input(graph, np.load(images)))[output]
    codes = np.load(codes_path)
    assert codes.dtype == np.int64
    assert np.array_equal(codes, expected)
    ftype = graph.tensors[output].ftype
    assert np.array_equal(np.load(reals_path), ftype.to_real(expected))
    formats = json.loads((trace / "formats.json").read_text())
    assert output in formats
    assert np.array_equal(np.load(trace / f"{output}.npy"), expected)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["inspect", "missing.onnx"], "does not exist"),
        (["run", str(MODEL), "--input", "missing.npy", "--out", "y.npy"], "does not exist"),
        (["run", str(MODEL), "--input", str(MODEL), "--out", "y.npy"], "not a numpy array file"),
        (["run", str(MODEL), "--input", "{images}", "--out", "y.txt"], "must end in .npy"),
        (["run", str(MODEL), "--input", "{images}", "--out", "y.npy", "--codes"], "--codes needs --fixed"),
        (["run", str(MODEL), "--input", "{images}", "--out", "y.npy", "--fixed", "--bits", "1"], "outside 2..30"),
        (["run", str(MODEL), "--input", "{wrong}", "--out", "y.npy"], "but the model takes"),
        (["bogus"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((2, 3, 8, 8), np.float32))
    monkeypatch.chdir(tmp_path)
    argv = [arg.format(images=images, wrong=wrong) for arg in argv]
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse usage errors
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / "y.npy").exists()


def test_run_fixed_warns_when_inputs_saturate(images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["run", str(MODEL), "--fixed", "--calib", str(TRAIN), "--out", str(tmp_path / "y.npy")]
    assert main([*common, "--input", str(images)]) == 0
    assert "saturated" not in capsys.readouterr().err
    beyond = tmp_path / "beyond.npy"
    np.save(beyond, np.load(images) * 1.5 + 0.5)
    assert main([*common, "--input", str(beyond)]) == 0
    err = capsys.readouterr().err
    assert "warning: values beyond the calibrated range saturated (input " in err and err.count("\n") == 1


@pytest.mark.parametrize("module_name", COMMAND_MODULES)
def test_every_command_prints_its_help(module_name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`fpgaflow COMMAND --help` exits 0 with a usage line (a bare % in a help text crashed `quantize --help`)."""
    command = module_name.removesuffix("_cmd").replace("_", "-")
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: fpgaflow {command}")
