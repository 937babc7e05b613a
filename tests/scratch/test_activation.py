"""Activation modules and functional activations against torch autograd (float64, relative error < 1e-7)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import scratch
from course_lib.scratch import functional as sf

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


ACTIVATIONS = [
    (sf.relu, sf.relu_backward, torch.relu, "input"),
    (sf.leaky_relu, sf.leaky_relu_backward, F.leaky_relu, "input"),
    (sf.sigmoid, sf.sigmoid_backward, torch.sigmoid, "output"),
    (sf.tanh, sf.tanh_backward, torch.tanh, "output"),
    (sf.softmax, sf.softmax_backward, lambda x: torch.softmax(x, -1), "output"),
    (sf.log_softmax, sf.log_softmax_backward, lambda x: torch.log_softmax(x, -1), "output"),
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
    assert np.array_equal(sf.sigmoid(x), [[0.0, 0.5, 1.0]])
    assert np.allclose(sf.softmax(x), [[0, 0, 1]])
    assert np.isfinite(sf.log_softmax(x)).all()
