"""Every RTL module is Verilator -Wall clean and synthesizes (Yosys synth_xilinx) without latches.

Memories must land in block RAM at realistic sizes: a line buffer of a 32x32x16 3x3 window
generator and a 1024 x 36 weight ROM.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from fpgaflow.hw.logic_depth import level_counts, longest_path
from fpgaflow.hw.simulate import rtl_sources
from fpgaflow.hw.toolchain import run_verilator_lint, run_yosys
from fpgaflow.flow.weight_rom import mem_text

ENGINE_FILES = {"WEIGHT_FILE": "w.mem", "CHAN_FILE": "c.mem", "CONST_FILE": "k.mem"}

LOGIC_LEVEL_BOUND = 6.0
"""Most logic levels between registers (or ports) of any module on the mapped netlist
(fpgaflow.hw.logic_depth: a LUT 1, MUXF7/F8 0.5, CARRY4 0.25). About 6 LUT levels with their
routing fit a 10 ns cycle on a -1 Zynq-7000; the v1 engine's one-cycle lane sum was far above
(docs/benchmarks.md, "Engine v2")."""

# (top, modules, parameters)
LINT = [
    ("axis_fifo", ["axis_fifo"], {"DW": 8, "DEPTH": 16}),
    ("axis_fifo", ["axis_fifo"], {"DW": 33, "DEPTH": 5}),
    ("window_gen", ["window_gen"], {}),
    ("window_gen", ["window_gen"], {"KH": 1, "KW": 1}),
    ("window_gen", ["window_gen"], {"KH": 5, "KW": 5, "IN_W": 1, "IN_H": 6, "PAD_L": 2, "PAD_R": 2, "STRIDE_H": 2}),
    ("weight_rom", ["weight_rom"], {"WIDTH": 36, "DEPTH": 1}),
    ("weight_rom", ["weight_rom"], {"WIDTH": 36, "DEPTH": 40, "RAM_STYLE": "distributed"}),
    ("window_gen", ["window_gen"], {"RAM_STYLE": "distributed"}),
    ("axis_width_converter", ["axis_width_converter"], {"IN_DW": 8, "OUT_DW": 32}),
    ("axis_width_converter", ["axis_width_converter"], {"IN_DW": 24, "OUT_DW": 12}),
    ("axis_width_converter", ["axis_width_converter"], {"IN_DW": 12, "OUT_DW": 12}),
    ("sparse_conv_engine", ["sparse_conv_engine", "weight_rom", "requantize"], {}),
    ("sparse_conv_engine", ["sparse_conv_engine", "weight_rom", "requantize"], {"ROM_STYLE": "distributed"}),
    # a beat of two words (the writer's first stage picks nothing) and a 300-bit LUT ROM (two enable copies)
    ("sparse_conv_engine", ["sparse_conv_engine", "weight_rom", "requantize"],
     {"BEAT_N": 8, "WR_N": 4, "P": 16, "ROM_STYLE": "distributed"}),
    ("sparse_conv_engine", ["sparse_conv_engine", "weight_rom", "requantize"],
     {"P": 1, "DEPTH": 1, "NZ_OC": 1, "ACT": 2, "RELU6_MAX": 96, "SHIFT": -2, "IN_SIGNED": 1, "OUT_SIGNED": 1}),
    ("pool_max", ["pool_max", "window_gen"], {"SIGNED": 1, "PAD_T": 1}),
    ("pool_avg", ["pool_avg", "window_gen", "requantize"], {"RECIP_W": 16, "RECIP_CODE": 58254, "SHIFT": 18}),
    ("pool_global_avg", ["pool_global_avg", "requantize"], {}),
    ("axis_add", ["axis_add", "axis_join", "requantize"], {"ACT": 2, "RELU6_MAX": 50}),
    ("axis_concat", ["axis_concat", "axis_join", "requantize"], {"A_SHIFT": -2}),
    ("axis_dma_packer", ["axis_dma_packer"], {"PIXEL_W": 40, "DMA_W": 16}),
    ("axis_dma_packer", ["axis_dma_packer"], {"PIXEL_W": 40, "DMA_W": 16, "TO_PIXELS": 0}),
    ("axis_upsample", ["axis_upsample"], {"PW": 24, "IN_H": 16, "IN_W": 16, "SH": 2, "SW": 2}),
    ("axis_upsample", ["axis_upsample"], {"PW": 8, "IN_H": 1, "IN_W": 1, "SH": 1, "SW": 3}),
    ("axis_depth_to_space", ["axis_depth_to_space"], {"PW": 24, "IN_H": 16, "IN_W": 16, "BH": 2, "BW": 2}),
    ("axis_depth_to_space", ["axis_depth_to_space"], {"PW": 12, "IN_H": 1, "IN_W": 1, "BH": 3, "BW": 1}),
    ("requantize", ["requantize"], {"SHIFT": 3}),
    ("requantize", ["requantize"], {"SHIFT": 3, "ACT": 3, "SLOPE_CODE": 52429, "SLOPE_FRAC": 19}),
    ("requantize", ["requantize"], {"SHIFT": -5, "ACT": 3, "SLOPE_CODE": 1, "SLOPE_FRAC": 3}),
    ("sparse_conv_engine", ["sparse_conv_engine", "weight_rom", "requantize"], {"ACT": 3, "SLOPE_CODE": 52429, "SLOPE_FRAC": 19}),
    ("sparse_conv_engine", ["sparse_conv_engine"], {"P": 3, "WW": 4, "LUT_LANES": 2, "IN_SIGNED": 1}),
]

# (top, modules, parameters, memory files {parameter: (words, bits)}, expect block RAM)
WG_BIG = {"IN_H": 32, "IN_W": 32, "C": 16, "DW": 8, "KH": 3, "KW": 3, "PAD_T": 1, "PAD_L": 1, "PAD_B": 1, "PAD_R": 1}
ENGINE = {"BEAT_N": 72, "IN_W": 8, "C_OUT": 16, "P": 4, "WW": 8, "IDX_W": 7, "DEPTH": 600, "NZ_OC": 16, "OC_W": 4, "ACC_W": 24}
SYNTH = [
    ("axis_fifo", ["axis_fifo"], {"DW": 36, "DEPTH": 512}, {}, True),
    ("window_gen", ["window_gen"], WG_BIG, {}, True),
    ("weight_rom", ["weight_rom"], {"WIDTH": 36, "DEPTH": 1024, "INIT_FILE": "w.mem"}, {"INIT_FILE": (1024, 36)}, True),
    ("axis_width_converter", ["axis_width_converter"], {"IN_DW": 16, "OUT_DW": 64}, {}, False),
    ("axis_width_converter", ["axis_width_converter"], {"IN_DW": 64, "OUT_DW": 16}, {}, False),
    ("pool_max", ["pool_max", "window_gen"], {"SIGNED": 1, "PAD_T": 1}, {}, False),
    ("pool_avg", ["pool_avg", "window_gen", "requantize"], {"RECIP_W": 16, "RECIP_CODE": 58254, "SHIFT": 18}, {}, False),
    ("pool_global_avg", ["pool_global_avg", "requantize"], {}, {}, False),
    ("axis_add", ["axis_add", "axis_join", "requantize"], {"ACT": 2, "RELU6_MAX": 50}, {}, False),
    ("axis_concat", ["axis_concat", "axis_join", "requantize"], {"A_SHIFT": 2}, {}, False),
    ("axis_dma_packer", ["axis_dma_packer"], {"PIXEL_W": 40, "DMA_W": 16}, {}, False),
    ("axis_dma_packer", ["axis_dma_packer"], {"PIXEL_W": 40, "DMA_W": 16, "TO_PIXELS": 0}, {}, False),
    ("requantize", ["requantize"], {"SHIFT": 3}, {}, False),
    # A small engine (9-element window, 4 channels, 2 lanes) so every run synthesizes it; the
    # realistic one below is slow (about 100 s).
    ("sparse_conv_engine", ["sparse_conv_engine", "weight_rom", "requantize"],
     {"BEAT_N": 9, "IN_W": 8, "C_OUT": 4, "P": 2, "WW": 8, "IDX_W": 4, "DEPTH": 16, "NZ_OC": 4, "OC_W": 2,
      "ACC_W": 20, **ENGINE_FILES},
     {"WEIGHT_FILE": (16, 27), "CHAN_FILE": (4, 22), "CONST_FILE": (4, 8)}, False),
]
# LUT multipliers: the widest a LUT lane takes (16-bit activations widened to 17 bits, 4-bit weights,
# resource_model.LUT_MULTIPLIER_MAX_*), alone and as lanes of the small engine.
SYNTH += [
    ("lut_multiplier", ["lut_multiplier"], {"A_W": 17, "B_W": 4}, {}, False),
    ("sparse_conv_engine", ["sparse_conv_engine"],
     {"BEAT_N": 9, "IN_W": 16, "C_OUT": 4, "P": 2, "WW": 4, "LUT_LANES": 2, "IDX_W": 4, "DEPTH": 16, "NZ_OC": 4, "OC_W": 2,
      "ACC_W": 24, **ENGINE_FILES},
     {"WEIGHT_FILE": (16, 2 * (4 + 4 + 1) + 1), "CHAN_FILE": (4, 26), "CONST_FILE": (4, 8)}, False),
]
# Distributed memories: (top, modules, parameters, memory files); they must use no block RAM.
DISTRIBUTED_SYNTH = [
    ("weight_rom", ["weight_rom"], {"WIDTH": 200, "DEPTH": 31, "INIT_FILE": "w.mem", "RAM_STYLE": "distributed"},
     {"INIT_FILE": (31, 200)}),
    ("window_gen", ["window_gen"], {**WG_BIG, "IN_W": 8, "IN_H": 8, "RAM_STYLE": "distributed"}, {}),
]
SYNTH.append(
    # 8 lanes over a 72-element window written 4 per cycle, two finish units: every pipeline stage present
    ("sparse_conv_engine", ["sparse_conv_engine"],
     {**ENGINE, "P": 8, "WR_N": 4, "K_FIN": 2, "DEPTH": 40, **ENGINE_FILES},
     {"WEIGHT_FILE": (40, 8 * (8 + 7 + 2) + 2), "CHAN_FILE": (16, 28), "CONST_FILE": (16, 8)}, False))
SLOW_SYNTH = [
    ("sparse_conv_engine", ["sparse_conv_engine", "weight_rom", "requantize"], {**ENGINE, **ENGINE_FILES},
     {"WEIGHT_FILE": (600, 65), "CHAN_FILE": (16, 28), "CONST_FILE": (16, 8)}, True),
    # the large corner: 32 lanes on a 576-element window (3x3x64), four finish units
    ("sparse_conv_engine", ["sparse_conv_engine"],
     {**ENGINE, "BEAT_N": 576, "P": 32, "WR_N": 16, "IDX_W": 10, "K_FIN": 4, "DEPTH": 72, **ENGINE_FILES},
     {"WEIGHT_FILE": (72, 32 * (8 + 10 + 3) + 3), "CHAN_FILE": (16, 28), "CONST_FILE": (16, 8)}, False),
]


@pytest.mark.parametrize("top, modules, params", LINT)
def test_verilator_lint_clean(top: str, modules: list[str], params: dict[str, int]) -> None:
    result = run_verilator_lint(rtl_sources(*modules), top, params)
    assert result.returncode == 0, result.stderr


def synth_stats(tmp_path: Path, top: str, modules: list[str], params: dict[str, int | str], files: dict[str, tuple[int, int]]) -> dict[str, int]:
    """Synthesize for a 7-series part and return the cell counts of the top's statistics."""
    rng = random.Random(0)
    for key, (depth, bits) in files.items():
        (tmp_path / str(params[key])).write_text(mem_text([rng.getrandbits(bits) for _ in range(depth)], bits))
    settings = " ".join(f'-set {k} "{v}"' if isinstance(v, str) else f"-set {k} {v}" for k, v in params.items())
    script = (f"chparam {settings} {top}\nhierarchy -top {top}\n"
              f"synth_xilinx -top {top} -family xc7 -flatten\ntee -o stat.txt stat\nwrite_json mapped.json\n")
    run_yosys(script, tmp_path, rtl_sources(*modules))
    text = (tmp_path / "stat.txt").read_text()
    return {name: int(count) for count, name in re.findall(r"^\s+(\d+)\s+(\$?\w+)\s*$", text, re.MULTILINE)}


