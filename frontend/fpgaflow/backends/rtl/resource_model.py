"""Analytical resource model of the RTL library on a 7-series part: LUT, FF, BRAM18 and DSP48E1.

Yosys `synth_xilinx` takes minutes on a real network, so the report and the parallelism
balancer use this model instead and keep the Yosys count (`build --synth`) as the check.
There is one function per library module, reading the module's own parameters, so the
model follows the netlist the generator writes. The formulas:

- DSP48E1: one per lane; a lane multiplies a (IN_W+1)-bit signed operand by a WW-bit
  weight, and one DSP48E1 does 25 x 18 signed, so wider operands take
  ceil(a / 25) * ceil(b / 18) (operands swapped when that is fewer). An engine's last
  LUT_LANES lanes multiply in LUTs instead (rtl/lut_multiplier.sv, lut_multiplier: its
  adder tree's bits at LUTs per bit fitted to Yosys, its product register).
- BRAM18 for a memory of depth D and width W: the best RAMB18E1 aspect ratio (d, w) among
  16Kx1, 8Kx2, 4Kx4, 2Kx9, 1Kx18, 512x36, ceil(W / w) * ceil(D / d) of them (RAMB36 = 2).
- Distributed memory: a ROM is LUT logic, 64 x 1 bits per LUT6, so ceil(D / 64) * W LUTs
  plus a ceil(D / 64) : 1 mux per bit; a RAM (line buffer, FIFO) maps to RAM32M (32 x 6 in 4
  LUTs) or RAM64M (64 x 3 in 4 LUTs).
- A multiplexer N : 1 costs ceil((N - 1) / 3) LUT6 per bit (a LUT6 is a 4 : 1 mux; the MUXF7
  / MUXF8 that combine them are free). An adder or comparator costs one LUT per bit.
- Logic LUTs and FFs of each module are counted from its registers and data paths (see the
  functions); the engine's per part (engine_logic_terms), each part scaled by a factor fitted
  to Yosys (ENGINE_LUT_FIT, ENGINE_FF_FIT).

How far off it is: docs/build.md ("Resources") and docs/benchmarks.md ("Engine v2") list the
model against Yosys (counted by fpgaflow.hw.yosys_count) on whole generated tops;
tests/test_resource_model.py keeps it within 5 % on LUT and FF.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from math import ceil
from typing import Literal

from fpgaflow.flow.cycles import BANK_GAP
from fpgaflow.flow.resources import Resources, bram18_count
from fpgaflow.flow.weight_rom import rom_word_bits

MemoryStyle = Literal["block", "distributed"]

DSP_OPERAND_BITS = {"zynq7": (25, 18), "zynquplus": (27, 18)}
"""Signed operand widths of one DSP multiplier by device family (fpgaflow.boards.FAMILIES): DSP48E1
25 x 18 (UG479, "DSP48E1 Slice Features") and DSP48E2 27 x 18 (UG579, "DSP48E2 Slice Features")."""
LUTRAM_DEPTH = 64
"""Bits of one LUT6 used as a 64 x 1 ROM or RAM."""

Params = Mapping[str, int | str]


def mux_luts(inputs: int) -> int:
    """LUT6 per bit of an inputs : 1 multiplexer."""
    return ceil((inputs - 1) / 3) if inputs > 1 else 0


def lutram_luts(depth: int, width: int, writable: bool = False) -> int:
    """LUTs of a depth x width distributed memory.

    A ROM is logic: 64 x 1 per LUT6 and a ceil(D / 64) : 1 mux per bit. A RAM with a write
    port maps to RAM32M (32 deep, 6 bits, 4 LUTs) or RAM64M (64 deep, 3 bits, 4 LUTs) and the
    same mux over the banks when deeper.
    """
    if depth < 1 or width < 1:
        return 0
    banks = ceil(depth / LUTRAM_DEPTH)
    if not writable:
        return banks * width + mux_luts(banks) * width
    if depth <= LUTRAM_DEPTH // 2:
        return ceil(width / 6) * 4
    return banks * ceil(width / 3) * 4 + mux_luts(banks) * width


def memory_style(depth: int, width: int, luts_per_bram18: float, writable: bool = False) -> MemoryStyle:
    """The cheaper style in BRAM18 equivalents: distributed when its LUTs cost less than the
    block RAMs it would take, a BRAM18 being worth `luts_per_bram18` LUTs (the board's LUT
    count over its BRAM18 count, so both are spent at the same rate)."""
    cost = lutram_luts(depth, width, writable)
    return "distributed" if cost < bram18_count(depth, width) * luts_per_bram18 else "block"


def luts_per_bram18(capacity: Mapping[str, int]) -> float:
    """What a BRAM18 is worth in LUTs on a board: its LUT count over its BRAM18 count."""
    return capacity["lut"] / max(1, capacity["bram18"])


def engine_rom_style(params: Params, capacity: Mapping[str, int]) -> MemoryStyle:
    """ROM_STYLE of a sparse_conv_engine: block RAM where the ROM is deeper than one LUT6
    (LUTRAM_DEPTH words), else by the shape of its weight ROM (DEPTH x ROM_W).

    Why not by cost alone: the read of a deeper LUT ROM is a tree of LUTs and bank multiplexers
    spread over thousands of LUTs, read in one cycle from the address register. The digits
    conv3's 148 x 1,099-bit LUT ROM (the cheaper style by cost) routed at 88.5 MHz on the ECP5
    proxy, its critical path that read; in block RAM the engine routed at 109.2 MHz
    (docs/benchmarks.md, "Engine v2: timing")."""
    if _int(params, "DEPTH") > LUTRAM_DEPTH:
        return "block"
    return memory_style(_int(params, "DEPTH"), rom_word_bits(params), luts_per_bram18(capacity))


def line_buffer_style(params: Params, capacity: Mapping[str, int]) -> MemoryStyle:
    """RAM_STYLE of a window_gen: by the shape of its line buffer (padded width x (KH-1) pixels)."""
    depth, width = _line_buffer_shape(params)
    return memory_style(depth, width, luts_per_bram18(capacity), writable=True) if width else "block"


def _line_buffer_shape(params: Params) -> tuple[int, int]:
    """(depth, width) of window_gen's line buffer; width 0 when KH = 1 (no buffer)."""
    depth = _int(params, "IN_W") + _int(params, "PAD_L") + _int(params, "PAD_R")
    return depth, (_int(params, "KH") - 1) * _int(params, "C") * _int(params, "DW")


