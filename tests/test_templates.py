"""Template overrides: `fpgaflow templates export`, `build --templates`, the interface check, and the report's record."""

import json
import re

import onnx
import pytest

from fpgaflow.cli.main import main
from fpgaflow.package_data import share_dir
from fpgaflow.backends.rtl.templates import CONTRACT_MARK
from models import pooled_concat_net

DIGITS = "examples/digits_cnn.onnx"

ROUNDING = "if (SR > 0) shifted = (wide + RND) >>> SR;"
# The same round-half-up by another mapping: floor(x / 2^s) plus one when the dropped bits are at least one half.
ROUNDING_REWRITTEN = (
    "if (SR > 0) shifted = (wide >>> SR) + (((wide & ((RND <<< 1) - XW'(1))) >= RND) ? XW'(1) : XW'(0));"
)
# Adds a whole instead of a half before the shift: lint-clean, but breaks the numeric contract.
ROUNDING_BROKEN = "if (SR > 0) shifted = (wide + (RND <<< 1)) >>> SR;"


def run_cli(capsys, *argv):
    """Exit code and stderr without warnings and progress lines (a build without --calib warns)."""
    code = main([str(arg) for arg in argv])
    err = capsys.readouterr().err
    return code, "".join(line for line in err.splitlines(keepends=True) if not line.startswith(("warning:", "done ")))


def override(folder, name, old, new):
    """A template folder holding one edited copy of a shipped rtl/ file (old: a string, or a compiled pattern)."""
    text = (share_dir("rtl") / name).read_text()
    edited = old.sub(new, text) if isinstance(old, re.Pattern) else text.replace(old, new)
    assert edited != text
    (folder / "rtl").mkdir(parents=True, exist_ok=True)
    (folder / "rtl" / name).write_text(edited)
    return folder


@pytest.fixture
def pooled_model(tmp_path):
    path = tmp_path / "pooled_concat_net.onnx"
    onnx.save(pooled_concat_net(13), path)
    return path


def test_export_copies_every_shipped_template_with_a_readme(capsys, tmp_path):
    code, err = run_cli(capsys, "templates", "export", tmp_path / "tpl")
    assert code == 0, err
    shipped = sorted(p.name for p in share_dir("rtl").iterdir() if p.suffix in (".sv", ".j2"))
    assert sorted(p.name for p in (tmp_path / "tpl" / "rtl").iterdir()) == shipped
    readme = (tmp_path / "tpl" / "README.md").read_text()
    assert "| `rtl/requantize.sv` |" in readme and "input value, output code" in readme
    assert CONTRACT_MARK in readme
    code, err = run_cli(capsys, "templates", "export", tmp_path / "tpl")
    assert code == 2 and "not an empty folder" in err and err.count("\n") == 1


def test_renamed_port_is_refused_in_one_line(capsys, tmp_path, pooled_model):
    folder = override(tmp_path / "tpl", "requantize.sv", re.compile(r"\bcode\b(?!:)"), "result")
    code, err = run_cli(capsys, "build", pooled_model, "--board", "pynq", "--out", tmp_path / "out", "--templates", folder)
    assert code == 2
    assert err.count("\n") == 1
    assert f"{folder}/rtl/requantize.sv: module requantize has no output port code" in err and "it has result" in err
    assert not (tmp_path / "out" / "report.json").exists()


def test_missing_parameter_and_renamed_module_are_refused(capsys, tmp_path, pooled_model):
    folder = override(tmp_path / "a", "requantize.sv", re.compile(r"\bRELU6_MAX\b"), "CEILING")
    code, err = run_cli(capsys, "build", pooled_model, "--board", "pynq", "--out", tmp_path / "o1", "--templates", folder)
    assert code == 2 and "has no parameter RELU6_MAX" in err and err.count("\n") == 1
    folder = override(tmp_path / "b", "requantize.sv", "module requantize #(", "module requantize_fast #(")
    code, err = run_cli(capsys, "build", pooled_model, "--board", "pynq", "--out", tmp_path / "o2", "--templates", folder)
    assert code == 2 and "defines no module requantize" in err and err.count("\n") == 1


