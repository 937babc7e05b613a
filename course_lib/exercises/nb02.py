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


def _integer_scores_and_targets(rng: np.random.Generator) -> tuple:
    """Small integer scores (N, C): some margins s_j - s_y + 1 are exactly 0 (a tie at the hinge), others cross it."""
    n, c = int(rng.integers(4, 8)), int(rng.integers(3, 7))
    scores = rng.integers(-2, 3, (n, c)).astype(np.float64)
    scores[0, :2] = [1.0, 2.0]                                    # row 0, target 1: class 0's margin is exactly 0
    target = rng.integers(0, c, n)
    target[0] = 1
    return scores, target


def hinge_grad_reference(scores: np.ndarray, target: np.ndarray) -> np.ndarray:
    """dL/ds of the mean multiclass hinge loss L = (1/N) sum_n sum_{j != y_n} max(0, s_nj - s_ny_n + 1).

    (N, C), (N,) -> (N, C):  +1/N at every violated margin (s_j - s_y + 1 > 0, j != y), and at the correct class
    -(number of violated margins)/N. A margin of exactly 0 counts as satisfied (gradient 0), as in torch.
    """
    rows = np.arange(len(target))
    violated = (scores - scores[rows, target][:, None] + 1.0 > 0).astype(np.float64)
    violated[rows, target] = 0.0
    violated[rows, target] = -violated.sum(axis=1)
    return violated / len(target)


def _hinge_grad_inputs(rng: np.random.Generator) -> tuple:
    return _hinge_inputs(rng) if rng.random() < 0.5 else _integer_scores_and_targets(rng)


