"""Exercises of notebook 02: losses and regularisation.

Each reference is the course's own answer; ``make_inputs`` draws random arguments (seeded by the exercise
key), with scores large enough (hundreds) that a softmax written without the max-subtraction trick overflows.
"""
from __future__ import annotations

import numpy as np

from ..scratch import functional as sf
from .checking import Exercise


def _scores_and_targets(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Scores (N, C) with a large common offset and spread, and integer targets (N,)."""
    n, c = int(rng.integers(2, 7)), int(rng.integers(3, 8))
    scores = rng.normal(0.0, 3.0, (n, c)) + rng.uniform(800.0, 1200.0)  # exp(800) overflows float64
    scores[0] = rng.normal(0.0, 300.0, c)  # one row spread over hundreds: naive exp under- and overflows
    return scores, rng.integers(0, c, n)


def _softmax_inputs(rng: np.random.Generator) -> tuple:
    return (_scores_and_targets(rng)[0],)


def _hinge_inputs(rng: np.random.Generator) -> tuple:
    n, c = int(rng.integers(2, 7)), int(rng.integers(3, 8))
    return rng.normal(0.0, 1.0, (n, c)), rng.integers(0, c, n)   # margins sometimes violated, sometimes not


def _cross_entropy_grad_reference(scores: np.ndarray, target: np.ndarray) -> np.ndarray:
    return sf.cross_entropy_backward(1.0, scores, target)


def _l2_update_reference(w: np.ndarray, grad_e0: np.ndarray, lr: float, lam: float, n: int) -> np.ndarray:
    return (1.0 - lr * lam / n) * w - lr * grad_e0


def _l2_inputs(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
    return (rng.normal(size=shape), rng.normal(size=shape), float(rng.uniform(0.01, 0.5)),
            float(rng.uniform(0.5, 5.0)), int(rng.integers(10, 1000)))


EXERCISES: list[Exercise] = [
    Exercise(
        key="02.softmax",
        task="Write softmax(scores) for scores of shape (N, C): each row becomes probabilities that sum to 1. "
             "It must work for scores in the thousands.",
        hint="Subtract each row's maximum first (scores - scores.max(axis=1, keepdims=True)); softmax does not "
             "change when every score of a row moves by the same amount, and exp of a number <= 0 never overflows.",
        reference=lambda scores: sf.softmax(scores, dim=1),
        make_inputs=_softmax_inputs,
    ),
    Exercise(
        key="02.cross_entropy",
        task="Write cross_entropy(scores, target): the mean over the N examples of -ln softmax(s_n)[y_n], "
             "for scores (N, C) and integer targets (N,). Return one number.",
        hint="Use log-softmax: ln softmax(s)_y = (s_y - m) - ln sum_j exp(s_j - m) with m = max_j s_j. "
             "Pick each row's target entry with scores[np.arange(N), target], then take the mean (not the sum).",
        reference=sf.cross_entropy,
        make_inputs=_scores_and_targets,
    ),
    Exercise(
        key="02.hinge",
        task="Write hinge(scores, target) in the lecture's form with margin 1: the mean over examples of "
             "sum over j != y of max(0, s_j - s_y + 1). Scores (N, C), targets (N,). Return one number.",
        hint="Compute margins = np.maximum(0, scores - correct[:, None] + 1), set the correct class's entry to 0 "
             "(it would add exactly 1 per example), sum over classes, average over examples. "
             "Don't divide by C: that is torch's multi_margin_loss, not the lecture's loss.",
        reference=sf.hinge_loss,
        make_inputs=_hinge_inputs,
    ),
    Exercise(
        key="02.cross_entropy_grad",
        task="Write cross_entropy_grad(scores, target): the gradient of the MEAN cross-entropy loss with respect "
             "to the scores, shape (N, C).",
        hint="It is (softmax(scores) - onehot(target)) / N: subtract 1 at each row's correct class and divide "
             "by the number of examples. Use a stable softmax.",
        reference=_cross_entropy_grad_reference,
        make_inputs=_scores_and_targets,
    ),
    Exercise(
        key="02.l2_update",
        task="Write l2_update(w, grad_e0, lr, lam, n): one gradient-descent step on E = E0 + lam/(2n) sum w^2, "
             "in the lecture's form w <- (1 - lr*lam/n) w - lr * dE0/dw. Return the new weights.",
        hint="The penalty's gradient is (lam / n) * w, so the step is w - lr * (grad_e0 + lam / n * w). "
             "The weights shrink by the factor (1 - lr*lam/n) before the usual step.",
        reference=_l2_update_reference,
        make_inputs=_l2_inputs,
    ),
]
