"""The float reference against torch's functional ops, layer by layer, including odd geometry."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fpgaflow.errors import UserError
from fpgaflow.ir import (
    Activation,
    Add,
    AvgPool,
    BatchNorm,
    Concat,
    Conv2d,
    Dense,
    Flatten,
    GlobalAvgPool,
    MaxPool,
    Pad,
    Relu,
    ScaleShift,
    Softmax,
    Weight,
)
from fpgaflow.reference.float_exec import run_float
from reference_graphs import chain, random_weight, single

RNG = np.random.default_rng(1)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).double()


def _close(ours: np.ndarray, theirs: torch.Tensor) -> None:
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "cin,cout,groups,stride,padding,dilation",
    [
        (3, 4, 1, (1, 1), (1, 1, 1, 1), (1, 1)),
        (4, 6, 2, (2, 1), (0, 1, 2, 0), (1, 1)),
        (4, 8, 4, (1, 2), (2, 2, 2, 2), (2, 1)),
        (5, 5, 5, (2, 2), (1, 0, 1, 0), (1, 2)),
    ],
)
def test_conv(cin: int, cout: int, groups: int, stride, padding, dilation) -> None:
    x = RNG.normal(size=(2, cin, 9, 8))
    w = random_weight(RNG, (cout, cin // groups, 3, 3))
    b = RNG.normal(size=cout)
    layer = Conv2d(name="c", inputs=["x"], output="y", weight=Weight(values=w), bias=Weight(values=b), stride=stride,
                   padding=padding, dilation=dilation, groups=groups, activation=Activation.RELU6)
    xp = F.pad(_t(x), (padding[1], padding[3], padding[0], padding[2]))
    ref = F.relu6(F.conv2d(xp, _t(w), _t(b), stride=stride, dilation=dilation, groups=groups))
    graph = single(layer, (cin, 9, 8), tuple(ref.shape[1:]))
    _close(run_float(graph, x)["y"], ref)


@pytest.mark.parametrize("kernel,stride,pad,ceil", [((3, 3), (2, 2), 1, True), ((2, 2), (2, 2), 0, True), ((3, 2), (2, 3), 1, False)])
def test_pools(kernel, stride, pad, ceil) -> None:
    x = RNG.normal(size=(2, 3, 7, 8))
    padding = (pad, pad, pad, pad)
    ref_max = F.max_pool2d(_t(x), kernel, stride, pad, ceil_mode=ceil)
    graph = single(MaxPool(name="m", inputs=["x"], output="y", kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil),
                   (3, 7, 8), tuple(ref_max.shape[1:]))
    _close(run_float(graph, x)["y"], ref_max)
    for include in (True, False):
        ref_avg = F.avg_pool2d(_t(x), kernel, stride, pad, ceil_mode=ceil, count_include_pad=include)
        layer = AvgPool(name="a", inputs=["x"], output="y", kernel=kernel, stride=stride, padding=padding,
                        ceil_mode=ceil, count_include_pad=include)
        _close(run_float(single(layer, (3, 7, 8), tuple(ref_avg.shape[1:])), x)["y"], ref_avg)


def test_dilated_max_pool() -> None:
    x = RNG.normal(size=(1, 2, 9, 9))
    ref = F.max_pool2d(_t(x), 2, 1, 0, dilation=2)
    layer = MaxPool(name="m", inputs=["x"], output="y", kernel=(2, 2), stride=(1, 1), dilation=(2, 2))
    _close(run_float(single(layer, (2, 9, 9), tuple(ref.shape[1:])), x)["y"], ref)


def test_chain_of_every_other_layer() -> None:
    x = RNG.normal(size=(3, 2, 6, 6))
    scale, shift = RNG.normal(size=2), RNG.normal(size=2)
    gamma, beta, mean, var = RNG.normal(size=2), RNG.normal(size=2), RNG.normal(size=2), RNG.random(2) + 0.5
    w = RNG.normal(size=(5, 16))
    steps = [
        (ScaleShift(name="s", inputs=["x"], output="t1", scale=Weight(values=scale), shift=Weight(values=shift)), (2, 6, 6)),
        (BatchNorm(name="bn", inputs=["t1"], output="t2", scale=Weight(values=gamma), bias=Weight(values=beta),
                   mean=Weight(values=mean), var=Weight(values=var), epsilon=1e-3), (2, 6, 6)),
        (Relu(name="r", inputs=["t2"], output="t3"), (2, 6, 6)),
        (Add(name="add", inputs=["t1", "t3", "x"], output="t4", activation=Activation.RELU), (2, 6, 6)),
        (Pad(name="p", inputs=["t4"], output="t5", padding=(1, 0, 0, 1)), (2, 7, 7)),
        (Concat(name="cat", inputs=["t5", "t5"], output="t6"), (4, 7, 7)),
        (AvgPool(name="ap", inputs=["t6"], output="t7", kernel=(3, 3), stride=(2, 2)), (4, 3, 3)),
        (GlobalAvgPool(name="g", inputs=["t7"], output="t8"), (4, 1, 1)),
        (Flatten(name="f", inputs=["t8"], output="t9"), (4,)),
        (Dense(name="d", inputs=["t9"], output="t10", weight=Weight(values=w[:, :4]), bias=Weight(values=w[:, 5])), (5,)),
        (Softmax(name="sm", inputs=["t10"], output="t11"), (5,)),
    ]
    out = run_float(chain("every", (2, 6, 6), steps), x)
    t1 = _t(x) * _t(scale)[None, :, None, None] + _t(shift)[None, :, None, None]
    t2 = F.batch_norm(t1, _t(mean), _t(var), _t(gamma), _t(beta), eps=1e-3)
    t4 = F.relu(t1 + F.relu(t2) + _t(x))
    t5 = F.pad(t4, (0, 1, 1, 0))
    t7 = F.avg_pool2d(torch.cat([t5, t5], 1), 3, 2)
    t9 = t7.mean(dim=(2, 3))
    t10 = t9 @ _t(w[:, :4]).T + _t(w[:, 5])
    for name, ref in {"t2": t2, "t4": t4, "t7": t7, "t9": t9, "t10": t10, "t11": torch.softmax(t10, -1)}.items():
        _close(out[name], ref)
    assert set(out) == set(chain("every", (2, 6, 6), steps).tensors)


def test_wrong_input_shape_is_a_user_error() -> None:
    layer = Relu(name="r", inputs=["x"], output="y")
    with pytest.raises(UserError, match="but the model takes"):
        run_float(single(layer, (2, 3, 3), (2, 3, 3)), np.zeros((1, 3, 3, 2)))
