"""Bad input gets an error that teaches: which layer, which shapes, which labels."""
import numpy as np
import pytest

from course_lib import scratch
from course_lib.models import mlp
from course_lib.scratch import functional as F


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
        F.linear(np.zeros((2, 3)), np.zeros((4, 5)))


def test_non_numeric_input_is_refused():
    with pytest.raises(TypeError, match="numeric array"):
        scratch.ReLU()(np.array(["a", "b"]))


def test_integer_input_is_converted():
    assert scratch.ReLU()(np.array([-1, 2])).dtype == np.float64


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
        F.cross_entropy(np.zeros(3), np.array([0]))


def test_hinge_loss_bad_labels():
    with pytest.raises(ValueError, match="labels must be in 0..1"):
        F.hinge_loss(np.zeros((1, 2)), np.array([2]))


@pytest.mark.parametrize("criterion", [scratch.MSELoss(), scratch.BCEWithLogitsLoss()])
def test_elementwise_losses_refuse_broadcasting(criterion):
    with pytest.raises(ValueError, match=r"input has shape \(4, 1\) but target has shape \(4,\)"):
        criterion(np.zeros((4, 1)), np.zeros(4))


def test_bad_reduction():
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'sum'"):
        scratch.MSELoss(reduction="none")


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="before forward"):
        scratch.ReLU().backward(np.ones(3))


def test_module_subclass_must_call_super_init():
    class Forgetful(scratch.Module):
        def __init__(self):
            self.w = scratch.Parameter(np.ones(1))

    with pytest.raises(RuntimeError, match="super\\(\\).__init__\\(\\)"):
        Forgetful()


def test_sequential_refuses_non_modules():
    with pytest.raises(TypeError, match="argument 1 is a .*, not a scratch Module"):
        scratch.Sequential(scratch.ReLU(), np.tanh)


def test_mlp_bad_arguments():
    with pytest.raises(ValueError, match="activation must be one of"):
        mlp([2, 2], activation="swish")
    with pytest.raises(ValueError, match="backend must be"):
        mlp([2, 2], backend="jax")
    with pytest.raises(ValueError, match="at least an input and an output"):
        mlp([2])


def test_flatten_start_after_end():
    with pytest.raises(ValueError, match="start is after end"):
        scratch.Flatten(2, 1)(np.zeros((2, 3, 4)))
