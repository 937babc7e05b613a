"""Pure NumPy functions with explicit backward passes, named after ``torch.nn.functional``.

Every ``f(x, ...)`` has a partner ``f_backward(grad_output, ...)`` that returns the gradient of a
scalar loss with respect to the inputs, given ``grad_output = dL/d(output)``.
Shapes: ``N`` examples, ``D`` input features, ``M`` output features, ``C`` classes.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_float_array, check_class_targets, check_same_shape

# ---------------------------------------------------------------- linear


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


# ---------------------------------------------------------------- losses
# Each loss returns a Python float; its backward returns d(loss)/d(input) scaled by grad_output.


def _reduce(per_element: np.ndarray, reduction: str, where: str) -> float:
    if reduction == "mean":
        return float(per_element.mean())
    if reduction == "sum":
        return float(per_element.sum())
    raise ValueError(f"{where}: reduction must be 'mean' or 'sum', got {reduction!r}.")


def _reduction_scale(count: int, reduction: str) -> float:
    return 1.0 / count if reduction == "mean" else 1.0


def cross_entropy(input: np.ndarray, target, reduction: str = "mean") -> float:
    """Softmax cross-entropy  L = -(1/N) sum_n log softmax(s_n)[y_n].

    input: (N, C) raw scores (logits); target: (N,) integer labels in 0..C-1.
    """
    input = as_float_array(input, "cross_entropy input")
    target = check_class_targets(input, target, "cross_entropy")
    picked = log_softmax(input)[np.arange(len(target)), target]
    return _reduce(-picked, reduction, "cross_entropy")


def cross_entropy_backward(input: np.ndarray, target, grad_output: float = 1.0, reduction: str = "mean"):
    """dL/ds = (softmax(s) - onehot(y)) / N   (shape (N, C))."""
    grad = softmax(input)
    grad[np.arange(len(target)), target] -= 1.0
    return grad * (grad_output * _reduction_scale(len(target), reduction))


def hinge_loss(scores: np.ndarray, target, margin: float = 1.0) -> float:
    """Multiclass SVM loss (the lectures' form):  L = (1/N) sum_n sum_{j != y_n} max(0, s_j - s_{y_n} + margin).

    scores: (N, C); target: (N,).  ``torch.nn.functional.multi_margin_loss`` computes the same sum
    but also divides each example's sum by C, so  hinge_loss = C * multi_margin_loss.
    """
    scores = as_float_array(scores, "hinge_loss scores")
    target = check_class_targets(scores, target, "hinge_loss")
    return float(_hinge_margins(scores, target, margin).sum(axis=1).mean())


def _hinge_margins(scores: np.ndarray, target: np.ndarray, margin: float) -> np.ndarray:
    rows = np.arange(len(target))
    margins = np.maximum(0.0, scores - scores[rows, target][:, None] + margin)
    margins[rows, target] = 0.0  # the correct class is not compared with itself
    return margins


def hinge_loss_backward(scores: np.ndarray, target, margin: float = 1.0, grad_output: float = 1.0):
    """Each violated margin adds +1 to its class score's gradient and -1 to the correct class's, / N."""
    rows = np.arange(len(target))
    violated = (_hinge_margins(scores, target, margin) > 0).astype(scores.dtype)
    violated[rows, target] = -violated.sum(axis=1)
    return violated * (grad_output / len(target))


def mse_loss(input: np.ndarray, target: np.ndarray, reduction: str = "mean") -> float:
    """Mean squared error  L = mean((input - target)^2)  over every element."""
    check_same_shape(np.asarray(input), np.asarray(target), "input", "target", "mse_loss")
    return _reduce((input - target) ** 2, reduction, "mse_loss")


def mse_loss_backward(input, target, grad_output: float = 1.0, reduction: str = "mean"):
    """dL/d input = 2 (input - target) / (number of elements)."""
    return 2.0 * (input - target) * (grad_output * _reduction_scale(np.size(input), reduction))


def binary_cross_entropy_with_logits(input: np.ndarray, target: np.ndarray, reduction: str = "mean") -> float:
    """BCE on logits x with targets t in [0, 1]:  L = mean(-t log sigma(x) - (1 - t) log(1 - sigma(x))).

    Computed as  max(x, 0) - x t + log(1 + e^{-|x|}),  which never takes the log of 0.
    """
    check_same_shape(np.asarray(input), np.asarray(target), "input", "target", "binary_cross_entropy_with_logits")
    per_element = np.maximum(input, 0.0) - input * target + np.log1p(np.exp(-np.abs(input)))
    return _reduce(per_element, reduction, "binary_cross_entropy_with_logits")


def binary_cross_entropy_with_logits_backward(input, target, grad_output: float = 1.0, reduction: str = "mean"):
    """dL/dx = (sigma(x) - t) / (number of elements)."""
    return (sigmoid(input) - target) * (grad_output * _reduction_scale(np.size(input), reduction))


# ---------------------------------------------------------------- convolution and pooling
# They live in their own files (functional_conv.py, functional_pool.py) and are re-exported here,
# so that scratch.functional.conv2d mirrors torch.nn.functional.conv2d.
from .convolution import (  # noqa: E402
    col2im, conv2d, conv2d_backward, conv2d_loops, conv2d_loops_backward, conv_transpose2d, conv_transpose2d_backward,
    im2col,
)
from .pooling import (  # noqa: E402
    adaptive_avg_pool2d, adaptive_avg_pool2d_backward, avg_pool2d, avg_pool2d_backward, lp_pool2d,
    lp_pool2d_backward, max_pool2d, max_pool2d_backward,
)
