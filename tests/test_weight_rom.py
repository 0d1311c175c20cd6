"""Weight-ROM packing: only nonzero weights, packed across channels, deterministic, indices right."""

from __future__ import annotations

import numpy as np
import pytest

from fpgaflow.errors import UserError
from fpgaflow.fixed import FixedType
from fpgaflow.flow.cycles import engine_bound, engine_cycles_per_position
from fpgaflow.flow.weight_rom import (
    WindowLayout,
    channel_table,
    conv_window_index,
    dense_window_index,
    mem_text,
    pack_engine,
    rom_fields,
    segment_bits,
    uniform_kernel_nonzeros,
    word_slots,
)
from fpgaflow.ir.layers import Activation, Conv2d, Dense, Weight

W_TYPE = FixedType(True, 8, 6)
IN_TYPE = FixedType(False, 8, 4)
OUT_TYPE = FixedType(False, 8, 4)
ACC = FixedType(True, 24, 10)


def conv(codes: np.ndarray, groups: int = 1) -> Conv2d:
    return Conv2d(name="c", inputs=["x"], output="y", weight=Weight(values=codes.astype(float), ftype=W_TYPE, codes=codes),
                  groups=groups, activation=Activation.RELU, acc=ACC)


def unpack_entries(image) -> list[tuple[int, int, int]]:
    """(end flag, index, signed weight) of every ROM entry in order, padding left out.

    An entry ends its channel when it is the last lane of a segment the word closes
    (segment < the word's closed count) before the next segment begins.
    """
    p = image.parameters
    seg_bits = segment_bits(p["K_FIN"])
    ebits = p["WW"] + p["IDX_W"] + seg_bits
    out = []
    for word in image.weight_words:
        closed = word >> (p["P"] * ebits)
        lanes = []
        for lane in range(p["P"]):
            e = (word >> (lane * ebits)) & ((1 << ebits) - 1)
            w = e & ((1 << p["WW"]) - 1)
            w -= (1 << p["WW"]) if w >> (p["WW"] - 1) else 0
            lanes.append((e >> (p["WW"] + p["IDX_W"]), (e >> p["WW"]) & ((1 << p["IDX_W"]) - 1), w))
        for lane, (seg, index, w) in enumerate(lanes):
            last_of_segment = lane == p["P"] - 1 or lanes[lane + 1][0] != seg
            if w or (seg < closed and last_of_segment):
                out.append((int(seg < closed and last_of_segment), index, w))
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
    index = dense_window_index((2, 1, 3), 1, WindowLayout(2, 3))
    # flatten order c*3 + p -> stream order p*2 + c
    assert index[0].tolist() == [0, 2, 4, 1, 3, 5]
    # three channels written two per cycle: a pixel takes two words, four addresses
    index = dense_window_index((3, 1, 2), 1, WindowLayout(3, 2, write_n=2))
    assert index[0].tolist() == [0, 4, 1, 5, 2, 6]


def test_word_slots_keep_at_most_k_channel_ends_per_word() -> None:
    # four one-entry channels then a three-entry one, two ends allowed in a word of four
    ends = [True, True, True, True, False, False, True]
    words = word_slots(ends, per_word=4, finish_units=2)
    assert words == [[0, 1, -1, -1], [2, 3, 4, 5], [6, -1, -1, -1]]
    assert all(sum(ends[n] for n in word if n >= 0) <= 2 for word in words)
    assert word_slots(ends, per_word=4, finish_units=4) == [[0, 1, 2, 3], [4, 5, 6, -1]]


def test_window_layout_writes_just_fast_enough() -> None:
    layout = WindowLayout(144, 1).fitted(depth=20)
    assert layout.write_n == 8 and layout.words == 18  # 18 + 1 <= 20; four per cycle would take 36
    assert WindowLayout(144, 1).fitted(depth=1000).write_n == 1
    assert WindowLayout(16, 49).fitted(depth=10).words == 49  # a dense layer's pixels come one per beat


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


def kep_codes(rng: np.random.Generator, shape: tuple[int, int, int, int], k: int, patterns: int) -> np.ndarray:
    """Kernel-pattern pruned codes: every kernel keeps k of KH*KW weights by one of `patterns` masks; a few kernels are zero."""
    out_ch, in_ch, kh, kw = shape
    library = [rng.choice(kh * kw, size=k, replace=False) for _ in range(patterns)]
    codes = np.zeros(shape, dtype=np.int64)
    for o in range(out_ch):
        for i in range(in_ch):
            if rng.random() < 0.9:
                codes[o, i].reshape(-1)[library[rng.integers(patterns)]] = rng.integers(1, 100, size=k) * rng.choice([-1, 1], size=k)
    return codes


