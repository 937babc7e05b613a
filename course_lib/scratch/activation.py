"""Elementwise activations as modules: ``ReLU``, ``LeakyReLU``, ``Sigmoid``, ``Tanh``."""
from __future__ import annotations

import numpy as np

from . import functional as F
from ._checks import as_float_array, check_number
from .module import Module


class ReLU(Module):
    """max(0, x). Gradient 1 where x > 0, else 0."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "ReLU input")
        self.save_for_backward(x)
        return F.relu(x)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.relu_backward(grad_output, *self.take_saved(grad_output))


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x, so negative inputs still pass a little gradient."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        check_number(negative_slope, "negative_slope", "LeakyReLU")
        self.negative_slope = negative_slope

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "LeakyReLU input")
        self.save_for_backward(x)
        return F.leaky_relu(x, self.negative_slope)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.leaky_relu_backward(grad_output, *self.take_saved(grad_output), self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + e^-x). Gradient sigma (1 - sigma), never above 0.25."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = F.sigmoid(as_float_array(x, "Sigmoid input"))
        self.save_for_backward(out)  # sigma' = sigma (1 - sigma) needs only the output
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.sigmoid_backward(grad_output, *self.take_saved(grad_output))


class Tanh(Module):
    """tanh(x). Gradient 1 - tanh^2, at most 1."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = F.tanh(as_float_array(x, "Tanh input"))
        self.save_for_backward(out)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.tanh_backward(grad_output, *self.take_saved(grad_output))
