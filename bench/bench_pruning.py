"""Pruning benchmark on the bundled digits CNN: test accuracy against conv MACs removed.

For every fpgaflow method and baseline, several targets and seeds, plus two outside
baselines at equal MACs (Torch-Pruning's structured MagnitudePruner and
torch.nn.utils.prune's global unstructured L1), this prunes examples/digits_cnn.onnx
with the training set, writes ONNX, and measures the written file: conv MAC reduction
through fpgaflow's importer and stats, test accuracy with the float reference on the
450 held-out images (never seen while pruning). Prints a Markdown table and writes the
plot. Run from the repository root (2 CPU cores, about 15 minutes with the defaults):

    python bench/bench_pruning.py --plot docs/img/pruning_accuracy_vs_macs.png
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch_pruning as tp
from torch import nn
from torch.nn.utils import prune as torch_prune

from fpgaflow.prune.base import PruningMethod
from fpgaflow.prune.cost import ConvMacs
from fpgaflow.prune.load import load_graph, load_model, load_split
from fpgaflow.prune.masks import MaskSet
from fpgaflow.prune.run import conv_macs, prune_files
from fpgaflow.prune.torch_graph import GraphModule, export_onnx
from fpgaflow.prune.train import Split, prune_and_finetune, seed_everything
from fpgaflow.reference.float_exec import run_float

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "digits_cnn.onnx"
TRAIN = ROOT / "examples" / "digits_train.npz"
TEST = ROOT / "examples" / "digits_test.npz"

FPGAFLOW_METHODS: dict[str, tuple[str, dict[str, str]]] = {
    "magnitude": ("magnitude", {}),
    "l1-filter": ("l1-filter", {}),
    "structured-channel": ("structured", {"granularity": "channel"}),
    "structured-kernel": ("structured", {"granularity": "kernel"}),
    "structured-strided": ("structured", {"granularity": "strided"}),
    "kep": ("kep", {}),
    "spp": ("spp", {}),
    "taper": ("taper", {}),
    "importance": ("importance", {}),
}
OUTSIDE = ("tp-magnitude", "torch-global-l1")


class FixedMasks(PruningMethod):
    """Masks decided outside fpgaflow, held during the same training schedule as the methods."""

    name = "fixed"

    def __init__(self, model: nn.Module, example: torch.Tensor, masks: dict[str, torch.Tensor], seed: int) -> None:
        super().__init__(model, example, 0.5, seed=seed)
        self.masks.masks.update(masks)

    def final_masks(self) -> MaskSet:
        return self.masks


def _bisect(reduction_of: Callable[[float], float], target: float) -> float:
    """The smallest amount in [0, 1] whose reduction reaches the target (reduction grows with amount)."""
    low, high = 0.0, 1.0
    for _ in range(20):
        middle = (low + high) / 2
        if reduction_of(middle) >= target:
            high = middle
        else:
            low = middle
    return high


def _tp_prune(model: GraphModule, example: torch.Tensor, ratio: float) -> GraphModule:
    """A copy of the model with Torch-Pruning's structured L1 magnitude pruner applied at `ratio`."""
    pruned = copy.deepcopy(model)
    last = [m for m in pruned.modules() if isinstance(m, (nn.Conv2d, nn.Linear))][-1]
    pruner = tp.pruner.MagnitudePruner(pruned, example, importance=tp.importance.MagnitudeImportance(p=1), pruning_ratio=ratio, ignored_layers=[last])
    pruner.step()
    return pruned


def _torch_masks(model: GraphModule, amount: float) -> dict[str, torch.Tensor]:
    """torch.nn.utils.prune global unstructured L1 masks over all conv weights, as {param name: mask}."""
    pruned = copy.deepcopy(model)
    convs = [(name, m) for name, m in pruned.named_modules() if isinstance(m, nn.Conv2d)]
    torch_prune.global_unstructured([(m, "weight") for _, m in convs], pruning_method=torch_prune.L1Unstructured, amount=amount)
    return {f"{name}.weight": m.weight_mask.detach().clone() for name, m in convs}


def outside_baseline(name: str, target: float, seed: int, epochs: int, out: Path) -> None:
    """Prune with an outside library at equal conv MACs, fine-tune on the same schedule, write ONNX."""
    seed_everything(seed)
    model, graph = load_model(MODEL)
    train = load_split(TRAIN, model.input_shape, 10, "training data")
    example = torch.from_numpy(train.x[:1])
    dense = ConvMacs(model, example).dense
    if name == "tp-magnitude":
        ratio = _bisect(lambda r: 1.0 - ConvMacs(_tp_prune(model, example, r), example).dense / dense, target)
        model = _tp_prune(model, example, ratio)
        masks: dict[str, torch.Tensor] = {}
    else:
        macs = ConvMacs(model, example)

        def reduction(amount: float) -> float:
            masks = MaskSet(model)
            masks.masks.update(_torch_masks(model, amount))
            return macs.reduction(masks)

        masks = _torch_masks(model, _bisect(reduction, target))
    method = FixedMasks(model, example, masks, seed)
    method.masks.apply()
    prune_and_finetune(method, train, epochs)
    export_onnx(model, example, str(out))