def _hinge_grad_with(scores: np.ndarray, target: np.ndarray, margin: float = 1.0, own_margin: bool = False,
                     subtract: bool = True, mean: bool = True, at_zero: bool = False) -> np.ndarray:
    """The hinge gradient with one of its common mistakes switched on (for the declared mistakes)."""
    rows = np.arange(len(target))
    m = scores - scores[rows, target][:, None] + margin
    violated = (m >= 0 if at_zero else m > 0).astype(np.float64)
    if not own_margin:
        violated[rows, target] = 0.0
    if subtract:
        violated[rows, target] = -violated.sum(axis=1)
    return violated / len(target) if mean else violated


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
        mistakes={"no max subtraction (exp overflows: nan)": lambda s: np.exp(s) / np.exp(s).sum(axis=1, keepdims=True),
                  "over the wrong axis (axis=0, down the examples)": lambda s: sf.softmax(s, dim=0),
                  "not normalised (exp of the shifted scores only)": lambda s: np.exp(s - s.max(axis=1, keepdims=True))},
    ),
    Exercise(
        key="02.cross_entropy",
        task="Write cross_entropy(scores, target): the mean over the N examples of -ln softmax(s_n)[y_n], "
             "for scores (N, C) and integer targets (N,). Return one number.",
        hint="Use log-softmax: ln softmax(s)_y = (s_y - m) - ln sum_j exp(s_j - m) with m = max_j s_j. "
             "Pick each row's target entry with scores[np.arange(N), target], then take the mean (not the sum).",
        reference=sf.cross_entropy,
        make_inputs=_scores_and_targets,
        mistakes={"the sum over the examples, not the mean": lambda s, t: sf.cross_entropy(s, t, reduction="sum"),
                  "-ln of a softmax without max subtraction (overflow: nan)":
                      lambda s, t: -np.log(np.exp(s) / np.exp(s).sum(axis=1, keepdims=True))[np.arange(len(t)), t].mean(),
                  "the base-10 logarithm": lambda s, t: sf.cross_entropy(s, t) / np.log(10),
                  "the mean of -log_softmax over every class, not the correct one's":
                      lambda s, t: -sf.log_softmax(s).mean()},
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
        mistakes={"divided by C as torch's multi_margin_loss": lambda s, t: sf.hinge_loss(s, t) / s.shape[1],
                  "the correct class's own margin counted (adds 1 per example)": lambda s, t: sf.hinge_loss(s, t) + 1.0,
                  "margin 0 instead of 1": lambda s, t: sf.hinge_loss(s, t, margin=0.0),
                  "the sum over the examples, not the mean": lambda s, t: sf.hinge_loss(s, t) * len(t)},
    ),
    Exercise(
        key="02.hinge_grad",
        task="Write hinge_grad(scores, target): the gradient of the MEAN multiclass hinge loss (margin 1, the lecture's "
             "form, not divided by C) with respect to the scores (N, C), without a loop over the examples.",
        hint="margins = scores - scores[rows, target][:, None] + 1 with rows = np.arange(N). Every wrong class j with "
             "margin > 0 gets +1; the correct class gets minus the number of such j (set its own entry to 0 before "
             "counting: it is not compared with itself). A margin of exactly 0 is satisfied: gradient 0. Divide by N.",
        reference=hinge_grad_reference,
        make_inputs=_hinge_grad_inputs,
        trials=4,
        mistakes={"the count not subtracted at the correct class (only the +1s)":
                      lambda s, t: _hinge_grad_with(s, t, subtract=False),
                  "not averaged over the N examples": lambda s, t: _hinge_grad_with(s, t, mean=False),
                  "the correct class's own margin (always 1) counted as violated":
                      lambda s, t: _hinge_grad_with(s, t, own_margin=True),
                  "margin 0 instead of 1": lambda s, t: _hinge_grad_with(s, t, margin=0.0),
                  "a margin of exactly 0 counted as violated (>= 0 instead of > 0)":
                      lambda s, t: _hinge_grad_with(s, t, at_zero=True),
                  "divided by C as torch's multi_margin_loss": lambda s, t: hinge_grad_reference(s, t) / s.shape[1]},
    ),
    Exercise(
        key="02.cross_entropy_grad",
        task="Write cross_entropy_grad(scores, target): the gradient of the MEAN cross-entropy loss with respect "
             "to the scores, shape (N, C).",
        hint="It is (softmax(scores) - onehot(target)) / N: subtract 1 at each row's correct class and divide "
             "by the number of examples. Use a stable softmax.",
        reference=_cross_entropy_grad_reference,
        make_inputs=_scores_and_targets,
        mistakes={"a missing 1/N": lambda s, t: sf.cross_entropy_backward(1.0, s, t, reduction="sum"),
                  "the one-hot not subtracted (softmax alone)": lambda s, t: sf.softmax(s, dim=1) / len(t),
                  "the sign flipped, onehot - softmax": lambda s, t: -sf.cross_entropy_backward(1.0, s, t),
                  "softmax without max subtraction (overflow: nan)":
                      lambda s, t: (np.exp(s) / np.exp(s).sum(axis=1, keepdims=True) - np.eye(s.shape[1])[t]) / len(t)},
    ),
    Exercise(
        key="02.l2_update",
        task="Write l2_update(w, grad_e0, lr, lam, n): one gradient-descent step on E = E0 + lam/(2n) sum w^2, "
             "in the lecture's form w <- (1 - lr*lam/n) w - lr * dE0/dw. Return the new weights.",
        hint="The penalty's gradient is (lam / n) * w, so the step is w - lr * (grad_e0 + lam / n * w). "
             "The weights shrink by the factor (1 - lr*lam/n) before the usual step.",
        reference=_l2_update_reference,
        make_inputs=_l2_inputs,
        mistakes={"the decay's sign flipped, (1 + lr*lam/n)": lambda w, g, lr, lam, n: (1 + lr * lam / n) * w - lr * g,
                  "lam not divided by n": lambda w, g, lr, lam, n: (1 - lr * lam) * w - lr * g,
                  "the learning rate left out of the decay, (1 - lam/n)": lambda w, g, lr, lam, n: (1 - lam / n) * w - lr * g,
                  "the decay forgotten (a plain gradient step)": lambda w, g, lr, lam, n: w - lr * g},
    ),
]
