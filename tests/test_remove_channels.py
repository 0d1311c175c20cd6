"""remove_pruned_channels: shapes shrink and every kept value stays the same (float64 reference)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from fpgaflow.ir import Activation, Add, Concat, Conv2d, Dense, Flatten, GlobalAvgPool, Graph, MaxPool, Relu, ScaleShift, Softmax, Weight
from fpgaflow.passes.remove_pruned_channels import RemovePrunedChannels, removable_channels, zero_channels
from fpgaflow.reference.float_exec import run_float
from reference_graphs import chain

RNG_SEED = 11


def _w(shape: tuple[int, ...], seed: int) -> np.ndarray:
    values = np.random.default_rng(seed).normal(0.0, 0.5, size=shape)
    values[values == 0] = 0.25
    return values


def _conv(name: str, src: str, out: int, inp: int, seed: int, k: int = 3, groups: int = 1, act=Activation.RELU) -> Conv2d:
    return Conv2d(
        name=name,
        inputs=[src],
        output=name,
        weight=Weight(values=_w((out, inp // groups, k, k), seed)),
        bias=Weight(values=_w((out,), seed + 100)),
        padding=(k // 2,) * 4,
        groups=groups,
        activation=act,
    )


def _prune_out(layer: Conv2d | Dense, channel: int, bias: float = 0.0) -> None:
    layer.weight.values[channel] = 0
    layer.bias.values[channel] = bias


def _check_exact(graph: Graph, batch: int = 3) -> Graph:
    """Run the pass on a copy; every tensor's kept channels equal the original's; return the new graph."""
    x = np.random.default_rng(RNG_SEED).normal(size=(batch, *graph.tensors[graph.inputs[0]].shape))
    before = run_float(graph, x)
    removable = removable_channels(graph)
    pruned = copy.deepcopy(graph)
    RemovePrunedChannels().run(pruned)
    pruned.check()
    after = run_float(pruned, x)
    for name, value in before.items():
        keep = ~removable[name]
        expected = value.reshape(batch, len(keep), -1)[:, keep]
        got = after[name].reshape(expected.shape)
        assert got.shape[1] == pruned.tensors[name].shape[0]
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=name)
    for name in graph.outputs:
        assert pruned.tensors[name].shape == graph.tensors[name].shape
    return pruned


def test_conv_chain_zero_filters_unread_inputs_and_constants():
    c1 = _conv("c1", "x", 8, 3, 1)
    c2 = _conv("c2", "c1", 6, 8, 2)
    c3 = _conv("c3", "c2", 4, 6, 3, act=Activation.NONE)
    _prune_out(c1, 2)
    _prune_out(c1, 5)
    c2.weight.values[:, 4] = 0  # nobody reads c1's channel 4: c1 need not compute it
    _prune_out(c2, 3, bias=0.5)  # a constant channel: kept
    _prune_out(c2, 1)
    graph = chain("convs", (3, 6, 6), [(c1, (8, 6, 6)), (c2, (6, 6, 6)), (c3, (4, 6, 6))])
    pruned = _check_exact(graph)
    assert pruned.tensors["c1"].shape == (5, 6, 6)
    assert pruned.tensors["c2"].shape == (5, 6, 6)
    assert pruned.layer("c2").weight.values.shape == (5, 5, 3, 3)
    assert pruned.layer("c3").weight.values.shape == (4, 5, 3, 3)
    assert any("c1: outputs 8 -> 5" in note for note in pruned.notes)


def test_graph_output_channels_stay():
    c1 = _conv("c1", "x", 4, 2, 1)
    _prune_out(c1, 0)
    graph = chain("out", (2, 5, 5), [(c1, (4, 5, 5))])
    pruned = _check_exact(graph)
    assert pruned.tensors["c1"].shape == (4, 5, 5)
    assert pruned.notes == []


def test_residual_add_removes_only_channels_zero_in_every_input():
    a = _conv("a", "x", 4, 3, 1)
    b = _conv("b", "a", 4, 4, 2)
    add = Add(name="add", inputs=["a", "b"], output="add", activation=Activation.RELU)
    c = _conv("c", "add", 3, 4, 3, act=Activation.NONE)
    _prune_out(a, 1)
    _prune_out(b, 1)
    _prune_out(b, 2)  # zero in b only: the residual keeps it alive
    graph = chain("res", (3, 5, 5), [(a, (4, 5, 5)), (b, (4, 5, 5)), (add, (4, 5, 5)), (c, (3, 5, 5))])
    pruned = _check_exact(graph)
    assert pruned.tensors["add"].shape == (3, 5, 5)
    assert pruned.tensors["a"].shape == (3, 5, 5)
    # b reads a's channel 1 only through the removed class: its weights lose that column
    assert pruned.layer("b").weight.values.shape == (3, 3, 3, 3)


def test_concat_and_pool_pass_channels_through():
    a = _conv("a", "x", 3, 2, 1)
    b = _conv("b", "x", 4, 2, 2)
    cat = Concat(name="cat", inputs=["a", "b"], output="cat")
    pool = MaxPool(name="pool", inputs=["cat"], output="pool", kernel=(2, 2), stride=(2, 2), padding=(1, 1, 1, 1))
    relu = Relu(name="relu", inputs=["pool"], output="relu")
    c = _conv("c", "relu", 2, 7, 3, act=Activation.NONE)
    _prune_out(b, 0)
    c.weight.values[:, 1] = 0  # a's channel 1 is read by nobody
    steps = [(a, (3, 4, 4)), (b, (4, 4, 4)), (cat, (7, 4, 4)), (pool, (7, 3, 3)), (relu, (7, 3, 3)), (c, (2, 3, 3))]
    pruned = _check_exact(chain("cat", (2, 4, 4), steps))
    assert pruned.tensors["cat"].shape == (5, 4, 4)
    assert pruned.tensors["a"].shape == (2, 4, 4)
    assert pruned.tensors["b"].shape == (3, 4, 4)
    assert pruned.layer("c").weight.values.shape == (2, 5, 3, 3)


@pytest.mark.parametrize("multiplier", [1, 2])
def test_depthwise_groups_go_away_whole(multiplier):
    c1 = _conv("c1", "x", 4, 2, 1)
    dw = _conv("dw", "c1", 4 * multiplier, 4, 2, groups=4)
    c2 = _conv("c2", "dw", 3, 4 * multiplier, 3, k=1, act=Activation.NONE)
    _prune_out(c1, 2)  # zero input: dw's group 2 outputs only its (zero) bias ...
    dw.bias.values[2 * multiplier : 3 * multiplier] = 0  # ... which is zero, so the group goes
    for o in range(multiplier):  # group 0's filters and biases zero: c1's channel 0 becomes unread
        _prune_out(dw, o)
    steps = [(c1, (4, 5, 5)), (dw, (4 * multiplier, 5, 5)), (c2, (3, 5, 5))]
    pruned = _check_exact(chain("dw", (2, 5, 5), steps))
    assert pruned.layer("dw").groups == 2
    assert pruned.tensors["c1"].shape == (2, 5, 5)
    assert pruned.tensors["dw"].shape == (2 * multiplier, 5, 5)
    assert pruned.layer("dw").weight.values.shape == (2 * multiplier, 1, 3, 3)


def test_depthwise_group_with_one_live_output_stays():
    c1 = _conv("c1", "x", 2, 2, 1)
    dw = _conv("dw", "c1", 4, 2, 2, groups=2)
    c2 = _conv("c2", "dw", 3, 4, 3, k=1, act=Activation.NONE)
    _prune_out(dw, 0)  # its group partner (output 1) is alive: groups must stay uniform
    pruned = _check_exact(chain("dw1", (2, 4, 4), [(c1, (2, 4, 4)), (dw, (4, 4, 4)), (c2, (3, 4, 4))]))
    assert pruned.tensors["dw"].shape == (4, 4, 4)


def test_flatten_dense_columns_follow_channels():
    c1 = _conv("c1", "x", 4, 1, 1)
    flat = Flatten(name="flat", inputs=["c1"], output="flat")
    fc1 = Dense(name="fc1", inputs=["flat"], output="fc1", weight=Weight(values=_w((5, 36), 2)), bias=Weight(values=_w((5,), 3)), activation=Activation.RELU)
    fc2 = Dense(name="fc2", inputs=["fc1"], output="fc2", weight=Weight(values=_w((3, 5), 4)), bias=Weight(values=_w((3,), 5)))
    soft = Softmax(name="soft", inputs=["fc2"], output="soft")
    _prune_out(c1, 1)
    fc1.weight.values[:, 3 * 9 : 4 * 9] = 0  # c1's channel 3 is read by nobody
    _prune_out(fc1, 4)
    fc1.weight.values[0, 5] = 0  # one column of a live channel: the channel stays
    steps = [(c1, (4, 3, 3)), (flat, (36,)), (fc1, (5,)), (fc2, (3,)), (soft, (3,))]
    pruned = _check_exact(chain("fc", (1, 3, 3), steps))
    assert pruned.tensors["c1"].shape == (2, 3, 3)
    assert pruned.tensors["flat"].shape == (18,)
    assert pruned.layer("fc1").weight.values.shape == (4, 18)
    assert pruned.layer("fc2").weight.values.shape == (3, 4)


def test_softmax_input_is_never_shrunk():
    fc = Dense(name="fc", inputs=["x"], output="fc", weight=Weight(values=_w((3, 4), 1)), bias=None)
    soft = Softmax(name="soft", inputs=["fc"], output="soft")
    _values = fc.weight.values
    _values[1] = 0
    pruned = _check_exact(chain("soft", (4,), [(fc, (3,)), (soft, (3,))]))
    assert pruned.tensors["fc"].shape == (3,)


def test_global_pool_and_scale_shift():
    c1 = _conv("c1", "x", 4, 2, 1)
    ss = ScaleShift(name="ss", inputs=["c1"], output="ss", scale=Weight(values=_w((4,), 2)), shift=Weight(values=_w((4,), 3)))
    gap = GlobalAvgPool(name="gap", inputs=["ss"], output="gap")
    fc = Dense(name="fc", inputs=["gap"], output="fc", weight=Weight(values=_w((2, 4), 4)), bias=None)
    _prune_out(c1, 0)
    ss.shift.values[0] = 0  # zero through the ScaleShift: removable
    _prune_out(c1, 3)  # zero into a nonzero shift: a constant, kept
    ss.scale.values[2] = 0
    ss.shift.values[2] = 0  # scale and shift zero: ScaleShift writes zero whatever c1 says
    steps = [(c1, (4, 3, 3)), (ss, (4, 3, 3)), (gap, (4, 1, 1)), (fc, (2,))]
    graph = chain("gap", (2, 3, 3), steps)
    assert zero_channels(graph)["ss"].tolist() == [True, False, True, False]
    pruned = _check_exact(graph)
    assert pruned.tensors["gap"].shape == (2, 1, 1)
    assert pruned.layer("ss").scale.values.shape == (2,)
    assert pruned.layer("fc").weight.values.shape == (2, 2)


def test_quantized_codes_decide_and_are_sliced():
    c1 = _conv("c1", "x", 3, 1, 1)
    c2 = _conv("c2", "c1", 2, 3, 2)
    for layer in (c1, c2):
        layer.weight.codes = np.round(layer.weight.values * 16).astype(np.int64) | 1
        layer.bias.codes = np.round(layer.bias.values * 256).astype(np.int64) | 1
    c1.weight.codes[1] = 0
    c1.bias.codes[1] = 0
    graph = chain("q", (1, 4, 4), [(c1, (3, 4, 4)), (c2, (2, 4, 4))])
    RemovePrunedChannels().run(graph)
    assert graph.layer("c1").weight.codes.shape == (2, 1, 3, 3)
    assert graph.layer("c2").weight.codes.shape == (2, 2, 3, 3)
    assert graph.layer("c2").weight.values.shape == (2, 2, 3, 3)


def test_parallel_add_keeps_channel_zero_in_one_branch_only():
    a = _conv("a", "x", 4, 2, 1)
    b = _conv("b", "x", 4, 2, 2)
    add = Add(name="add", inputs=["a", "b"], output="add")
    c = _conv("c", "add", 2, 4, 3, act=Activation.NONE)
    _prune_out(a, 2)
    _prune_out(a, 3)
    _prune_out(b, 3)
    graph = chain("par", (2, 4, 4), [(a, (4, 4, 4)), (b, (4, 4, 4)), (add, (4, 4, 4)), (c, (2, 4, 4))])
    assert zero_channels(graph)["add"].tolist() == [False, False, False, True]
    pruned = _check_exact(graph)
    assert pruned.tensors["add"].shape == (3, 4, 4)
    assert pruned.tensors["a"].shape == (3, 4, 4)


def _all_channels_kept_nonempty(graph: Graph) -> None:
    for name, tensor in graph.tensors.items():
        assert not tensor.shape or tensor.shape[0] >= 1, f"{name} lost every channel"


def _quantizes_and_runs(graph: Graph) -> None:
    """The quantizer and the bit-accurate reference accept the shrunk graph (they crashed on empty layers)."""
    from fpgaflow.quant import quantize
    from fpgaflow.reference.fixed_exec import quantize_input, run_fixed

    x = np.random.default_rng(RNG_SEED).normal(size=(4, *graph.tensors[graph.inputs[0]].shape))
    quantized = quantize(graph, x, bits=16)
    fixed = run_fixed(quantized, quantize_input(quantized, x))[quantized.outputs[0]]
    real = quantized.tensors[quantized.outputs[0]].ftype.to_real(fixed)
    np.testing.assert_allclose(real, run_float(graph, x)[graph.outputs[0]], atol=0.05)


def test_all_zero_conv_keeps_one_zero_channel_and_its_reader_becomes_its_bias():
    c1 = _conv("c1", "x", 4, 2, 1)
    c2 = _conv("c2", "c1", 3, 4, 2, act=Activation.NONE)
    for channel in range(4):
        _prune_out(c1, channel)
    graph = chain("empty", (2, 5, 5), [(c1, (4, 5, 5)), (c2, (3, 5, 5))])
    pruned = _check_exact(graph)
    _all_channels_kept_nonempty(pruned)
    assert pruned.tensors["c1"].shape == (1, 5, 5)
    assert not pruned.layer("c1").weight.values.any()
    assert not pruned.layer("c2").weight.values.any()  # it reads only the zero channel: its output is its bias
    _quantizes_and_runs(pruned)


@pytest.mark.parametrize("dense_reads_nothing", [False, True])
def test_empty_conv_through_flatten_into_dense(dense_reads_nothing):
    c1 = _conv("c1", "x", 3, 1, 1)
    flat = Flatten(name="flat", inputs=["c1"], output="flat")
    fc = Dense(name="fc", inputs=["flat"], output="fc", weight=Weight(values=_w((2, 27), 2)), bias=Weight(values=_w((2,), 3)))
    if dense_reads_nothing:
        fc.weight.values[:] = 0  # c1 computes channels nobody reads
    else:
        for channel in range(3):
            _prune_out(c1, channel)
    pruned = _check_exact(chain("flat", (1, 3, 3), [(c1, (3, 3, 3)), (flat, (27,)), (fc, (2,))]))
    _all_channels_kept_nonempty(pruned)
    assert pruned.tensors["c1"].shape == (1, 3, 3)
    assert pruned.tensors["flat"].shape == (9,)
    assert not pruned.layer("fc").weight.values.any()
    _quantizes_and_runs(pruned)


def test_concat_input_and_add_that_lose_every_channel():
    a = _conv("a", "x", 2, 2, 1)
    b = _conv("b", "x", 3, 2, 2)
    cat = Concat(name="cat", inputs=["a", "b"], output="cat")
    z1 = _conv("z1", "cat", 2, 5, 3)
    z2 = _conv("z2", "cat", 2, 5, 4)
    add = Add(name="add", inputs=["z1", "z2"], output="add", activation=Activation.RELU)
    h = _conv("h", "cat", 2, 5, 6)
    cat2 = Concat(name="cat2", inputs=["add", "h"], output="cat2")
    c = _conv("c", "cat2", 2, 4, 5, act=Activation.NONE)
    for channel in range(2):
        _prune_out(a, channel)  # a whole Concat input
        _prune_out(z1, channel)  # both inputs of the Add
        _prune_out(z2, channel)
    steps = [(a, (2, 4, 4)), (b, (3, 4, 4)), (cat, (5, 4, 4)), (z1, (2, 4, 4)), (z2, (2, 4, 4)), (add, (2, 4, 4)),
             (h, (2, 4, 4)), (cat2, (4, 4, 4)), (c, (2, 4, 4))]
    pruned = _check_exact(chain("catadd", (2, 4, 4), steps))
    _all_channels_kept_nonempty(pruned)
    assert pruned.tensors["a"].shape == (1, 4, 4)
    assert pruned.tensors["cat"].shape == (4, 4, 4)
    assert pruned.tensors["add"].shape == (1, 4, 4)
    assert pruned.tensors["z1"].shape == pruned.tensors["z2"].shape == (1, 4, 4)
    assert not pruned.layer("h").weight.values[:, 0].any()  # the kept zero channel of a
    assert pruned.layer("h").weight.values[:, 1:].all()
    assert not pruned.layer("c").weight.values[:, 0].any()  # the kept zero channel of the add
    assert pruned.layer("c").weight.values[:, 1:].all()
    _quantizes_and_runs(pruned)


class _ZeroBranchNet(torch.nn.Module):
    """cat(all-zero 1x1 conv, 3x3 conv), strided conv, flatten, dense; or an all-zero conv before the dense."""

    def __init__(self, concat: bool) -> None:
        super().__init__()
        self.concat = concat
        self.zero = torch.nn.Conv2d(2, 3, 1 if concat else 3)
        self.branch = torch.nn.Conv2d(2, 3, 3, padding=1)
        self.mix = torch.nn.Conv2d(6, 2, 3, stride=2)
        self.fc = torch.nn.Linear(8 if concat else 48, 3)
        with torch.no_grad():
            self.zero.weight.zero_()
            self.zero.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.concat:
            return self.fc(torch.flatten(torch.relu(self.zero(x)), 1))
        y = torch.cat([torch.relu(self.branch(x)), torch.relu(self.zero(x))], 1)
        return self.fc(torch.flatten(torch.relu(self.mix(y)), 1))


@pytest.mark.parametrize("concat", [True, False])
def test_cli_runs_fixed_on_models_with_an_all_zero_conv(concat, tmp_path):
    """`fpgaflow run --fixed` on torch-exported ONNX models that lose a whole layer's channels (it crashed in quantize)."""
    from fpgaflow.cli.main import main
    from fpgaflow.importers.torch_import import export_onnx_bytes

    torch.manual_seed(0)
    model = _ZeroBranchNet(concat).eval()
    x = torch.randn(4, 2, 6, 6)
    (tmp_path / "m.onnx").write_bytes(export_onnx_bytes(model, x, dynamo=False))
    np.save(tmp_path / "x.npy", x.numpy())
    argv = ["run", str(tmp_path / "m.onnx"), "--input", str(tmp_path / "x.npy"), "--bits", "16"]
    assert main([*argv, "--out", str(tmp_path / "float.npy")]) == 0
    assert main([*argv, "--fixed", "--out", str(tmp_path / "fixed.npy")]) == 0
    with torch.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(np.load(tmp_path / "float.npy"), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.load(tmp_path / "fixed.npy"), expected, atol=0.02)
