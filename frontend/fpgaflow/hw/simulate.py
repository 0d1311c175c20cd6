"""Build an RTL module with Verilator and run one of the cocotb test benches on it.

The cocotb runner looks the simulator up in os.environ, so the bundled Verilator's
environment (toolchain.verilator_env) is put in place for the duration of the call and
restored afterwards. Builds are cached per (top module, parameters) under `build_root`,
so many stimulus cases can run on one build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fpgaflow.hw.streams import hex_beats
from fpgaflow.hw.toolchain import verilator_env, verilog_literal
from fpgaflow.hw.verilator_objects import OBJECTS_ENV

TB_DIR_ENV = "FPGAFLOW_TB_DIR"
"""Environment variable through which a test bench finds the case files of its run."""


@dataclass(frozen=True)
class SimResult:
    """The outcome of one cocotb run: how many tests ran and how many failed."""

    tests: int
    failed: int
    results_xml: Path

    @property
    def passed(self) -> bool:
        return self.tests > 0 and self.failed == 0


@contextlib.contextmanager
def _tool_environment() -> Iterator[None]:
    """Temporarily make os.environ the Verilator environment (the runner reads os.environ)."""
    saved = dict(os.environ)
    os.environ.update(verilator_env())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _verilator_runner():  # type: ignore[no-untyped-def]
    """cocotb's Verilator runner, sharing the runtime objects when OBJECTS_ENV names a folder.

    The runner builds with two commands, `verilator` then `make`; the sharing steps of
    hw.verilator_objects go before and after `make`.
    """
    from cocotb_tools.runner import Verilator

    cache = os.environ.get(OBJECTS_ENV)
    if not cache:
        return Verilator()

    class SharedObjectsVerilator(Verilator):  # type: ignore[misc]
        def _build_command(self):  # type: ignore[no-untyped-def]
            commands = list(super()._build_command())
            if len(commands) != 2:
                return commands  # a cocotb whose build is not verilator + make: share nothing
            verilate, make = commands
            step = [sys.executable, "-m", "fpgaflow.hw.verilator_objects"]
            where = [str(self.build_dir), cache, f"VM_TRACE={int(self.waves)}"]
            return [verilate, [*step, "restore", *where], make, [*step, "keep", *where]]

    return SharedObjectsVerilator()


def rtl_sources(*modules: str) -> list[Path]:
    """Source files of shipped RTL modules by name, with every library module they instantiate."""
    from fpgaflow.backends.rtl.library import required_files

    return required_files(list(modules))


def build_key(top: str, parameters: Mapping[str, int | str], sources: Sequence[Path] = ()) -> str:
    """A short stable name for one parameterization of one module built from these sources.

    The sources' contents are part of the key, so an edited module is rebuilt instead of a
    cached simulation of the old one being run.
    """
    contents = [hashlib.sha1(Path(source).read_bytes()).hexdigest() for source in sources]
    digest = hashlib.sha1(json.dumps([top, sorted(parameters.items()), contents], default=str).encode()).hexdigest()
    return f"{top}_{digest[:12]}"


def run_cocotb(
    top: str,
    sources: list[Path],
    test_module: str,
    parameters: Mapping[str, int | str],
    build_root: Path,
    case_dir: Path,
    waves: bool = False,
) -> SimResult:
    """Build `top` with `parameters` (cached under build_root) and run `test_module` on it.

    `test_module` is a module of fpgaflow.share.sim (e.g. "tb_axis_fifo"); the test bench
    reads its stimulus and expected codes from `case_dir`, passed as FPGAFLOW_TB_DIR.
    """
    from cocotb_tools.runner import get_results

    build_dir = build_root / build_key(top, parameters, sources)
    case_dir.mkdir(parents=True, exist_ok=True)
    with _tool_environment():
        runner = _verilator_runner()
        runner.build(
            sources=[str(s) for s in sources],
            hdl_toplevel=top,
            parameters={k: verilog_literal(v) for k, v in parameters.items()},
            build_dir=str(build_dir),
            build_args=["-Wno-fatal"],
            waves=waves,
            log_file=str(build_dir / "build.log"),
        )
        xml = case_dir / "results.xml"
        try:
            runner.test(
                test_module=f"fpgaflow.share.sim.{test_module}",
                hdl_toplevel=top,
                build_dir=str(build_dir),
                test_dir=str(case_dir),
                results_xml=str(xml),
                extra_env={TB_DIR_ENV: str(case_dir)},
                waves=waves,
                log_file=str(case_dir / "sim.log"),
            )
        except SystemExit:
            pass  # the runner exits on failing tests; the results file says which
    if not xml.exists():
        raise RuntimeError(f"the simulation of {top} wrote no results; see {case_dir / 'sim.log'}")
    tests, failed = get_results(xml)
    return SimResult(tests=tests, failed=failed, results_xml=Path(xml))


def write_case(
    case_dir: Path,
    frames_in: list[list[int]],
    frames_out: list[list[int]],
    out_elem_bits: int,
    **extra: float | int | str,
) -> None:
    """Write the stimulus and expected beats a test bench reads (sim/axis_tb.py)."""
    case_dir.mkdir(parents=True, exist_ok=True)
    case = {
        "frames_in": [hex_beats(f) for f in frames_in],
        "frames_out": [hex_beats(f) for f in frames_out],
        "out_elem_bits": out_elem_bits,
        **extra,
    }
    (case_dir / "case.json").write_text(json.dumps(case))
    measured = case_dir / "measured.json"
    if measured.exists():
        measured.unlink()


def read_measured(case_dir: Path) -> dict[str, list[int]]:
    """Output beat cycles a test bench recorded (name -> cycles)."""
    return json.loads((case_dir / "measured.json").read_text())
