"""Adversarial examples: the smallest change to an input that changes the decision, and training against it.

    g     = loss_gradient(model, x, y)                      dCE/dx, one backward pass through the seam
    x_adv = fgsm(model, x, y, eps=0.1)                      clip(x + eps * sign(g))      (Goodfellow et al. 2015)
    x_adv = pgd(model, x, y, eps=0.1, step_size=0.02, steps=10)      FGSM steps kept within eps of x (Madry 2018)
    eps * ||w||_1 = linear_score_change(w, eps)             why a tiny change per pixel is enough
    fit(..., perturb=lambda model, xb, yb: adversarial_batch(model, xb, yb, eps=0.1))     adversarial training

Every attack is untargeted and bounded in the L-infinity norm: no pixel moves by more than eps, and with
``clamp=(0.0, 1.0)`` (the default, for ``data.digit_images``' pixels) the result is still an image.
A scratch model gives and takes NumPy arrays, a torch model tensors (NumPy inputs are converted).
"""
from __future__ import annotations

import numbers
from typing import Optional, Sequence

import numpy as np

from .. import models
from ..scratch import functional as sF
from ._model import as_input, backprop, is_array, one_hot_like, scores

Clamp = Optional[Sequence[float]]
ATTACKS = ("fgsm", "pgd")


# ------------------------------------------------------------------------------------------ the gradient


def loss_gradient(model, x, y):
    """dL/dx for the batch's mean cross-entropy L = mean_i CE(f(x_i), y_i): one backward pass through the seam.

    The seed sent back from the scores s (N, K) is dL/ds = (softmax(s) - onehot(y)) / N. x: (N, ...), y: N labels
    (or one for all). Returns x's shape. The 1/N scales every example's gradient by the same positive number, so
    the sign that FGSM takes, and so the attack, is the same as with each example's own loss.
    """
    def seed(s):
        return (_softmax(s) - one_hot_like(s, y)) / len(s)
    return backprop(model, x, seed).input_grad


# ------------------------------------------------------------------------------------------ the attacks


def fgsm(model, x, y, eps: float, clamp: Clamp = (0.0, 1.0), grad=None):
    """The fast gradient sign method (Goodfellow, Shlens & Szegedy 2015): one step up the loss, eps per pixel,

        x_adv = clip(x + eps * sign(dCE(f(x), y)/dx), *clamp)            (N, C, H, W) -> (N, C, H, W)

    y: the true labels (N,). clamp: the range of valid pixels, or None for no clipping. A pixel whose gradient
    is exactly 0 stays (sign 0). Captum's ``captum.robust.FGSM(model, CrossEntropyLoss(reduction="none"),
    lower_bound, upper_bound)`` is the same step (its loss is summed over the batch: no 1/N, the same sign), except
    that it also leaves pixels with |gradient| <= 1e-6 unmoved (its ``zero_thresh``).
    grad: ``loss_gradient(model, x, y)`` if you have it already: it does not depend on eps, so a curve over many
    eps needs one backward pass.
    """
    x = _checked(model, x, eps, clamp)
    if grad is None:
        grad = loss_gradient(model, x, y)
    elif tuple(grad.shape) != tuple(x.shape):
        raise ValueError(f"fgsm: grad has shape {tuple(grad.shape)} but x has {tuple(x.shape)}; pass "
                         "grad=loss_gradient(model, x, y) for this very x.")
    return _clip(x + eps * _sign(grad), clamp)