def memory(depth: int, width: int, style: MemoryStyle, writable: bool = False) -> Resources:
    """A synchronous-read memory of depth x width in the given style (a distributed one's read register is FFs)."""
    if style == "block":
        return Resources(bram18=bram18_count(depth, width))
    return Resources(lut=lutram_luts(depth, width, writable), ff=width)


WEIGHT_ROM_SLICE = 64
"""Word bits per copy of a LUT weight ROM's address register (SLICE in rtl/weight_rom.sv)."""


ENGINE_ROM_EN_BITS = 256
"""Word bits of a LUT weight ROM per copy of sparse_conv_engine's read enable (ROM_EN_BITS in the RTL)."""


def weight_rom(depth: int, width: int, style: MemoryStyle) -> Resources:
    """rtl/weight_rom.sv: block RAM with a registered read, or LUTs read from a registered address
    (its flip-flops are a copy of the address bits per WEIGHT_ROM_SLICE bits of the word, and
    the engine's copies of the read enable, one per ENGINE_ROM_EN_BITS bits)."""
    if style == "block":
        return memory(depth, width, style)
    copies = -(-width // WEIGHT_ROM_SLICE)
    enables = -(-width // ENGINE_ROM_EN_BITS)
    return Resources(lut=lutram_luts(depth, width, writable=False),
                     ff=copies * max(1, (depth - 1).bit_length()) + enables)


def multiplier_dsps(a_bits: int, b_bits: int, family: str = "zynq7") -> int:
    """DSP slices of one signed a_bits x b_bits multiplier (operands swapped when that takes fewer)."""
    dsp_a, dsp_b = DSP_OPERAND_BITS[family]
    return min(ceil(a_bits / dsp_a) * ceil(b_bits / dsp_b), ceil(b_bits / dsp_a) * ceil(a_bits / dsp_b))


def lut_multiplier_adder_bits(a_bits: int, b_bits: int) -> tuple[int, int]:
    """(first-level, upper-level) adder bits of rtl/lut_multiplier.sv's tree, as the RTL builds it.

    The leaves are row 0, the sign row (shift b_bits - 1), rows 1 .. b_bits - 2, padded with
    empty rows (None) to a power of two. Below the larger of its two inputs' lowest shifts an adder
    only passes bits through, so a node adds a_bits + b_bits minus that shift bits.
    """
    width, levels = a_bits + b_bits, max(1, (b_bits - 1).bit_length())
    leaves: list[int | None] = [0, b_bits - 1]  # a 1-bit b: 0 minus its sign row, a negation
    leaves += [row if row < b_bits - 1 else None for row in range(1, (1 << levels) - 1)]
    bits = [0, 0]
    level = leaves
    for depth in range(levels):
        above: list[int | None] = []
        for low, high in zip(level[::2], level[1::2]):
            if low is None or high is None:
                above.append(high if low is None else low)
            else:
                bits[min(depth, 1)] += width - max(low, high)
                above.append(min(low, high))
        level = above
    return bits[0], bits[1]


LUT_MULTIPLIER_FIT = (1.78, 1.42)
"""Yosys synth_xilinx LUTs per adder bit of lut_multiplier's first level (where the partial
products' AND gates fold into the adder) and of the levels above: a least-squares fit on the
sweep of bench/bench_lut_multiplier.py (docs/benchmarks.md, "LUT multipliers")."""


def lut_multiplier(a_bits: int, b_bits: int) -> Resources:
    """One rtl/lut_multiplier.sv: a signed a_bits x b_bits multiply from LUTs and carry chains
    (its adder bits, lut_multiplier_adder_bits, at the fitted LUTs per bit) and its product register."""
    first, upper = lut_multiplier_adder_bits(a_bits, b_bits)
    return _logic(LUT_MULTIPLIER_FIT[0] * first + LUT_MULTIPLIER_FIT[1] * upper, a_bits + b_bits)


LUT_MULTIPLIER_MAX_WEIGHT_BITS = 4
LUT_MULTIPLIER_MAX_ACTIVATION_BITS = 16
"""The widest operands a LUT lane takes. lut_multiplier sums its weight's rows in
ceil(log2 WW) adder levels within one cycle: up to 4-bit weights and 16-bit activations
(a 17 x 4 multiply) its longest path is 5.5 logic levels, within the bound of
tests/test_lint_synth.py (docs/benchmarks.md, "LUT multipliers"); an 8-bit weight takes
6 levels at 8-bit activations and more beyond."""


def lut_multiplier_allowed(params: Params, capacity: Mapping[str, int], family: str = "zynq7") -> bool:
    """Whether a sparse_conv_engine may give lanes LUT multipliers on a board: narrow operands
    (LUT_MULTIPLIER_MAX_WEIGHT_BITS, LUT_MULTIPLIER_MAX_ACTIVATION_BITS) and a LUT lane cheaper
    than the DSPs it replaces, a DSP being worth the board's LUTs over its DSPs."""
    in_w, ww = _int(params, "IN_W"), _int(params, "WW")
    if ww > LUT_MULTIPLIER_MAX_WEIGHT_BITS or in_w > LUT_MULTIPLIER_MAX_ACTIVATION_BITS or not capacity.get("dsp"):
        return False
    return lut_lane(in_w, ww).lut < multiplier_dsps(in_w + 1, ww, family) * capacity["lut"] / capacity["dsp"]


def lut_lane(in_w: int, ww: int) -> Resources:
    """What a sparse_conv_engine lane adds when it multiplies in LUTs instead of a DSP: the
    multiplier of an (IN_W + 1) x WW product with its product register. The operand registers
    are FFs either way (measured: an engine of 4 lanes, 8-bit activations and 4-bit weights
    grows by 13 FFs a lane, the product's bits, when its lanes move from DSPs to LUTs)."""
    return lut_multiplier(in_w + 1, ww)


def _logic(luts: float, ffs: float) -> Resources:
    return Resources(lut=ceil(luts), ff=ceil(ffs))


def _int(params: Params, name: str) -> int:
    return int(params[name])


ENGINE_LATENCY_BASE = 16
"""sparse_conv_engine's LATENCY without its adder-tree levels (the RTL's localparam; its output FIFO depth follows)."""


def engine_output_depth(params: Params) -> int:
    """OUT_DEPTH of sparse_conv_engine: the pixels in flight while windows follow back to back (mirrors the RTL)."""
    depth, words = _int(params, "DEPTH"), _window_words(params)
    latency = ENGINE_LATENCY_BASE + max(0, (_int(params, "P") - 1).bit_length())
    window = max(depth, (words + depth + BANK_GAP) // 2)
    return -(-latency // window) + 1


def _window_words(params: Params) -> int:
    write_n = _int(params, "WR_N")
    return _int(params, "BEATS") * -(-_int(params, "BEAT_N") // write_n)


WINDOW_MEMORY_POLICIES = ("auto", "block")
"""How the engines' per-lane window memories are placed: "auto" by shape (LUT RAM unless block
RAM is cheaper at the board's LUT/BRAM ratio), "block" in block RAM (frees LUTs when a design
is LUT-bound and block RAM is spare; the planner tries both)."""


def engine_styles(params: Params, capacity: Mapping[str, int], window_memory: str = "auto") -> dict[str, str]:
    """The memory-style parameters of a sparse_conv_engine on a board: ROM_STYLE and WIN_RAM_STYLE."""
    window = "block" if window_memory == "block" else engine_window_style(params, capacity)
    return {"ROM_STYLE": engine_rom_style(params, capacity), "WIN_RAM_STYLE": window}


def engine_window_style(params: Params, capacity: Mapping[str, int]) -> MemoryStyle:
    """WIN_RAM_STYLE: each lane's window memory (two windows of WR_N-element words) by its shape."""
    return memory_style(2 * _window_words(params), _int(params, "WR_N") * _int(params, "IN_W"), luts_per_bram18(capacity),
                        writable=True)


def segment_tree_nodes(lanes: int, first: int) -> tuple[int, int]:
    """(registers, adders) of one pipelined segment tree of sparse_conv_engine: the tree over
    lanes `first`..lanes-1 of 2^ceil(log2 lanes) leaves. A node whose leaves are all constant
    zero is removed by synthesis; one with a single live half is a register without an adder."""
    levels = max(0, (lanes - 1).bit_length())
    registers = adders = 0
    for level in range(1, levels + 1):
        size, half = 1 << level, 1 << (level - 1)
        for low in range(0, 1 << levels, size):
            if low < lanes and low + size > first:
                registers += 1
                adders += int(low + half > first and low + half < lanes)
    return registers, adders


def segment_first_lanes(params: Params) -> list[int]:
    """The first lane each segment tree t = 0..K_FIN can hold, as the weight ROM's contents allow.

    Lane l is in segment t only after t channel ends earlier in its word, so where the
    channels end decides which tree leaves are ever nonzero; the others are constant zero
    and synthesis removes them (with a dense layer's equal channels, the ends fall on a few
    lanes only). From the parameters: channels of equal length DEPTH * P / NZ_OC when that
    divides, ending at lanes (c * length - 1) mod P; otherwise ends anywhere.
    """
    p, depth, channels, k = (_int(params, n) for n in ("P", "DEPTH", "NZ_OC", "K_FIN"))
    if (depth * p) % channels:
        ends = list(range(p))
    else:
        length = depth * p // channels
        ends = sorted({(c * length - 1) % p for c in range(1, channels + 1)})
    return [0] + [ends[t - 1] + 1 if t <= len(ends) else p for t in range(1, k + 1)]


EngineTerms = dict[str, tuple[float, float]]
"""(LUTs, FFs) of each part of a sparse_conv_engine's logic, by part name."""

ENGINE_LUT_FIT = {"pick": 1.0, "pick_lutram": 1.29, "lanes": 1.0, "delays": 1.0, "trees": 0.63, "writer": 1.0,
                  "control": 0.89}
ENGINE_FF_FIT = {"pick": 1.0, "pick_lutram": 1.0, "lanes": 1.0, "delays": 1.0, "trees": 0.98, "writer": 1.0,
                 "control": 0.88}
"""Yosys synth_xilinx's count over the structural count, per part of the engine's logic
(engine_logic_terms): a least-squares fit of the relative error (LUTs: the pick, lanes and
delay lines held at 1; FFs: the lanes, picks and delay lines held at 1) on twelve engines
synthesized alone: the four of the digits example at its balanced P (1 to 116 lanes, window
memories in block RAM), the five of the residual and depthwise test nets at P = 8 (window
memories in LUT RAM, WR_N 2 to 16) and three small ones of tests/test_resource_model.py
(P 2 and 4, one with LUT lanes). The whole tops of the digits, residual and depthwise nets
check it (tests/test_resource_model.py). What the factors say (measured, not traced cell by
cell): after a registered block-RAM read the WR_N : 1 pick costs its 4 : 1-mux count; after
a LUT RAM about 1.3 times it; abc folds the leaf gating into the tree adders (0.63); the
control costs a little less than the count. The writer is counted as built (1.0): its two
pick stages changed after the fit (2026-12-01), and the fitted factors (1.29, 1.45) put the
depthwise net's top 5.4 % above Yosys in flip-flops; at 1.0 the three whole tops are within
the tolerance again (docs/benchmarks.md), but the writer was not refit engine by engine."""


def writer_select_split(words_per_beat: int) -> tuple[int, int]:
    """(LO_LOG, HI_LOG) of the writer's word pick in rtl/sparse_conv_engine.sv: stage 1 picks
    one of 2**LO_LOG words in each group of the beat, stage 2 the group by the HI_LOG bits
    (2, or 1 when a beat has at most 4 words: one LUT level in front of the write port)."""
    bits = max(1, (words_per_beat - 1).bit_length())
    high = 2 if bits > 2 else 1
    return bits - high, high


ENGINE_LANE_GROUP = 8
"""Lanes served by one copy of the engine's window write port and bank bit (LANE_GROUP in the RTL)."""

WRITER_SELECT_SLICE = 4
"""Bits of the writer's stage-1 register served by one copy of its select (SEL_SLICE in the RTL)."""


def writer_terms(words_per_beat: int, word_w: int, mem_addr: int, lanes: int) -> tuple[int, int]:
    """(LUTs, FFs) of the writer's word pick and write port: stage 1's 2**LO_LOG : 1 picks into a
    register of one word per live group, with the high bits, the address, the enable and the
    select's copies (one per WRITER_SELECT_SLICE bits); stage 2's live : 1 pick; the write port
    ({enable, address, word}) and the bank bit copied per ENGINE_LANE_GROUP lanes."""
    low, high = writer_select_split(words_per_beat)
    live = -(-words_per_beat // (1 << low))
    selects = -(-(live * word_w) // WRITER_SELECT_SLICE) * low
    group_words = [min(1 << low, words_per_beat - g * (1 << low)) for g in range(live)]  # the last may be short
    luts = word_w * (sum(mux_luts(words) for words in group_words) + mux_luts(live))
    ffs = live * word_w + high + mem_addr + 1 + selects + -(-lanes // ENGINE_LANE_GROUP) * (1 + mem_addr + word_w + 1)
    return luts, ffs


def engine_logic_terms(params: Params) -> EngineTerms:
    """The structural LUT and FF counts of a sparse_conv_engine's logic, by part (memories,
    DSPs and the output FIFO are counted exactly elsewhere):

    - pick / pick_lutram: per lane the WR_N : 1 pick of an IN_W-bit element out of the word
      read from a block-RAM / LUT-RAM window memory (ceil((WR_N - 1) / 3) LUTs per bit).
    - lanes: per lane the memory-address adder and register (MA_W), the registered ROM
      address (IDX_W - log2 WR_N) and the register of the word read (WR_N * IN_W).
    - delays: per lane the weight, segment and sub-word delay lines, one SRL16E per bit; the
      picked element, its relay and the weight are a DSP48's A1 / A2 and B registers (no FFs;
      a LUT lane measures no more FFs than a DSP lane).
    - trees: an ACC_W adder per node with two live halves, an ACC_W register per live node
      (segment_tree_nodes over the lanes segment_first_lanes allows), and the leaf gating
      (a product, PROD_W + 1 bits, zeroed unless the lane's segment is t).
    - writer: the CPB : 1 pick of the beat's WR_N * IN_W-bit words in two registered stages, the
      write port copied per 8 lanes, and the counters (writer_terms).
    - control: the reader (ROM address, credits, control pipeline), the K_FIN finish units
      (channel-table lookup in a NZ_OC-deep ROM of ACC_W + OC_W bits, carry, bias add,
      requantize, pipeline registers) and the C_OUT * OUT_W result registers with their
      K_FIN : 1 pick.
    """
    p, in_w, ww, acc_w, k = (_int(params, n) for n in ("P", "IN_W", "WW", "ACC_W", "K_FIN"))
    c_out, out_w, nz_oc, oc_w, idx_w = (_int(params, n) for n in ("C_OUT", "OUT_W", "NZ_OC", "OC_W", "IDX_W"))
    write_n, depth = _int(params, "WR_N"), _int(params, "DEPTH")
    sub_w = (write_n - 1).bit_length()
    per_beat = -(-_int(params, "BEAT_N") // write_n)
    mem_addr, word_bits, beat_bits, rom_addr = (max(1, (n - 1).bit_length())
                                                for n in (2 * _window_words(params), _window_words(params), per_beat, depth))
    seg_w = max(1, k.bit_length())
    rank_w = (nz_oc + k).bit_length()
    block_window = params.get("WIN_RAM_STYLE", "distributed") == "block"
    writer_luts, writer_ffs = writer_terms(per_beat, write_n * in_w, mem_addr, p)
    first = segment_first_lanes(params)
    trees = [segment_tree_nodes(p, lane) for lane in first]
    leaves = sum(p - lane for lane in first[1:]) + p - first[1]  # tree 0 gates only the lanes whose segment can change
    control_luts = (rom_addr + 8 + k * (lutram_luts(nz_oc, acc_w + oc_w) + 2 * acc_w + 2 * out_w) + acc_w + rank_w
                    + c_out * out_w * mux_luts(k) + c_out)
    control_ffs = (rom_addr + 6 + (5 + (p - 1).bit_length()) * (3 + seg_w) + acc_w + rank_w
                   + k * (4 * acc_w + rank_w + oc_w + out_w + 5) + 10 + c_out * out_w)
    return {
        "pick": (p * in_w * mux_luts(write_n), 0) if block_window else (0, 0),
        "pick_lutram": (0, 0) if block_window else (p * in_w * mux_luts(write_n), 0),
        "lanes": (p * mem_addr, p * (idx_w - sub_w + mem_addr + write_n * in_w)),
        "delays": (p * (ww + seg_w + sub_w), 0),
        "trees": (sum(adders for _, adders in trees) * acc_w + leaves * (in_w + ww + 2),
                  sum(registers for registers, _ in trees) * acc_w),
        "writer": (writer_luts + word_bits + beat_bits + mem_addr, writer_ffs + word_bits + beat_bits + 8),
        "control": (control_luts, control_ffs),
    }


def sparse_conv_engine(params: Params, family: str = "zynq7") -> Resources:
    """The engine's logic (engine_logic_terms, each part scaled by its fit to Yosys), its lanes'
    window memories (2 * WORDS x WR_N * IN_W each, `WIN_RAM_STYLE`), the weight ROM, the output
    FIFO and one multiplier per lane: a DSP each, the last LUT_LANES in LUTs (lut_lane)."""
    p, in_w, ww = _int(params, "P"), _int(params, "IN_W"), _int(params, "WW")
    lut_lanes = int(params.get("LUT_LANES", 0))
    terms = engine_logic_terms(params)
    luts = sum(ENGINE_LUT_FIT[part] * lut for part, (lut, _) in terms.items())
    ffs = sum(ENGINE_FF_FIT[part] * ff for part, (_, ff) in terms.items())
    style = str(params.get("WIN_RAM_STYLE", "distributed"))
    lane_memory = memory(2 * _window_words(params), _int(params, "WR_N") * in_w, style, writable=True)  # type: ignore[arg-type]
    rom_style = str(params.get("ROM_STYLE", "block"))
    rom = weight_rom(_int(params, "DEPTH"), rom_word_bits(params), rom_style)  # type: ignore[arg-type]
    fifo = axis_fifo({"DW": _int(params, "C_OUT") * _int(params, "OUT_W"), "DEPTH": engine_output_depth(params)})
    lanes = Resources(lut=lane_memory.lut * p, ff=lane_memory.ff * p, bram18=lane_memory.bram18 * p)
    lut_multiplied = lut_lane(in_w, ww)
    multipliers = Resources(lut=lut_multiplied.lut * lut_lanes, ff=lut_multiplied.ff * lut_lanes,
                            dsp=(p - lut_lanes) * multiplier_dsps(in_w + 1, ww, family))
    return _logic(luts, ffs) + lanes + rom + fifo + multipliers


def window_gen(params: Params, family: str = "zynq7") -> Resources:
    """Line buffer ((KH-1) rows side by side, padded-width deep), window registers, forwarding mux, counters.

    LUTs: the read-during-write forwarding mux (one per line-buffer bit) and the counters.
    FFs: the window, the forwarded column, the incoming pixel and the counters.
    """
    kh, kw, c, dw = (_int(params, k) for k in ("KH", "KW", "C", "DW"))
    pix = c * dw
    depth, line_w = _line_buffer_shape(params)
    style = str(params.get("RAM_STYLE", "block"))
    buffer = memory(depth, line_w, style, writable=True) if line_w else Resources()  # type: ignore[arg-type]
    return buffer + _logic(line_w + 24, kh * kw * pix + line_w + pix + 48)


def pool_max(params: Params, family: str = "zynq7") -> Resources:
    """A window generator and a comparator tree (KH*KW-1 compare-and-select per channel)."""
    c, dw, n = _int(params, "C"), _int(params, "DW"), _int(params, "KH") * _int(params, "KW")
    return window_gen(params) + _logic(c * (n - 1) * 2 * dw, c * dw)


def pool_avg(params: Params, family: str = "zynq7") -> Resources:
    """A window generator, an adder tree per channel and one reciprocal multiply per channel."""
    c, dw, n = _int(params, "C"), _int(params, "DW"), _int(params, "KH") * _int(params, "KW")
    sum_w = dw + max(1, (n - 1).bit_length())
    return window_gen(params) + _logic(c * (n - 1) * sum_w + c * sum_w, c * (sum_w + _int(params, "OUT_DW"))) + _recip(params, c, sum_w, family)


def _recip(params: Params, channels: int, sum_w: int, family: str) -> Resources:
    bits = _int(params, "RECIP_W") if "RECIP_W" in params else 0
    return Resources(dsp=channels * multiplier_dsps(sum_w, bits, family)) if bits > 1 else Resources()


def pool_global_avg(params: Params, family: str = "zynq7") -> Resources:
    """Per-channel accumulators over the frame, then one reciprocal multiply per channel."""
    c, dw = _int(params, "C"), _int(params, "DW")
    sum_w = dw + (_int(params, "IN_H") * _int(params, "IN_W")).bit_length()
    return _logic(2 * c * sum_w, c * (sum_w + _int(params, "OUT_DW")) + 32) + _recip(params, c, sum_w, family)


def _two_input(params: Params, channels: int) -> Resources:
    """axis_add / axis_concat: a join, per channel an align, add or pass, requantize, and an output register
    (two LUTs per bit of the widened sum; the registers as Yosys keeps them on the residual test net)."""
    width = max(_int(params, "A_DW"), _int(params, "B_DW")) + 1
    return _logic(channels * 2 * width, channels * 2 * _int(params, "OUT_DW") + 2)


def axis_add(params: Params, family: str = "zynq7") -> Resources:
    return _two_input(params, _int(params, "C"))


def axis_concat(params: Params, family: str = "zynq7") -> Resources:
    return _two_input(params, _int(params, "C_A") + _int(params, "C_B"))


def axis_fifo(params: Params, family: str = "zynq7") -> Resources:
    """A DEPTH x (DW + 1) memory (data and TLAST; the style by shape, as the synthesis tool
    chooses it), its read register, two pointers and a count."""
    depth, dw = _int(params, "DEPTH"), _int(params, "DW") + 1
    address = max(1, (depth - 1).bit_length())
    style = memory_style(depth, dw, LUTS_PER_BRAM18_7SERIES, writable=True)  # no style parameter: Yosys picks
    return memory(depth, dw, style, writable=True) + _logic(4 * address + 4, 3 * address + 2)


def axis_width_converter(params: Params, family: str = "zynq7") -> Resources:
    """A shift register of the wider side and a beat counter."""
    wide, narrow = max(_int(params, "IN_DW"), _int(params, "OUT_DW")), min(_int(params, "IN_DW"), _int(params, "OUT_DW"))
    return _logic(wide + mux_luts(ceil(wide / narrow)) * narrow + 16, wide + 16)


def axis_dma_packer(params: Params, family: str = "zynq7") -> Resources:
    """Packs pixels into DMA words (or back): a buffer of two words and a bit offset, and a shifter."""
    pixel, dma = _int(params, "PIXEL_W"), _int(params, "DMA_W")
    return _logic(2 * (pixel + dma) + 32, 2 * (pixel + dma) + 16)


def axis_upsample(params: Params, family: str = "zynq7") -> Resources:
    """A one-row line buffer (IN_W x PW distributed RAM, read asynchronously), the output register
    and its 2:1 mux, four counters."""
    pixel = _int(params, "PW")
    counters = sum(max(1, (_int(params, name) - 1).bit_length()) for name in ("IN_W", "IN_H", "SH", "SW"))
    return _logic(lutram_luts(max(_int(params, "IN_W"), 2), pixel, writable=True) + pixel + 2 * counters + 8,
                  pixel + counters + 2)


def axis_depth_to_space(params: Params, family: str = "zynq7") -> Resources:
    """A line buffer of one input row of BH*BW-pixel beats (distributed RAM, read asynchronously), the
    pick of one pixel out of a beat, the output register, four counters."""
    pixel, blocks = _int(params, "PW"), _int(params, "BH") * _int(params, "BW")
    counters = sum(max(1, (_int(params, name) - 1).bit_length()) for name in ("IN_W", "IN_H", "BH", "BW"))
    return _logic(lutram_luts(max(_int(params, "IN_W"), 2), blocks * pixel, writable=True) + mux_luts(blocks + 1) * pixel
                  + 2 * counters + 8, pixel + counters + 2)


def requantize(params: Params, family: str = "zynq7") -> Resources:
    return _logic(_int(params, "IN_W") + 2 * _int(params, "OUT_W"), 0)


LUTS_PER_BRAM18_7SERIES = 53200 / 280
"""LUTs a BRAM18 is worth on a Zynq-7020 (used for modules whose memory style the synthesis tool picks)."""

MODULES: dict[str, Callable[[Params, str], Resources]] = {
    "sparse_conv_engine": sparse_conv_engine,
    "window_gen": window_gen,
    "pool_max": pool_max,
    "pool_avg": pool_avg,
    "pool_global_avg": pool_global_avg,
    "axis_add": axis_add,
    "axis_concat": axis_concat,
    "axis_fifo": axis_fifo,
    "axis_width_converter": axis_width_converter,
    "axis_dma_packer": axis_dma_packer,
    "axis_upsample": axis_upsample,
    "axis_depth_to_space": axis_depth_to_space,
    "requantize": requantize,
}
"""The model of every library module a generated top instantiates, by module name."""


def module_resources(module: str, params: Params, family: str = "zynq7") -> Resources:
    """The modelled resources of one instance; a module without a model is a bug in this table."""
    if module not in MODULES:
        raise ValueError(f"no resource model for module {module!r}; add one to fpgaflow.backends.rtl.resource_model.MODULES")
    return MODULES[module](params, family)
