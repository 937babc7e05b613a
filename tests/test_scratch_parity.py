"""Every scratch module and function against torch autograd, float64, relative error < 1e-7."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from course_lib import scratch
from course_lib.models import mlp
from course_lib.scratch import functional as F
from parity_helpers import assert_close, check_layer, t

LAYERS = [
    (lambda: scratch.Linear(7, 5), lambda: torch.nn.Linear(7, 5), (6, 7)),
    (lambda: scratch.Linear(7, 5, bias=False), lambda: torch.nn.Linear(7, 5, bias=False), (6, 7)),
    (lambda: scratch.Linear(4, 3), lambda: torch.nn.Linear(4, 3), (2, 5, 4)),
    (lambda: scratch.ReLU(), lambda: torch.nn.ReLU(), (5, 9)),
    (lambda: scratch.LeakyReLU(), lambda: torch.nn.LeakyReLU(), (5, 9)),
    (lambda: scratch.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2), (3, 4, 5)),
    (lambda: scratch.Sigmoid(), lambda: torch.nn.Sigmoid(), (5, 9)),
    (lambda: scratch.Tanh(), lambda: torch.nn.Tanh(), (5, 9)),
    (lambda: scratch.Flatten(), lambda: torch.nn.Flatten(), (4, 2, 3, 5)),
    (lambda: scratch.Flatten(0, 1), lambda: torch.nn.Flatten(0, 1), (4, 2, 3)),
]


@pytest.mark.parametrize("make_ours, make_theirs, shape", LAYERS)
def test_layer_matches_torch(make_ours, make_theirs, shape, device, rng):
    check_layer(make_ours(), make_theirs(), 3 * rng.standard_normal(shape), device, rng)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid", "tanh"])
def test_mlp_matches_torch(activation, device, rng):
    torch.manual_seed(0)
    check_layer(mlp([12, 9, 7, 4], activation), mlp([12, 9, 7, 4], activation, backend="torch"),
                rng.standard_normal((8, 3, 4)), device, rng)


ACTIVATIONS = [
    (F.relu, F.relu_backward, torch.relu, "input"),
    (F.leaky_relu, F.leaky_relu_backward, TF.leaky_relu, "input"),
    (F.sigmoid, F.sigmoid_backward, torch.sigmoid, "output"),
    (F.tanh, F.tanh_backward, torch.tanh, "output"),
    (F.softmax, F.softmax_backward, lambda x: torch.softmax(x, -1), "output"),
    (F.log_softmax, F.log_softmax_backward, lambda x: torch.log_softmax(x, -1), "output"),
]


@pytest.mark.parametrize("forward, backward, torch_fn, saved", ACTIVATIONS)
def test_functional_activation_matches_torch(forward, backward, torch_fn, saved, device, rng):
    x = 4 * rng.standard_normal((6, 5))
    xt = t(x, device, grad=True)
    yt = torch_fn(xt)
    g = rng.standard_normal(x.shape)
    yt.backward(t(g, device))
    y = forward(x)
    assert_close(y, yt, "forward")
    assert_close(backward(g, x if saved == "input" else y), xt.grad, "backward")


def test_sigmoid_and_softmax_are_stable_at_extremes():
    x = np.array([[-1000.0, 0.0, 1000.0]])
    assert np.array_equal(F.sigmoid(x), [[0.0, 0.5, 1.0]])
    assert np.allclose(F.softmax(x), [[0, 0, 1]])
    assert np.isfinite(F.log_softmax(x)).all()


def test_linear_functional_matches_torch(device, rng):
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    xt, wt, bt = (t(a, device, grad=True) for a in (x, w, b))
    yt = TF.linear(xt, wt, bt)
    g = rng.standard_normal((5, 3))
    yt.backward(t(g, device))
    assert_close(F.linear(x, w, b), yt, "linear")
    for ours, theirs, name in zip(F.linear_backward(g, x, w), (xt, wt, bt), ("dx", "dW", "db")):
        assert_close(ours, theirs.grad, name)


def class_problem(rng, n=7, c=5, scale=3.0):
    return scale * rng.standard_normal((n, c)), rng.integers(0, c, n)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_matches_torch(reduction, device, rng):
    s, y = class_problem(rng)
    st = t(s, device, grad=True)
    loss_t = TF.cross_entropy(st, torch.tensor(y, device=device), reduction=reduction)
    loss_t.backward()
    crit = scratch.CrossEntropyLoss(reduction=reduction)
    assert_close(crit(s, y), loss_t, "loss")
    assert_close(crit.backward(), st.grad, "grad")
    assert_close(F.cross_entropy(s, y, reduction), loss_t, "functional loss")


def test_hinge_loss_is_num_classes_times_multi_margin_loss(device, rng):
    s, y = class_problem(rng, c=4)
    st = t(s, device, grad=True)
    loss_t = 4 * TF.multi_margin_loss(st, torch.tensor(y, device=device), margin=1.0)
    loss_t.backward()
    assert_close(F.hinge_loss(s, y), loss_t, "hinge")
    assert_close(F.hinge_loss_backward(1.0, s, y), st.grad, "hinge grad")


def test_hinge_loss_lecture_example():
    assert F.hinge_loss(np.array([[-2.85, 0.86, 0.28]]), np.array([2])) == pytest.approx(1.58)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_matches_torch(reduction, device, rng):
    a, b = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2))
    at = t(a, device, grad=True)
    loss_t = TF.mse_loss(at, t(b, device), reduction=reduction)
    loss_t.backward()
    crit = scratch.MSELoss(reduction=reduction)
    assert_close(crit(a, b), loss_t, "mse")
    assert_close(crit.backward(), at.grad, "mse grad")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_with_logits_matches_torch(reduction, device, rng):
    x, target = 20 * rng.standard_normal((6, 3)), rng.random((6, 3))
    xt = t(x, device, grad=True)
    loss_t = TF.binary_cross_entropy_with_logits(xt, t(target, device), reduction=reduction)
    loss_t.backward()
    crit = scratch.BCEWithLogitsLoss(reduction=reduction)
    assert_close(crit(x, target), loss_t, "bce")
    assert_close(crit.backward(), xt.grad, "bce grad")


def test_loss_backward_scales_with_grad_output(rng):
    s, y = class_problem(rng)
    crit = scratch.CrossEntropyLoss()
    crit(s, y)
    assert np.allclose(crit.backward(2.5), 2.5 * crit.backward())


def test_full_training_step_matches_torch(device, rng):
    """Forward, backward and one SGD step of an MLP give the same new weights in both worlds."""
    torch.manual_seed(0)
    theirs = mlp([10, 8, 3], backend="torch").to(device=device, dtype=torch.float64)
    ours = mlp([10, 8, 3])
    ours.load_state_dict(theirs.state_dict())
    x, y = rng.standard_normal((16, 10)), rng.integers(0, 3, 16)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    opt = scratch.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    crit = scratch.CrossEntropyLoss()
    for _ in range(3):
        opt_t.zero_grad()
        TF.cross_entropy(theirs(t(x, device)), torch.tensor(y, device=device)).backward()
        opt_t.step()
        opt.zero_grad()
        crit(ours(x), y)
        ours.backward(crit.backward())
        opt.step()
    for name, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[name], value, name)
