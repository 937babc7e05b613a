"""The dense layer and the elementwise activations, each a forward/backward pair.

Shapes: ``N`` examples, ``D`` input features, ``M`` output features; activations keep any shape.
"""
from __future__ import annotations

import numpy as np


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """y = x W^T + b.   x: (N, D), weight: (M, D), bias: (M,) -> y: (N, M)."""
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: x has shape {tuple(x.shape)} ({x.shape[-1]} features) but weight has shape "
            f"{tuple(weight.shape)} = (out_features, in_features) and expects {weight.shape[1]} features."
        )
    y = x @ weight.T
    return y if bias is None else y + bias


def linear_backward(grad_output: np.ndarray, x: np.ndarray, weight: np.ndarray):
    """Gradients of y = x W^T + b.

    dx = dy W  (N, D);   dW = dy^T x  (M, D);   db = sum_n dy  (M,).
    Extra leading dimensions of x are treated as more examples.
    """
    dy = grad_output.reshape(-1, weight.shape[0])
    x2 = x.reshape(-1, weight.shape[1])
    grad_x = (dy @ weight).reshape(x.shape)
    return grad_x, dy.T @ x2, dy.sum(axis=0)


# ---------------------------------------------------------------- activations


def relu(x: np.ndarray) -> np.ndarray:
    """relu(x) = max(0, x), elementwise."""
    return np.maximum(x, 0.0)


def relu_backward(grad_output: np.ndarray, x: np.ndarray) -> np.ndarray:
    """relu'(x) = 1 if x > 0 else 0 (torch also uses 0 at x = 0)."""
    return grad_output * (x > 0)


def leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """leaky_relu(x) = x if x > 0 else negative_slope * x."""
    return np.where(x > 0, x, negative_slope * x)


def leaky_relu_backward(grad_output: np.ndarray, x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """Derivative 1 for x > 0, negative_slope otherwise."""
    return grad_output * np.where(x > 0, 1.0, negative_slope)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """sigma(x) = 1 / (1 + e^-x), computed without overflow for large |x|."""
    e = np.exp(-np.abs(x))  # always in (0, 1]
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_backward(grad_output: np.ndarray, output: np.ndarray) -> np.ndarray:
    """sigma'(x) = sigma(x) (1 - sigma(x)), written in terms of the forward output (at most 0.25)."""
    return grad_output * output * (1.0 - output)


def tanh(x: np.ndarray) -> np.ndarray:
    """tanh(x) = (e^x - e^-x) / (e^x + e^-x)."""
    return np.tanh(x)


def tanh_backward(grad_output: np.ndarray, output: np.ndarray) -> np.ndarray:
    """tanh'(x) = 1 - tanh(x)^2, written in terms of the forward output."""
    return grad_output * (1.0 - output**2)


def softmax(x: np.ndarray, dim: int = -1) -> np.ndarray:
    """softmax(x)_i = e^{x_i} / sum_j e^{x_j}; the max is subtracted first so exp never overflows."""
    z = x - x.max(axis=dim, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=dim, keepdims=True)


def log_softmax(x: np.ndarray, dim: int = -1) -> np.ndarray:
    """log softmax(x)_i = x_i - logsumexp(x), stable for any scale of x."""
    z = x - x.max(axis=dim, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=dim, keepdims=True))


def softmax_backward(grad_output: np.ndarray, output: np.ndarray, dim: int = -1) -> np.ndarray:
    """For p = softmax(x): dx = p * (dp - sum_j dp_j p_j)."""
    return output * (grad_output - (grad_output * output).sum(axis=dim, keepdims=True))


def log_softmax_backward(grad_output: np.ndarray, output: np.ndarray, dim: int = -1) -> np.ndarray:
    """For l = log_softmax(x): dx = dl - softmax(x) * sum_j dl_j."""
    return grad_output - np.exp(output) * grad_output.sum(axis=dim, keepdims=True)
