"""Linear and Flatten, functional linear, and MLPs built from them, against torch autograd (float64)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import scratch
from course_lib.models import mlp
from course_lib.scratch import functional as sf

from parity_helpers import assert_close, check_layer, t


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid", "tanh"])
def test_mlp_matches_torch(activation, device, rng):
    torch.manual_seed(0)
    check_layer(mlp([12, 9, 7, 4], activation), mlp([12, 9, 7, 4], activation, backend="torch"),
                rng.standard_normal((8, 3, 4)), device, rng)


def test_linear_functional_matches_torch(device, rng):
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    xt, wt, bt = (t(a, device, grad=True) for a in (x, w, b))
    yt = F.linear(xt, wt, bt)
    g = rng.standard_normal((5, 3))
    yt.backward(t(g, device))
    assert_close(sf.linear(x, w, b), yt, "linear")
    for ours, theirs, name in zip(sf.linear_backward(g, x, w), (xt, wt, bt), ("dx", "dW", "db")):
        assert_close(ours, theirs.grad, name)


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
        F.cross_entropy(theirs(t(x, device)), torch.tensor(y, device=device)).backward()
        opt_t.step()
        opt.zero_grad()
        crit(ours(x), y)
        ours.backward(crit.backward())
        opt.step()
    for name, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[name], value, name)


def test_linear_wrong_feature_size_names_layer_and_shapes():
    layer = scratch.Linear(784, 10)
    with pytest.raises(ValueError, match=r"Linear\(in_features=784.*expects 784 input features.*\(5, 28, 28\)"):
        layer(np.zeros((5, 28, 28)))


def test_linear_scalar_input():
    with pytest.raises(ValueError, match="got a scalar"):
        scratch.Linear(3, 2)(np.float64(1.0))


def test_linear_rejects_non_positive_sizes():
    with pytest.raises(ValueError, match="in_features=0"):
        scratch.Linear(0, 3)


def test_functional_linear_shape_mismatch():
    with pytest.raises(ValueError, match=r"x has shape \(2, 3\).*weight has shape \(4, 5\)"):
        sf.linear(np.zeros((2, 3)), np.zeros((4, 5)))


def test_non_numeric_input_is_refused():
    with pytest.raises(TypeError, match="numeric array"):
        scratch.ReLU()(np.array(["a", "b"]))


def test_integer_input_is_refused_with_the_conversion():
    with pytest.raises(TypeError, match=r"int64.*astype\(np.float64\)"):
        scratch.ReLU()(np.array([-1, 2]))


def test_flatten_start_after_end():
    with pytest.raises(ValueError, match="start is after end"):
        scratch.Flatten(2, 1)(np.zeros((2, 3, 4)))
