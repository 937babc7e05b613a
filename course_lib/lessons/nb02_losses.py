"""Pictures and the loss explorer of notebook 02 (losses and regularisation).

    from course_lib.lessons import nb02_losses as lx
    report = lx.loss_report(lx.LECTURE_SCORES, lx.LECTURE_TARGET)   # {"hinge": 1.58, "cross_entropy": 1.0402, ...}
    fig = lx.plot_loss_report(lx.LECTURE_SCORES, lx.LECTURE_TARGET)

Everything here is plain NumPy + matplotlib built on ``course_lib.scratch.functional``, so tests can call it
and a widget callback stays fast (well under 0.3 s).
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import scratch
from ..plots import finish
from ..scratch import functional as sf
from ..training import fit

# The lecture's example (Lintern 2016 [000], from CS231n): scores of one image for three classes,
# and the correct class is the third one, "dog".
CLASSES: tuple[str, ...] = ("ship", "cat", "dog")
LECTURE_SCORES: tuple[float, ...] = (-2.85, 0.86, 0.28)
LECTURE_TARGET: int = 2


# ---------------------------------------------------------------- numbers


def loss_report(scores: Sequence[float], target: int, margin: float = 1.0) -> dict:
    """Hinge and softmax cross-entropy losses of ONE example, with their gradients per score.

    scores: (C,) class scores s; target: the index y of the correct class; margin: Delta.
      hinge_terms[j]   = max(0, s_j - s_y + Delta) for j != y, 0 for j = y     (C,)
      hinge            = sum_j hinge_terms[j]                                   (float)
      hinge_grad       = dL/ds: +1 for each violated j, minus their count at y (C,)
      probabilities    = softmax(s)                                            (C,)
      cross_entropy    = -ln softmax(s)_y                                      (float)
      cross_entropy_grad = softmax(s) - onehot(y)                              (C,)
    """
    s = np.asarray(scores, dtype=np.float64).reshape(1, -1)
    if not 0 <= target < s.shape[1]:
        raise ValueError(f"loss_report: target must be a class index 0..{s.shape[1] - 1}, got {target}.")
    y = np.array([target])
    terms = np.maximum(0.0, s[0] - s[0, target] + margin)
    terms[target] = 0.0
    return {
        "scores": s[0].copy(),
        "target": int(target),
        "margin": float(margin),
        "hinge_terms": terms,
        "hinge": sf.hinge_loss(s, y, margin),
        "hinge_grad": sf.hinge_loss_backward(1.0, s, y, margin)[0],
        "probabilities": sf.softmax(s)[0],
        "cross_entropy": sf.cross_entropy(s, y),
        "cross_entropy_grad": sf.cross_entropy_backward(1.0, s, y)[0],
    }


def sigmoid_output_gradients(z: np.ndarray, t: float = 1.0) -> dict:
    """Gradients with respect to the logit z of a sigmoid output y = sigma(z), target t in [0, 1].

      squared error  L = 1/2 (y - t)^2              dL/dz = (y - t) sigma'(z) = (y - t) y (1 - y)
      cross-entropy  L = -t ln y - (1 - t) ln(1 - y)  dL/dz = y - t
    z: any shape; every entry of the result has the shape of z.
    """
    z = np.asarray(z, dtype=np.float64)
    y = sf.sigmoid(z)
    return {"z": z, "y": y, "mse_grad": (y - t) * y * (1.0 - y), "ce_grad": y - t}


def weight_roughness(weights: np.ndarray) -> float:
    """Mean absolute difference between horizontally neighbouring pixels of weight images (K, 784) or (K, 28, 28).

    Small values mean smooth templates; noisy, speckled templates give large values.
    """
    w = np.asarray(weights).reshape(len(weights), 28, 28)
    return float(np.abs(np.diff(w, axis=2)).mean())


# ---------------------------------------------------------------- regularisation on digits


class SGDWithL1(scratch.optim.SGD):
    """``scratch.optim.SGD`` plus the lecture's L1 penalty, per parameter group (option ``l1``, default 0).

    The penalty (lambda/N) sum |w| adds its gradient to each parameter's: g = dE0/dw + l1 * sgn(w), l1 = lambda/N;
    then the SGD step as usual (``weight_decay`` is L2). With momentum 0:  w <- w - lr * l1 * sgn(w) - lr * dE0/dw.
    """

    def __init__(self, params, lr: float, l1: float = 0.0, **options) -> None:
        if l1 < 0:
            raise ValueError(f"SGDWithL1: l1 (lambda/N) must be >= 0, got {l1}.")
        super().__init__(params, lr, **options)
        for group in self.param_groups:
            group.setdefault("l1", l1)

    def _direction(self, p, group: dict) -> np.ndarray:
        if group["l1"]:
            p.grad = p.grad + group["l1"] * np.sign(p.data)      # dE/dw = dE0/dw + (lambda/N) sgn(w)
        return super()._direction(p, group)


def train_linear_classifier(x: np.ndarray, y: np.ndarray, weight_decay: float = 0.0, l1: float = 0.0,
                            epochs: int = 30, lr: float = 0.05, batch_size: int = 50, seed: int = 0) -> scratch.Linear:
    """A softmax classifier scratch.Linear(D, 10) trained by ``course_lib.training.fit`` on x (N, D), labels y (N,).

    The weights (not the bias, as usual) get the L2 penalty as SGD's ``weight_decay`` (= lambda/N) and the L1
    penalty ``l1`` (= lambda/N). The same seed gives every run the same starting weights and mini-batches.
    """
    scratch.manual_seed(seed)
    model = scratch.Linear(x.shape[1], 10)
    optimizer = SGDWithL1([{"params": [model.weight], "weight_decay": weight_decay, "l1": l1},
                           {"params": [model.bias]}], lr=lr)
    fit(model, scratch.CrossEntropyLoss(), optimizer, (x, y), epochs=epochs, batch_size=batch_size, seed=seed,
        progress=False)
    return model


# ---------------------------------------------------------------- pictures


def plot_loss_shapes(m_range: tuple[float, float] = (-3.0, 3.0)) -> Figure:
    """Losses of a two-class problem against the margin m = s_correct - s_other (one figure).

      0-1 loss:        1 if m < 0 else 0   (what we want, but flat: no gradient)
      hinge:           max(0, 1 - m)
      cross-entropy:   ln(1 + e^-m)        (= -ln softmax of the correct class)
      squared error on a sigmoid output:  1/2 (1 - sigma(m))^2
    """
    m = np.linspace(*m_range, 601)
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(m, (m < 0).astype(float), color="0.4", lw=2, label="0-1 loss (counts mistakes)")
    ax.plot(m, np.maximum(0.0, 1.0 - m), lw=2, label="hinge  max(0, 1 - m)")
    ax.plot(m, np.logaddexp(0.0, -m), lw=2, label="cross-entropy  ln(1 + e^-m)")
    ax.plot(m, 0.5 * (1.0 - sf.sigmoid(m)) ** 2, lw=2, label="squared error on sigmoid  ½(1 - σ(m))²")
    ax.axvline(0, color="k", lw=0.6)
    ax.set(xlabel="margin m = s_correct - s_other  (right of 0: classified correctly)", ylabel="loss",
           title="Every loss is large for mistakes and small for confident right answers")
    ax.legend(fontsize=8)
    return finish(fig)


def plot_penalties(lam: float = 1.0, w_range: tuple[float, float] = (-2.0, 2.0)) -> Figure:
    """The L2 penalty lam/2 w^2 and the L1 penalty lam |w| (left) and their slopes lam w and lam sgn(w) (right)."""
    w = np.linspace(*w_range, 401)
    fig, (ax_p, ax_g) = plt.subplots(1, 2, figsize=(9, 3.2))
    ax_p.plot(w, 0.5 * lam * w**2, lw=2, label="L2: λ/2 · w²")
    ax_p.plot(w, lam * np.abs(w), lw=2, label="L1: λ · |w|")
    ax_p.set(xlabel="weight w", ylabel="penalty", title="penalty")
    ax_g.plot(w, lam * w, lw=2, label="L2: λ · w  (shrinks in proportion)")
    ax_g.plot(w, lam * np.sign(w), lw=2, label="L1: λ · sgn(w)  (same push, any size)")
    ax_g.set(xlabel="weight w", ylabel="d penalty / dw", title="its gradient: the pull towards 0")
    for ax in (ax_p, ax_g):
        ax.axvline(0, color="k", lw=0.6)
        ax.legend(fontsize=8)
    return finish(fig)


def plot_sigmoid_gradients(z_range: tuple[float, float] = (-8.0, 8.0), t: float = 1.0) -> Figure:
    """|dL/dz| of squared error and of cross-entropy for a sigmoid output with target t (log scale)."""
    g = sigmoid_output_gradients(np.linspace(*z_range, 401), t)
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.semilogy(g["z"], np.abs(g["ce_grad"]), lw=2, label="cross-entropy:  |σ(z) - t|")
    ax.semilogy(g["z"], np.abs(g["mse_grad"]), lw=2, label="squared error:  |σ(z) - t| · σ'(z)")
    ax.axvspan(z_range[0], -2, color="red", alpha=0.08)
    ax.text(z_range[0] + 0.2, 2e-3, "confidently\nwrong", color="red", fontsize=9)
    ax.set(xlabel=f"logit z  (target t = {t:g})", ylabel="|dL/dz|  (log scale)",
           title="How hard each loss pushes a wrong answer back")
    ax.legend(fontsize=8)
    return finish(fig)


def plot_loss_report(scores: Sequence[float] = LECTURE_SCORES, target: int = LECTURE_TARGET,
                     margin: float = 1.0, classes: Sequence[str] = CLASSES) -> Figure:
    """Three bar charts for one example: the scores, the softmax probabilities, the two gradients.

    The title gives both losses; returns the figure (see ``loss_report`` for the numbers).
    """
    r = loss_report(scores, target, margin)
    names = list(classes)[: len(r["scores"])]
    x = np.arange(len(names))
    colours = ["tab:green" if j == target else "tab:gray" for j in x]
    fig, (ax_s, ax_p, ax_g) = plt.subplots(1, 3, figsize=(11, 3.4))

    ax_s.bar(x, r["scores"], color=colours)
    threshold = r["scores"][target] - margin
    ax_s.axhline(threshold, color="tab:red", ls="--", lw=1, label=f"s_y - Δ = {threshold:.2f}")
    for j in x:
        if r["hinge_terms"][j] > 0:
            ax_s.annotate(f"+{r['hinge_terms'][j]:.2f}", (j, r["scores"][j]), ha="center",
                          va="bottom", color="tab:red", fontsize=9)
    low, high = min(r["scores"].min(), threshold, 0.0), max(r["scores"].max(), threshold, 0.0)
    pad = 0.15 * (high - low) + 0.1   # room for the "+1.58" labels above the bars
    ax_s.set(title="scores s (green: correct class)", xticks=x, xticklabels=names, ylim=(low - pad, high + pad))
    ax_s.legend(fontsize=8, loc="lower right")

    ax_p.bar(x, r["probabilities"], color=colours)
    ax_p.set(title="softmax probabilities", xticks=x, xticklabels=names, ylim=(0, 1))
    for j in x:
        ax_p.text(j, r["probabilities"][j] + 0.02, f"{r['probabilities'][j]:.3f}", ha="center", fontsize=9)

    width = 0.38
    ax_g.bar(x - width / 2, r["hinge_grad"], width, label="hinge")
    ax_g.bar(x + width / 2, r["cross_entropy_grad"], width, label="cross-entropy")
    ax_g.axhline(0, color="k", lw=0.6)
    ax_g.set(title="gradient dL/ds_j", xticks=x, xticklabels=names)
    ax_g.legend(fontsize=8)

    fig.suptitle(f"hinge loss = {r['hinge']:.4f}     cross-entropy loss = {r['cross_entropy']:.4f}")
    return finish(fig)


def plot_weight_images(weights: dict, classes: Sequence[str] = tuple(str(d) for d in range(10))) -> Figure:
    """One row per run: each class's weight vector (784,) drawn as a 28x28 image (red +, blue -).

    weights: {run name: array (10, 784)}; colours are scaled per run, so compare patterns, not shades.
    """
    fig, axes = plt.subplots(len(weights), len(classes), figsize=(1.05 * len(classes), 1.2 * len(weights)),
                             squeeze=False)
    for row, (name, w) in zip(axes, weights.items()):
        w = np.asarray(w).reshape(len(classes), 28, 28)
        limit = np.abs(w).max()
        for k, ax in enumerate(row):
            ax.imshow(w[k], cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_xticks([])
            ax.set_yticks([])
            if k == 0:
                ax.set_ylabel(name, fontsize=8)
            if ax is axes[0][k]:
                ax.set_title(classes[k], fontsize=9)
    return finish(fig)


# ---------------------------------------------------------------- the widget


def explore_losses(ship: float = LECTURE_SCORES[0], cat: float = LECTURE_SCORES[1], dog: float = LECTURE_SCORES[2],
                   true_class: int = LECTURE_TARGET, margin: float = 1.0) -> Figure:
    """Callback of the notebook's sliders: ``plot_loss_report`` of these three scores. Returns the Figure."""
    return plot_loss_report((ship, cat, dog), true_class, margin)

