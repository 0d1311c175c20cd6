"""report.json content and report.md from a planned digits-like design."""

import json

import numpy as np
import pytest

from fpgaflow.boards import load_board
from fpgaflow.ir import Conv2d, Dense, Flatten, MaxPool, Softmax, Weight
from fpgaflow.ir.layers import Activation
from fpgaflow.quant import quantize
from fpgaflow.reference.fixed_exec import Saturation
from fpgaflow.report.build_report import build_report, report_json
from fpgaflow.report.plots import render_plots
from fpgaflow.report.text import render_markdown
from fpgaflow.flow.design import Design, EngineChoice
from fpgaflow.flow.layer_plan import plan_graph
from fpgaflow.backends.rtl.verify import VerifyResult
from reference_graphs import chain, random_weight


def toy_graph(softmax: bool = False):
    rng = np.random.default_rng(3)
    conv = Conv2d(name="conv", inputs=["x"], output="c", weight=Weight(values=random_weight(rng, (4, 2, 3, 3), 0.5)),
                  bias=Weight(values=rng.normal(size=4)), padding=(1, 1, 1, 1), activation=Activation.RELU)
    pool = MaxPool(name="pool", inputs=["c"], output="p", kernel=(2, 2), stride=(2, 2))
    flat = Flatten(name="flat", inputs=["p"], output="f")
    dense = Dense(name="fc", inputs=["f"], output="y", weight=Weight(values=random_weight(rng, (3, 16), 0.25)),
                  bias=Weight(values=rng.normal(size=3)))
    steps = [(conv, (4, 4, 4)), (pool, (4, 2, 2)), (flat, (16,)), (dense, (3,))]
    if softmax:
        steps.append((Softmax(name="probs", inputs=["y"], output="s"), (3,)))
    graph = chain("toy", (2, 4, 4), steps)
    return quantize(graph, rng.normal(size=(16, 2, 4, 4)), 8)


@pytest.fixture(scope="module")
def quantized():
    return toy_graph()


def make_design(graph):
    plans = plan_graph(graph)
    engines = {p.name: EngineChoice(parallelism=2 if p.is_compute else 1, cycles_model=100 * (i + 1),
                                    weight_bits_dense=8 * p.dense_weights, weight_bits_stored=12 * p.nonzero_weights)
               for i, p in enumerate(plans)}
    return Design(graph=graph, board=load_board("pynq"), plans=plans, engines=engines)


def test_plans_count_nonzero_work(quantized):
    conv = plan_graph(quantized)[0]
    codes = quantized.layer("conv").weight.codes
    assert conv.positions == 16 and conv.dense_macs == codes.size * 16
    assert conv.nonzero_macs == int((codes != 0).sum()) * 16
    assert conv.run_lengths == tuple(int(r) for r in (codes.reshape(4, -1) != 0).sum(axis=1))


def test_report_fields(quantized):
    report = build_report(make_design(quantized), bits=8)
    names = [layer["name"] for layer in report["layers"]]
    assert names == ["conv", "pool", "flat", "fc"]
    conv = report["layers"][0]
    assert set(conv["formats"]) == {"input", "weights", "bias", "accumulator", "output"}
    assert conv["formats"]["weights"] == quantized.layer("conv").weight.ftype.to_dict()
    assert conv["zero_skip_bound"] == conv["nonzero_macs"] / 2
    totals = report["totals"]
    assert totals["cycles_per_frame"] == 400 and totals["bottleneck"] == "fc"
    assert totals["latency_cycles"] == 1000
    assert totals["frames_per_second"] == pytest.approx(100e6 / 400)
    assert json.loads(report_json(report)) == json.loads(json.dumps(report))


def test_the_report_says_what_the_hardware_leaves_out(quantized):
    assert build_report(make_design(quantized), bits=8)["left_out_of_hardware"] == []
    report = build_report(make_design(toy_graph(softmax=True)), bits=8)
    assert [layer["name"] for layer in report["layers"]] == ["conv", "pool", "flat", "fc"]
    assert report["left_out_of_hardware"] == [{"layer": "probs", "op": "Softmax", "hardware_output": "y"}]
    assert "leaves out probs (Softmax)" in render_markdown(report)


