"""Exercises of notebook 03 (backpropagation).

Two of them return a tuple of arrays of different shapes, e.g. ``(dx, dW, db)``. The checker
compares one array, so such an answer is wrapped before it is checked:

    check("03.linear_backward", tuple_answer("03.linear_backward", my_linear_backward))

``tuple_answer`` checks each part by name (shape and values, with the usual hints) and then
hands the checker the parts flattened and joined, which is what the reference returns too.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..lessons.nb03_backprop import sigmoid_circuit_grads
from ..scratch import functional as sf
from .checking import Exercise, ExerciseFailed, compare_answer


def _joined(fn: Callable) -> Callable:
    """fn returning a tuple of arrays -> a function returning them flattened and concatenated."""
    def joined(*args):
        return np.concatenate([np.ravel(np.asarray(part, dtype=float)) for part in fn(*args)])
    return joined


def _describe(args: tuple) -> str:
    return ", ".join(f"array{tuple(a.shape)}" if isinstance(a, np.ndarray) else repr(a) for a in args)


def tuple_answer(key: str, fn: Callable) -> Callable:
    """Wrap a learner's function that returns a tuple (e.g. ``(dx, dW, db)``) for ``check(key, ...)``.

    Each part is compared with the reference part of the same name first, so a wrong ``dW``
    is reported as "dW: ..." rather than as an index into one long joined array.
    """
    from . import EXERCISES as registry      # every notebook's exercises (the package imports this module first)

    ex = registry.get(key)
    if ex is None or "parts" not in ex.extra:
        raise KeyError(f"{key!r} is not an exercise that returns a tuple.")
    names, reference = ex.extra["parts"], ex.extra["parts_reference"]

    def wrapped(*args):
        copies = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
        got = fn(*args)
        want = reference(*copies)
        if not isinstance(got, (tuple, list)) or len(got) != len(names):
            raise ExerciseFailed(
                f"{key}: return a tuple ({', '.join(names)}) of {len(names)} arrays; "
                f"your function returned {type(got).__name__}"
                f"{f' of length {len(got)}' if isinstance(got, (tuple, list)) else ''}.\nHint: {ex.hint}")
        for name, g, w in zip(names, got, want):
            compare_answer(key, g, w, ex.rtol, ex.atol, f"for inputs ({_describe(args)}), {name}: ", ex.hint)
        return np.concatenate([np.ravel(np.asarray(g, dtype=float)) for g in got])

    return wrapped


# ---------------------------------------------------------------- inputs


def _circuit_inputs(rng: np.random.Generator) -> tuple:
    return rng.normal(0, 2, 3), rng.normal(0, 2, 2)


def _linear_inputs(rng: np.random.Generator) -> tuple:
    n, d, m = rng.integers(2, 7, size=3)
    return rng.standard_normal((n, m)), rng.standard_normal((n, d)), rng.standard_normal((m, d))


def _relu_inputs(rng: np.random.Generator) -> tuple:
    x = rng.standard_normal((4, 6))
    x[rng.random(x.shape) < 0.2] = 0.0          # exact zeros: torch's relu'(0) is 0
    x[0, 0] = 0.0
    return rng.standard_normal(x.shape), x


def _ce_inputs(rng: np.random.Generator) -> tuple:
    n, c = int(rng.integers(3, 9)), int(rng.integers(3, 11))
    return rng.normal(0, 3, (n, c)), rng.integers(0, c, n)


class SmoothFunction:
    """f(x) = sum(a * sin(x)) + 0.5 * (sum(x))**2, with its exact gradient ``grad(x) = a cos(x) + sum(x)``.

    The squared sum couples every entry with every other, so an answer that leaves x[i] shifted after
    measuring it gets the later entries wrong (a separable f would not notice)."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def __call__(self, x: np.ndarray) -> float:
        return float(np.sum(self.a * np.sin(x)) + 0.5 * np.sum(x) ** 2)

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self.a * np.cos(x) + np.sum(x)

    def __repr__(self) -> str:
        return "f(x) = sum(a*sin(x)) + 0.5*sum(x)**2"


def _numgrad_not_restoring_x(f, x, h=1e-5):
    """A common mistake: x[i] is moved to x[i] + h, then to x[i] - h, and never put back."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        plus = f(x)
        x[i] -= 2 * h
        grad[i] = (plus - f(x)) / (2 * h)
    return grad


def _numgrad_forward_differences(f, x, h=1e-5):
    """A common mistake: forward differences (f(x + h) - f(x)) / h, only accurate to O(h)."""
    grad, base = np.zeros_like(x), f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - base) / h
        x[i] = old
    return grad


def _numgrad_inputs(rng: np.random.Generator) -> tuple:
    shape = tuple(int(s) for s in rng.integers(2, 5, size=2))
    return SmoothFunction(rng.normal(0, 2, shape)), rng.standard_normal(shape)


EXERCISES: list[Exercise] = [
    Exercise(
        key="03.sigmoid_circuit_grads",
        task="Return (dw, dx) for f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))): dw has shape (3,), dx shape (2,).",
        hint="Forward: dot = w0 x0 + w1 x1 + w2, f = sigma(dot). Backward: ddot = f (1 - f); "
             "then mul swaps: dw = ddot * [x0, x1, 1], dx = ddot * [w0, w1].",
        reference=_joined(sigmoid_circuit_grads), make_inputs=_circuit_inputs,
        extra={"parts": ("dw", "dx"), "parts_reference": sigmoid_circuit_grads},
    ),
    Exercise(
        key="03.linear_backward",
        task="Given dy = dL/dy (N, M), x (N, D) and W (M, D) of y = x W^T + b, return (dx, dW, db).",
        hint="Match the shapes: dx = dy @ W is (N, D), dW = dy.T @ x is (M, D), db = dy.sum(axis=0) is (M,).",
        reference=_joined(sf.linear_backward), make_inputs=_linear_inputs,
        extra={"parts": ("dx", "dW", "db"), "parts_reference": sf.linear_backward},
    ),
    Exercise(
        key="03.relu_backward",
        task="Given dy = dL/dy and x of y = relu(x) (same shapes), return dL/dx.",
        hint="The gradient passes where x > 0 and is blocked elsewhere, x == 0 included (torch uses 0 there): "
             "dy * (x > 0).",
        reference=sf.relu_backward, make_inputs=_relu_inputs,
    ),
    Exercise(
        key="03.softmax_ce_backward",
        task="Given scores s (N, C) and integer labels y (N,), return dL/ds of the mean softmax cross-entropy.",
        hint="p = softmax(s) row by row (subtract the row max before exp); dL/ds = (p - onehot(y)) / N.",
        reference=lambda s, y: sf.cross_entropy_backward(1.0, s, y), make_inputs=_ce_inputs,
    ),
    Exercise(
        key="03.numerical_gradient",
        task="Given a function f(x) -> float and an array x, return df/dx (same shape as x) by finite differences.",
        hint="Centred differences, one entry at a time: (f(x + h e_i) - f(x - h e_i)) / (2h) with h = 1e-5; "
             "put x[i] back afterwards. Forward differences (f(x + h) - f(x)) / h are only accurate to O(h).",
        reference=lambda f, x: f.grad(x), make_inputs=_numgrad_inputs, rtol=1e-6, atol=1e-7,
        mistakes={"x[i] not put back": _numgrad_not_restoring_x,
                  "forward differences": _numgrad_forward_differences},
    ),
]
