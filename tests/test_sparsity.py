"""classify_sparsity: every granularity of a weight mask, on hand-built masks with known answers."""

import numpy as np
import pytest

from fpgaflow.ir.sparsity import PATTERN_LIBRARY_LIMIT, classify_sparsity


def _conv(out_count: int, in_count: int, k: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(out_count, in_count, k, k))
    weights[weights == 0] = 1.0
    return weights


def test_removed_channels_and_kernel_mask():
    w = _conv(4, 3)
    w[1] = 0
    w[:, 2] = 0
    w[0, 0] = 0
    rec = classify_sparsity(w)
    assert rec.removed_out.tolist() == [1]
    assert rec.removed_in.tolist() == [2]
    expected = np.ones((4, 3), dtype=bool)
    expected[1] = False
    expected[:, 2] = False
    expected[0, 0] = False
    assert np.array_equal(rec.kernel_mask, expected)
    assert np.array_equal(rec.mask, w != 0)
    assert rec.nnz == int((w != 0).sum())
    assert rec.out_channel_density == 0.75
    assert rec.in_channel_density == pytest.approx(2 / 3)
    # kept kernels: 3 outputs x 2 inputs = 6, of which (0, 0) is zero
    assert rec.kernel_density == pytest.approx(5 / 6)
    assert rec.element_density == 1.0


def test_densities_per_out_and_kernel():
    w = _conv(2, 2)
    w[0, 0, 0, :] = 0
    rec = classify_sparsity(w)
    assert rec.density_per_kernel[0, 0] == pytest.approx(6 / 9)
    assert rec.density_per_kernel[1, 1] == 1.0
    assert rec.density_per_out[0] == pytest.approx(15 / 18)
    assert rec.density == pytest.approx(33 / 36)


def test_pattern_library_most_used_first_with_deterministic_ties():
    w = _conv(3, 2)
    a = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=bool)
    b = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)
    c = np.array([[0, 0, 0], [0, 0, 0], [0, 0, 1]], dtype=bool)
    layout = [[b, a], [b, c], [b, None]]
    for o, row in enumerate(layout):
        for i, pattern in enumerate(row):
            w[o, i] = 0 if pattern is None else w[o, i] * pattern
    rec = classify_sparsity(w)
    # b used 3 times; a and c once each, tie broken by the flattened bits ascending (c < a)
    assert rec.num_patterns == 3
    assert np.array_equal(rec.patterns[0], b)
    assert np.array_equal(rec.patterns[1], c)
    assert np.array_equal(rec.patterns[2], a)
    assert rec.pattern_ids.tolist() == [[0, 2], [0, 1], [0, -1]]
    assert rec.is_pattern_structured
    # same record from a shuffled copy of the output channels: same library order
    again = classify_sparsity(w[[2, 0, 1]])
    assert np.array_equal(again.patterns, rec.patterns)


def test_full_kernels_are_not_pattern_structured():
    rec = classify_sparsity(_conv(4, 4))
    assert rec.num_patterns == 1
    assert not rec.is_pattern_structured
    assert not rec.is_strided


def test_too_many_patterns_is_not_pattern_structured():
    rng = np.random.default_rng(3)
    w = _conv(8, 8)
    masks = rng.random(size=w.shape) < 0.5
    masks[..., 1, 1] = True  # no zero kernels
    rec = classify_sparsity(w * masks)
    assert rec.num_patterns > PATTERN_LIBRARY_LIMIT
    assert not rec.is_pattern_structured


@pytest.mark.parametrize(
    ("stride", "offset"),
    [(2, 0), (2, 1), (3, 2), (4, 1)],
)
def test_strided_channels(stride, offset):
    w = _conv(4, 3)
    keep = (np.arange(9) % stride == offset).reshape(3, 3)
    w[:, 0] *= keep
    w[2, 0] = 0  # a zero kernel does not break the channel's stride
    w[1:, 1] *= keep  # kernel (0, 1) stays full and spoils channel 1
    rec = classify_sparsity(w)
    assert rec.stride.tolist()[0] == stride and rec.offset.tolist()[0] == offset
    assert rec.stride[1] == 0 and rec.stride[2] == 0
    assert not rec.is_strided
    w[:, 2] *= keep
    w[:, 1] = 0
    rec = classify_sparsity(w)
    assert rec.is_strided
    assert rec.strided_in_channels == 2
    assert rec.removed_in.tolist() == [1]


def test_stride_is_the_smallest_matching():
    w = _conv(1, 1)
    w[0, 0] = w[0, 0] * (np.arange(9) == 7).reshape(3, 3)
    rec = classify_sparsity(w)
    # {7} is {j : j % s == 7} for s = 8 and 9; the record keeps the smallest
    assert (rec.stride[0], rec.offset[0]) == (8, 7)


def test_depthwise_groups_use_input_tensor_channels():
    w = _conv(6, 1)  # depthwise with multiplier 2 over 3 channels
    w[2] = 0
    w[3] = 0  # both outputs of channel 1
    w[4] *= (np.arange(9) % 2 == 0).reshape(3, 3)
    w[5] *= (np.arange(9) % 2 == 0).reshape(3, 3)
    rec = classify_sparsity(w, groups=3)
    assert rec.removed_out.tolist() == [2, 3]
    assert rec.removed_in.tolist() == [1]
    assert rec.in_channels == 3
    assert rec.stride.tolist() == [0, 0, 2]
    assert rec.kernel_density == 1.0
    assert rec.granularity_summary()["groups"] == 3


def test_grouped_conv_removed_in_is_per_group():
    w = _conv(4, 2)  # groups=2: outputs 0,1 read channels 0,1; outputs 2,3 read channels 2,3
    w[2:, 0] = 0
    rec = classify_sparsity(w, groups=2)
    assert rec.removed_in.tolist() == [2]


def test_dense_is_one_by_one():
    w = np.arange(1, 13, dtype=np.int64).reshape(3, 4)
    w[:, 1] = 0
    w[2] = 0
    rec = classify_sparsity(w)
    assert rec.mask.shape == (3, 4)
    assert rec.patterns.shape == (1, 1, 1)
    assert rec.removed_out.tolist() == [2]
    assert rec.removed_in.tolist() == [1]
    assert rec.stride.tolist() == [0, 0, 0, 0]
    assert not rec.is_pattern_structured
    assert rec.kernel_density == 1.0


def test_all_zero_weight():
    rec = classify_sparsity(np.zeros((2, 3, 3, 3)))
    assert rec.nnz == 0 and rec.num_patterns == 0
    assert rec.removed_out.tolist() == [0, 1]
    assert rec.pattern_ids.tolist() == [[-1] * 3] * 2
    summary = rec.granularity_summary()
    assert summary["density"] == 0.0 and summary["element_density"] == 0.0


def test_codes_and_floats_agree_and_are_deterministic():
    w = _conv(5, 4, seed=7)
    w[np.abs(w) < 0.6] = 0
    codes = np.round(w * 64).astype(np.int64)
    codes[w == 0] = 0
    a, b = classify_sparsity(w), classify_sparsity(codes)
    for field in ("mask", "patterns", "pattern_ids", "stride", "offset", "removed_out", "removed_in"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert a.granularity_summary() == b.granularity_summary()


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError):
        classify_sparsity(np.zeros((2, 3, 3)))
    with pytest.raises(ValueError):
        classify_sparsity(np.zeros((3, 1, 3, 3)), groups=2)
