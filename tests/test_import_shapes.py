"""ir.shapes: output shapes agree with torch's own layers; impossible geometry is a UserError."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fpgaflow.errors import UserError
from fpgaflow.ir.layers import Add, AvgPool, Concat, Conv2d, Dense, Flatten, GlobalAvgPool, MaxPool, Pad, Weight
from fpgaflow.ir.shapes import infer_shape


def conv_layer(c_in: int, c_out: int, k: int, groups: int = 1, **geometry) -> Conv2d:
    weight = Weight(values=np.zeros((c_out, c_in // groups, k, k), np.float32))
    return Conv2d(name="conv", inputs=["x"], output="y", weight=weight, groups=groups, **geometry)


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(3, 12), k=st.integers(1, 4), stride=st.integers(1, 3), pad=st.integers(0, 2),
    dilation=st.integers(1, 2), groups=st.sampled_from([1, 2]),
)
def test_conv_shape_matches_torch(size: int, k: int, stride: int, pad: int, dilation: int, groups: int) -> None:
    if dilation * (k - 1) + 1 > size + 2 * pad:
        return
    layer = conv_layer(4, 6, k, groups, stride=(stride, stride), padding=(pad, pad, pad, pad), dilation=(dilation, dilation))
    expected = torch.nn.functional.conv2d(
        torch.zeros(1, 4, size, size + 1), torch.zeros(6, 4 // groups, k, k), stride=stride, padding=pad,
        dilation=dilation, groups=groups,
    ).shape[1:]
    assert infer_shape(layer, [(4, size, size + 1)]) == tuple(expected)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(2, 11), k=st.integers(1, 4), stride=st.integers(1, 3), pad=st.integers(0, 2), ceil=st.booleans())
def test_pool_shapes_match_torch_including_ceil_mode(size: int, k: int, stride: int, pad: int, ceil: bool) -> None:
    if pad > k // 2 or k > size + 2 * pad:
        return  # torch refuses padding above half the kernel
    x = torch.zeros(1, 2, size, size)
    geometry = {"kernel": (k, k), "stride": (stride, stride), "padding": (pad, pad, pad, pad), "ceil_mode": ceil}
    expected_max = torch.nn.functional.max_pool2d(x, k, stride, pad, ceil_mode=ceil).shape[1:]
    expected_avg = torch.nn.functional.avg_pool2d(x, k, stride, pad, ceil_mode=ceil).shape[1:]
    assert infer_shape(MaxPool(name="m", inputs=["x"], output="y", **geometry), [(2, size, size)]) == tuple(expected_max)
    assert infer_shape(AvgPool(name="a", inputs=["x"], output="y", **geometry), [(2, size, size)]) == tuple(expected_avg)


def test_other_layer_shapes() -> None:
    assert infer_shape(GlobalAvgPool(name="g", inputs=["x"], output="y"), [(5, 7, 3)]) == (5, 1, 1)
    assert infer_shape(Flatten(name="f", inputs=["x"], output="y"), [(5, 7, 3)]) == (105,)
    assert infer_shape(Concat(name="c", inputs=["a", "b"], output="y"), [(2, 4, 4), (3, 4, 4)]) == (5, 4, 4)
    assert infer_shape(Pad(name="p", inputs=["x"], output="y", padding=(1, 2, 3, 4)), [(2, 4, 4)]) == (2, 8, 10)
    dense = Dense(name="d", inputs=["x"], output="y", weight=Weight(values=np.zeros((3, 8), np.float32)))
    assert infer_shape(dense, [(8,)]) == (3,)


def test_impossible_shapes_are_user_errors() -> None:
    with pytest.raises(UserError, match="larger than its padded input"):
        infer_shape(conv_layer(2, 2, 5), [(2, 3, 3)])
    with pytest.raises(UserError, match="channels"):
        infer_shape(conv_layer(4, 4, 3, groups=2), [(3, 6, 6)])
    with pytest.raises(UserError, match="one shape"):
        infer_shape(Add(name="a", inputs=["a", "b"], output="y"), [(2, 4, 4), (2, 4, 5)])
    with pytest.raises(UserError, match="channel axis"):
        infer_shape(Concat(name="c", inputs=["a", "b"], output="y"), [(2, 4, 4), (2, 5, 4)])
    dense = Dense(name="d", inputs=["x"], output="y", weight=Weight(values=np.zeros((3, 8), np.float32)))
    with pytest.raises(UserError, match="vector of 8"):
        infer_shape(dense, [(2, 2, 2)])
    with pytest.raises(UserError, match=r"\(C, H, W\)"):
        infer_shape(GlobalAvgPool(name="g", inputs=["x"], output="y"), [(8,)])
