"""Each method meets the conv-MAC target, and its structure shows in the IR after export and import."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from fpgaflow.ir.layers import Conv2d
from fpgaflow.prune.load import load_graph
from fpgaflow.prune.run import PruneResult, prune_files
from models import digits_cnn
from prune_helpers import digits_subset

TARGET = 0.6


def _prune(tmp_path, method: str, **options) -> tuple[PruneResult, list[Conv2d]]:
    onnx.save(digits_cnn(), tmp_path / "model.onnx")
    data = digits_subset(96)
    np.savez(tmp_path / "train.npz", x=data.x, y=data.y)
    out = tmp_path / f"{method}.onnx"
    result = prune_files(tmp_path / "model.onnx", method, TARGET, tmp_path / "train.npz", out, epochs=2, seed=0, options=options)
    graph = load_graph(out)
    return result, [layer for layer in graph.layers if isinstance(layer, Conv2d)]


def _conv_channels(graph) -> int:
    """Output channels of all conv layers together."""
    return sum(layer.weight.values.shape[0] for layer in graph.layers if isinstance(layer, Conv2d))


def _dense_conv_channels(tmp_path) -> int:
    """Conv output channels of the unpruned model (the import flow removes nothing there)."""
    return _conv_channels(load_graph(tmp_path / "model.onnx"))


def test_magnitude_meets_target(tmp_path) -> None:
    result, _ = _prune(tmp_path, "magnitude")
    assert result.reduction >= TARGET


@pytest.mark.parametrize("method,options", [("l1-filter", {}), ("structured", {"granularity": "channel"}), ("taper", {})])
def test_channel_methods_remove_channels(tmp_path, method: str, options: dict) -> None:
    result, convs = _prune(tmp_path, method, **options)
    assert result.reduction >= TARGET
    # Loading the export removes the zeroed channels, so the graph has fewer of them and
    # what is left is dense: only whole channels went.
    assert sum(conv.weight.values.shape[0] for conv in convs) < _dense_conv_channels(tmp_path)
    assert all(conv.weight.sparsity.kernel_density == 1.0 for conv in convs), "only whole channels go"


def test_importance_removes_channels_within_tolerance(tmp_path) -> None:
    result, convs = _prune(tmp_path, "importance", tolerance=10.0)
    assert result.reduction >= TARGET
    assert sum(conv.weight.values.shape[0] for conv in convs) < _dense_conv_channels(tmp_path)


def test_importance_stops_when_the_loss_rises_too_much(tmp_path) -> None:
    result, _ = _prune(tmp_path, "importance", tolerance=-1.0)
    assert result.reduction == 0.0


def test_kernel_granularity_zeroes_whole_kernels(tmp_path) -> None:
    result, convs = _prune(tmp_path, "structured", granularity="kernel")
    assert result.reduction >= TARGET
    records = [conv.weight.sparsity for conv in convs]
    assert all(r.element_density == 1.0 for r in records)
    assert any(r.kernel_density < 1.0 for r in records)


def test_strided_granularity_records_stride_and_offset(tmp_path) -> None:
    result, convs = _prune(tmp_path, "structured", granularity="strided")
    assert result.reduction >= TARGET
    for conv in convs:
        record = conv.weight.sparsity
        assert record.is_strided, f"{conv.name}: every input channel read shares a stride"
        read = np.setdiff1d(np.arange(record.in_channels), record.removed_in)
        assert (record.offset[read] < record.stride[read]).all()


def test_kep_records_pattern_ids(tmp_path) -> None:
    result, convs = _prune(tmp_path, "kep")
    assert result.reduction >= TARGET
    for conv in convs:
        record = conv.weight.sparsity
        assert record.is_pattern_structured
        assert record.num_patterns <= 8
        assert (record.pattern_ids[record.kernel_mask] >= 0).all()


def test_spp_prunes_im2col_columns(tmp_path) -> None:
    result, convs = _prune(tmp_path, "spp")
    assert result.reduction >= TARGET
    for conv in convs:
        record = conv.weight.sparsity
        kept_out = np.setdiff1d(np.arange(record.out_channels), record.removed_out)
        for column in range(record.pattern_ids.shape[1]):
            ids = set(record.pattern_ids[kept_out, column].tolist())
            assert len(ids) == 1, f"{conv.name}: kernels reading channel {column} share one column mask"
    assert any(conv.weight.sparsity.element_density < 1.0 for conv in convs)


def test_same_seed_same_model(tmp_path) -> None:
    onnx.save(digits_cnn(), tmp_path / "model.onnx")
    data = digits_subset(64)
    np.savez(tmp_path / "train.npz", x=data.x, y=data.y)
    weights = []
    for run in range(2):
        out = tmp_path / f"run{run}.onnx"
        prune_files(tmp_path / "model.onnx", "spp", TARGET, tmp_path / "train.npz", out, epochs=2, seed=3)
        weights.append([onnx.numpy_helper.to_array(t) for t in onnx.load(out).graph.initializer])
    assert all(np.array_equal(a, b) for a, b in zip(*weights))