def pgd(model, x, y, eps: float, step_size: float, steps: int, clamp: Clamp = (0.0, 1.0),
        random_start: bool = False, seed: int = 0):
    """Projected gradient descent (Madry et al. 2018): ``steps`` FGSM steps of ``step_size``, each projected back
    into the L-infinity ball of radius eps around x, then into the valid range:

        x_0     = x   (random_start: clip(x + uniform(-eps, eps)), drawn from default_rng(seed))
        x_{t+1} = clip(x + clip(x_t + step_size * sign(dCE(f(x_t), y)/dx_t) - x, -eps, eps), *clamp)

    Shapes as ``fgsm``. The same as ``captum.robust.PGD(...).perturb(x, radius=eps, step_size, step_num=steps,
    target=y, norm="Linf")`` (its random start draws from torch's generator instead).
    """
    x = _checked(model, x, eps, clamp)
    models.check_size("pgd", "steps", steps, "a number of gradient steps")
    _check_number(step_size, "step_size", "the change per pixel in one step", positive=True)
    x_adv = x
    if random_start:
        x_adv = _clip(x + _like(x, np.random.default_rng(seed).uniform(-eps, eps, tuple(x.shape))), clamp)
    for _ in range(steps):
        x_adv = x_adv + step_size * _sign(loss_gradient(model, x_adv, y))
        x_adv = _clip(x + _clip(x_adv - x, (-eps, eps)), clamp)
    return x_adv


def random_sign(x, eps: float, clamp: Clamp = (0.0, 1.0), seed: int = 0):
    """The control for an attack: x + eps * (a random +-1 per pixel), clipped. The same size of change as FGSM's,
    in a direction that knows nothing of the model. x: (N, ...) NumPy array or tensor; returns the same kind."""
    _check_number(eps, "eps", "the change per pixel")
    _check_range(x, clamp)
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=tuple(x.shape))
    return _clip(x + eps * _like(x, signs), clamp)


# ------------------------------------------------------------------------------------------ why it works


def linear_score_change(w, eps: float) -> float:
    """How much the step eps * sign(w) moves a linear score w.x + b (Goodfellow et al. 2015's explanation):

        w.(x + eps * sign(w)) - w.x = eps * sum_i |w_i| = eps * ||w||_1        (exactly, when nothing is clipped)

    w: the weights of one score, any shape (D,) or (C, H, W). No pixel changes by more than eps, yet the score
    moves in proportion to the number of inputs: 784 pixels of 0.1 add up.
    """
    _check_number(eps, "eps", "the change per pixel")
    w = w.detach().cpu().numpy() if hasattr(w, "detach") else np.asarray(w, dtype=float)
    return float(eps * np.abs(w).sum())


# ------------------------------------------------------------------------------------------ what it does


def fooling_rate(model, x, x_changed, y, correct_also: Sequence = ()) -> float:
    """Of the inputs that ``model`` (and every model in ``correct_also``) classifies correctly, the fraction it
    misclassifies once changed. x, x_changed: (N, ...), y: (N,) labels.

    Transfer (Szegedy et al. 2013): ``fooling_rate(b, x, fgsm(a, x, y, 0.2), y, correct_also=[a])`` -- the
    examples made on network a, tried on network b; against ``random_sign(x, 0.2)``, noise of the same size.
    """
    y = y.detach().cpu().numpy() if hasattr(y, "detach") else np.asarray(y)
    if len(x_changed) != len(x) or y.shape != (len(x),):
        raise ValueError(f"fooling_rate: x ({len(x)} inputs), x_changed ({len(x_changed)}) and y (shape {y.shape}) "
                         "must pair up: the changed version of each input, and its label.")
    clean = np.ones(len(x), dtype=bool)
    for m in [model, *correct_also]:
        clean &= _predicted(m, x) == y
    if not clean.any():
        raise ValueError("fooling_rate: no input is classified correctly before the change, so there is nothing "
                         "to fool (an untrained model, or labels that do not belong to x?).")
    return float(np.mean(_predicted(model, x_changed)[clean] != y[clean]))


