"""Per-layer statistics for `fpgaflow inspect` and the reports: shapes, parameters, work, density, formats.

The multiply-accumulate counts are what a dense engine would do (one per weight per
output position) and what the sparse engine does (one per nonzero weight per output
position); their ratio is the speed-up sparsity can buy. Density by granularity comes
from the weight's sparsity record when a pass set one, so reports show what the
hardware will see; otherwise it is classified on the spot from the same weights.
"""

from __future__ import annotations

from typing import Any

from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import Conv2d, ConvTranspose2d, Dense, Layer
from fpgaflow.ir.sparsity import SparsityRecord, classify_sparsity
from fpgaflow.ir.transposed import as_pointwise_conv
from fpgaflow.ir.work import engine_positions


def _record(layer: Conv2d | Dense) -> SparsityRecord:
    weight = layer.weight
    if weight.sparsity is not None:
        return weight.sparsity
    groups = layer.groups if isinstance(layer, Conv2d) else 1
    return classify_sparsity(weight.codes if weight.codes is not None else weight.values, groups=groups)


def _formats(graph: Graph, layer: Layer) -> dict[str, str]:
    """Fixed-point formats of the layer's tensors, weights and accumulator, as "s8.5"-style strings."""
    found: dict[str, str] = {}
    inputs = [graph.tensors[name].ftype for name in layer.inputs]
    if inputs and all(ftype is not None for ftype in inputs):
        found["input"] = ",".join(str(ftype) for ftype in inputs)
    output = graph.tensors[layer.output].ftype
    if output is not None:
        found["output"] = str(output)
    for field, weight in layer.weights().items():
        if weight.ftype is not None:
            found[field] = weight.format_text()
    for field in ("acc", "reciprocal"):
        ftype = getattr(layer, field, None)
        if ftype is not None:
            found[field] = str(ftype)
    return found


def layer_stats(graph: Graph) -> list[dict[str, Any]]:
    """One row per layer: name, op, input_shape, output_shape, params, macs, nonzero_macs, density, formats."""
    rows = []
    for layer in graph.layers:
        output_shape = graph.output_shape(layer)
        row: dict[str, Any] = {
            "name": layer.name,
            "op": layer.OP,
            "input_shape": list(graph.input_shape(layer)),
            "input_shapes": [list(graph.tensors[name].shape) for name in layer.inputs],
            "output_shape": list(output_shape),
            "params": sum(int(weight.values.size) for weight in layer.weights().values()),
            "macs": 0,
            "nonzero_macs": 0,
            "density": None,
            "hardware": layer.HARDWARE,
        }
        compute: Conv2d | Dense | None = layer if isinstance(layer, (Conv2d, Dense)) else None
        if isinstance(layer, ConvTranspose2d):  # its 1x1 conv, one position per input pixel
            compute = as_pointwise_conv(layer)
        if compute is not None:
            positions = engine_positions(graph, layer)
            record = _record(compute)
            row["macs"] = int(compute.weight.values.size) * positions
            row["nonzero_macs"] = record.nnz * positions
            row["density"] = record.granularity_summary()
        formats = _formats(graph, layer)
        if formats:
            row["formats"] = formats
        rows.append(row)
    return rows


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Sums over the rows of layer_stats: params, macs, nonzero_macs, and the overall MAC density."""
    macs = sum(row["macs"] for row in rows)
    nonzero = sum(row["nonzero_macs"] for row in rows)
    return {
        "layers": len(rows),
        "params": sum(row["params"] for row in rows),
        "macs": macs,
        "nonzero_macs": nonzero,
        "mac_density": nonzero / macs if macs else 0.0,
    }
