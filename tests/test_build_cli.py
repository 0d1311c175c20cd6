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
        (["build", MODEL, "--board", "pynq", "--bits", "31"], "--bits 31 is outside 2..30"),
        (["build", MODEL, "--board", "pynq", "--bits", "32"], "--bits 32 is outside 2..30"),
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


def test_out_into_a_foreign_folder_is_refused_before_any_work(capsys, tmp_path):
    (tmp_path / "rtl").mkdir()
    (tmp_path / "rtl" / "pool_max.sv").write_text("hand-written")
    code, err = run_cli(capsys, "build", MODEL, "--board", "pynq", "--out", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "--force" in err
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["rtl", "rtl/pool_max.sv"]


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("layers: [oops", "not valid YAML"),
        ("layers:\n  any_layer: {parallelism: 0}\n", ">= 1"),
        ("- a list\n", "must hold a mapping"),
    ],
)
def test_config_is_checked_before_import(capsys, tmp_path, monkeypatch, text, fragment):
    def slow(*_args, **_kwargs):
        raise AssertionError("slow work started before the config was checked")

    monkeypatch.setattr("fpgaflow.cli.build_cmd.load_model", slow)
    config = tmp_path / "p.yaml"
    config.write_text(text)
    code, err = run_cli(capsys, "build", MODEL, "--board", "pynq", "--config", str(config), "--out", str(tmp_path / "o"))
    assert code == 2 and fragment in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_config_layer_names_are_checked_before_quantization(capsys, tmp_path, monkeypatch):
    def slow(*_args, **_kwargs):
        raise AssertionError("quantization started before the config's layer names were checked")

    monkeypatch.setattr("fpgaflow.cli.build_cmd.quantize", slow)
    config = tmp_path / "p.yaml"
    config.write_text("layers:\n  not_a_layer: {parallelism: 2}\n")
    code, err = run_cli(capsys, "build", MODEL, "--board", "pynq", "--config", str(config), "--out", str(tmp_path / "o"))
    assert code == 2 and "not_a_layer" in err and err.count("\n") == 1


def test_build_says_it_leaves_out_a_final_softmax(capsys, tmp_path):
    import onnx

    from models import ONNX_BUILDERS

    onnx.save(ONNX_BUILDERS["softmax_mlp"][0](13), tmp_path / "m.onnx")
    code, err = run_cli(capsys, "build", str(tmp_path / "m.onnx"), "--board", "pynq", "--out", str(tmp_path / "o"))
    assert code == 0 and "leaves out softmax (Softmax)" in err