def adversarial_batch(model, xb, yb, eps: float, fraction: float = 0.5, attack: str = "fgsm",
                      clamp: Clamp = (0.0, 1.0), **attack_options):
    """What adversarial training feeds each step: the batch with its first round(fraction * N) inputs replaced by
    adversarial examples made against the model as it is now (``attack`` "fgsm" or "pgd", whose step_size and
    steps go in ``attack_options``). The batches are shuffled, so which inputs is random.

    Training on it minimises a mix of the clean and the adversarial loss, Goodfellow et al. 2015's
    0.5 * CE(x) + 0.5 * CE(x_adv) for fraction=0.5 (replacing part of each batch as Kurakin et al. 2017 do).
    Use it as ``fit(..., perturb=lambda model, xb, yb: adversarial_batch(model, xb, yb, eps=0.1))``.
    xb: (N, ...), yb: (N,); returns a batch of xb's shape, of the model's kind.
    """
    _check_number(fraction, "fraction", "the share of each batch to replace")
    if fraction > 1:
        raise ValueError(f"adversarial_batch: fraction={fraction!r} is the share of each batch replaced by "
                         "adversarial examples, between 0 and 1 (a percentage? write 0.5 for 50%).")
    if attack not in ATTACKS:
        raise ValueError(f"adversarial_batch: attack={attack!r} is not one of {ATTACKS}.")
    xb = as_input(model, xb)
    k = int(round(fraction * len(xb)))
    if k == 0:
        return xb
    made = (fgsm if attack == "fgsm" else pgd)(model, xb[:k], yb[:k], eps, clamp=clamp, **attack_options)
    return _concatenate(made, xb[k:])


# ------------------------------------------------------------------------------------------ NumPy or torch


def _softmax(s):
    return sF.softmax(s, dim=1) if is_array(s) else s.softmax(dim=1)


def _sign(v):
    return np.sign(v) if is_array(v) else v.sign()


def _clip(v, bounds: Clamp):
    if bounds is None:
        return v
    return np.clip(v, *bounds) if is_array(v) else v.clamp(*bounds)


def _like(x, values: np.ndarray):
    """``values`` (NumPy) as x's kind: an array of x's dtype, or a tensor of x's dtype on x's device."""
    if is_array(x):
        return values.astype(x.dtype)
    import torch

    return torch.as_tensor(values, dtype=x.dtype, device=x.device)


def _concatenate(a, b):
    if is_array(a):
        return np.concatenate([a, b])
    import torch

    return torch.cat([a, b])


def _predicted(model, x) -> np.ndarray:
    s = scores(model, x)
    return s.argmax(1) if is_array(s) else s.argmax(1).cpu().numpy()


# ------------------------------------------------------------------------------------------ checks


def _checked(model, x, eps, clamp):
    """x as the model takes it, after checking eps >= 0, clamp and that x lies inside clamp."""
    _check_number(eps, "eps", "the largest change of one pixel")
    x = as_input(model, x)
    _check_range(x, clamp)
    return x


def _check_number(value, name: str, meaning: str, positive: bool = False) -> None:
    """A finite real number >= 0 (> 0 with positive=True)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{name} must be a number ({meaning}), got {value!r}.")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name}={value!r}: it is {meaning}, so it must be {'> 0' if positive else '>= 0'}"
                         f"{' (an attack moves each pixel by at most eps, in either direction)' * (name == 'eps')}.")


def _check_range(x, clamp: Clamp) -> None:
    """clamp is None or (low, high) with low < high, and x lies inside it (an input already out of range is
    another scale: pixels 0..255, or standardised digits)."""
    if clamp is None:
        return
    if not isinstance(clamp, (tuple, list)) or len(clamp) != 2 or not clamp[0] < clamp[1]:
        raise ValueError(f"clamp must be (low, high) with low < high, the range of valid inputs, e.g. (0.0, 1.0) for "
                         f"pixels, or None for no clipping; got {clamp!r}.")
    low, high = float(x.min()), float(x.max())
    if low < clamp[0] or high > clamp[1]:
        raise ValueError(f"x has values in [{low:.3g}, {high:.3g}], outside clamp={tuple(clamp)}: clipping would "
                         "change it even where the attack does not. Pixels 0..255? Divide by 255 "
                         "(data.digit_images gives 0..1). Standardised inputs? Pass their range, or clamp=None.")
