"""`fpgaflow explore` benchmark on the bundled digits CNN: 24 points, wall time with 1 and 2 workers, the front.

The space is 4 pruning methods x 3 targets x 2 widths (balanced parallelism), 4 epochs a
point, on the 1347 training images; accuracy is the fixed-point reference on the 450
held-out test images. The sweep runs twice from scratch, with --max-parallel 1 and 2 (a
local Ray each time, started and stopped by the sweep, so its start-up is in the wall
time), and the two runs' records must be identical but for their times. Then the
hand-picked settings (the default `fpgaflow build` of the unpruned model at 8 bits, and
`fpgaflow prune --method kep --target 0.75`) are run into the 2-worker folder and set
against the fronts. Run from the repository root, under nice on a shared machine:

    nice -n 10 python bench/bench_explore.py --work /tmp/bench_explore --json explore_rows.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from fpgaflow.explore.front import OBJECTIVES, pareto_front
from fpgaflow.explore.sweep import SweepRequest, explore

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "digits_cnn.onnx"
TRAIN = ROOT / "examples" / "digits_train.npz"
TEST = ROOT / "examples" / "digits_test.npz"
SPACE = """\
epochs: 4
methods: [magnitude, l1-filter, kep, {method: structured, granularity: kernel}]
targets: [0.5, 0.75, 0.88]
widths: [{bits: 8}, {bits: 6}]
parallelism: [balanced]
"""
HAND_PICKED = """\
epochs: 4
methods: [none, kep]
targets: [0.75]
widths: [{bits: 8}]
parallelism: [balanced]
"""


def _sweep(space: Path, out: Path, workers: int) -> tuple[float, list[dict]]:
    start = time.monotonic()
    result = explore(SweepRequest(MODEL, "pynq", TRAIN, space, out, val=TEST, max_parallel=workers))
    return time.monotonic() - start, result.records


def _row(record: dict) -> str:
    s = record["settings"]
    name = "unpruned" if s["method"] == "none" else f"{s['method']}{''.join(f' {k}={v}' for k, v in s['options'].items())} @ {s['target']:g}"
    used = record["resources"]
    return (f"| {name}, {s['width']['bits']} bits | {100 * record['accuracy']:.2f} | {record['frames_per_second']:,.0f} | "
            f"{used['lut']:,} | {used['dsp']} | {used['bram18']} | {record['weight_bits_stored']:,} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="a new folder for the sweeps")
    parser.add_argument("--json", type=Path, help="write the times and records here")
    args = parser.parse_args()
    args.work.mkdir(parents=True)
    space, hand = args.work / "space.yaml", args.work / "hand_picked.yaml"
    space.write_text(SPACE)
    hand.write_text(HAND_PICKED)
    times = {}
    records = {}
    for workers in (1, 2):
        times[workers], records[workers] = _sweep(space, args.work / f"sweep_{workers}", workers)
        print(f"{workers} worker(s): {len(records[workers])} points in {times[workers]:.0f} s", flush=True)
    strip = [[{k: v for k, v in r.items() if k != "seconds"} for r in records[w]] for w in (1, 2)]
    print(f"records identical with 1 and 2 workers: {strip[0] == strip[1]}; scaling {times[1] / times[2]:.2f}x")
    _, picked = _sweep(hand, args.work / "hand_picked", 2)
    header = "| point | accuracy % | frames/s | LUT | DSP | BRAM18 | weight bits |\n|---|---|---|---|---|---|---|"
    print("\nhand-picked:\n" + header + "\n" + "\n".join(_row(r) for r in picked if r["status"] == "ok"))
    for objective in OBJECTIVES:
        print(f"\nfront, accuracy against {objective.label}:\n{header}")
        print("\n".join(_row(r) for r in pareto_front(records[2], objective)))
    failed = [r for r in records[2] if r["status"] != "ok"]
    print(f"\nfailed points: {len(failed)}" + "".join(f"\n  {r['settings']}: {r['error']}" for r in failed))
    if args.json:
        args.json.write_text(json.dumps({"seconds": times, "records": records[2], "hand_picked": picked}, indent=1))


if __name__ == "__main__":
    main()
