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


class Unflatten(Module):
    """Flatten's inverse: split axis ``dim`` into ``unflattened_size``, e.g. Unflatten(1, (32, 7, 7)) turns
    (N, 1568) into (N, 32, 7, 7), as a decoder needs after its Linear layer. One size may be -1 (inferred)."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"Unflatten: dim must be an int (the axis to split), got {dim!r}.")
        sizes = tuple(unflattened_size) if isinstance(unflattened_size, (tuple, list)) else None
        if not sizes or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) for s in sizes):
            raise TypeError(f"Unflatten: unflattened_size must be a non-empty tuple of whole numbers such as "
                            f"(32, 7, 7), got {unflattened_size!r}.")
        if any(s < 1 and s != -1 for s in sizes) or sizes.count(-1) > 1:
            raise ValueError(f"Unflatten: unflattened_size={sizes} must hold positive sizes (at most one -1, "
                             f"inferred); torch refuses it too.")
        self.dim, self.unflattened_size = int(dim), tuple(int(s) for s in sizes)

    def _new_shape(self, shape: tuple) -> tuple:
        if not -len(shape) <= self.dim < len(shape):
            raise IndexError(f"Unflatten: dim={self.dim} is not an axis of the input of shape {shape} "
                             f"(axes {-len(shape)}..{len(shape) - 1}).")
        axis, known = self.dim % len(shape), math.prod(s for s in self.unflattened_size if s != -1)
        sizes = tuple(shape[axis] // known if s == -1 else s for s in self.unflattened_size)
        if math.prod(sizes) != shape[axis]:
            raise ValueError(f"Unflatten: unflattened_size={self.unflattened_size} does not multiply up to the "
                             f"size of dim {self.dim} ({shape[axis]}) of the input of shape {shape}; "
                             f"the sizes' product must equal it (torch: 'don't multiply up to the size of dim').")
        return shape[:axis] + sizes + shape[axis + 1:]

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(refuse_tensor(x, "Unflatten input"))
        new_shape = self._new_shape(x.shape)
        self.save_for_backward(x.shape)
        return x.reshape(new_shape)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        shape, = self.take_saved(grad_output)
        return np.asarray(grad_output).reshape(shape)  # a reshape moves no numbers: the gradient is reshaped back

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
