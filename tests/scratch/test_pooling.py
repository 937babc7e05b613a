"""Pooling (max, average, L_p, adaptive) from scratch against torch autograd (float64)."""
import numpy as np
import pytest
import torch

from course_lib import scratch
from course_lib.scratch import functional as sf

from parity_helpers import check_layer


# (kernel, stride, padding, H, W)
POOL_CASES = [(2, None, 0, 8, 8), (3, 2, 0, 55, 55), (3, 2, 1, 9, 10), ((2, 3), (1, 2), (1, 1), 7, 9), (3, 1, 0, 5, 6),
              (2, 2, 0, 7, 7)]


@pytest.mark.parametrize("k, s, p, h, w", POOL_CASES)
def test_max_pool_matches_torch(k, s, p, h, w, device, rng):
    check_layer(scratch.MaxPool2d(k, s, p), torch.nn.MaxPool2d(k, s, p), rng.standard_normal((2, 3, h, w)), device, rng)


@pytest.mark.parametrize("k, s, p, h, w", POOL_CASES)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_matches_torch(k, s, p, h, w, count_include_pad, device, rng):
    check_layer(scratch.AvgPool2d(k, s, p, count_include_pad),
                torch.nn.AvgPool2d(k, s, p, count_include_pad=count_include_pad),
                rng.standard_normal((2, 3, h, w)), device, rng)


@pytest.mark.parametrize("norm_type", [2, 3])
@pytest.mark.parametrize("k, s", [(2, None), (3, 2), ((2, 3), 1)])
def test_lp_pool_matches_torch(norm_type, k, s, device, rng):
    x = rng.uniform(0.1, 2.0, (2, 3, 9, 8))  # positive, so x^p is defined for every p
    check_layer(scratch.LPPool2d(norm_type, k, s), torch.nn.LPPool2d(norm_type, k, s), x, device, rng)


@pytest.mark.parametrize("output_size, h, w", [(1, 7, 7), (1, 5, 8), (3, 9, 9), ((2, 3), 7, 10), (4, 6, 6)])
def test_adaptive_avg_pool_matches_torch(output_size, h, w, device, rng):
    check_layer(scratch.AdaptiveAvgPool2d(output_size), torch.nn.AdaptiveAvgPool2d(output_size),
                rng.standard_normal((2, 3, h, w)), device, rng)


def test_pooling_worked_examples():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
    assert sf.max_pool2d(x, 2).item() == 4
    assert sf.avg_pool2d(x, 2).item() == 2.5
    assert sf.lp_pool2d(x, 2, 2).item() == pytest.approx(np.sqrt(30))
    cs231n = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=float)[None, None]
    assert np.array_equal(sf.max_pool2d(cs231n, 2)[0, 0], [[6, 8], [3, 4]])
    grad = sf.max_pool2d_backward(np.ones((1, 1, 2, 2)), cs231n, 2)[0, 0]
    assert np.array_equal(grad, [[0, 0, 0, 0], [0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 1]])
