"""Exercises of notebook 08: training diagnostics.

Each one is a number that the diagnostics of ``course_lib.diagnostics`` compute; the references call those
functions (or restate their one-line formula), so the notebook, the library and the checker agree.
``make_inputs`` builds cases where a plausible slip gives a different answer: dead units that are zero on
most but not all examples, sigmoid outputs just inside and just outside the 0.01 band, a validation curve
with a second, later minimum.
"""
from __future__ import annotations

import numpy as np

from .. import diagnostics
from .checking import Exercise


def _update_ratio_inputs(rng: np.random.Generator) -> tuple:
    shape = tuple(int(s) for s in rng.integers(2, 30, size=int(rng.integers(1, 3))))
    w = rng.normal(0, 0.1, shape)
    return w, w - 10.0 ** rng.uniform(-4, -2) * rng.normal(size=shape)


def _dead_inputs(rng: np.random.Generator) -> tuple:
    n, d = int(rng.integers(5, 40)), int(rng.integers(3, 50))
    z = rng.normal(size=(n, d)) + rng.normal(0, 2, size=d)       # some units almost always negative
    dead = rng.random(d) < 0.4
    z[:, dead] = -np.abs(z[:, dead])                             # never positive on this batch
    return (np.maximum(z, 0),)


def _dead_reference(activations: np.ndarray) -> float:
    """Share of units (columns) that are never positive over the batch (rows)."""
    return float(np.mean(~(activations > 0).any(axis=0)))


def _saturated_inputs(rng: np.random.Generator) -> tuple:
    z = rng.normal(0, 5, size=(int(rng.integers(5, 30)), int(rng.integers(2, 20))))
    return (1.0 / (1.0 + np.exp(-z)),)


def _saturated_reference(s: np.ndarray) -> float:
    """Share of sigmoid outputs within 0.01 of 0 or of 1."""
    return float(np.mean((s < 0.01) | (s > 0.99)))


def _bn_inputs(rng: np.random.Generator) -> tuple:
    """x (N, D) with D >= 2 features of different means and scales: normalising the whole array, or the
    rows, differs from normalising each column."""
    n, d = int(rng.integers(2, 20)), int(rng.integers(2, 8))
    return (rng.normal(rng.normal(0, 5, d), rng.uniform(0.5, 4, d), size=(n, d)),)


def _bn_reference(x: np.ndarray) -> np.ndarray:
    """Batch normalisation in training mode, gamma = 1, beta = 0: per feature, biased variance, eps = 1e-5."""
    return (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)


def _early_stopping_inputs(rng: np.random.Generator) -> tuple:
    n = int(rng.integers(8, 25))
    t = np.arange(n)
    best = int(rng.integers(2, n - 4))
    curve = 1.0 / (1 + t) + 0.02 * np.maximum(t - best, 0) + rng.uniform(0, 0.003, n)
    curve[-1] = 0.0                                              # a later, lower value that patience never reaches
    return curve, int(rng.integers(2, 4))


EXERCISES: list[Exercise] = [
    Exercise(
        key="08.update_ratio",
        task="Write update_ratio(w_before, w_after): the size of one optimizer step relative to the weights, "
             "||w_after - w_before|| / ||w_before||, with Frobenius (root of the sum of squares) norms.",
        hint="np.linalg.norm(w_after - w_before) / np.linalg.norm(w_before). Divide by the weights *before* the "
             "step, and take the norm of the difference (not the difference of the norms).",
        reference=diagnostics.update_ratio,
        make_inputs=_update_ratio_inputs,
    ),
    Exercise(
        key="08.dead_fraction",
        task="Write dead_fraction(a): for ReLU outputs a of shape (N, D) (N examples, D units), the share of the "
             "D units that are never positive on any of the N examples.",
        hint="A unit is alive if (a[:, j] > 0).any(). Reduce over the batch axis (axis=0) first, then average over "
             "units; np.mean(a == 0) counts zero *values*, not dead *units*.",
        reference=_dead_reference,
        make_inputs=_dead_inputs,
    ),
    Exercise(
        key="08.saturated_fraction",
        task="Write saturated_fraction(s): for sigmoid outputs s (any shape), the share of values within 0.01 of 0 "
             "or of 1 (where the sigmoid's slope s(1 - s) is below 0.01).",
        hint="np.mean((s < 0.01) | (s > 0.99)): both ends count.",
        reference=_saturated_reference,
        make_inputs=_saturated_inputs,
    ),
    Exercise(
        key="08.batchnorm_train",
        task="Write batchnorm_train(x): batch normalisation of x (N, D) in training mode with gamma = 1 and "
             "beta = 0: per feature (column), subtract the batch mean and divide by sqrt(batch variance + 1e-5).",
        hint="mean and var over axis=0; the variance is the biased one (divide by N: np.var's default), as "
             "torch uses to normalise a batch. [1, 2, 3, 4] gives about [-1.342, -0.447, 0.447, 1.342].",
        reference=_bn_reference,
        make_inputs=_bn_inputs,
        rtol=1e-6,
        atol=1e-8,
        mistakes={"the whole array at once": lambda x: (x - x.mean()) / np.sqrt(x.var() + 1e-5),
                  "per example (axis=1)": lambda x: (x - x.mean(axis=1, keepdims=True))
                  / np.sqrt(x.var(axis=1, keepdims=True) + 1e-5),
                  "unbiased variance (ddof=1)": lambda x: (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=1) + 1e-5)},
    ),
    Exercise(
        key="08.early_stopping",
        task="Write early_stopping_epoch(val_loss, patience): walk through the validation losses epoch by epoch; "
             "stop once the best loss so far has not improved for `patience` epochs in a row, and return the "
             "index (0-based) of the best epoch seen up to then.",
        hint="Keep best, best_epoch and a counter; reset the counter on a new best, else add 1 and break when it "
             "reaches patience. np.argmin over the whole curve is wrong: early stopping never sees the epochs "
             "after it stopped.",
        reference=diagnostics.early_stopping_epoch,
        make_inputs=_early_stopping_inputs,
    ),
]
