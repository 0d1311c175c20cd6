"""layer_stats/totals on small graphs whose counts are worked out by hand."""

import numpy as np

from fpgaflow.fixed import FixedType
from fpgaflow.ir import Activation, Conv2d, ConvTranspose2d, Dense, Flatten, MaxPool, Weight
from fpgaflow.passes.classify_sparsity import ClassifySparsity
from fpgaflow.stats import layer_stats, totals
from reference_graphs import chain


def _graph():
    weight = np.ones((4, 1, 3, 3))
    weight[0] = 0
    weight[1, 0, 0, :] = 0
    conv = Conv2d(name="conv", inputs=["x"], output="conv", weight=Weight(values=weight), bias=Weight(values=np.ones(4)),
                  padding=(1, 1, 1, 1), groups=2, activation=Activation.RELU)
    pool = MaxPool(name="pool", inputs=["conv"], output="pool", kernel=(2, 2), stride=(2, 2))
    flat = Flatten(name="flat", inputs=["pool"], output="flat")
    dense_w = np.ones((3, 16))
    dense_w[:, :8] = 0
    dense = Dense(name="fc", inputs=["flat"], output="fc", weight=Weight(values=dense_w), bias=None)
    steps = [(conv, (4, 4, 4)), (pool, (4, 2, 2)), (flat, (16,)), (dense, (3,))]
    return chain("stats", (2, 4, 4), steps)


def test_counts_by_hand():
    rows = layer_stats(_graph())
    by_name = {row["name"]: row for row in rows}
    conv = by_name["conv"]
    assert conv["op"] == "Conv2d"
    assert conv["input_shape"] == [2, 4, 4] and conv["output_shape"] == [4, 4, 4]
    assert conv["params"] == 36 + 4
    assert conv["macs"] == 4 * 1 * 9 * 16
    assert conv["nonzero_macs"] == (6 + 9 + 9) * 16
    assert conv["density"]["removed_out"] == 1
    assert conv["density"]["out_channel_density"] == 0.75
    assert conv["density"]["element_density"] == 24 / 27
    assert by_name["pool"]["macs"] == 0 and by_name["pool"]["density"] is None
    fc = by_name["fc"]
    assert fc["macs"] == 48 and fc["nonzero_macs"] == 24 and fc["params"] == 48
    assert fc["density"]["in_channel_density"] == 0.5
    assert "formats" not in fc
    total = totals(rows)
    assert total["params"] == 88
    assert total["macs"] == 576 + 48
    assert total["nonzero_macs"] == 384 + 24
    assert total["mac_density"] == (384 + 24) / (576 + 48)


def test_record_from_pass_is_used_and_codes_count():
    graph = _graph()
    conv = graph.layer("conv")
    conv.weight.codes = (conv.weight.values * 3).astype(np.int64)
    conv.weight.codes[3] = 0  # rounded to zero: the hardware sees codes
    ClassifySparsity().run(graph)
    assert graph.layer("fc").weight.sparsity is not None
    row = layer_stats(graph)[0]
    assert row["nonzero_macs"] == (6 + 9) * 16
    assert row["density"]["removed_out"] == 2


def test_formats_when_quantized():
    graph = _graph()
    s8 = FixedType(signed=True, width=8, frac=5)
    for tensor in graph.tensors.values():
        tensor.ftype = s8
    conv = graph.layer("conv")
    conv.weight.ftype = FixedType(signed=True, width=6, frac=4)
    conv.bias.ftype = FixedType(signed=True, width=16, frac=9)
    conv.acc = FixedType(signed=True, width=18, frac=9)
    formats = layer_stats(graph)[0]["formats"]
    assert formats == {"input": "s8.5", "output": "s8.5", "weight": "s6.4", "bias": "s16.9", "acc": "s18.9"}


def test_conv_transpose_counts_one_dot_product_per_output_pixel():
    """A 2x2 stride-2 ConvTranspose 3 -> 2 on 4x5: every one of the 2x8x10 outputs is a 3-long dot product."""
    weight = np.ones((3, 2, 2, 2))
    weight[0] = 0  # input channel 0 unused: a third of the MACs skip
    up = ConvTranspose2d(name="up", inputs=["x"], output="up", weight=Weight(values=weight))
    row = layer_stats(chain("convt", (3, 4, 5), [(up, (2, 8, 10))]))[0]
    assert (row["macs"], row["nonzero_macs"]) == (2 * 8 * 10 * 3, 2 * 8 * 10 * 2)
