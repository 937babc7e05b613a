"""Exercises of notebook 08: training diagnostics.

Each one is a number that the diagnostics of ``course_lib.diagnostics`` compute; the references call those
functions (or restate their one-line formula), so the notebook, the library and the checker agree.
``make_inputs`` builds cases where each declared mistake gives a different answer: dead units that are zero on
most but not all examples; 3-D sigmoid outputs with values of exactly 0.01 and 0.99 (not saturated: the
band is strict); a validation curve with a tie, a new best right after the stop, and a pause
before the best that a counter which is never reset would add up.

The backward passes (batch normalisation's, dropout's) get batch statistics of very different sizes with eps
large enough to matter, and dropout uniforms that sit exactly on p. Batch normalisation's backward returns a
tuple of three arrays, (dx, dgamma, dbeta); the checker compares each by name (``Exercise.parts``).
"""
from __future__ import annotations

import numpy as np

from .. import diagnostics
from ..scratch import functional as sf
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
    """Sigmoid outputs of shape (N, C, L) (3-D: code that assumes a matrix fails), a tenth of them, and at
    least one of each, exactly on the band's edges 0.01 and 0.99."""
    shape = tuple(int(n) for n in rng.integers(2, 8, size=3))
    s = 1.0 / (1.0 + np.exp(-rng.normal(0, 5, size=shape)))
    edges = rng.random(shape) < 0.1
    s[edges] = rng.choice([0.01, 0.99], size=int(edges.sum()))
    s.flat[:2] = 0.01, 0.99
    return (s,)


def _saturated_reference(s: np.ndarray) -> float:
    """Share of all values of s (any shape) strictly below 0.01 or strictly above 0.99; the rule of
    ``diagnostics.record_activations`` (its SATURATION_EPS = 0.01)."""
    eps = diagnostics.SATURATION_EPS
    return float(np.mean((s < eps) | (s > 1 - eps)))


def _bn_inputs(rng: np.random.Generator) -> tuple:
    """x (N, D) with D >= 2 features of different means and scales: normalising the whole array, or the
    rows, differs from normalising each column."""
    n, d = int(rng.integers(2, 20)), int(rng.integers(2, 8))
    return (rng.normal(rng.normal(0, 5, d), rng.uniform(0.5, 4, d), size=(n, d)),)


def _bn_reference(x: np.ndarray) -> np.ndarray:
    """Batch normalisation in training mode, gamma = 1, beta = 0: per feature, biased variance, eps = 1e-5."""
    return (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)


def _early_stopping_inputs(rng: np.random.Generator) -> tuple:
    """A validation curve whose right answer is the second best, b2: down, a pause (count 1), down to b1, patience - 1
    pauses (a counter never reset would stop here), down to b2, an exact tie with b2 (not an improvement), patience - 1
    pauses (the count reaches patience: stop), then a new best right after the stop and a lower one at the end
    (which stopping when the count *exceeds* patience, or np.argmin, would see)."""
    patience = int(rng.integers(2, 4))
    curve, level = [], 2.0

    def down():
        nonlocal level
        level -= rng.uniform(0.05, 0.1)
        curve.append(level)

    def pause(n):
        curve.extend(level + rng.uniform(0.01, 0.05, n))

    for _ in range(int(rng.integers(1, 4))):
        down()
    pause(1)
    down()
    pause(patience - 1)
    down()
    curve.append(level)                                          # a tie with the best: not an improvement
    pause(patience - 1)
    down()
    pause(int(rng.integers(0, 3)))
    curve.append(level - 1.0)                                    # the lowest, long after the stop
    return np.array(curve), patience


def _early_stop(val_loss, patience: int, tie_improves: bool = False, extra: int = 0, reset: bool = True) -> int:
    """Early stopping with one of the common slips switched on (the declared mistakes): ties as improvements,
    ``extra`` epochs of patience more, a counter that is never reset. With none, training.EarlyStopping's rule."""
    best, best_epoch, waited = np.inf, 0, 0
    for epoch, loss in enumerate(val_loss):
        if loss < best or (tie_improves and loss == best):
            best, best_epoch, waited = loss, epoch, waited if not reset else 0
        else:
            waited += 1
            if waited >= patience + extra:
                break
    return best_epoch


