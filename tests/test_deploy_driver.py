"""The generated PYNQ driver, run against the Verilator simulation of its own top, bit for bit.

The driver package that `fpgaflow build` writes into OUT/driver/ is imported unchanged
inside the cocotb bench sim/tb_driver.py, with a test double of the AXI DMA whose two
channels the bench serves from the simulated top. Its `predict` must give the reference's
real-valued outputs exactly, on two successive calls (buffers reused), and its --selftest
must pass on the golden frames. Two networks: the digits example on the PYNQ-Z2 (64-bit
words, an output of two words) and a residual block on the Ultra96-V2 (128-bit words,
a feature-map output).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

import models
from fpgaflow.cli.main import main
from fpgaflow.deploy.driver import DRIVER_DIR, PACKAGE
from fpgaflow.hw.simulate import run_cocotb
from fpgaflow.ir.serialize import load_graph
from fpgaflow.reference.fixed_exec import quantize_input, run_fixed

SIM_BUILD = Path(__file__).resolve().parents[1] / "sim_build"


def reference_outputs(graph, x: np.ndarray) -> np.ndarray:
    out = graph.hardware_outputs[0]
    return graph.tensors[out].ftype.to_real(run_fixed(graph, quantize_input(graph, x))[out])


def run_driver_in_simulation(out: Path, x: np.ndarray, tmp_path: Path) -> dict[str, np.ndarray]:
    design = json.loads((out / "design.json").read_text())
    config = json.loads((out / DRIVER_DIR / PACKAGE / "config.json").read_text())
    case_dir = tmp_path / "driver_run"
    case_dir.mkdir()
    np.save(case_dir / "inputs.npy", x)
    case = {"driver_dir": str(out / DRIVER_DIR), "package": PACKAGE, "dma_width": config["dma_width"],
            "inputs": str(case_dir / "inputs.npy"), "seed": 3, "sink_pause": 0.3}
    (case_dir / "case.json").write_text(json.dumps(case))
    for memory in sorted((out / "rtl").glob("*.mem")):
        (case_dir / memory.name).write_bytes(memory.read_bytes())
    sources = [out / relpath for relpath in design["sources"]]
    result = run_cocotb(design["top"], sources, "tb_driver", {}, SIM_BUILD / "driver", case_dir)
    assert result.passed, (case_dir / "sim.log").read_text()[-3000:]
    with np.load(case_dir / "driver_outputs.npz") as data:
        return {name: data[name] for name in data.files}


@pytest.mark.parametrize(
    ("builder", "board", "dma_width"),
    [("digits", "pynq", 64), ("residual_block", "ultra96-v2", 128)],
)
def test_driver_predicts_the_reference_bit_for_bit(builder, board, dma_width, tmp_path):
    if builder == "digits":
        model, x = Path("examples/digits_cnn.onnx"), np.load("examples/digits_test.npz")["x"][:5]
        calib = ["--calib", "examples/digits_train.npz"]
    else:
        model = tmp_path / f"{builder}.onnx"
        onnx.save(getattr(models, builder)(), model)
        x, calib = models.random_input(onnx.load(model), batch=4, seed=5), []
    out = tmp_path / "out"
    assert main(["build", str(model), "--board", board, "--out", str(out), *calib]) == 0
    graph = load_graph(out / "ir")
    assert json.loads((out / DRIVER_DIR / PACKAGE / "config.json").read_text())["dma_width"] == dma_width

    results = run_driver_in_simulation(out, x, tmp_path)

    want = reference_outputs(graph, x)
    assert results["first"].dtype == np.float64
    assert np.array_equal(results["first"], want)
    assert np.array_equal(results["second"], want[::-1]), "a second predict call must reuse the buffers correctly"
    out_tensor = graph.hardware_outputs[0]
    assert np.array_equal(results["codes"], run_fixed(graph, quantize_input(graph, x))[out_tensor])
    assert int(results["selftest"]) == 0 and "bit-exact" in str(results["selftest_text"])
