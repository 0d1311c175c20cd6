"""One pruning run from files to files: what `fpgaflow prune` and the benchmark both call.

Load the model (ONNX via the IR, or a .pt state dict with its ONNX architecture) and the
data, prune and fine-tune with the chosen method, export ONNX, import the export again
and measure conv MACs on that IR with fpgaflow.stats, so the numbers reported are those
of the file written, as the rest of the flow will see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from fpgaflow.errors import UserError
from fpgaflow.ir.graph import Graph
from fpgaflow.prune.load import load_graph, load_model, load_split
from fpgaflow.prune.methods import method_class
from fpgaflow.prune.qat import QuantizationAwareTraining
from fpgaflow.quant.widths import LayerWidths, check_widths_for_graph
from fpgaflow.prune.torch_graph import export_onnx
from fpgaflow.prune.train import (
    Progress,
    Split,
    accuracy,
    evaluate,
    prune_and_finetune,
    seed_everything,
)
from fpgaflow.stats import layer_stats


@dataclass(frozen=True)
class PruneResult:
    """Accuracy on the validation split and conv MACs (dense, nonzero) before and after."""

    accuracy_before: float
    accuracy_after: float
    conv_macs_dense: int
    conv_macs_before: int
    conv_macs_after: int
    hardware_cost: tuple[str, float, float] | None = None
    """(name, dense, final) of the hardware cost the method constrained (taper's cost=cycles|weight-bits)."""
    note: str | None = None
    """The method's remark, e.g. why it stopped before the target (importance's tolerance)."""

    @property
    def reduction(self) -> float:
        """Fraction of dense conv MACs removed in the written model (the target's measure)."""
        return 1.0 - self.conv_macs_after / self.conv_macs_dense if self.conv_macs_dense else 0.0

    def summary(self) -> str:
        return (
            f"accuracy {100 * self.accuracy_before:.2f}% -> {100 * self.accuracy_after:.2f}%, "
            f"conv MACs {self.conv_macs_before} -> {self.conv_macs_after} "
            f"({100 * self.reduction:.1f}% of {self.conv_macs_dense} removed)"
            + (f", {self.hardware_cost[0]} {self.hardware_cost[1]:.0f} -> {self.hardware_cost[2]:.0f}" if self.hardware_cost else "")
        )

    def final_line(self, method: str, out: Path) -> str:
        """The command's last line: the summary, the file written, and the method's note if any."""
        return f"{method}: {self.summary()}; wrote {out}" + (f"; {self.note}" if self.note else "")


def conv_macs(graph: Graph) -> tuple[int, int]:
    """(dense, nonzero) MACs per sample summed over the graph's Conv2d layers."""
    rows = [row for row in layer_stats(graph) if row["op"] == "Conv2d"]
    return sum(row["macs"] for row in rows), sum(row["nonzero_macs"] for row in rows)


def prune_files(
    model_path: Path,
    method: str,
    target: float,
    data: Path,
    out: Path,
    *,
    val: Path | None = None,
    arch: Path | None = None,
    epochs: int = 20,
    seed: int = 0,
    lr: float = 1e-3,
    shift: int = 0,
    options: dict[str, Any] | None = None,
    progress: Progress | None = None,
    bits: int | None = None,
    widths: dict[str, LayerWidths] | None = None,
) -> PruneResult:
    """Prune `model_path` to `target` with `method`, write ONNX to `out`, and measure the result.

    With `bits` (and optionally per-layer `widths`) the fine-tuning is quantization-aware
    (fpgaflow.prune.qat, formats calibrated on the training data each epoch) and the written
    weights lie on their fixed-point grid.
    """
    if bits is not None and epochs < 2:
        raise UserError(f"--bits needs --epochs of at least 2 (got {epochs}): the first half of the epochs prunes, "
                        "the quantization-aware fine-tuning runs in the rest")
    cls = method_class(method)
    seed_everything(seed)
    model, graph = load_model(model_path, arch)
    out_shape = graph.tensors[graph.outputs[0]].shape
    if any(extent != 1 for extent in out_shape[1:]):
        raise UserError(f"fpgaflow prune fine-tunes a classifier, but this model outputs a {'x'.join(map(str, out_shape))} "
                        "map per sample (dense prediction, e.g. a U-Net), not a class vector; prune it in your own training loop")
    classes = out_shape[0]
    qat = QuantizationAwareTraining(graph, bits, widths) if bits is not None else None
    if widths:
        check_widths_for_graph(widths, graph, "--widths")
    train = load_split(data, model.input_shape, classes, "training data")
    check: Split = load_split(val, model.input_shape, classes, "validation data") if val is not None else train
    dense, before = conv_macs(graph)
    accuracy_before = accuracy(model, check)
    example = torch.from_numpy(train.x[:1])
    pruner = cls(model, example, target, seed=seed, evaluate=lambda m: evaluate(m, check), **(options or {}))

    def quantization_epoch() -> None:
        assert qat is not None
        model.eval()
        qat.refresh(model, train.x)
        qat.attach(model)

    prune_and_finetune(pruner, train, epochs, lr=lr, shift=shift, progress=progress,
                       before_finetune_epoch=quantization_epoch if qat is not None else None)
    if qat is not None:
        model.eval()
        qat.snap(model)
        qat.detach()
    out.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(model, example, str(out))
    _, after = conv_macs(load_graph(out))
    return PruneResult(accuracy_before, accuracy(model, check), dense, before, after, pruner.cost_report(), pruner.note())
