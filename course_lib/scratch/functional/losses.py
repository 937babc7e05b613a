"""Losses, each a forward/backward pair: the forward returns a Python float, the backward dL/d(input).

Shapes: ``N`` examples, ``C`` classes (cross-entropy also per position: ``(N, C, d1, ..., dk)``); ``(*)`` any
shape (input and target of the elementwise losses must match). Every backward is
``f_backward(grad_output, input, target, <options>)``: grad_output is dL_total/dL, 1.0 when the loss is the last
step, and scales the gradient it returns.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_float_array, check_class_targets, check_grad_output, check_same_shape
from .dense import log_softmax, sigmoid, softmax


def _check_batch(input: np.ndarray, where: str) -> None:
    """A loss averages over examples: an empty batch has no mean (torch returns nan; say why instead)."""
    if np.size(input) == 0:
        raise ValueError(f"{where}: the input is empty (shape {np.shape(input)}), so the loss would be the mean of "
                         f"nothing (nan). Check the batch slicing: a batch needs at least one example.")


def _check_scalar_grad(grad_output, where: str) -> None:
    """A loss is one number, so dL_total/dL is one number too: an array here would broadcast into the gradient."""
    if np.ndim(grad_output) != 0:
        raise ValueError(f"{where}: grad_output is dL_total/d loss, one number (1.0 when the loss is the last "
                         f"step), got an array of shape {np.shape(grad_output)}.")


def _check_pair(input, target, where: str) -> tuple[np.ndarray, np.ndarray]:
    """input (float) and target (floats, 0/1 integers converted) of the same, non-empty shape."""
    input = as_float_array(input, f"{where} input")
    target = as_float_array(target, f"{where} target", integers="convert")
    check_same_shape(input, target, "input", "target", where)
    _check_batch(input, where)
    return input, target


def _check_probabilities(target: np.ndarray, where: str) -> None:
    """BCE targets are probabilities: a target outside [0, 1] (a class label 2, a -1/+1 label) gives a loss that
    means nothing; torch computes it anyway, the scratch loss refuses."""
    outside = (target < 0) | (target > 1)
    if outside.any():
        i = np.unravel_index(int(np.flatnonzero(outside)[0]), target.shape)
        index = ", ".join(map(str, i))
        raise ValueError(
            f"{where}: target must hold probabilities in [0, 1] (1 = the positive class), but target[{index}] "
            f"= {target[i]:g} ({int(outside.sum())} value(s) outside [0, 1]). -1/+1 labels? Use (t + 1) / 2. "
            f"Class labels 0..C-1? Use CrossEntropyLoss."
        )


def _reduce(per_element: np.ndarray, reduction: str, where: str) -> float:
    if reduction == "mean":
        return float(per_element.mean())
    if reduction == "sum":
        return float(per_element.sum())
    raise ValueError(f"{where}: reduction must be 'mean' or 'sum', got {reduction!r}.")


def _reduction_scale(count: int, reduction: str) -> float:
    return 1.0 / count if reduction == "mean" else 1.0


def _classes_last(input: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, C, d1, ..., dk) scores and (N, d1, ..., dk) labels as (M, C) rows and (M,) labels, M = N d1 ... dk:
    the class axis moved last, then flattened (the identity for (N, C) and (N,))."""
    return np.moveaxis(input, 1, -1).reshape(-1, input.shape[1]), target.reshape(-1)


def cross_entropy(input: np.ndarray, target, reduction: str = "mean") -> float | np.ndarray:
    """Softmax cross-entropy  L = -(1/M) sum_m log softmax(s_m)[y_m]  over the M labelled positions.

    (N, C) logits, (N,) labels -> float (M = N); or, as torch, per position: (N, C, d1, ..., dk) logits (softmax
    over the class axis 1) with (N, d1, ..., dk) labels, M = N d1 ... dk, e.g. (N, C, H, W) with (N, H, W) for
    segmentation. One code path: the class axis is moved last and the positions flattened to (M, C) rows.
    reduction="none" (functional only) returns the per-position losses -log softmax(s_m)[y_m], target's shape.
    """
    input = as_float_array(input, "cross_entropy input")
    target = check_class_targets(input, target, "cross_entropy", spatial=True)
    _check_batch(input, "cross_entropy")
    rows, labels = _classes_last(input, target)
    per_position = -log_softmax(rows)[np.arange(len(labels)), labels]
    if reduction == "none":
        return per_position.reshape(target.shape)
    return _reduce(per_position, reduction, "cross_entropy")


