"""save_graph/load_graph: an exact round trip, and the same bytes every time the same graph is saved."""

from __future__ import annotations

import zipfile
from dataclasses import fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fpgaflow.fixed import FixedType
from fpgaflow.ir import (
    Activation,
    Add,
    AvgPool,
    BatchNorm,
    Concat,
    Conv2d,
    Dense,
    Flatten,
    GlobalAvgPool,
    Graph,
    MaxPool,
    Pad,
    Relu,
    ScaleShift,
    Softmax,
    Weight,
    load_graph,
    save_graph,
)
from fpgaflow.ir.serialize import GRAPH_FILE, WEIGHTS_FILE
from fpgaflow.passes.classify_sparsity import ClassifySparsity
from reference_graphs import chain

S8 = FixedType(signed=True, width=8, frac=5)
U8 = FixedType(signed=False, width=8, frac=4)


def _weight(rng: np.random.Generator, shape: tuple[int, ...], ftype: FixedType | None = None, density: float = 0.6) -> Weight:
    values = rng.normal(size=shape) * (rng.random(shape) < density)
    codes = None if ftype is None else ftype.quantize(values)
    return Weight(values=values, ftype=ftype, codes=codes)


def _quantized_cnn() -> Graph:
    rng = np.random.default_rng(5)
    conv = Conv2d(name="conv", inputs=["x"], output="conv", weight=_weight(rng, (4, 2, 3, 3), S8), bias=_weight(rng, (4,), S8),
                  stride=(2, 1), padding=(1, 0, 1, 2), dilation=(1, 2), activation=Activation.RELU6, acc=FixedType(True, 20, 10))
    dw = Conv2d(name="dw", inputs=["conv"], output="dw", weight=_weight(rng, (4, 1, 3, 3), S8), bias=None, padding=(1, 1, 1, 1), groups=4)
    pool = AvgPool(name="pool", inputs=["dw"], output="pool", kernel=(3, 3), stride=(1, 1), count_include_pad=True, reciprocal=FixedType(False, 10, 12))
    flat = Flatten(name="flat", inputs=["pool"], output="flat")
    fc = Dense(name="fc", inputs=["flat"], output="fc", weight=_weight(rng, (3, 4 * 1 * 2), S8, density=0.3), bias=_weight(rng, (3,), S8))
    soft = Softmax(name="soft", inputs=["fc"], output="soft")
    graph = chain("q", (2, 5, 7), [(conv, (4, 3, 2)), (dw, (4, 3, 2)), (pool, (4, 1, 2)), (flat, (8,)), (fc, (3,)), (soft, (3,))])
    for tensor in graph.tensors.values():
        tensor.ftype = U8
    graph.notes.append("made by a test: ünïcode survives too")
    ClassifySparsity().run(graph)
    return graph


def _float_dag() -> Graph:
    rng = np.random.default_rng(6)
    pad = Pad(name="pad", inputs=["x"], output="pad", padding=(1, 1, 0, 0))
    bn = BatchNorm(name="bn", inputs=["pad"], output="bn", scale=_weight(rng, (3,)), bias=_weight(rng, (3,)),
                   mean=_weight(rng, (3,)), var=Weight(values=np.array([0.1, 0.2, 1e-7])), epsilon=1.0000000000000002e-3)
    ss = ScaleShift(name="ss", inputs=["bn"], output="ss", scale=_weight(rng, (3,)), shift=_weight(rng, (3,)), activation=Activation.RELU)
    relu = Relu(name="relu", inputs=["pad"], output="relu")
    add = Add(name="add", inputs=["ss", "relu"], output="add")
    cat = Concat(name="cat", inputs=["add", "relu"], output="cat")
    mp = MaxPool(name="mp", inputs=["cat"], output="mp", kernel=(2, 2), stride=(2, 2), ceil_mode=True)
    gap = GlobalAvgPool(name="gap", inputs=["mp"], output="gap")
    zero = Dense(name="zero", inputs=["gap"], output="zero", weight=Weight(values=np.zeros((2, 6), dtype=np.float32)), bias=None)
    steps = [(pad, (3, 4, 5)), (bn, (3, 4, 5)), (ss, (3, 4, 5)), (relu, (3, 4, 5)), (add, (3, 4, 5)), (cat, (6, 4, 5)),
             (mp, (6, 2, 3)), (gap, (6, 1, 1)), (zero, (2,))]
    graph = chain("f", (3, 4, 3), steps)
    ClassifySparsity().run(graph)
    return graph


def _assert_same(a: Any, b: Any, where: str) -> None:
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b), where
    elif is_dataclass(a) and not isinstance(a, type):
        for field in fields(a):
            _assert_same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b or (isinstance(a, Enum) and a is b), where


@pytest.mark.parametrize("build", [_quantized_cnn, _float_dag])
def test_round_trip_is_exact(build, tmp_path: Path):
    graph = build()
    save_graph(graph, tmp_path)
    loaded = load_graph(tmp_path)
    _assert_same(graph, loaded, "graph")
    assert all(layer.weight.sparsity is not None for layer in loaded.layers if isinstance(layer, (Conv2d, Dense)))


def test_round_trip_of_a_loaded_graph_gives_the_same_files(tmp_path: Path):
    save_graph(_quantized_cnn(), tmp_path / "a")
    save_graph(load_graph(tmp_path / "a"), tmp_path / "b")
    for name in (GRAPH_FILE, WEIGHTS_FILE):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_weights_file_has_fixed_timestamps_and_sorted_members(tmp_path: Path):
    """Byte-identical saves at any time: zip members carry a date, which must not be the clock's.

    np.savez opens each member by name, and zipfile then stamps it with ZipInfo's
    default date (1980-01-01), not the current time; this pins that down.
    """
    save_graph(_float_dag(), tmp_path)
    with zipfile.ZipFile(tmp_path / WEIGHTS_FILE) as archive:
        infos = archive.infolist()
    assert [info.filename for info in infos] == sorted(info.filename for info in infos)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
