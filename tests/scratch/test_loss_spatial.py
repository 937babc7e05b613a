"""Per-position cross-entropy, (N, C, d1, ..., dk) logits with (N, d1, ..., dk) class indices, against torch
autograd (float64), a gradient check, and the (N, C) case through the same code path."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import scratch
from course_lib.scratch import functional as sf

from parity_helpers import assert_close, t

SHAPES = [(3, 4, 5, 6), (2, 3, 7), (2, 5, 3, 4, 2), (4, 3, 1, 1)]   # (N, C, ...): images, sequences, volumes, 1x1


def spatial_problem(rng, shape):
    n, c, *rest = shape
    return 3.0 * rng.standard_normal(shape), rng.integers(0, c, (n, *rest))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_spatial_cross_entropy_gradcheck(shape, reduction, rng):
    s, y = spatial_problem(rng, shape)
    errors = scratch.gradcheck(scratch.CrossEntropyLoss(reduction=reduction), s, y)
    assert errors["input"] < 1e-6


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_spatial_cross_entropy_matches_torch(shape, reduction, device, rng):
    s, y = spatial_problem(rng, shape)
    st = t(s, device, grad=True)
    loss_t = F.cross_entropy(st, torch.tensor(y, device=device), reduction=reduction)
    loss_t.backward()
    crit = scratch.CrossEntropyLoss(reduction=reduction)
    assert_close(crit(s, y), loss_t, "loss", tol=1e-10)
    assert_close(crit.backward(), st.grad, "grad", tol=1e-10)
    assert_close(sf.cross_entropy(s, y, reduction), loss_t, "functional loss", tol=1e-10)
    assert_close(sf.cross_entropy_backward(1.0, s, y, reduction), st.grad, "functional grad", tol=1e-10)


def test_spatial_is_the_mean_over_positions_of_the_flat_loss(rng):
    """(N, C, H, W) is (N*H*W, C) rows: the class axis moved last and flattened."""
    s, y = spatial_problem(rng, (2, 3, 4, 5))
    rows = np.moveaxis(s, 1, -1).reshape(-1, 3)
    assert sf.cross_entropy(s, y) == pytest.approx(sf.cross_entropy(rows, y.ravel()), abs=1e-12)
    assert sf.cross_entropy(s, y, "sum") == pytest.approx(40 * sf.cross_entropy(s, y), abs=1e-10)


@pytest.mark.parametrize("shape", [(7, 5), *SHAPES], ids=str)
def test_functional_cross_entropy_reduction_none_matches_torch(shape, device, rng):
    """reduction="none": one loss per position (the target's shape); the backward takes one grad_output each."""
    s, y = spatial_problem(rng, shape)
    g = rng.standard_normal(y.shape)
    st = t(s, device, grad=True)
    loss_t = F.cross_entropy(st, torch.tensor(y, device=device), reduction="none")
    loss_t.backward(t(g, device))
    losses = sf.cross_entropy(s, y, "none")
    assert losses.shape == y.shape
    assert_close(losses, loss_t, "per-position losses", tol=1e-10)
    assert_close(sf.cross_entropy_backward(g, s, y, "none"), st.grad, "per-position grad", tol=1e-10)