def cross_entropy_backward(grad_output, input: np.ndarray, target, reduction: str = "mean") -> np.ndarray:
    """dL/ds = grad_output * (softmax(s) - onehot(y)) / M  (no / M with reduction="sum").

    (), (N, C), (N,) -> (N, C); (), (N, C, d1, ..., dk), (N, d1, ..., dk) -> (N, C, d1, ..., dk), through the
    same (M, C) rows as the forward, reshaped back and the class axis returned to 1. With reduction="none",
    grad_output holds one dL_total/dL_m per position (the target's shape) and scales that position's row.
    """
    target = check_class_targets(input, target, "cross_entropy_backward", spatial=True)
    scale = _cross_entropy_grad_scale(grad_output, target.shape, reduction)
    rows, labels = _classes_last(input, target)
    grad = softmax(rows)
    grad[np.arange(len(labels)), labels] -= 1.0
    grad *= scale
    return np.moveaxis(grad.reshape(*target.shape, input.shape[1]), -1, 1)


def _cross_entropy_grad_scale(grad_output, shape: tuple, reduction: str):
    """What multiplies each of the M rows: grad_output / M ("mean"), grad_output ("sum"), or with "none" one
    grad_output per position (an array of the target's shape) as an (M, 1) column."""
    if reduction == "none":
        return check_grad_output(grad_output, shape, "cross_entropy_backward").reshape(-1, 1)
    _check_scalar_grad(grad_output, "cross_entropy_backward")
    return grad_output * _reduction_scale(int(np.prod(shape)), reduction)


def hinge_loss(scores: np.ndarray, target, margin: float = 1.0) -> float:
    """Multiclass SVM loss (the lectures' form):  L = (1/N) sum_n sum_{j != y_n} max(0, s_j - s_{y_n} + margin).

    (N, C) scores, (N,) labels -> float.  ``torch.nn.functional.multi_margin_loss`` computes the same sum
    but also divides each example's sum by C, so  hinge_loss = C * multi_margin_loss.
    """
    scores = as_float_array(scores, "hinge_loss scores")
    target = check_class_targets(scores, target, "hinge_loss")
    _check_batch(scores, "hinge_loss")
    return float(_hinge_margins(scores, target, margin).sum(axis=1).mean())


def _hinge_margins(scores: np.ndarray, target: np.ndarray, margin: float) -> np.ndarray:
    rows = np.arange(len(target))
    margins = np.maximum(0.0, scores - scores[rows, target][:, None] + margin)
    margins[rows, target] = 0.0  # the correct class is not compared with itself
    return margins


def hinge_loss_backward(grad_output: float, scores: np.ndarray, target, margin: float = 1.0) -> np.ndarray:
    """Each violated margin adds +1 to its class score's gradient and -1 to the correct class's, times grad_output / N.

    (), (N, C), (N,) -> (N, C).
    """
    _check_scalar_grad(grad_output, "hinge_loss_backward")
    target = check_class_targets(scores, target, "hinge_loss_backward")
    rows = np.arange(len(target))
    violated = (_hinge_margins(scores, target, margin) > 0).astype(scores.dtype)
    violated[rows, target] = -violated.sum(axis=1)
    return violated * (grad_output / len(target))


def mse_loss(input: np.ndarray, target: np.ndarray, reduction: str = "mean") -> float:
    """Mean squared error  L = mean((input - target)^2)  over every element.   (*), (*) -> float."""
    input, target = _check_pair(input, target, "mse_loss")
    return _reduce((input - target) ** 2, reduction, "mse_loss")


def mse_loss_backward(grad_output: float, input: np.ndarray, target: np.ndarray, reduction: str = "mean") -> np.ndarray:
    """dL/d input = grad_output * 2 (input - target) / (number of elements).   (), (*), (*) -> (*)."""
    _check_scalar_grad(grad_output, "mse_loss_backward")
    input, target = _check_pair(input, target, "mse_loss_backward")
    return 2.0 * (input - target) * (grad_output * _reduction_scale(np.size(input), reduction))


def binary_cross_entropy_with_logits(input: np.ndarray, target: np.ndarray, reduction: str = "mean") -> float:
    """BCE on logits x with targets t in [0, 1]:  L = mean(-t log sigma(x) - (1 - t) log(1 - sigma(x))).

    (*), (*) -> float.  Computed as  max(x, 0) - x t + log(1 + e^{-|x|}),  which never takes the log of 0.
    Targets outside [0, 1] are refused (torch computes a number that means nothing).
    """
    input, target = _check_pair(input, target, "binary_cross_entropy_with_logits")
    _check_probabilities(target, "binary_cross_entropy_with_logits")
    per_element = np.maximum(input, 0.0) - input * target + np.log1p(np.exp(-np.abs(input)))
    return _reduce(per_element, reduction, "binary_cross_entropy_with_logits")


def binary_cross_entropy_with_logits_backward(grad_output: float, input: np.ndarray, target: np.ndarray,
                                              reduction: str = "mean") -> np.ndarray:
    """dL/dx = grad_output * (sigma(x) - t) / (number of elements).   (), (*), (*) -> (*)."""
    _check_scalar_grad(grad_output, "binary_cross_entropy_with_logits_backward")
    input, target = _check_pair(input, target, "binary_cross_entropy_with_logits_backward")
    return (sigmoid(input) - target) * (grad_output * _reduction_scale(np.size(input), reduction))
