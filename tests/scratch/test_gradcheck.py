"""gradcheck and numerical_gradient: they pass for correct layers and catch a wrong backward."""
import numpy as np
import pytest

from course_lib import scratch
from course_lib.models import mlp


@pytest.mark.parametrize("module", [
    scratch.Linear(4, 3), scratch.Tanh(), scratch.Sigmoid(), scratch.LeakyReLU(0.1),
    mlp([4, 5, 3], "tanh"), scratch.Flatten(),
])
def test_gradcheck_passes_for_layers(module, rng):
    x = rng.standard_normal((3, 4)) + 0.05  # keep ReLU kinks away from 0
    errors = scratch.gradcheck(module, x)
    assert max(errors.values()) < 1e-6


@pytest.mark.parametrize("criterion, target", [
    (scratch.CrossEntropyLoss(), np.array([0, 2, 1])),
    (scratch.MSELoss(), np.arange(9.0).reshape(3, 3) / 9),
    (scratch.BCEWithLogitsLoss(), np.eye(3)),
])
def test_gradcheck_passes_for_losses(criterion, target, rng):
    assert scratch.gradcheck(criterion, rng.standard_normal((3, 3)), target)["input"] < 1e-6


def test_gradcheck_catches_a_wrong_backward(rng):
    class BrokenSigmoid(scratch.Sigmoid):
        def backward(self, grad_output):
            return grad_output * self.take_saved(grad_output)[0]  # forgot the (1 - sigma) factor

    with pytest.raises(scratch.GradcheckError, match="input"):
        scratch.gradcheck(BrokenSigmoid(), rng.standard_normal((2, 3)))


def test_numerical_gradient_of_a_quadratic():
    x = np.array([1.0, -2.0, 3.0])
    assert np.allclose(scratch.numerical_gradient(lambda: float((x ** 2).sum()), x), 2 * x)
    assert np.array_equal(x, [1.0, -2.0, 3.0])  # restored after perturbing