def _bn_backward_inputs(rng: np.random.Generator) -> tuple:
    """x (N, D) with features of very different scales (one std 0.05: there eps = 0.01 is not negligible),
    gamma far from 1, eps from 1e-5 to 0.1, and a grad_out whose columns have non-zero means."""
    n, d = int(rng.integers(3, 9)), int(rng.integers(2, 6))
    scales = rng.uniform(0.5, 3, d)
    scales[0] = 0.05
    x = rng.normal(rng.normal(0, 3, d), scales, size=(n, d))
    gamma, beta = rng.uniform(0.3, 2.5, d) * rng.choice([-1, 1], d), rng.normal(0, 1, d)
    return x, gamma, beta, float(rng.choice([1e-5, 1e-2, 0.1])), rng.normal(rng.normal(0, 1, d), 1, (n, d))


def batchnorm_backward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float, grad_out: np.ndarray):
    """(dx, dgamma, dbeta) of y = gamma * (x - mean) / sqrt(var + eps) + beta with the batch's own mean and
    (biased) variance over axis 0: the scratch library's batch_norm forward and backward.
    (N, D), (D,), (D,), float, (N, D) -> (N, D), (D,), (D,)."""
    y, xhat, inv_std = sf.batch_norm(x, x.mean(axis=0), x.var(axis=0), gamma, beta, eps, return_saved=True)
    return sf.batch_norm_backward(grad_out, xhat, inv_std, gamma, batch_stats=True)


def _bn_backward_slip(mean_term: bool = True, var_term: bool = True, ddof: int = 0, eps_on: bool = True,
                      gamma_on: bool = True, dgamma_from_x: bool = False):
    """A common wrong batchnorm_backward: the compact formula
    dx = (gamma / sigma) (g - mean(g) - xhat mean(g xhat)) with one term or ingredient wrong."""
    def answer(x, gamma, beta, eps, g):
        n = len(x)
        sigma = np.sqrt(x.var(axis=0, ddof=ddof) + (eps if eps_on else 0.0))
        xhat = (x - x.mean(axis=0)) / sigma
        mean_part = g.mean(axis=0) if mean_term else 0.0
        var_part = xhat * (g * xhat).sum(axis=0) / (n - ddof) if var_term else 0.0
        inner = g - mean_part - var_part
        dx = (gamma if gamma_on else 1.0) / sigma * inner
        return dx, (g * (x if dgamma_from_x else xhat)).sum(axis=0), g.sum(axis=0)
    return answer


def _dropout_inputs(rng: np.random.Generator) -> tuple:
    """x (N, D), p, and uniforms u in [0, 1) with a few set exactly to p (the boundary: kept)."""
    shape = (int(rng.integers(3, 8)), int(rng.integers(4, 9)))
    p = float(rng.choice([0.2, 0.5, 0.75]))
    u = rng.random(shape)
    u.flat[rng.choice(u.size, 3, replace=False)] = p
    return rng.normal(0, 2, shape), p, u


def dropout_forward(x: np.ndarray, p: float, u: np.ndarray) -> np.ndarray:
    """Inverted dropout with the uniforms u given: keep x where u >= p (probability 1 - p), scaled by 1/(1 - p).
    The rule of ``sf.dropout``, which draws u itself.   (*), float, (*) -> (*)."""
    return x * (u >= p) / (1 - p)


def _dropout_backward_inputs(rng: np.random.Generator) -> tuple:
    grad_out, p, u = _dropout_inputs(rng)
    return grad_out, u >= p, p


