"""Weight-ROM packing: only nonzero weights, packed across channels, deterministic, indices right."""

from __future__ import annotations

import numpy as np
import pytest

from fpgaflow.errors import UserError
from fpgaflow.fixed import FixedType
from fpgaflow.hw.cycles import engine_bound, engine_cycles_per_position
from fpgaflow.hw.weight_rom import conv_window_index, dense_window_index, mem_text, pack_engine
from fpgaflow.ir.layers import Activation, Conv2d, Dense, Weight

W_TYPE = FixedType(True, 8, 6)
IN_TYPE = FixedType(False, 8, 4)
OUT_TYPE = FixedType(False, 8, 4)
ACC = FixedType(True, 24, 10)


def conv(codes: np.ndarray, groups: int = 1) -> Conv2d:
    return Conv2d(name="c", inputs=["x"], output="y", weight=Weight(values=codes.astype(float), ftype=W_TYPE, codes=codes),
                  groups=groups, activation=Activation.RELU, acc=ACC)


def unpack_entries(image) -> list[tuple[int, int, int]]:
    """(end flag, index, signed weight) of every ROM entry, in order."""
    p = image.parameters
    ebits = p["WW"] + p["IDX_W"] + 1
    out = []
    for word in image.weight_words:
        for lane in range(p["P"]):
            e = (word >> (lane * ebits)) & ((1 << ebits) - 1)
            w = e & ((1 << p["WW"]) - 1)
            w -= (1 << p["WW"]) if w >> (p["WW"] - 1) else 0
            out.append((e >> (p["WW"] + p["IDX_W"]), (e >> p["WW"]) & ((1 << p["IDX_W"]) - 1), w))
    return out


def test_entries_hold_exactly_the_nonzero_weights_in_window_order() -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(-100, 100, size=(5, 3, 3, 3)) * (rng.random((5, 3, 3, 3)) < 0.3)
    codes[2] = 0
    image = pack_engine(conv(codes), IN_TYPE, OUT_TYPE, (3, 8, 8), lanes=4)
    nnz = int(np.count_nonzero(codes))
    assert image.depth == -(-nnz // 4)
    entries = unpack_entries(image)[:nnz]
    assert [e for e in entries if e[2] == 0] == []
    index = conv_window_index(conv(codes), 3)
    want = [(int(index[o, i, a, b]), int(codes[o, i, a, b])) for o in range(5) for i in range(3) for a in range(3) for b in range(3)
            if codes[o, i, a, b]]
    assert [(e[1], e[2]) for e in entries] == want
    assert sum(e[0] for e in entries) == sum(1 for n in image.entries_per_channel if n)
    assert image.entries_per_channel[2] == 0
    assert engine_cycles_per_position(image) <= 1.15 * engine_bound(nnz, 4) + 1


def test_keep_zeros_stores_every_weight() -> None:
    codes = np.zeros((2, 2, 3, 3), dtype=np.int64)
    codes[0, 0, 1, 1] = 5
    image = pack_engine(conv(codes), IN_TYPE, OUT_TYPE, (2, 4, 4), lanes=2, keep_zeros=True)
    assert image.entries_per_channel == [18, 18]
    assert image.depth == 18


def test_grouped_conv_indexes_its_own_input_channels() -> None:
    index = conv_window_index(conv(np.ones((4, 1, 1, 1), dtype=np.int64), groups=4), 4)
    assert index.ravel().tolist() == [0, 1, 2, 3]


def test_dense_index_maps_c_major_flatten_to_pixel_major_stream() -> None:
    index = dense_window_index((2, 1, 3), 1)
    # flatten order c*3 + p -> stream order p*2 + c
    assert index[0].tolist() == [0, 2, 4, 1, 3, 5]


def test_dense_layer_packs_and_empty_layer_gets_one_word() -> None:
    codes = np.zeros((3, 6), dtype=np.int64)
    layer = Dense(name="d", inputs=["x"], output="y", weight=Weight(values=codes.astype(float), ftype=W_TYPE, codes=codes), acc=ACC)
    image = pack_engine(layer, IN_TYPE, OUT_TYPE, (6,), lanes=4)
    assert image.depth == 1 and image.parameters["NZ_OC"] == 1
    assert image.weight_words == [0]


def test_mem_text_is_fixed_width_and_deterministic(tmp_path) -> None:
    assert mem_text([1, 255, -1], 12) == "001\n0ff\nfff\n"
    rng = np.random.default_rng(0)
    codes = rng.integers(-9, 9, size=(3, 2, 3, 3))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = pack_engine(conv(codes), IN_TYPE, OUT_TYPE, (2, 5, 5), lanes=3).write(tmp_path / "a", "l")
    second = pack_engine(conv(codes), IN_TYPE, OUT_TYPE, (2, 5, 5), lanes=3).write(tmp_path / "b", "l")
    assert first == second
    for name in first.values():
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()


def test_unquantized_layer_is_a_user_error() -> None:
    layer = conv(np.ones((1, 1, 1, 1), dtype=np.int64))
    layer.acc = None
    with pytest.raises(UserError):
        pack_engine(layer, IN_TYPE, OUT_TYPE, (1, 2, 2), lanes=2)


@pytest.mark.parametrize("lanes", [1, 2, 4, 8])
@pytest.mark.parametrize("density", [1.0, 0.5, 0.25, 0.1])
def test_schedule_is_within_115_percent_of_the_nnz_bound(lanes: int, density: float) -> None:
    rng = np.random.default_rng(int(density * 100) + lanes)
    codes = rng.integers(1, 100, size=(32, 16, 3, 3)) * (rng.random((32, 16, 3, 3)) < density)
    image = pack_engine(conv(codes), IN_TYPE, OUT_TYPE, (16, 8, 8), lanes=lanes)
    bound = engine_bound(int(np.count_nonzero(codes)), lanes)
    assert engine_cycles_per_position(image) <= 1.15 * bound