def unpack_slots(image) -> list[tuple[int, list[int], list[int]]]:
    """(end flag, window indices, signed weights) of every pattern-mode slot in order, expanded by the pattern
    table, padding left out (the end flag as in unpack_entries)."""
    p = image.parameters
    k, ww, seg_bits = p["K_NZ"], p["WW"], segment_bits(p["K_FIN"])
    per_word = p["P"] // k
    slot_bits = k * ww + p["IC_W"] + p["PID_W"] + seg_bits
    out = []
    for word in image.weight_words:
        closed = word >> (per_word * slot_bits)
        slots = []
        for s in range(per_word):
            slot = (word >> (s * slot_bits)) & ((1 << slot_bits) - 1)
            weights = [(slot >> (j * ww)) & ((1 << ww) - 1) for j in range(k)]
            weights = [w - (1 << ww) if w >> (ww - 1) else w for w in weights]
            ic = (slot >> (k * ww)) & ((1 << p["IC_W"]) - 1)
            pid = (slot >> (k * ww + p["IC_W"])) & ((1 << p["PID_W"]) - 1)
            row = image.pattern_words[pid]
            index = [((row >> (j * p["IDX_W"])) & ((1 << p["IDX_W"]) - 1)) + ic for j in range(k)]
            slots.append((slot >> (slot_bits - seg_bits), index, weights))
        for s, (seg, index, weights) in enumerate(slots):
            end = int(seg < closed and (s == per_word - 1 or slots[s + 1][0] != seg))
            if any(weights) or end:
                out.append((end, index, weights))
    return out


