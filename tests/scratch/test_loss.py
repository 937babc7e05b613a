"""Losses (modules and functional pairs) against torch autograd, and their errors that teach."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import scratch
from course_lib.scratch import functional as sf

from parity_helpers import assert_close, t


def class_problem(rng, n=7, c=5, scale=3.0):
    return scale * rng.standard_normal((n, c)), rng.integers(0, c, n)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_matches_torch(reduction, device, rng):
    s, y = class_problem(rng)
    st = t(s, device, grad=True)
    loss_t = F.cross_entropy(st, torch.tensor(y, device=device), reduction=reduction)
    loss_t.backward()
    crit = scratch.CrossEntropyLoss(reduction=reduction)
    assert_close(crit(s, y), loss_t, "loss")
    assert_close(crit.backward(), st.grad, "grad")
    assert_close(sf.cross_entropy(s, y, reduction), loss_t, "functional loss")


def test_hinge_loss_is_num_classes_times_multi_margin_loss(device, rng):
    s, y = class_problem(rng, c=4)
    st = t(s, device, grad=True)
    loss_t = 4 * F.multi_margin_loss(st, torch.tensor(y, device=device), margin=1.0)
    loss_t.backward()
    assert_close(sf.hinge_loss(s, y), loss_t, "hinge")
    assert_close(sf.hinge_loss_backward(1.0, s, y), st.grad, "hinge grad")


def test_hinge_loss_lecture_example():
    assert sf.hinge_loss(np.array([[-2.85, 0.86, 0.28]]), np.array([2])) == pytest.approx(1.58)


ELEMENTWISE_LOSSES = {   # scratch module, torch function, (input, target) maker
    "mse": (scratch.MSELoss, F.mse_loss, lambda rng: (rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2)))),
    "bce": (scratch.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits,
            lambda rng: (20 * rng.standard_normal((6, 3)), rng.random((6, 3)))),
}


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name", ELEMENTWISE_LOSSES)
def test_elementwise_loss_matches_torch(name, reduction, device, rng):
    Loss, torch_loss, make = ELEMENTWISE_LOSSES[name]
    x, target = make(rng)
    xt = t(x, device, grad=True)
    loss_t = torch_loss(xt, t(target, device), reduction=reduction)
    loss_t.backward()
    crit = Loss(reduction=reduction)
    assert_close(crit(x, target), loss_t, name)
    assert_close(crit.backward(), xt.grad, f"{name} grad")


def test_loss_backward_scales_with_grad_output(rng):
    s, y = class_problem(rng)
    crit = scratch.CrossEntropyLoss()
    crit(s, y)
    scaled = crit.backward(2.5)
    crit(s, y)   # each backward needs its own forward, as in torch
    assert np.allclose(scaled, 2.5 * crit.backward())


@pytest.mark.parametrize("target, message", [
    (np.array([0, 3]), r"labels must be in 0..2 for 3 classes, but target\[1\] = 3"),
    (np.array([-1, 0]), r"target\[0\] = -1"),
    (np.array([0, 1, 2]), r"target must have shape \(2,\), got \(3,\)"),
    (np.array([0.0, 1.0]), "integer class indices"),
])
def test_cross_entropy_bad_labels(target, message):
    with pytest.raises((ValueError, TypeError), match=message):
        scratch.CrossEntropyLoss()(np.zeros((2, 3)), target)


def test_cross_entropy_needs_two_dimensional_scores():
    with pytest.raises(ValueError, match=r"rank 2 \(\(N, C\)"):
        sf.cross_entropy(np.zeros(3), np.array([0]))


def test_hinge_loss_bad_labels():
    with pytest.raises(ValueError, match="labels must be in 0..1"):
        sf.hinge_loss(np.zeros((1, 2)), np.array([2]))


@pytest.mark.parametrize("criterion", [scratch.MSELoss(), scratch.BCEWithLogitsLoss()])
def test_elementwise_losses_refuse_broadcasting(criterion):
    with pytest.raises(ValueError, match=r"input has shape \(4, 1\) but target has shape \(4,\)"):
        criterion(np.zeros((4, 1)), np.zeros(4))


def test_bad_reduction():
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'sum'"):
        scratch.MSELoss(reduction="none")


@pytest.mark.parametrize("loss, make_target", [
    ("cross_entropy", lambda rng, s: rng.integers(0, s.shape[1], s.shape[0])),
    ("hinge_loss", lambda rng, s: rng.integers(0, s.shape[1], s.shape[0])),
    ("mse_loss", lambda rng, s: rng.standard_normal(s.shape)),
    ("binary_cross_entropy_with_logits", lambda rng, s: rng.random(s.shape)),
])
def test_every_loss_backward_takes_grad_output_first_and_is_the_gradient(loss, make_target, rng):
    """f_backward(grad_output, input, target): grad_output scales the gradient of f(input, target)."""
    forward, backward = getattr(sf, loss), getattr(sf, f"{loss}_backward")
    s = rng.standard_normal((4, 3))
    target = make_target(rng, s)
    numeric = scratch.numerical_gradient(lambda: forward(s, target), s)
    assert np.allclose(backward(1.0, s, target), numeric, atol=1e-7)
    assert np.allclose(backward(2.5, s, target), 2.5 * numeric, atol=1e-7)