def test_top_template_override_appears_in_the_top_and_the_report(capsys, tmp_path):
    header = "// Reviewed by the board team: keep the AXI ports as they are."
    folder = override(tmp_path / "tpl", "network_top.sv.j2", "-#}\n", f"-#}}\n{header}\n")
    config = tmp_path / "build.yaml"
    config.write_text("templates: tpl\n")
    code = main(["build", DIGITS, "--board", "pynq", "--out", str(tmp_path / "out"), "--config", str(config)])
    printed = capsys.readouterr().out
    assert code == 0
    # The terminal summary: DMA words per frame of the digits top (docs/build.md), rates and what to do next.
    assert "64 DMA words of 64 bits per frame" in printed and "2 DMA words of 64 bits per frame" in printed
    assert "frames/s at the board clock" in printed and "fmax: not measured" in printed
    assert "build_bitstream.sh" in printed
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    top = (tmp_path / "out" / "rtl" / f"{json.loads((tmp_path / 'out' / 'design.json').read_text())['top']}.sv").read_text()
    assert top.startswith(header + "\n")
    [entry] = report["templates"]["overrides"]
    assert entry["file"] == "rtl/network_top.sv.j2" and len(entry["sha256"]) == 64
    assert not any(layer["measured_only"] for layer in report["layers"])
    assert str(folder) not in (tmp_path / "out" / "report.json").read_text()


def test_edited_requantize_verifies_bit_exact_and_a_broken_one_is_caught(capsys, tmp_path, pooled_model):
    folder = override(tmp_path / "good", "requantize.sv", ROUNDING, ROUNDING_REWRITTEN)
    code, err = run_cli(capsys, "build", pooled_model, "--board", "pynq", "--out", tmp_path / "out",
                        "--templates", folder, "--verify", 3)
    assert code == 0, err
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["verify"]["mismatches"] == 0
    assert [o["file"] for o in report["templates"]["overrides"]] == ["rtl/requantize.sv"]
    assert not report["templates"]["overrides"][0]["keeps_contract"]
    # Every stage of this model requantizes (the engines' finish units, the pools, the concat); Flatten is a wire.
    measured_only = {layer["name"] for layer in report["layers"] if layer["measured_only"]}
    assert measured_only == {layer["name"] for layer in report["layers"]} - {"flatten"}
    assert "measured only" in (tmp_path / "out" / "report.md").read_text()

    broken = override(tmp_path / "broken", "requantize.sv", ROUNDING, ROUNDING_BROKEN)
    code, err = run_cli(capsys, "build", pooled_model, "--board", "pynq", "--out", tmp_path / "out",
                        "--templates", broken, "--verify", 3)
    assert code == 1
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["verify"]["mismatches"] > 0
    assert any(f"layer {name}" in report["verify"]["first_mismatch"] for name in measured_only)


def test_only_an_override_without_the_contract_mark_makes_layers_measured_only(tmp_path):
    import numpy as np

    from fpgaflow.api import load_model
    from fpgaflow.boards import load_board
    from fpgaflow.quant import quantize
    from fpgaflow.backends.rtl.generate import generate_rtl, plan_design
    from fpgaflow.backends.rtl.templates import Templates

    graph = load_model(DIGITS)
    graph = quantize(graph, np.random.default_rng(0).random((8, 1, 8, 8)).astype(np.float32), 8)
    design = plan_design(graph, load_board("pynq"))
    plain = override(tmp_path / "plain", "requantize.sv", ROUNDING, ROUNDING_REWRITTEN)
    marked = override(tmp_path / "marked", "requantize.sv", ROUNDING, f"// {CONTRACT_MARK}\n        {ROUNDING_REWRITTEN}")
    unmarked = generate_rtl(design, Templates(plain))
    # The engines' finish units requantize; the max pools do not.
    engines = {plan.name for plan in design.plans if plan.is_compute}
    assert set(unmarked.measured_only) == engines
    assert unmarked.files["rtl/requantize.sv"] == (plain / "rtl" / "requantize.sv").read_bytes()
    kept = generate_rtl(design, Templates(marked))
    assert kept.measured_only == [] and [o.keeps_contract for o in kept.overrides] == [True]
    assert generate_rtl(design).overrides == []
