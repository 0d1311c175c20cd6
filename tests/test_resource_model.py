"""The analytical resource model: exact BRAM18/DSP counts, memory style by shape, agreement with Yosys,
and the balancer keeping designs on the board."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from fpgaflow.boards import load_board
from fpgaflow.backends.rtl.resource_model import (
    engine_rom_style,
    lutram_luts,
    luts_per_bram18,
    memory_style,
    module_resources,
    multiplier_dsps,
    sparse_conv_engine,
)
from fpgaflow.flow.resources import Resources, bram18_count, overflow
from fpgaflow.hw.simulate import rtl_sources
from fpgaflow.flow.weight_rom import element_entry_bits, mem_text, rom_word_bits, segment_bits
from fpgaflow.importers.onnx_import import import_onnx
from fpgaflow.ir import Dense, Weight
from fpgaflow.quant import quantize
from fpgaflow.hw.yosys_count import count_resources, synthesize_module
from fpgaflow.report.resource_estimates import overflow_message
from fpgaflow.backends.rtl.generate import generate_rtl, plan_design
from fpgaflow.backends.rtl.netlist_resources import BALANCE_LIMIT
from reference_graphs import chain, random_weight

BOARD = load_board("pynq")
DIGITS = "examples/digits_cnn.onnx"


@pytest.mark.parametrize(
    "depth, width, blocks",
    [(16384, 1, 1), (2048, 9, 1), (1024, 18, 1), (512, 36, 1), (1024, 36, 2), (16, 26, 1), (31, 2350, 66),
     (4096, 5, 2), (600, 64, 4), (0, 8, 0)],
)
def test_bram18_by_best_aspect_ratio(depth, width, blocks):
    assert bram18_count(depth, width) == blocks


@pytest.mark.parametrize("a, b, dsps", [(9, 8, 1), (25, 18, 1), (18, 25, 1), (26, 8, 2), (30, 30, 4), (9, 20, 1)])
def test_dsp_per_multiplier(a, b, dsps):
    assert multiplier_dsps(a, b) == dsps


def test_lutram_and_memory_style_by_shape():
    assert lutram_luts(64, 10) == 10 and lutram_luts(128, 10) == 2 * 10 + 1 * 10
    assert lutram_luts(32, 12, writable=True) == 8  # two RAM32M
    per_bram = BOARD.resources["lut"] / BOARD.resources["bram18"]
    assert memory_style(31, 2350, per_bram) == "distributed"  # 66 nearly empty BRAM18 against 2350 LUTs
    assert memory_style(1024, 36, per_bram) == "block"


def engine_params(**changes):
    params = {"BEAT_N": 9, "BEATS": 1, "WR_N": 1, "IN_W": 8, "C_OUT": 4, "OUT_W": 8, "P": 2, "WW": 8, "IDX_W": 4,
              "DEPTH": 16, "NZ_OC": 4, "OC_W": 2, "ACC_W": 20, "INDEX_MODE": 0, "K_FIN": 1}
    return params | changes


def test_a_weight_rom_deeper_than_a_lut6_goes_to_block_ram():
    """By cost a wide, shallow ROM goes to LUTs; past 64 words its LUT read is too slow for the
    board clock (the digits conv3 routed at 88.5 MHz), so it goes to block RAM whatever the cost."""
    wide = {"P": 61, "IDX_W": 9, "WW": 8}
    capacity = BOARD.resources
    assert engine_rom_style(engine_params(DEPTH=64, **wide), capacity) == "distributed"
    assert engine_rom_style(engine_params(DEPTH=65, **wide), capacity) == "block"
    assert memory_style(65, rom_word_bits(engine_params(DEPTH=65, **wide)), luts_per_bram18(capacity)) == "distributed"


def test_engine_model_counts_lanes_and_rom():
    small = sparse_conv_engine(engine_params())
    assert small.dsp == 2 and small.bram18 == 1  # 16 x 27 ROM in one BRAM18
    wide = sparse_conv_engine(engine_params(P=8, DEPTH=31, ROM_STYLE="distributed"))
    assert wide.dsp == 8 and wide.bram18 == 0 and wide.lut > sparse_conv_engine(engine_params(P=8, DEPTH=31)).lut
    assert rom_word_bits(engine_params(P=8)) == 8 * 13 + 1  # entries {segment, index, weight}, closed count
    assert overflow(Resources(lut=10, dsp=300), BOARD.resources) == ["dsp"]
    with pytest.raises(ValueError, match="no resource model"):
        module_resources("mystery", {})


# Yosys against the model on the small engine of tests/test_lint_synth.py (about 20 s). Tolerances:
# the memories and multipliers are counted exactly; logic LUTs and FFs within 40 % (model 269 LUT /
# 333 FF against Yosys 239 / 347 before INV cells were counted as LUTs: fixed control logic dominates a
# 2-lane engine, outside the fit); the whole tops below are held to 5 %.
LOGIC_TOLERANCE = 0.4


def test_model_against_yosys_on_a_small_engine(tmp_path: Path):
    params = engine_params() | {"WEIGHT_FILE": "w.mem", "CHAN_FILE": "c.mem", "CONST_FILE": "k.mem"}
    rng = random.Random(0)
    shapes = {"w.mem": (16, rom_word_bits(params)), "c.mem": (4, 22), "k.mem": (4, 8)}
    for name, (depth, bits) in shapes.items():
        (tmp_path / name).write_text(mem_text([rng.getrandbits(bits) for _ in range(depth)], bits))
    synth = count_resources(synthesize_module(tmp_path, "sparse_conv_engine", params, rtl_sources("sparse_conv_engine")))
    model = sparse_conv_engine(params).as_dict()
    assert model["dsp"] == synth["dsp"] and model["bram18"] == synth["bram18"]
    for kind in ("lut", "ff"):
        assert abs(model[kind] - synth[kind]) <= LOGIC_TOLERANCE * synth[kind], (kind, model, synth)


def segment_free(word: int, params: dict) -> int:
    """A random ROM word as the packer writes it when every channel ends on the last lane (the
    shape of engine_params: DEPTH * P / NZ_OC entries a channel, a multiple of P): every lane's
    segment field 0. The model counts the adder trees such a ROM leaves live (segment_first_lanes);
    random segment fields would keep trees alive that no packed ROM uses."""
    seg, entry = segment_bits(params["K_FIN"]), element_entry_bits(params["WW"], params["IDX_W"], segment_bits(params["K_FIN"]))
    for lane in range(params["P"]):
        word &= ~(((1 << seg) - 1) << (lane * entry + entry - seg))
    return word


def synthesize_engine(work: Path, params: dict) -> dict[str, int]:
    """Yosys's LUT/FF/BRAM18/DSP of one sparse_conv_engine with random memory contents (the ROM as wide
    as its lanes, its segment fields as segment_free leaves them)."""
    params = params | {"WEIGHT_FILE": "w.mem", "CHAN_FILE": "c.mem", "CONST_FILE": "k.mem"}
    rng = random.Random(0)
    work.mkdir(parents=True, exist_ok=True)
    shapes = {"w.mem": (params["DEPTH"], rom_word_bits(params)), "c.mem": (params["NZ_OC"], params["ACC_W"] + params["OC_W"]),
              "k.mem": (params["C_OUT"], params["OUT_W"])}
    for name, (depth, bits) in shapes.items():
        words = [rng.getrandbits(bits) for _ in range(depth)]
        (work / name).write_text(mem_text([segment_free(w, params) for w in words] if name == "w.mem" else words, bits))
    return count_resources(synthesize_module(work, "sparse_conv_engine", params, rtl_sources("sparse_conv_engine")))


# LUT lanes (rtl/lut_multiplier.sv) against Yosys (about 2 x 40 s): 4 lanes of 8-bit activations x
# 4-bit weights, 3 of them in LUTs. The engine's LUTs within TOP_TOLERANCE like a whole top (FFs
# within LOGIC_TOLERANCE as on the small engine above), and the LUTs the three lanes add over the
# same engine on DSPs within LUT_LANE_TOLERANCE (measured: docs/benchmarks.md, "LUT multipliers").
LUT_LANE_TOLERANCE = 0.15


def test_lut_lanes_against_yosys(tmp_path: Path):
    params = engine_params(P=4, WW=4, LUT_LANES=3)
    synth, on_dsps = synthesize_engine(tmp_path / "lut", params), synthesize_engine(tmp_path / "dsp", params | {"LUT_LANES": 0})
    model, model_on_dsps = sparse_conv_engine(params).as_dict(), sparse_conv_engine(params | {"LUT_LANES": 0}).as_dict()
    assert synth["dsp"] == model["dsp"] == 1 and on_dsps["dsp"] == model_on_dsps["dsp"] == 4
    # Yosys drops the ROM's constant columns (the segment fields segment_free zeroes); the model counts every column
    rom_bits, constant = rom_word_bits(params), params["P"] * segment_bits(params["K_FIN"])
    dropped = bram18_count(params["DEPTH"], rom_bits) - bram18_count(params["DEPTH"], rom_bits - constant)
    assert model["bram18"] - dropped == synth["bram18"]
    assert abs(model["lut"] - synth["lut"]) <= TOP_TOLERANCE * synth["lut"], (model, synth)
    assert abs(model["ff"] - synth["ff"]) <= LOGIC_TOLERANCE * synth["ff"], (model, synth)
    added, model_added = synth["lut"] - on_dsps["lut"], model["lut"] - model_on_dsps["lut"]
    assert added > 0 and abs(model_added - added) <= LUT_LANE_TOLERANCE * added, (model_added, added)


@pytest.fixture(scope="module")
def digits():
    graph = import_onnx(DIGITS)
    rng = np.random.default_rng(0)
    return quantize(graph, rng.uniform(0, 1, size=(32, *graph.tensors[graph.inputs[0]].shape)), 8)


def test_digits_fits_the_board_by_the_model(digits):
    design = plan_design(digits, BOARD)
    assert design.overflow == [] and design.overflow_at_one == []
    used = sum(generate_rtl(design).layer_resources.values(), Resources()).as_dict()
    assert all(used[kind] <= BALANCE_LIMIT * BOARD.resources[kind] for kind in used)
    # one more lane on the bottleneck would not fit, or would not be faster
    faster = plan_design(digits, BOARD, per_layer={design.bottleneck: design.engines[design.bottleneck].parallelism + 1})
    assert faster.frame_interval >= design.frame_interval or faster.overflow or _over_margin(faster)


def _over_margin(design) -> bool:
    used = sum(generate_rtl(design).layer_resources.values(), Resources()).as_dict()
    return any(used[kind] > BALANCE_LIMIT * BOARD.resources[kind] for kind in used)


def test_user_parallelism_that_does_not_fit_is_flagged(digits):
    design = plan_design(digits, BOARD, everywhere=64)
    assert "lut" in design.overflow and design.overflow_at_one == []


def test_a_layer_too_big_for_the_board_at_one_lane():
    rng = np.random.default_rng(3)
    big = Dense(name="big", inputs=["x"], output="y", weight=Weight(values=random_weight(rng, (256, 1024), 1.0)),
                bias=Weight(values=rng.normal(size=256)))
    graph = quantize(chain("big_net", (1024,), [(big, (256,))]), rng.normal(size=(16, 1024)), 8)
    design = plan_design(graph, BOARD)
    assert design.overflow_at_one and all(p.parallelism == 1 for p in design.engines.values())
    from fpgaflow.report.resource_estimates import model_summary

    message = overflow_message(BOARD, model_summary(BOARD, generate_rtl(design).layer_resources, design.overflow_at_one))
    assert message is not None and "even with P = 1" in message and "bram18" in message


def test_dsp_count_follows_the_family_operand_widths():
    """A 26 x 18 multiply fits one DSP48E2 (27 x 18, Zynq UltraScale+) but takes two DSP48E1 (25 x 18, Zynq-7000)."""
    assert multiplier_dsps(26, 18, "zynq7") == 2 and multiplier_dsps(26, 18, "zynquplus") == 1
    wide = engine_params(IN_W=25, WW=18, P=4)
    assert sparse_conv_engine(wide, "zynq7").dsp == 8
    assert sparse_conv_engine(wide, "zynquplus").dsp == 4
    assert module_resources("sparse_conv_engine", wide, "zynquplus").dsp == 4


# The model against Yosys on whole generated tops (`fpgaflow build --synth`: synth_xilinx -flatten on the
# top, counted by fpgaflow.hw.yosys_count): within 5 % on LUT and FF, DSP and BRAM18 exact. The small
# networks run at P = 8 on every layer (their balanced builds fill the board and take minutes of Yosys);
# the digits example at its default balanced P, under -m slow. docs/benchmarks.md ("Engine v2") lists
# the figures; bench/bench_resource_model.py measures them.
TOP_TOLERANCE = 0.05


def _model_and_yosys(model: Path, out: Path, *options: str) -> tuple[dict[str, int], dict[str, int]]:
    from fpgaflow.cli.main import main

    assert main(["build", str(model), "--board", "pynq", "--synth", "--out", str(out), *options]) == 0
    resources = json.loads((out / "report.json").read_text())["resources"]
    return resources["model"]["used"], resources["synth"]["used"]


def _assert_tracks(model: dict[str, int], yosys: dict[str, int]) -> None:
    assert model["dsp"] == yosys["dsp"] and model["bram18"] == yosys["bram18"], (model, yosys)
    for kind in ("lut", "ff"):
        assert abs(model[kind] - yosys[kind]) <= TOP_TOLERANCE * yosys[kind], (kind, model, yosys)


@pytest.mark.parametrize("builder", ["residual_block", pytest.param("grouped_conv_net", marks=pytest.mark.slow)])
def test_model_tracks_yosys_on_a_whole_top(builder, tmp_path: Path):
    import onnx

    import models

    path = tmp_path / f"{builder}.onnx"
    onnx.save(getattr(models, builder)(), path)
    _assert_tracks(*_model_and_yosys(path, tmp_path / "out", "--parallelism", "8"))


@pytest.mark.slow
def test_model_tracks_yosys_on_the_digits_top(tmp_path: Path):
    _assert_tracks(*_model_and_yosys(Path(DIGITS), tmp_path / "out", "--calib", "examples/digits_train.npz"))
