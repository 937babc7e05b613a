"""Exercises of notebook 01: neurons and activation functions.

Each reference is the model answer; ``make_inputs(rng)`` draws the test inputs (seeded by the exercise key),
including the awkward cases (very large |x|, exact zeros) where a near-miss shows.
"""
from __future__ import annotations

import numpy as np

from .checking import Exercise


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """sigma(x) = 1 / (1 + e^-x), evaluated so that exp never overflows: e = e^-|x| <= 1."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_reference(x: np.ndarray) -> np.ndarray:
    """Stable sigmoid, elementwise. x: any shape -> same shape."""
    return _sigmoid(np.asarray(x, dtype=np.float64))


def sigmoid_grad_reference(x: np.ndarray) -> np.ndarray:
    """sigma'(x) = sigma(x) (1 - sigma(x)), elementwise. x: any shape -> same shape."""
    s = _sigmoid(np.asarray(x, dtype=np.float64))
    return s * (1.0 - s)


def leaky_relu_reference(x: np.ndarray, negative_slope: float) -> np.ndarray:
    """max(a x, x) for 0 < a < 1: x where x > 0, a x elsewhere. x: any shape -> same shape."""
    return np.where(x > 0, x, negative_slope * x)


def neuron_reference(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """One sigmoid neuron on a batch: sigma(x @ w + b).   x: (N, D), w: (D,), b: scalar -> (N,)."""
    return _sigmoid(x @ w + b)


def maxout_reference(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Maxout unit: max_k (x . W_k + b_k).   x: (N, D), weight: (K, D), bias: (K,) -> (N,)."""
    return (x @ weight.T + bias).max(axis=1)


def _with_extremes(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal values with a few exact zeros and some huge magnitudes (+-1000) mixed in."""
    x = rng.normal(0, 3, shape)
    flat = x.reshape(-1)
    picks = rng.choice(flat.size, size=min(6, flat.size), replace=False)
    flat[picks] = [0.0, 1000.0, -1000.0, 750.0, -750.0, 0.0][: len(picks)]
    return x


def _sigmoid_inputs(rng):
    return (_with_extremes(rng, (int(rng.integers(5, 9)), int(rng.integers(3, 7)))),)


def _leaky_inputs(rng):
    x = rng.normal(0, 2, (int(rng.integers(10, 30)),))
    x[:2] = 0.0
    return x, float(rng.uniform(0.01, 0.3))


def _neuron_inputs(rng):
    n, d = int(rng.integers(4, 9)), int(rng.integers(2, 6))
    return rng.normal(size=(n, d)), rng.normal(size=d), float(rng.normal())


def _maxout_inputs(rng):
    n, d, k = int(rng.integers(4, 9)), int(rng.integers(1, 5)), int(rng.integers(2, 5))
    return rng.normal(size=(n, d)), rng.normal(size=(k, d)), rng.normal(size=k)


EXERCISES: list[Exercise] = [
    Exercise(
        key="01.sigmoid",
        task="Write sigmoid(x) = 1 / (1 + exp(-x)) for an array x, without overflow for x = -1000 or +1000.",
        hint="exp(1000) overflows. Use e = np.exp(-np.abs(x)), which is at most 1: for x >= 0 the sigmoid is "
             "1 / (1 + e), for x < 0 it is e / (1 + e). Combine the two with np.where.",
        reference=sigmoid_reference,
        make_inputs=_sigmoid_inputs,
        mistakes={"the formula as written, 1 / (1 + exp(-x)) (exp(1000) overflows at x = -1000)":
                      lambda x: 1 / (1 + np.exp(-x)),
                  "e^x / (1 + e^x) for every x (inf / inf = nan at x = 1000)":
                      lambda x: np.exp(x) / (1 + np.exp(x)),
                  "the sign of the exponent flipped, 1 / (1 + e^x) (that is sigma(-x))":
                      lambda x: sigmoid_reference(-x),
                  "the two branches swapped (e / (1 + e) for x >= 0)":
                      lambda x: np.where(x >= 0, np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))),
                                         1 / (1 + np.exp(-np.abs(x))))},
    ),
    Exercise(
        key="01.sigmoid_grad",

        task="Write sigmoid_grad(x), the derivative sigma'(x) of the sigmoid, elementwise.",
        hint="sigma'(x) = sigma(x) * (1 - sigma(x)); at x = 0 it is 0.25, its largest value. Reuse a stable sigmoid.",
        reference=sigmoid_grad_reference,
        make_inputs=_sigmoid_inputs,
        mistakes={"x (1 - x): the formula applied to x instead of sigma(x)": lambda x: x * (1 - x),
                  "the sigmoid itself, not its derivative": sigmoid_reference,
                  "e^-x / (1 + e^-x)^2 computed directly (inf / inf = nan at x = -1000)":
                      lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2},
    ),
    Exercise(
        key="01.leaky_relu",
        task="Write leaky_relu(x, negative_slope): x where x > 0, negative_slope * x elsewhere.",
        hint="np.where(x > 0, x, negative_slope * x). For 0 < a < 1 this equals max(a x, x), the lecture's form.",
        reference=leaky_relu_reference,
        make_inputs=_leaky_inputs,
        mistakes={"the slope on the wrong side (negative_slope * x for x > 0)":
                      lambda x, negative_slope: np.where(x > 0, negative_slope * x, x),
                  "plain ReLU (the negative slope forgotten)": lambda x, negative_slope: np.maximum(x, 0)},
    ),
    Exercise(
        key="01.neuron",
        task="Write neuron(x, w, b): one sigmoid neuron applied to every row of a batch x (N, D), "
             "with weights w (D,) and bias b; return shape (N,).",
        hint="The weighted sum of all rows at once is x @ w (shape (N,)); add b, then apply a stable sigmoid.",
        reference=neuron_reference,
        make_inputs=_neuron_inputs,
        mistakes={"no sigmoid (the weighted sum x @ w + b itself)": lambda x, w, b: x @ w + b,
                  "the bias left out": lambda x, w, b: _sigmoid(x @ w),
                  "the bias inside the sum, added to every weight: sigma(x @ (w + b))": lambda x, w, b: _sigmoid(x @ (w + b))},
    ),
    Exercise(
        key="01.maxout",
        task="Write maxout(x, weight, bias): for x (N, D), weight (K, D), bias (K,) return "
             "max_k (x . weight[k] + bias[k]) for each row, shape (N,).",
        hint="x @ weight.T + bias has shape (N, K): one column per linear piece. Take the max along axis=1.",
        reference=maxout_reference,
        make_inputs=_maxout_inputs,
        mistakes={"max over the wrong axis (over the examples, axis=0)":
                      lambda x, weight, bias: (x @ weight.T + bias).max(axis=0),
                  "the bias left out": lambda x, weight, bias: (x @ weight.T).max(axis=1),
                  "the largest weighted input, not the largest piece: max_k max_i x_i w_ki + b_k":
                      lambda x, weight, bias: (x[:, None, :] * weight[None]).max(axis=2).max(axis=1) + bias.max()},
    ),
]
