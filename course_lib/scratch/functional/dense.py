"""The dense layer and the elementwise activations, each a forward/backward pair.

Shapes: ``N`` examples, ``D`` input features, ``M`` output features; ``(*)`` is any shape (kept).
The backward of an activation takes what its forward saw or made: relu and leaky_relu the input,
sigmoid, tanh, softmax and log_softmax their output.
"""
from __future__ import annotations

import numpy as np

from .._checks import check_grad_output, check_number


def linear(input: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """y = x W^T + b.   (N, D), (M, D), (M,) -> (N, M)."""
    if np.ndim(weight) != 2 or np.ndim(input) == 0:
        raise ValueError(f"linear: weight must be a matrix (out_features, in_features) and x at least 1-D (N, D), "
                         f"got x of shape {np.shape(input)} and weight of shape {np.shape(weight)}.")
    if bias is not None and np.shape(bias) != (weight.shape[0],):
        raise ValueError(f"linear: bias has shape {np.shape(bias)} but weight {tuple(weight.shape)} has "
                         f"{weight.shape[0]} outputs: bias must have shape ({weight.shape[0]},).")
    if input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: x has shape {tuple(input.shape)} ({input.shape[-1]} features) but weight has shape "
            f"{tuple(weight.shape)} = (out_features, in_features) and expects {weight.shape[1]} features."
        )
    y = input @ weight.T
    return y if bias is None else y + bias


def linear_backward(grad_output: np.ndarray, input: np.ndarray, weight: np.ndarray):
    """dx = dy W,  dW = dy^T x,  db = sum_n dy_n.   (N, M), (N, D), (M, D) -> (N, D), (M, D), (M,).

    Extra leading dimensions of x are treated as more examples.
    """
    check_grad_output(grad_output, (*input.shape[:-1], weight.shape[0]), "linear_backward")
    dy = grad_output.reshape(-1, weight.shape[0])
    x2 = input.reshape(-1, weight.shape[1])
    grad_x = (dy @ weight).reshape(input.shape)
    return grad_x, dy.T @ x2, dy.sum(axis=0)


def relu(input: np.ndarray) -> np.ndarray:
    """relu(x) = max(0, x), elementwise.   (*) -> (*)."""
    return np.maximum(input, 0.0)


def relu_backward(grad_output: np.ndarray, input: np.ndarray) -> np.ndarray:
    """dx = dy * [x > 0]  (torch also uses 0 at x = 0).   (*), (*) -> (*)."""
    check_grad_output(grad_output, np.shape(input), "relu_backward")
    return grad_output * (input > 0)


def leaky_relu(input: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """leaky_relu(x) = x if x > 0 else negative_slope * x.   (*) -> (*)."""
    check_number(negative_slope, "negative_slope", "leaky_relu")
    return np.where(input > 0, input, negative_slope * input)


def leaky_relu_backward(grad_output: np.ndarray, input: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """dx = dy * (1 if x > 0 else negative_slope).   (*), (*) -> (*)."""
    check_grad_output(grad_output, np.shape(input), "leaky_relu_backward")
    return grad_output * np.where(input > 0, 1.0, negative_slope)


def sigmoid(input: np.ndarray) -> np.ndarray:
    """sigma(x) = 1 / (1 + e^-x), computed without overflow for large |x|.   (*) -> (*)."""
    e = np.exp(-np.abs(input))  # always in (0, 1]
    return np.where(input >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_backward(grad_output: np.ndarray, output: np.ndarray) -> np.ndarray:
    """dx = dy * sigma (1 - sigma), written with the forward output sigma (at most 0.25).   (*), (*) -> (*)."""
    check_grad_output(grad_output, np.shape(output), "sigmoid_backward")
    return grad_output * output * (1.0 - output)


def tanh(input: np.ndarray) -> np.ndarray:
    """tanh(x) = (e^x - e^-x) / (e^x + e^-x).   (*) -> (*)."""
    return np.tanh(input)


def tanh_backward(grad_output: np.ndarray, output: np.ndarray) -> np.ndarray:
    """dx = dy * (1 - tanh(x)^2), written with the forward output.   (*), (*) -> (*)."""
    check_grad_output(grad_output, np.shape(output), "tanh_backward")
    return grad_output * (1.0 - output**2)


def softmax(input: np.ndarray, dim: int = -1) -> np.ndarray:
    """softmax(x)_i = e^{x_i} / sum_j e^{x_j} along dim; the max is subtracted first so exp never overflows.

    (*) -> (*).
    """
    z = input - input.max(axis=dim, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=dim, keepdims=True)


def log_softmax(input: np.ndarray, dim: int = -1) -> np.ndarray:
    """log softmax(x)_i = x_i - logsumexp(x) along dim, stable for any scale of x.   (*) -> (*)."""
    z = input - input.max(axis=dim, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=dim, keepdims=True))


def softmax_backward(grad_output: np.ndarray, output: np.ndarray, dim: int = -1) -> np.ndarray:
    """For p = softmax(x): dx = p * (dp - sum_j dp_j p_j).   (*), (*) -> (*)."""
    check_grad_output(grad_output, np.shape(output), "softmax_backward")
    return output * (grad_output - (grad_output * output).sum(axis=dim, keepdims=True))


def log_softmax_backward(grad_output: np.ndarray, output: np.ndarray, dim: int = -1) -> np.ndarray:
    """For l = log_softmax(x): dx = dl - softmax(x) * sum_j dl_j.   (*), (*) -> (*)."""
    check_grad_output(grad_output, np.shape(output), "log_softmax_backward")
    return grad_output - np.exp(output) * grad_output.sum(axis=dim, keepdims=True)