def dropout_backward(grad_out: np.ndarray, keep: np.ndarray, p: float) -> np.ndarray:
    """dL/dx of inverted dropout: grad_out where the forward kept the value, times 1/(1 - p); 0 where it dropped
    it (``sf.dropout_backward`` with the scaled mask keep / (1 - p)).   (*), (*) bool, float -> (*)."""
    return sf.dropout_backward(grad_out, keep / (1 - p))


EXERCISES: list[Exercise] = [
    Exercise(
        key="08.update_ratio",
        task="Write update_ratio(w_before, w_after): the size of one optimizer step relative to the weights, "
             "||w_after - w_before|| / ||w_before||, with Frobenius (root of the sum of squares) norms.",
        hint="np.linalg.norm(w_after - w_before) / np.linalg.norm(w_before). Divide by the weights *before* the "
             "step, and take the norm of the difference (not the difference of the norms).",
        reference=diagnostics.update_ratio,
        make_inputs=_update_ratio_inputs,
        mistakes={"difference of the norms, not the norm of the difference":
                  lambda w0, w1: abs(np.linalg.norm(w1) - np.linalg.norm(w0)) / np.linalg.norm(w0),
                  "divided by the weights after the step": lambda w0, w1: np.linalg.norm(w1 - w0) / np.linalg.norm(w1),
                  "squared norms (no square root)": lambda w0, w1: np.sum((w1 - w0) ** 2) / np.sum(w0 ** 2)},
    ),
    Exercise(
        key="08.dead_fraction",
        task="Write dead_fraction(a): for ReLU outputs a of shape (N, D) (N examples, D units), the share of the "
             "D units that are never positive on any of the N examples.",
        hint="A unit is alive if (a[:, j] > 0).any(). Reduce over the batch axis (axis=0) first, then average over "
             "units; np.mean(a == 0) counts zero *values*, not dead *units*.",
        reference=_dead_reference,
        make_inputs=_dead_inputs,
        mistakes={"counts zero values, not dead units (np.mean(a == 0))": lambda a: float(np.mean(a == 0)),
                  "dead on some example instead of on every example": lambda a: float(np.mean((a <= 0).any(axis=0))),
                  "reduced over the wrong axis (axis=1, per example)": lambda a: float(np.mean(~(a > 0).any(axis=1))),
                  "a count of units, not a share": lambda a: float(np.sum(~(a > 0).any(axis=0)))},
    ),
    Exercise(
        key="08.saturated_fraction",
        task="Write saturated_fraction(s): for sigmoid outputs s of any shape (the checker passes 3-D arrays), the "
             "share of all its values that are strictly below 0.01 or strictly above 0.99 (exactly 0.01 or 0.99 is "
             "not saturated), the rule of diagnostics.record_activations.",
        hint="np.mean((s < 0.01) | (s > 0.99)): both ends count, with strict inequalities, and np.mean without an "
             "axis averages over every value whatever the shape.",
        reference=_saturated_reference,
        make_inputs=_saturated_inputs,
        mistakes={"only one end counted (s > 0.99)": lambda s: float(np.mean(s > 0.99)),
                  "the edges counted (<= 0.01, >= 0.99)": lambda s: float(np.mean((s <= 0.01) | (s >= 0.99))),
                  "a share per column (axis=0), not over all values": lambda s: np.mean((s < 0.01) | (s > 0.99), axis=0)},
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
        task="Write early_stopping_epoch(val_loss, patience): walk through the validation losses epoch by epoch, "
             "with the rule of training.EarlyStopping: an epoch improves only if its loss is strictly lower than "
             "the best so far (a tie is not an improvement); a new best resets a counter to 0, every other epoch "
             "adds 1; stop at the epoch where the counter reaches (equals) patience. Return the index (0-based) "
             "of the best epoch seen up to then.",
        hint="Keep best, best_epoch and a counter; on loss < best reset the counter, else add 1 and break when it "
             "reaches patience (counter >= patience). np.argmin over the whole curve is wrong: early stopping never "
             "sees the epochs after it stopped.",
        reference=diagnostics.early_stopping_epoch,
        make_inputs=_early_stopping_inputs,
        mistakes={"np.argmin over the whole curve (sees the epochs after the stop)": lambda v, p: int(np.argmin(v)),
                  "a tie counted as an improvement (<= instead of <)": lambda v, p: _early_stop(v, p, tie_improves=True),
                  "stopped when the counter exceeds patience (> instead of >=)": lambda v, p: _early_stop(v, p, extra=1),
                  "the counter not reset on a new best": lambda v, p: _early_stop(v, p, reset=False),
                  "the 1-based epoch number, not the 0-based index":
                  lambda v, p: diagnostics.early_stopping_epoch(v, p) + 1},
    ),
    Exercise(
        key="08.batchnorm_backward",
        task="Write batchnorm_backward(x, gamma, beta, eps, grad_out): the gradients (dx, dgamma, dbeta) of batch "
             "normalisation in training mode, y = gamma * (x - mean) / sqrt(var + eps) + beta, with mean and biased "
             "variance (divide by N) of each column of x (N, D) over the batch; grad_out = dL/dy (N, D).",
        hint="dbeta = sum(g, axis=0), dgamma = sum(g * xhat, axis=0). For dx, remember that mean and var are functions "
             "of every x in the column: dx = (gamma / sigma) * (g - mean(g) - xhat * mean(g * xhat)) with "
             "sigma = sqrt(var + eps), xhat = (x - mean) / sigma, the means over axis 0.",
        reference=batchnorm_backward,
        make_inputs=_bn_backward_inputs,
        parts=("dx", "dgamma", "dbeta"),
        mistakes={"the mean treated as a constant (no -mean(g) term)": _bn_backward_slip(mean_term=False),
                  "the variance treated as a constant (no -xhat*mean(g*xhat) term)": _bn_backward_slip(var_term=False),
                  "unbiased variance (ddof=1, divide by N-1)": _bn_backward_slip(ddof=1),
                  "eps left out of sqrt(var + eps)": _bn_backward_slip(eps_on=False),
                  "gamma left out of dx": _bn_backward_slip(gamma_on=False),
                  "dgamma from x instead of xhat": _bn_backward_slip(dgamma_from_x=True)},
    ),
    Exercise(
        key="08.dropout_forward",
        task="Write dropout_forward(x, p, u): inverted dropout at training time, with the random numbers given: "
             "u has x's shape, uniform in [0, 1); keep x[i] where u[i] >= p (u[i] == p is kept) and scale the kept "
             "values by 1/(1 - p); the others become 0.",
        hint="x * (u >= p) / (1 - p). The scaling keeps the expected value: E[y] = (1 - p) * x / (1 - p) = x, so "
             "nothing changes at test time.",
        reference=dropout_forward,
        make_inputs=_dropout_inputs,
        mistakes={"no 1/(1-p) scaling (plain dropout)": lambda x, p, u: x * (u >= p),
                  "scaled by (1-p) instead of 1/(1-p)": lambda x, p, u: x * (u >= p) * (1 - p),
                  "kept where u < p (drops the wrong ones)": lambda x, p, u: x * (u < p) / (1 - p),
                  "u == p dropped (kept only where u > p)": lambda x, p, u: x * (u > p) / (1 - p)},
    ),
    Exercise(
        key="08.dropout_backward",
        task="Write dropout_backward(grad_out, keep, p): dL/dx of inverted dropout, given dL/dy, the boolean array "
             "keep of the values the forward kept, and p.",
        hint="y = x * keep / (1 - p) is linear in x with the slope keep / (1 - p): grad_out * keep / (1 - p).",
        reference=dropout_backward,
        make_inputs=_dropout_backward_inputs,
        mistakes={"backward not masked": lambda g, keep, p: g / (1 - p),
                  "no 1/(1-p) scaling": lambda g, keep, p: g * keep,
                  "scaled by (1-p) instead of 1/(1-p)": lambda g, keep, p: g * keep * (1 - p),
                  "the dropped values passed instead of the kept ones": lambda g, keep, p: g * ~keep / (1 - p)},
    ),
]
