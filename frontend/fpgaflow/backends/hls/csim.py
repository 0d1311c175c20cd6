"""The C simulation of OUT/hls/ with g++ against the ap_types headers that ship inside hls4ml.

No vendor tool is needed: hls4ml's copy of ap_int / ap_fixed / hls_stream is the same
arithmetic the HLS tools compile, and the test bench is the one build_prj.tcl hands to
vitis_hls. Frames go in and come out as text (one frame of codes a line), so the run is the
generated test bench exactly as a hardware engineer runs it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fpgaflow.errors import UserError

CSIM_FLAGS = ("-std=c++14", "-O1", "-w")
RUN_TIMEOUT_S = 600
COMPILE_TIMEOUT_S = 900


def ap_types_dir() -> Path:
    """The ap_types headers inside the installed hls4ml package."""
    try:
        import hls4ml
    except ImportError as error:
        raise UserError("the HLS C simulation needs the hls4ml package (its ap_types headers); pip install hls4ml") from error
    folder = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
    if not (folder / "ap_fixed.h").is_file():
        raise UserError(f"hls4ml at {Path(hls4ml.__file__).parent} has no ap_types headers; reinstall hls4ml")
    return folder


def compiler() -> str:
    found = shutil.which("g++")
    if found is None:
        raise UserError("the HLS C simulation needs g++ on PATH; install a C++ compiler or build without --verify")
    return found


def write_frames(path: Path, frames: np.ndarray) -> None:
    """One frame a line, its codes in NCHW order (numpy's flatten), as the test bench reads them."""
    flat = np.asarray(frames, dtype=np.int64).reshape(len(frames), -1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(" ".join(str(int(v)) for v in row) + "\n" for row in flat))


def read_frames(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    return np.array([[int(v) for v in row] for row in rows], dtype=np.int64).reshape((len(rows), *shape))


def compile_testbench(hls_dir: Path, top: str, binary: Path) -> float:
    """Compile the test bench and the top into `binary`; returns the seconds g++ took."""
    command = [compiler(), *CSIM_FLAGS, f"-I{hls_dir}", f"-I{ap_types_dir()}", str(hls_dir / f"{top}_tb.cpp"),
               str(hls_dir / f"{top}.cpp"), "-o", str(binary)]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
    if result.returncode != 0:
        raise UserError(f"g++ could not compile {hls_dir / top}.cpp: {(result.stderr or result.stdout).strip().splitlines()[:1]}")
    return time.perf_counter() - start


@dataclass(frozen=True)
class CsimRun:
    """Output codes of the C simulation and the seconds it ran."""

    codes: np.ndarray
    seconds: float


def run_testbench(binary: Path, inputs: np.ndarray, out_shape: tuple[int, ...], work: Path) -> CsimRun:
    """Run the compiled test bench on frames of input codes; the output codes it wrote."""
    write_frames(work / "inputs.txt", inputs)
    outputs = work / "outputs.txt"
    start = time.perf_counter()
    result = subprocess.run([str(binary), str(work / "inputs.txt"), str(outputs), str(work / "none.txt")],
                            capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise UserError(f"the HLS C test bench failed: {(result.stderr or result.stdout).strip()}")
    return CsimRun(read_frames(outputs, out_shape), seconds)
