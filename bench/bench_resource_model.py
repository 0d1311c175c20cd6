"""The resource model (fpgaflow.backends.rtl.resource_model) against Yosys synth_xilinx on whole generated tops.

For each network: `fpgaflow build --board pynq --synth` (Yosys `synth_xilinx -family xc7
-flatten` on the whole top, counted by fpgaflow.hw.yosys_count), then the model's and
Yosys's LUT / FF / BRAM18 / DSP side by side with the error, and how long Yosys took.

- digits: examples/digits_cnn.onnx, the default balanced build (calibration
  examples/digits_train.npz);
- residual_block and grouped_conv_net (a depthwise net) from tests/models.py, at P = 8 on
  every layer (the tops tests/test_resource_model.py synthesizes), and with --balanced at
  the default balanced P as well.

Rerun:  nice -n 10 python bench/bench_resource_model.py [--only digits] [--balanced]
(each small top is a minute or two of Yosys on an idle core, the digits top much longer).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import onnx

from fpgaflow.cli.main import main as fpgaflow

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import models  # noqa: E402  (tests/models.py builds the ONNX test networks)

KINDS = ("lut", "ff", "bram18", "dsp")
SMALL = ("residual_block", "grouped_conv_net")
SMALL_P = 8
"""Lanes of every layer of the small networks in the default rows (their balanced builds fill the board)."""


def measure(name: str, model: Path, folder: Path, extra: list[str]) -> dict[str, object]:
    """Build with --synth; the model's and Yosys's counts and Yosys's (whole build's) seconds."""
    out = folder / name
    start = time.monotonic()
    code = fpgaflow(["build", str(model), "--board", "pynq", "--synth", "--out", str(out), *extra])
    seconds = time.monotonic() - start
    if code != 0:
        raise SystemExit(f"build of {name} failed ({code})")
    report = json.loads((out / "report.json").read_text())
    resources = report["resources"]
    interval = report["totals"].get("cycles_per_frame") if isinstance(report.get("totals"), dict) else None
    return {"network": name, "model": resources["model"]["used"], "yosys": resources["synth"]["used"],
            "available": resources["available"], "seconds": seconds, "interval": interval}


def table(rows: list[dict[str, object]]) -> str:
    lines = ["| network | " + " | ".join(f"{k} model / yosys (error)" for k in KINDS) + " | yosys LUT use | build + yosys (s) |",
             "|---|" + "---|" * (len(KINDS) + 2)]
    for row in rows:
        model, yosys, available = row["model"], row["yosys"], row["available"]
        cells = []
        for kind in KINDS:
            m, y = model[kind], yosys[kind]  # type: ignore[index]
            error = f"{100 * (m - y) / y:+.1f} %" if y else ("exact" if m == y else "n/a")
            cells.append(f"{m:,} / {y:,} ({error})")
        use = 100 * yosys["lut"] / available["lut"]  # type: ignore[index]
        lines.append(f"| {row['network']} | " + " | ".join(cells) + f" | {use:.1f} % | {row['seconds']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("digits", *SMALL), action="append", help="measure only these networks")
    parser.add_argument("--balanced", action="store_true", help="also the small networks at their balanced P")
    args = parser.parse_args()
    chosen = args.only or ["digits", *SMALL]
    rows = []
    with tempfile.TemporaryDirectory(prefix="fpgaflow_bench_resources_") as scratch:
        folder = Path(scratch)
        for name in chosen:
            if name == "digits":
                rows.append(measure("digits", ROOT / "examples" / "digits_cnn.onnx", folder,
                                    ["--calib", str(ROOT / "examples" / "digits_train.npz")]))
                continue
            path = folder / f"{name}.onnx"
            onnx.save(getattr(models, name)(), path)
            rows.append(measure(f"{name} (P {SMALL_P})", path, folder, ["--parallelism", str(SMALL_P)]))
            if args.balanced:
                rows.append(measure(f"{name} (balanced)", path, folder, []))
            print(table(rows[-1:]), file=sys.stderr, flush=True)  # progress: the digits top takes long
    print(table(rows))


if __name__ == "__main__":
    main()
