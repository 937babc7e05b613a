"""``Linear`` and ``Flatten``: the fully connected layer and the reshape that feeds it."""
from __future__ import annotations

import math

import numpy as np

from . import functional as F
from . import init
from ._checks import as_float_array, check_last_dim, positive_int, refuse_tensor
from .module import Module, Parameter


class Linear(Module):
    """y = x W^T + b.   x: (N, in_features) -> y: (N, out_features).

    weight: (out_features, in_features), bias: (out_features,), both drawn from
    U(-1/sqrt(in_features), 1/sqrt(in_features)) by ``reset_parameters``, as torch's are.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        in_features, out_features = positive_int(in_features, "in_features", "Linear"), \
            positive_int(out_features, "out_features", "Linear")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((out_features, in_features)))
        self.bias = Parameter(np.empty(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: kaiming_uniform_(weight, a=sqrt(5)), i.e. U(-1/sqrt(in_features), ...), and the bias alike."""
        init.fan_in_uniform_(self.weight, self.bias)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "Linear input")
        if x.ndim == 0:
            raise ValueError(f"{self!r} expected input of shape (N, {self.in_features}), got a scalar.")
        check_last_dim(x, self.in_features, repr(self))
        self.save_for_backward(x)
        return F.linear(x, self.weight.data, None if self.bias is None else self.bias.data)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad_x, grad_w, grad_b = F.linear_backward(grad_output, *self.take_saved(grad_output), self.weight.data)
        self.weight.grad += grad_w
        if self.bias is not None:
            self.bias.grad += grad_b
        return grad_x

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def _dim_index(dim: int, shape: tuple, name: str) -> int:
    """A (possibly negative) axis of an array of ``shape`` as an index 0..ndim-1; torch's IndexError otherwise."""
    if not -len(shape) <= dim < len(shape):
        raise IndexError(f"Flatten: {name}={dim} is not an axis of the input of shape {shape} (rank {len(shape)}; "
                         f"axes {-len(shape)}..{len(shape) - 1}). Flatten() keeps axis 0 as the batch: "
                         f"give it a batch (N, ...), e.g. x[None] for one example.")
    return dim % len(shape)


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one: (N, 1, 28, 28) -> (N, 784) with the defaults."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(refuse_tensor(x, "Flatten input"))
        start, end = (_dim_index(dim, x.shape, name) for dim, name in ((self.start_dim, "start_dim"),
                                                                          (self.end_dim, "end_dim")))
        if start > end:
            raise ValueError(f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) on shape {x.shape}: start is after end.")
        self.save_for_backward(x.shape)
        return x.reshape(x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        shape, = self.take_saved(grad_output)
        return grad_output.reshape(shape)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