def measure(path: Path, test: Split, dense_macs: int) -> tuple[float, float]:
    """(conv MAC reduction against the original dense model, test accuracy) of a written ONNX file."""
    graph = load_graph(path)
    _, nonzero = conv_macs(graph)
    logits = run_float(graph, test.x)[graph.outputs[0]]
    return 1.0 - nonzero / dense_macs, float((logits.argmax(1) == test.y).mean())


def run(methods: list[str], targets: list[float], seeds: list[int], epochs: int) -> list[dict[str, object]]:
    test = load_split(TEST, (1, 8, 8), 10, "test data")
    dense_macs, _ = conv_macs(load_graph(MODEL))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for method in methods:
            for target in targets:
                for seed in seeds:
                    out = Path(folder) / f"{method}_{target}_{seed}.onnx"
                    start = time.time()
                    if method in OUTSIDE:
                        outside_baseline(method, target, seed, epochs, out)
                    else:
                        name, options = FPGAFLOW_METHODS[method]
                        prune_files(MODEL, name, target, TRAIN, out, epochs=epochs, seed=seed, options=options)
                    reduction, accuracy = measure(out, test, dense_macs)
                    row = {"method": method, "target": target, "seed": seed, "reduction": reduction, "accuracy": accuracy, "seconds": time.time() - start}
                    print(json.dumps(row), flush=True)
                    rows.append(row)
    return rows


def table(rows: list[dict[str, object]]) -> str:
    """Markdown: per method and target, mean MAC reduction and test accuracy mean ± std (min..max) over seeds."""
    lines = ["| method | target | conv MACs removed | test accuracy % (mean ± std, min..max) |", "|---|---|---|---|"]
    keys = dict.fromkeys((r["method"], r["target"]) for r in rows)
    for method, target in keys:
        chosen = [r for r in rows if r["method"] == method and r["target"] == target]
        acc = 100 * np.array([r["accuracy"] for r in chosen])
        red = 100 * np.mean([r["reduction"] for r in chosen])
        lines.append(f"| {method} | {target} | {red:.1f}% | {acc.mean():.2f} ± {acc.std():.2f} ({acc.min():.2f}..{acc.max():.2f}) |")
    return "\n".join(lines)


def plot(rows: list[dict[str, object]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5.5))
    axes.set_prop_cycle(color=plt.get_cmap("tab20").colors[::2] + plt.get_cmap("tab20").colors[1::2])
    low = 94.0
    below = []
    for method in dict.fromkeys(r["method"] for r in rows):
        points = []
        for target in sorted({r["target"] for r in rows if r["method"] == method}):
            chosen = [r for r in rows if r["method"] == method and r["target"] == target]
            acc = 100 * np.array([r["accuracy"] for r in chosen])
            points.append((100 * np.mean([r["reduction"] for r in chosen]), acc.mean(), acc.std()))
        x, y, err = zip(*points)
        if min(y) < low:
            below.append(f"{method}: {', '.join(f'{a:.0f}%' for a in y)}")
        style = "--" if method in OUTSIDE or method in ("magnitude", "l1-filter") else "-"
        axes.errorbar(x, y, yerr=err, label=method, marker="o", linestyle=style, capsize=3)
    axes.axhline(99.0, color="grey", linewidth=0.8, linestyle=":")
    axes.axhline(98.5, color="grey", linewidth=0.8, linestyle=":")
    axes.set_ylim(low, 100.3)
    if below:
        axes.text(0.01, 0.02, "off the scale (accuracy at each target): " + "; ".join(below), transform=axes.transAxes, fontsize=7)
    axes.set_xlabel("conv MACs removed (%)")
    axes.set_ylabel("test accuracy (%), 450 images, mean ± std over seeds")
    axes.set_title("digits CNN: accuracy against conv MAC reduction")
    axes.legend(fontsize=8, ncol=2)
    axes.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=[*FPGAFLOW_METHODS, *OUTSIDE], choices=[*FPGAFLOW_METHODS, *OUTSIDE])
    parser.add_argument("--targets", nargs="+", type=float, default=[0.5, 0.75, 0.88])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--plot", type=Path, help="write the accuracy/MACs plot here (.png)")
    parser.add_argument("--json", type=Path, help="write every run's numbers here")
    parser.add_argument("--rows", type=Path, help="skip the runs: read rows from an earlier --json")
    args = parser.parse_args()
    rows = json.loads(args.rows.read_text()) if args.rows else run(args.methods, args.targets, args.seeds, args.epochs)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(table(rows))
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