def test_markdown_and_plots(quantized):
    report = build_report(make_design(quantized), bits=8)
    report["verify"] = {"frames": 2, "mismatches": 0, "first_mismatch": "", "cycles_per_frame": {"conv": 99.0}}
    text = render_markdown(report)
    assert "| conv | Conv2d |" in text and "mismatches: 0" in text
    plots = render_plots(report)
    assert sorted(plots) == ["cycles_per_layer.png", "weight_memory_per_layer.png"]
    assert plots == render_plots(report)


def test_yosys_cells_become_board_resources():
    from fpgaflow.hw.yosys_count import count_resources

    cells = {"LUT2": 3, "LUT6": 2, "INV": 1, "RAM32M": 2, "RAM64X1D": 1, "SRLC32E": 1, "FDRE": 7, "FDSE": 1, "FDCE": 1,
             "RAMB18E1": 1, "RAMB36E1": 2, "DSP48E1": 4, "CARRY4": 9, "MUXF7": 2}
    assert count_resources(cells) == {"lut": 3 + 2 + 1 + 8 + 2 + 1, "ff": 9, "bram18": 5, "dsp": 4}
    with pytest.raises(ValueError, match="RAM64M8"):
        count_resources({"RAM64M8": 1})


def test_verify_reports_saturated_values():
    result = VerifyResult(frames=2, mismatches=0, rtl_codes=np.zeros(1), expected_codes=np.zeros(1), cycles_per_frame={},
                          blocked_per_frame={}, frame_interval=0.0, simulated_cycles=0, simulation_seconds=0.0,
                          saturation=Saturation(3, {"conv": 0, "fc": 5}))
    assert result.report()["saturated"] == {"input": 3, "layers": {"fc": 5}}
    assert result.saturation.warning().startswith("values beyond the calibrated range saturated (input 3, fc 5)")
    assert Saturation(0, {"conv": 0}).warning() is None
    report = {**build_report(make_design(toy_graph()), bits=8), "verify": result.report()}
    assert "- saturated values (beyond the calibrated range): input 3, fc 5" in render_markdown(report)


def test_summary_gives_the_interface_rates_resources_and_next_steps(quantized):
    from fpgaflow.report.hardware import interface_entry, summary_lines, timing_entry
    from fpgaflow.hw.module_interface import Interface

    design = make_design(quantized)
    report = build_report(design, bits=8)
    ports = Interface((), {"clk": "input", "s_axis_tdata": "input", "m_axis_tdata": "output"},
                      {"clk": 1, "s_axis_tdata": 64, "m_axis_tdata": 64})
    report["interface"] = interface_entry(quantized, design.board, "toy_top", ports)
    report["timing"] = timing_entry()
    # Input 2x4x4 codes of 8 bits: 16-bit pixels, one 64-bit word each; output 3 codes: one word.
    assert report["interface"]["input"]["dma_words_per_frame"] == 16
    assert report["interface"]["output"]["dma_words_per_frame"] == 1
    text = "\n".join(summary_lines(report, "OUT"))
    assert "top module toy_top (rtl/toy_top.sv): input clk, input s_axis_tdata[63:0], output m_axis_tdata[63:0]" in text
    assert "16 DMA words of 64 bits per frame" in text and "not measured (add --verify N)" in text
    assert "fmax: not measured" in text and "fpgaflow verify OUT --frames 16" in text
    report["verify"] = {"frame_interval_measured": 1000.0, "frames": 2, "mismatches": 0, "first_mismatch": ""}
    text = "\n".join(summary_lines(report, "OUT"))
    assert "1000 measured in simulation" in text and f"{design.board.clock_mhz * 1e6 / 1000:.0f} measured" in text
    assert "fpgaflow verify" not in text and "## Summary" in render_markdown(report)


def test_resources_plot_stacks_every_layer(quantized):
    report = build_report(make_design(quantized), bits=8)
    kinds = ("bram18", "dsp", "ff", "lut")
    report["resources"] = {
        "available": {kind: 100 for kind in kinds},
        "model": {"layers": {"conv": {kind: 10 for kind in kinds}, "fc": {kind: 5 for kind in kinds}}},
    }
    assert sorted(render_plots(report)) == ["cycles_per_layer.png", "resources_per_layer.png", "weight_memory_per_layer.png"]
