"""`fpgaflow build` / `fpgaflow verify`: bad input gives one line and exit code 2, nothing written outside --out."""

import pytest

from fpgaflow.cli.main import main

MODEL = "examples/digits_cnn.onnx"


def run_cli(capsys, *argv):
    code = main(list(argv))
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["build", MODEL, "--board", "nonesuch"], "pynq-z2 (alias pynq): xc7z020clg400-1"),
        (["build", MODEL, "--board", "pynq", "--bits", "1"], "--bits 1"),
        (["build", MODEL, "--board", "pynq", "--parallelism", "0"], "--parallelism"),
        (["build", MODEL, "--board", "pynq", "--verify", "-3"], "--verify"),
        (["build", "missing.onnx", "--board", "pynq"], "missing.onnx"),
    ],
)
def test_bad_arguments(capsys, tmp_path, argv, fragment):
    code, err = run_cli(capsys, *argv, "--out", str(tmp_path / "out"))
    assert code == 2
    assert fragment in err and err.count("\n") == 1


def test_out_that_is_a_file(capsys, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    code, err = run_cli(capsys, "build", MODEL, "--board", "pynq", "--out", str(target))
    assert code == 2 and "is a file" in err


def test_config_with_unknown_layer(capsys, tmp_path):
    config = tmp_path / "p.yaml"
    config.write_text("layers:\n  not_a_layer: {parallelism: 2}\n")
    code, err = run_cli(capsys, "build", MODEL, "--board", "pynq", "--config", str(config), "--out", str(tmp_path / "o"))
    assert code == 2 and "not_a_layer" in err


def test_verify_needs_a_build_folder(capsys, tmp_path):
    code, err = run_cli(capsys, "verify", str(tmp_path))
    assert code == 2 and "not an fpgaflow build folder" in err