@pytest.mark.parametrize("groups", [1, 2])
def test_pattern_slots_expand_to_exactly_the_nonzero_weights(groups: int) -> None:
    rng = np.random.default_rng(11 + groups)
    codes = kep_codes(rng, (6, 4 // groups, 3, 3), k=2, patterns=5)
    codes[3] = 0
    layer = conv(codes, groups=groups)
    image = pack_engine(layer, IN_TYPE, OUT_TYPE, (4, 6, 6), lanes=4, index_mode="pattern")
    kernels = int(np.count_nonzero(codes.reshape(6, 4 // groups, -1).any(axis=2)))
    slots = unpack_slots(image)[:kernels]
    index = conv_window_index(layer, 4)
    nonzero = [(int(index[o, i, a, b]), int(codes[o, i, a, b])) for o in range(6) for i in range(4 // groups)
               for a in range(3) for b in range(3) if codes[o, i, a, b]]
    assert [pair for _, idx, w in slots for pair in zip(idx, w)] == nonzero
    assert sum(end for end, _, _ in slots) == sum(1 for n in image.entries_per_channel if n) == image.parameters["NZ_OC"]
    assert image.depth == -(-kernels // 2)


def test_pattern_mode_stores_fewer_bits_on_a_kep_layer_at_the_same_cycles() -> None:
    """32x16x3x3 at 4 of 9 nonzeros per kernel, 8 patterns: auto picks pattern ids, about 60 % of the per-element bits."""
    codes = kep_codes(np.random.default_rng(0), (32, 16, 3, 3), k=4, patterns=8)
    auto = pack_engine(conv(codes), IN_TYPE, OUT_TYPE, (16, 8, 8), lanes=8)
    element = pack_engine(conv(codes), IN_TYPE, OUT_TYPE, (16, 8, 8), lanes=8, index_mode="element")
    assert auto.is_pattern_mode and not element.is_pattern_mode
    assert auto.weight_memory_bits < 0.7 * element.weight_memory_bits
    assert auto.weight_memory_bits == auto.depth * auto.word_bits + auto.parameters["NP"] * 4 * auto.parameters["IDX_W"]
    assert engine_cycles_per_position(auto) == engine_cycles_per_position(element)


def test_pattern_mode_is_left_out_where_it_cannot_apply_or_costs_more() -> None:
    rng = np.random.default_rng(5)
    kep = kep_codes(rng, (8, 4, 3, 3), k=4, patterns=3)
    ragged = kep.copy()
    ragged[0, 0] = 1  # one full kernel: nonzero counts differ
    assert uniform_kernel_nonzeros(kep) == 4 and uniform_kernel_nonzeros(ragged) is None
    assert not pack_engine(conv(ragged), IN_TYPE, OUT_TYPE, (4, 6, 6), lanes=8).is_pattern_mode
    assert not pack_engine(conv(kep), IN_TYPE, OUT_TYPE, (4, 6, 6), lanes=6).is_pattern_mode  # P % k != 0
    assert not pack_engine(conv(kep), IN_TYPE, OUT_TYPE, (4, 6, 6), lanes=8, keep_zeros=True).is_pattern_mode
    single = kep_codes(rng, (8, 4, 3, 3), k=1, patterns=9)  # one weight per kernel: a 4-bit id is no cheaper than an index
    assert not pack_engine(conv(single), IN_TYPE, OUT_TYPE, (4, 6, 6), lanes=4).is_pattern_mode
    assert pack_engine(conv(single), IN_TYPE, OUT_TYPE, (4, 6, 6), lanes=4, index_mode="pattern").is_pattern_mode
    for lanes, keep in ((6, False), (8, True)):
        with pytest.raises(UserError, match="pattern-id"):
            pack_engine(conv(kep), IN_TYPE, OUT_TYPE, (4, 6, 6), lanes=lanes, keep_zeros=keep, index_mode="pattern")
    dense = Dense(name="d", inputs=["x"], output="y", weight=Weight(values=np.ones((2, 4)), ftype=W_TYPE, codes=np.ones((2, 4), dtype=np.int64)),
                  acc=ACC)
    assert not pack_engine(dense, IN_TYPE, OUT_TYPE, (4,), lanes=4).is_pattern_mode
    with pytest.raises(UserError, match="1x1"):
        pack_engine(dense, IN_TYPE, OUT_TYPE, (4,), lanes=4, index_mode="pattern")


def test_pattern_table_is_written_with_the_other_memories(tmp_path) -> None:
    codes = kep_codes(np.random.default_rng(2), (4, 2, 3, 3), k=2, patterns=3)
    image = pack_engine(conv(codes), IN_TYPE, OUT_TYPE, (2, 5, 5), lanes=4, index_mode="pattern")
    names = image.write(tmp_path, "l")
    assert set(names) == {"WEIGHT_FILE", "CHAN_FILE", "CONST_FILE", "PATTERN_FILE"}
    table = (tmp_path / names["PATTERN_FILE"]).read_text()
    assert table == mem_text(image.pattern_words, 2 * image.parameters["IDX_W"])
    assert len(image.pattern_words) == image.parameters["NP"] == 3


def channel_sums_from_fields(image, window: np.ndarray) -> dict[int, int]:
    """Each output channel's sum of products as a back end reads the ROM through rom_fields: lane l of word d
    multiplies window[address] into its segment; a word closes its first `ends` segments in channel-table order."""
    fields = rom_fields(image)
    table = channel_table(image)
    k = image.parameters["K_NZ"] if image.is_pattern_mode else 1
    sums: dict[int, int] = {}
    open_sum, closed = 0, 0
    for d in range(image.depth):
        parts = [0] * (image.parameters["K_FIN"] + 1)
        for lane, weight in enumerate(fields.weights[d]):
            slot = lane // k
            if image.is_pattern_mode:
                address = fields.pattern_table[fields.pattern_ids[d, slot], lane % k] + fields.keys[d, slot]
            else:
                address = fields.keys[d, slot]
            parts[fields.segments[d, slot]] += int(weight) * int(window[address])
        for s in range(fields.ends[d]):
            sums[int(table.out_channels[closed + s])] = (open_sum + parts[0] if s == 0 else parts[s])
        open_sum = open_sum + parts[0] if fields.ends[d] == 0 else parts[fields.ends[d]]
        closed += int(fields.ends[d])
    return sums


@pytest.mark.parametrize("mode", ["element", "pattern"])
def test_rom_fields_read_back_every_channel_sum(mode: str) -> None:
    """The fields of the packed words (what the HLS kernels hold) give every channel's sum of products, words
    closing several channels included."""
    rng = np.random.default_rng(5)
    codes = kep_codes(rng, (12, 4, 3, 3), k=2, patterns=4)
    codes[3] = 0  # a channel no weight reaches: no channel-table entry
    image = pack_engine(conv(codes), IN_TYPE, OUT_TYPE, (4, 6, 6), lanes=8, index_mode=mode)
    assert image.is_pattern_mode == (mode == "pattern")
    assert max(rom_fields(image).ends) > 1  # some word closes more than one channel
    window = rng.integers(0, 256, size=image.parameters["BEAT_N"])
    index = conv_window_index(conv(codes), 4).reshape(12, -1)
    codes2 = codes.reshape(12, -1)
    want = {oc: int(codes2[oc] @ window[index[oc]]) for oc in range(12) if codes2[oc].any()}
    assert channel_sums_from_fields(image, window) == want
