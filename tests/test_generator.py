"""The generator: deterministic files, lint-clean tops, zeros cost neither cycles nor ROM bits, P options."""

import copy

import numpy as np
import pytest

from fpgaflow.boards import load_board
from fpgaflow.hw.toolchain import run_verilator_lint
from fpgaflow.ir import Conv2d, MaxPool, Weight
from fpgaflow.ir.layers import Activation
from fpgaflow.outdir import OutputDir
from fpgaflow.quant import quantize
from fpgaflow.pipeline import BuildOptions, build_design
from fpgaflow.backends.rtl.generate import generate_rtl, plan_design
from reference_graphs import chain, random_weight

BOARD = load_board("pynq")


def conv_net(rng, density=1.0):
    """conv3x3(pad 1)-relu, maxpool 2, conv3x3(pad 1) on 8x6x6: every op the tests below need, small to build."""
    c1 = Conv2d(name="conv1", inputs=["x"], output="a", weight=Weight(values=random_weight(rng, (8, 8, 3, 3), density)),
                bias=Weight(values=rng.normal(size=8)), padding=(1, 1, 1, 1), activation=Activation.RELU)
    pool = MaxPool(name="pool1", inputs=["a"], output="b", kernel=(2, 2), stride=(2, 2))
    c2 = Conv2d(name="conv2", inputs=["b"], output="y", weight=Weight(values=random_weight(rng, (6, 8, 3, 3), density)),
                bias=Weight(values=rng.normal(size=6)), padding=(1, 1, 1, 1))
    return chain("conv_net", (8, 6, 6), [(c1, (8, 6, 6)), (pool, (8, 3, 3)), (c2, (6, 3, 3))])


@pytest.fixture(scope="module")
def conv_graph():
    rng = np.random.default_rng(7)
    return conv_net(rng), rng.normal(size=(64, 8, 6, 6))


@pytest.fixture(scope="module")
def quantized(conv_graph):
    graph, calib = conv_graph
    return quantize(graph, calib, 8)


def test_same_inputs_same_bytes(quantized, tmp_path):
    first = generate_rtl(plan_design(quantized, BOARD)).files
    assert first == generate_rtl(plan_design(copy.deepcopy(quantized), BOARD)).files
    for content in first.values():
        assert str(tmp_path.anchor + "work") not in content.decode(errors="replace")
    folders = []
    for name in ("a", "b"):
        out = OutputDir(tmp_path / name)
        build_design(quantized, BuildOptions(BOARD, 8, synthesize=False), out)
        out.commit()
        folders.append({p.relative_to(out.root): p.read_bytes() for p in sorted(out.root.rglob("*")) if p.is_file()})
    assert folders[0] == folders[1]


def test_generated_top_is_lint_clean(quantized, tmp_path):
    generated = generate_rtl(plan_design(quantized, BOARD))
    for relpath, content in generated.files.items():
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_bytes(content)
    lint = run_verilator_lint([tmp_path / s for s in generated.sources], generated.top)
    assert lint.returncode == 0, lint.stderr[-3000:]


def zero_kernels(graph, keep_every):
    """Zero all but every keep_every-th kernel of every conv (kernel-level structure)."""
    pruned = copy.deepcopy(graph)
    for layer in pruned.layers:
        if isinstance(layer, Conv2d):
            values = layer.weight.values
            mask = (np.arange(values.shape[0] * values.shape[1]) % keep_every == 0).reshape(values.shape[:2])
            layer.weight.values = values * mask[:, :, None, None]
    return pruned


def test_zero_kernels_cost_no_cycles_or_rom_bits(conv_graph):
    graph, calib = conv_graph
    dense = plan_design(quantize(graph, calib, 8), BOARD, everywhere=4)
    sparse = plan_design(quantize(zero_kernels(graph, 4), calib, 8), BOARD, everywhere=4)
    for plan in sparse.plans:
        if plan.op == "Conv2d":
            assert sparse.engines[plan.name].cycles_model < 0.4 * dense.engines[plan.name].cycles_model
            assert sparse.engines[plan.name].weight_bits_stored < 0.5 * dense.engines[plan.name].weight_bits_stored


def test_store_zeros_costs_the_dense_cycles(quantized):
    sparse = plan_design(quantized, BOARD, everywhere=2)
    dense = plan_design(quantized, BOARD, everywhere=2, store_zeros=True)
    for plan in sparse.plans:
        if plan.is_compute:
            assert dense.engines[plan.name].cycles_model >= sparse.engines[plan.name].cycles_model


def test_parallelism_options(quantized):
    compute = [p.name for p in plan_design(quantized, BOARD).plans if p.is_compute]
    everywhere = plan_design(quantized, BOARD, everywhere=3, per_layer={compute[0]: 5})
    assert [everywhere.engines[n].parallelism for n in compute] == [5] + [3] * (len(compute) - 1)
    balanced = plan_design(quantized, BOARD)
    interval = balanced.frame_interval
    for name in compute:
        p = balanced.engines[name].parallelism
        if p > 1:  # the fewest lanes that keep up with the slowest stage
            assert plan_design(quantized, BOARD, per_layer={name: p - 1}).engines[name].cycles_model > interval
    assert interval < plan_design(quantized, BOARD, everywhere=1).frame_interval
    assert sum(balanced.engines[n].parallelism for n in compute) <= BOARD.resources["dsp"]