def check_synth(tmp_path: Path, top, modules, params, files, want_bram) -> dict[str, int]:
    """Synthesize, check for latches (and block RAM when wanted); returns the cell counts."""
    cells = synth_stats(tmp_path, top, modules, params, files)
    latches = {k: v for k, v in cells.items() if k in ("$dlatch", "$_DLATCH_P_", "$_DLATCH_N_", "LDCE", "LDPE")}
    assert not latches, f"{top} infers latches: {latches}"
    if want_bram:
        assert cells.get("RAMB18E1", 0) + cells.get("RAMB36E1", 0) > 0, f"{top}: no block RAM in {cells}"
    depth = longest_path(tmp_path / "mapped.json", top)
    assert depth.levels <= LOGIC_LEVEL_BOUND, (
        f"{top}: a path of {depth.levels} logic levels ({level_counts(depth)}) exceeds {LOGIC_LEVEL_BOUND}; pipeline it")
    return cells


@pytest.mark.parametrize("top, modules, params, files, want_bram", SYNTH)
def test_synthesizes_without_latches(tmp_path: Path, top, modules, params, files, want_bram) -> None:
    check_synth(tmp_path, top, modules, params, files, want_bram)


@pytest.mark.parametrize("top, modules, params, files", DISTRIBUTED_SYNTH)
def test_distributed_memories_use_no_block_ram(tmp_path: Path, top, modules, params, files) -> None:
    cells = check_synth(tmp_path, top, modules, params, files, want_bram=False)
    assert cells.get("RAMB18E1", 0) + cells.get("RAMB36E1", 0) == 0, f"{top}: block RAM in {cells}"


@pytest.mark.slow
@pytest.mark.parametrize("top, modules, params, files, want_bram", SLOW_SYNTH)
def test_engine_synthesizes_without_latches(tmp_path: Path, top, modules, params, files, want_bram) -> None:
    check_synth(tmp_path, top, modules, params, files, want_bram)
