"""Pack a quantized Conv2d or Dense layer into the memories of rtl/sparse_conv_engine.sv.

The weight ROM lists only the nonzero weights, output channel after output channel, P
entries per word and packed across channel boundaries (an end-of-channel flag closes a
channel), so a window costs ceil(nnz / P) cycles instead of the sum over channels of
ceil(nnz_oc / P). An entry is {end_of_channel, window index, weight code}. The window
index says which element of the window beat the weight multiplies; it also absorbs every
reordering between the IR's weight layout and the stream order (groups, and the C-major
flatten before a dense layer against the pixel-major stream). Output is deterministic.

Pattern-id encoding: when every nonzero kernel of a conv has the same number k of
nonzeros (kernel-pattern pruning), a word holds P/k kernel slots {end_of_channel, pattern
id, input channel, k weights} and a small pattern table turns (pattern id, j) into a
window offset, so k weights share one id instead of carrying k indices. pack_engine uses
it when it is allowed and takes fewer bits (ROM plus table) than per-element indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping
from typing import Literal

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.flow.cycles import BANK_GAP
from fpgaflow.fixed import FixedType, leaky_slope, relu6_ceiling
from fpgaflow.ir.layers import Activated, Activation, Conv2d, Dense
from fpgaflow.ir.sparsity import classify_sparsity, input_channel_index
from fpgaflow.reference.fixed_exec import finish_channels

ACTIVATION_CODES = {Activation.NONE: 0, Activation.RELU: 1, Activation.RELU6: 2, Activation.LEAKY: 3}


def activation_parameters(layer: Activated, out: FixedType) -> dict[str, int]:
    """The activation parameters of rtl/requantize.sv (ACT, RELU6_MAX, SLOPE_CODE, SLOPE_FRAC) for a layer."""
    slope_code, slope_frac = leaky_slope(layer.alpha) if layer.activation is Activation.LEAKY else (0, 0)
    return {
        "ACT": ACTIVATION_CODES[layer.activation],
        "RELU6_MAX": relu6_ceiling(out) if layer.activation is Activation.RELU6 else 0,
        "SLOPE_CODE": slope_code,
        "SLOPE_FRAC": slope_frac,
    }

IndexMode = Literal["auto", "element", "pattern"]
"""How pack_engine names window elements: choose the smaller, or force one (tests, benchmarks)."""


def _bits(count: int) -> int:
    """Bits to number `count` things (at least 1)."""
    return max(1, (max(count, 1) - 1).bit_length())


def segment_bits(finish_units: int) -> int:
    """SEG_W: bits of a lane's segment number 0..K_FIN (and of a word's count of closed channels)."""
    return max(1, finish_units.bit_length())


def element_entry_bits(weight_bits: int, index_bits: int, seg_bits: int = 1) -> int:
    """E: bits of one per-element ROM entry {segment, window address, weight code}."""
    return weight_bits + index_bits + seg_bits


def rom_depth(items: int, per_word: int) -> int:
    """ROM words holding `items` entries or slots, `per_word` to a word; an empty ROM keeps one word of padding."""
    return max(1, -(-items // per_word))


@dataclass(frozen=True)
class WindowLayout:
    """How a window reaches the engine and where each element sits in the lanes' window memories.

    A conv gets one beat per window (beat_n = KH*KW*C_in elements, from window_gen); a dense
    layer gets its input map pixel by pixel (beats = H*W beats of C elements) or its input
    vector as one beat. The engine writes write_n elements per cycle (a power of two), so a
    beat takes ceil(beat_n / write_n) words and element j of beat t sits at address
    t * words_per_beat * write_n + j.
    """

    beat_n: int
    beats: int
    write_n: int = 1

    @property
    def words_per_beat(self) -> int:
        return -(-self.beat_n // self.write_n)

    @property
    def words(self) -> int:
        """Words (write cycles) of one window: WORDS of rtl/sparse_conv_engine.sv."""
        return self.beats * self.words_per_beat

    @property
    def index_bits(self) -> int:
        """IDX_W: bits of a window address, more than the sub-word bits (the engine slices them off)."""
        return max(_bits(self.words * self.write_n), self.write_n.bit_length())

    def address(self, beat: np.ndarray, element: np.ndarray) -> np.ndarray:
        return beat * (self.words_per_beat * self.write_n) + element

    def fitted(self, depth: int) -> WindowLayout:
        """The narrowest write (fewest LUTs per lane) that writes a window within `depth` cycles
        (the ROM depth, so the lanes never wait for the writer: fpgaflow.flow.cycles.window_cycles
        is `depth` when words + BANK_GAP <= depth), else one beat per word."""
        write_n = 1
        while -(-self.beat_n // write_n) * self.beats + BANK_GAP > depth and write_n < self.beat_n:
            write_n *= 2
        return WindowLayout(self.beat_n, self.beats, write_n)


def window_layout(layer: Conv2d | Dense, in_shape: tuple[int, ...]) -> WindowLayout:
    """The beats of one window of a conv (one beat) or a dense layer (its input pixels, or one vector beat)."""
    if isinstance(layer, Conv2d):
        kh, kw = layer.weight.codes.shape[2:]  # type: ignore[union-attr]
        return WindowLayout(in_shape[0] * kh * kw, 1)
    if len(in_shape) == 3:
        return WindowLayout(in_shape[0], in_shape[1] * in_shape[2])
    return WindowLayout(int(np.prod(in_shape)), 1)


def window_index_bits(window: int) -> int:
    """IDX_W of a window of `window` elements written one element per cycle (the cost model's estimate)."""
    return WindowLayout(window, 1).index_bits


@dataclass(frozen=True)
class EngineImage:
    """Memory contents and parameters of one sparse_conv_engine instance."""

    weight_words: list[int]
    channel_words: list[int]
    const_codes: list[int]
    entries_per_channel: list[int]
    parameters: dict[str, int]
    pattern_words: list[int] = field(default_factory=list)
    """Pattern table (pattern mode only): per pattern K_NZ window offsets of IDX_W bits."""

    @property
    def depth(self) -> int:
        return len(self.weight_words)

    @property
    def is_pattern_mode(self) -> bool:
        return self.parameters["INDEX_MODE"] == 1

    @property
    def word_bits(self) -> int:
        return rom_word_bits(self.parameters)

    @property
    def pattern_word_bits(self) -> int:
        p = self.parameters
        return p["K_NZ"] * p["IDX_W"] if self.is_pattern_mode else 0

    @property
    def window_words(self) -> int:
        """Cycles the engine takes to write one window into its lanes' memories."""
        p = self.parameters
        return WindowLayout(p["BEAT_N"], p["BEATS"], p["WR_N"]).words

    @property
    def weight_memory_bits(self) -> int:
        """Bits of weight ROM plus pattern table (the figure the report compares across densities)."""
        return self.depth * self.word_bits + len(self.pattern_words) * self.pattern_word_bits

    def write(self, folder: Path, prefix: str) -> dict[str, str]:
        """Write the .mem files into `folder`; returns the file-name parameters.

        The names are relative to `folder` ($readmemh resolves them against the working
        directory of the simulation or synthesis run).
        """
        p = self.parameters
        files = {
            "WEIGHT_FILE": (self.weight_words, self.word_bits),
            "CHAN_FILE": (self.channel_words, channel_entry_bits(p)),
            "CONST_FILE": (self.const_codes, p["OUT_W"]),
        }
        if self.is_pattern_mode:
            files["PATTERN_FILE"] = (self.pattern_words, self.pattern_word_bits)
        names: dict[str, str] = {}
        for key, (words, bits) in files.items():
            name = f"{prefix}_{key.split('_')[0].lower()}.mem"
            (folder / name).write_text(mem_text(words, bits))
            names[key] = name
        return names


def shift_spread_bits(spread: int) -> int:
    """SHIFT_W of a sparse_conv_engine: bits of a channel's alignment 0..SHIFT_SPREAD (0 when every channel shares SHIFT)."""
    return spread.bit_length()


def channel_entry_bits(params: Mapping[str, int | str]) -> int:
    """Bits of a CHAN_FILE entry: {align (SHIFT_W), oc (OC_W), bias (ACC_W)}."""
    return shift_spread_bits(int(params.get("SHIFT_SPREAD", 0))) + int(params["OC_W"]) + int(params["ACC_W"])


def rom_word_bits(params: Mapping[str, int | str]) -> int:
    """ROM_W of a sparse_conv_engine: P entries or P / K_NZ pattern slots, and the word's count of closed channels.

    The one place the word layout's size is computed (the packer, the report and the resource model read it).
    """
    p = {k: int(v) for k, v in params.items() if k in ("P", "K_NZ", "WW", "IC_W", "PID_W", "IDX_W", "K_FIN", "INDEX_MODE")}
    seg = segment_bits(p["K_FIN"])
    if p["INDEX_MODE"] == 1:
        slot = p["K_NZ"] * p["WW"] + p["IC_W"] + p["PID_W"] + seg
        return p["P"] // p["K_NZ"] * slot + seg
    return p["P"] * element_entry_bits(p["WW"], p["IDX_W"], seg) + seg


def _worst_case_bits(codes: np.ndarray, bias: np.ndarray, in_type: FixedType) -> int:
    """Signed bits that hold any channel's sum of products plus bias for any input.

    The hardware accumulator must never wrap where the int64 reference does not, whatever
    accumulator width the quantizer chose.
    """
    largest_input = max(abs(in_type.min_code), abs(in_type.max_code))
    worst = np.abs(codes).sum(axis=1) * largest_input + np.abs(bias)
    return int(worst.max(initial=0)).bit_length() + 1


def mem_text(words: list[int], bits: int) -> str:
    """$readmemh text: one fixed-width hex word per line, no comments, no timestamps."""
    digits = max(1, -(-bits // 4))
    mask = (1 << bits) - 1
    return "".join(f"{word & mask:0{digits}x}\n" for word in words)


def conv_window_index(layer: Conv2d, in_channels: int) -> np.ndarray:
    """Window index of every weight (O, I/g, KH, KW): (kh * KW + kw) * C_in + input channel."""
    out_ch, per_group, kh, kw = layer.weight.codes.shape  # type: ignore[union-attr]
    channel = input_channel_index((out_ch, per_group), layer.groups)
    position = np.arange(kh)[:, None] * kw + np.arange(kw)[None, :]
    return position[None, None, :, :] * in_channels + channel[:, :, None, None]


def dense_window_index(in_shape: tuple[int, ...], out_channels: int, layout: WindowLayout) -> np.ndarray:
    """Window address of each weight (O, I) of a dense layer.

    ONNX flattens (C, H, W) C-major (i = c*H*W + p) while pixels stream pixel-major (pixel p
    is beat p, channel c its element c), so the address maps one order onto the other.
    """
    if len(in_shape) == 3:
        channels, height, width = in_shape
        flat = np.arange(channels * height * width)
        order = layout.address(flat % (height * width), flat // (height * width))
    else:
        order = np.arange(int(np.prod(in_shape)))
    return np.broadcast_to(order, (out_channels, order.size))


@dataclass(frozen=True)
class _Rom:
    """Weight ROM words of one index encoding, its mode parameters and its pattern table."""

    words: list[int]
    parameters: dict[str, int]
    pattern_words: list[int]
    word_bits: int
    table_bits: int

    @property
    def bits(self) -> int:
        return len(self.words) * self.word_bits + len(self.pattern_words) * self.table_bits


def word_slots(ends: list[bool], per_word: int, finish_units: int) -> list[list[int]]:
    """Which item fills each slot of each ROM word (-1: padding), at most `finish_units` channel ends per word.

    Items go in order, `per_word` to a word across channel boundaries; an item that would end
    one channel more than the word's finish units can close starts a new word, and the rest
    of the full word is padding (zero weights, counted in the open channel). The cycle model
    counts these words: DEPTH is the ROM's length.
    """
    words: list[list[int]] = []
    current: list[int] = []
    closed = 0
    for n, end in enumerate(ends):
        if len(current) == per_word or (end and closed == finish_units):
            words.append(current + [-1] * (per_word - len(current)))
            current, closed = [], 0
        current.append(n)
        closed += int(end)
    if current or not words:
        words.append(current + [-1] * (per_word - len(current)))
    return words


def choose_finish_units(ends: list[bool], per_word: int, lanes: int) -> int:
    """K_FIN: the fewest finish units whose padding keeps the ROM within 2 % of the unlimited packing.

    Finish units and their adder trees cost logic, padding costs cycles; the candidates are
    powers of two up to P, and P itself.
    """
    best = len(word_slots(ends, per_word, lanes))
    candidates = sorted({1 << i for i in range(lanes.bit_length()) if 1 << i <= lanes} | {lanes})
    for k in candidates:
        if len(word_slots(ends, per_word, k)) <= best * 1.02:
            return k
    return lanes


def _encode_words(items: list[int], ends: list[bool], item_bits: int, per_word: int, finish_units: int) -> list[int]:
    """Words of `per_word` slots {segment, item} (slot n at n * (item_bits + SEG_W)) and the word's closed-channel count on top.

    A slot's segment is the number of channel ends before it in its word: s < count belongs
    to the s-th channel the word closes, s = count to the channel that goes on.
    """
    seg_bits = segment_bits(finish_units)
    slot_bits = item_bits + seg_bits
    words: list[int] = []
    for slots in word_slots(ends, per_word, finish_units):
        word, closed = 0, 0
        for position, n in enumerate(slots):
            item = items[n] if n >= 0 else 0
            word |= ((closed << item_bits) | item) << (position * slot_bits)
            closed += int(n >= 0 and ends[n])
        words.append(word | (closed << (per_word * slot_bits)))
    return words


def _element_rom(codes2: np.ndarray, index2: np.ndarray, keep_zeros: bool, weight_bits: int, index_bits: int,
                 lanes: int) -> _Rom:
    """Per-element encoding: every entry {segment, window address, weight}, P per word."""
    items: list[int] = []
    ends: list[bool] = []
    for oc in range(codes2.shape[0]):
        keep = np.ones(codes2.shape[1], bool) if keep_zeros else codes2[oc] != 0
        run = list(zip(index2[oc][keep].tolist(), codes2[oc][keep].tolist()))
        for position, (i, w) in enumerate(run):
            items.append((i << weight_bits) | (w & ((1 << weight_bits) - 1)))
            ends.append(position == len(run) - 1)
    finish_units = choose_finish_units(ends, lanes, lanes)
    words = _encode_words(items, ends, weight_bits + index_bits, lanes, finish_units)
    parameters = {"INDEX_MODE": 0, "K_FIN": finish_units}
    word_bits = rom_word_bits({**parameters, "P": lanes, "WW": weight_bits, "IDX_W": index_bits})
    return _Rom(words, parameters, [], word_bits, 0)


def uniform_kernel_nonzeros(codes: np.ndarray) -> int | None:
    """The nonzero count k shared by every nonzero kernel of (O, I/g, KH, KW) codes, None if they differ or none is nonzero."""
    counts = np.count_nonzero(codes.reshape(codes.shape[0], codes.shape[1], -1), axis=2)
    distinct = np.unique(counts[counts > 0])
    return int(distinct[0]) if distinct.size == 1 else None


def _pattern_rom(layer: Conv2d, codes: np.ndarray, in_channels: int, weight_bits: int, index_bits: int, lanes: int) -> _Rom:
    """Pattern-id encoding: P/k kernel slots {segment, pattern id, input channel, k weights} per word.

    Only for layers pattern_mode_blocker lets through (every pattern has the same k nonzeros).
    The pattern table row of a pattern lists its k window offsets pos * C_in (pos = kh * KW + kw
    ascending), so a lane's window address is offset + input channel, the per-element order.
    """
    record = layer.weight.sparsity  # quantize records the sparsity of the codes in the IR
    if record is None or record.kernel_mask.shape != codes.shape[:2]:
        record = classify_sparsity(codes, layer.groups)
    k = int(record.patterns[0].sum())
    positions = [np.flatnonzero(pattern) for pattern in record.patterns.reshape(record.num_patterns, -1)]
    table = [sum((int(pos) * in_channels) << (j * index_bits) for j, pos in enumerate(row)) for row in positions]
    channel_of = input_channel_index(record.kernel_mask.shape, layer.groups)
    ic_bits, pid_bits = _bits(in_channels), _bits(record.num_patterns)
    weight_mask = (1 << weight_bits) - 1
    slots: list[int] = []
    ends: list[bool] = []
    for oc in range(codes.shape[0]):
        kernels = np.flatnonzero(record.pattern_ids[oc] >= 0)
        for n, kernel in enumerate(kernels.tolist()):
            pid = int(record.pattern_ids[oc, kernel])
            weights = codes[oc, kernel].ravel()[positions[pid]].tolist()
            slot = sum((w & weight_mask) << (j * weight_bits) for j, w in enumerate(weights))
            slot |= int(channel_of[oc, kernel]) << (k * weight_bits)
            slot |= pid << (k * weight_bits + ic_bits)
            slots.append(slot)
            ends.append(n == len(kernels) - 1)
    per_word = lanes // k
    finish_units = choose_finish_units(ends, per_word, lanes)
    item_bits = k * weight_bits + ic_bits + pid_bits
    words = _encode_words(slots, ends, item_bits, per_word, finish_units)
    parameters = {"INDEX_MODE": 1, "K_NZ": k, "NP": record.num_patterns, "IC_W": ic_bits, "PID_W": pid_bits,
                  "K_FIN": finish_units}
    word_bits = rom_word_bits({**parameters, "P": lanes, "WW": weight_bits})
    return _Rom(words, parameters, table, word_bits, k * index_bits)


def pattern_mode_blocker(layer: Conv2d | Dense, lanes: int, keep_zeros: bool) -> str | None:
    """Why the pattern-id encoding cannot hold this layer, or None when it can."""
    if not isinstance(layer, Conv2d):
        return "dense layers have 1x1 kernels"
    codes = np.asarray(layer.weight.codes)
    if codes.shape[2] * codes.shape[3] == 1:
        return "1x1 kernels have no pattern"
    if keep_zeros:
        return "the dense-weights baseline stores every weight"
    k = uniform_kernel_nonzeros(codes)
    if k is None:
        return "the nonzero kernels do not all have the same number of nonzeros"
    if lanes % k:
        return f"P = {lanes} is not a multiple of the {k} nonzeros per kernel"
    return None


def pack_engine(
    layer: Conv2d | Dense,
    in_type: FixedType,
    out_type: FixedType,
    in_shape: tuple[int, ...],
    lanes: int,
    keep_zeros: bool = False,
    index_mode: IndexMode = "auto",
) -> EngineImage:
    """ROM, channel table and constant codes of a quantized conv or dense layer.

    in_shape is the layer's per-sample input shape; keep_zeros stores every weight (the
    dense-weights baseline), otherwise only the nonzero ones. index_mode "auto" takes the
    pattern-id encoding when the layer allows it and it needs fewer bits (ROM plus pattern
    table), per-element indices otherwise; "element" and "pattern" force one.
    """
    weight = layer.weight
    if weight.codes is None or weight.ftype is None or layer.acc is None:
        raise UserError(f"layer {layer.name!r} is not quantized; run quantize before generating hardware")
    if lanes < 1:
        raise UserError(f"P (lanes) must be at least 1, got {lanes}")
    codes = np.asarray(weight.codes, dtype=np.int64)
    out_channels = codes.shape[0]
    codes2 = codes.reshape(out_channels, -1)
    bias = np.zeros(out_channels, dtype=np.int64) if layer.bias is None else np.asarray(layer.bias.codes, dtype=np.int64)
    weight_bits = weight.ftype.width + (0 if weight.ftype.signed else 1)
    oc_bits = _bits(out_channels)
    acc_bits = max(layer.acc.width, _worst_case_bits(codes2, bias, in_type))

    def encode(layout: WindowLayout) -> _Rom:
        if isinstance(layer, Conv2d):
            index2 = conv_window_index(layer, in_shape[0]).reshape(out_channels, -1)
        else:
            index2 = np.asarray(dense_window_index(in_shape, out_channels, layout)).reshape(out_channels, -1)
        rom = _element_rom(codes2, index2, keep_zeros, weight_bits, layout.index_bits, lanes)
        if index_mode != "element":
            blocker = pattern_mode_blocker(layer, lanes, keep_zeros)
            if blocker is not None and index_mode == "pattern":
                raise UserError(f"layer {layer.name!r} cannot use the pattern-id encoding: {blocker}; use index_mode 'element'")
            if blocker is None and isinstance(layer, Conv2d):
                pattern = _pattern_rom(layer, codes, in_shape[0], weight_bits, layout.index_bits, lanes)
                if index_mode == "pattern" or pattern.bits < rom.bits:
                    rom = pattern
        return rom

    # The ROM's depth does not depend on the window addresses, so a first packing fixes it and
    # with it how many window elements the engine must write per cycle to keep its lanes busy.
    base = window_layout(layer, in_shape)
    rom = encode(base)
    layout = base.fitted(len(rom.words))
    if layout != base:
        rom = encode(layout)

    counts = [len(codes2[oc]) if keep_zeros else int(np.count_nonzero(codes2[oc])) for oc in range(out_channels)]
    # Per-channel formats (docs/fixed-point.md): channel oc's sum is shifted left by align[oc] to the
    # largest F_acc, then every channel requantizes with the one SHIFT from there.
    acc_fracs = weight.acc_fracs(layer.acc.frac)
    top_frac = int(acc_fracs.max(initial=layer.acc.frac))
    align = [top_frac - int(frac) for frac in acc_fracs]
    align_shift = oc_bits + acc_bits
    channels = [(align[oc] << align_shift) | (oc << acc_bits) | (int(bias[oc]) & ((1 << acc_bits) - 1))
                for oc in range(out_channels) if counts[oc]]
    const = finish_channels(bias[None, :], acc_fracs, out_type, layer.activation, layer.alpha)[0]
    spread = {"SHIFT_SPREAD": max(align)} if max(align, default=0) > 0 else {}
    parameters = {
        "BEAT_N": layout.beat_n,
        "BEATS": layout.beats,
        "WR_N": layout.write_n,
        "IN_W": in_type.width,
        "IN_SIGNED": int(in_type.signed),
        "C_OUT": out_channels,
        "OUT_W": out_type.width,
        "OUT_SIGNED": int(out_type.signed),
        "WW": weight_bits,
        "IDX_W": layout.index_bits,
        "P": lanes,
        "ACC_W": acc_bits,
        "SHIFT": top_frac - out_type.frac,
        **spread,
        **activation_parameters(layer, out_type),
        "DEPTH": len(rom.words),
        "NZ_OC": max(1, len(channels)),
        "OC_W": oc_bits,
        **rom.parameters,
    }
    return EngineImage(
        weight_words=rom.words,
        channel_words=channels or [0],
        const_codes=[int(c) & ((1 << out_type.width) - 1) for c in const],
        entries_per_channel=counts,
        parameters=parameters,
        pattern_words=rom.pattern_words,
    )


def _field(value: int, low: int, bits: int) -> int:
    """Bits low .. low + bits - 1 of a word."""
    return (value >> low) & ((1 << bits) - 1)


def _signed(value: int, bits: int) -> int:
    """A two's-complement field of `bits` bits as a Python int."""
    return value - (1 << bits) if value >> (bits - 1) & 1 else value


@dataclass(frozen=True)
class RomFields:
    """The fields of an EngineImage's ROM words, word by word: the words read back, not packed again.

    Word d of WEIGHT_FILE is, from bit 0 up, its SLOTS slots and then the count of channels it
    closes (_encode_words). A slot is an entry {segment, window address, weight} in per-element
    mode (SLOTS = P) or a kernel slot {segment, pattern id, input channel, K_NZ weights} in
    pattern mode (SLOTS = P / K_NZ); lane l of a pattern-mode word is weight l % K_NZ of slot
    l // K_NZ. Back ends that spell the ROM as one array per field (the HLS kernels) take these.
    """

    weights: np.ndarray
    """(DEPTH, P) signed weight codes of WW bits, lane by lane (padding: 0)."""
    keys: np.ndarray
    """(DEPTH, SLOTS) window address (per-element mode) or input channel (pattern mode) of each slot."""
    segments: np.ndarray
    """(DEPTH, SLOTS) each slot's segment: channel ends before it in its word."""
    ends: np.ndarray
    """(DEPTH,) channels each word closes (at most K_FIN)."""
    pattern_ids: np.ndarray | None = None
    """(DEPTH, SLOTS) pattern id of each slot (pattern mode only)."""
    pattern_table: np.ndarray | None = None
    """(NP, K_NZ) window offset of weight j of each pattern (pattern mode only)."""


def rom_fields(image: EngineImage) -> RomFields:
    """The ROM of an engine image split into its fields (the inverse of _encode_words and the slot layouts)."""
    p = image.parameters
    weight_bits, seg_bits, lanes = p["WW"], segment_bits(p["K_FIN"]), p["P"]
    pattern = image.is_pattern_mode
    k = p["K_NZ"] if pattern else 1
    key_bits = p["IC_W"] if pattern else p["IDX_W"]
    item_bits = k * weight_bits + key_bits + (p["PID_W"] if pattern else 0)
    slots = lanes // k
    slot_bits = item_bits + seg_bits
    weights = np.zeros((image.depth, lanes), dtype=np.int64)
    keys = np.zeros((image.depth, slots), dtype=np.int64)
    segments = np.zeros((image.depth, slots), dtype=np.int64)
    pids = np.zeros((image.depth, slots), dtype=np.int64)
    ends = np.zeros(image.depth, dtype=np.int64)
    for d, word in enumerate(image.weight_words):
        for s in range(slots):
            slot = _field(word, s * slot_bits, slot_bits)
            for j in range(k):
                weights[d, s * k + j] = _signed(_field(slot, j * weight_bits, weight_bits), weight_bits)
            keys[d, s] = _field(slot, k * weight_bits, key_bits)
            if pattern:
                pids[d, s] = _field(slot, k * weight_bits + key_bits, p["PID_W"])
            segments[d, s] = _field(slot, item_bits, seg_bits)
        ends[d] = _field(word, slots * slot_bits, seg_bits)
    if not pattern:
        return RomFields(weights, keys, segments, ends)
    table = np.array([[_field(row, j * p["IDX_W"], p["IDX_W"]) for j in range(k)] for row in image.pattern_words],
                     dtype=np.int64)
    return RomFields(weights, keys, segments, ends, pids, table)


@dataclass(frozen=True)
class ChannelTable:
    """CHAN_FILE read back: per channel with weights (ROM order) its output channel, bias code and alignment shift."""

    out_channels: np.ndarray
    biases: np.ndarray
    aligns: np.ndarray


def channel_table(image: EngineImage) -> ChannelTable:
    """The entries {align (SHIFT_W), oc (OC_W), bias (ACC_W)} of an image's channel table."""
    p = image.parameters
    acc_bits, oc_bits = p["ACC_W"], p["OC_W"]
    words = image.channel_words
    return ChannelTable(
        np.array([(w >> acc_bits) & ((1 << oc_bits) - 1) for w in words], dtype=np.int64),
        np.array([_signed(w & ((1 << acc_bits) - 1), acc_bits) for w in words], dtype=np.int64),
        np.array([w >> (acc_bits + oc_bits) for w in words], dtype=np.int64),
    )


def constant_outputs(image: EngineImage) -> np.ndarray:
    """CONST_FILE read back as signed or unsigned codes: each output channel's code when no weight reaches it."""
    p = image.parameters
    codes = np.asarray(image.const_codes, dtype=np.int64)
    return np.array([_signed(int(c), p["OUT_W"]) for c in codes], dtype=np.int64) if p["OUT_SIGNED"] else codes
