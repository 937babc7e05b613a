"""The experiments and pictures of notebook 08 (training diagnostics).

    from course_lib.lessons import nb08_training_diagnostics as nb08
    nb08.plot_step_losses(logs, labels)                # loss per step of short runs, raw and smoothed
    net = nb08.deep_mlp(depth=10, init="He")           # a deep MLP with one of three initialisations
    nb08.plot_layer_stds({"He": records})              # std of activations and gradients, layer by layer
    nb08.explore_init(depth=10, activation="tanh", init="N(0,1/n)")   # the widget's callback: a Figure
    leak = nb08.selection_leak(train, val, test)       # choosing epoch and learning rate on test vs on validation

The recording (``StepLog``, ``record_scratch``, ``record_torch``) and the readings are the library's
(``course_lib.diagnostics``); what is here only serves this notebook.
"""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from .. import scratch
from ..diagnostics import LayerRecord, StepLog, record_scratch
from ..models import init_, mlp
from ..plots import finish
from ..training import Callback, accuracy, fit

INITS = ("N(0,1)", "N(0,1/n)", "He")


def plot_step_losses(logs: list[StepLog], labels: list[str], title: str | None = None, smooth: int = 10) -> Figure:
    """Training loss per step of several short runs (raw, faint; a running mean of ``smooth`` steps, solid)."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for log, label in zip(logs, labels):
        losses = np.array(log.losses, dtype=float)
        line, = ax.plot(losses, alpha=0.3, lw=0.8)
        if len(losses) >= smooth:
            mean = np.convolve(losses, np.ones(smooth) / smooth, mode="valid")
            ax.plot(np.arange(smooth - 1, len(losses)), mean, color=line.get_color(), label=label)
        else:
            line.set_label(label)
    ax.set(xlabel="step", ylabel="training loss", title=title or "loss per step")
    top = np.nanmax([np.nanmax(np.where(np.isfinite(l.losses), l.losses, np.nan)) for l in logs])
    ax.set_ylim(0, min(top, 5.0) * 1.05)
    ax.legend(fontsize=8)
    return finish(fig)


# ----------------------------------------------------------------------------- the test-set leak


class EpochAccuracy(Callback):
    """A ``fit`` callback: the accuracy on (x, y) after every epoch, in ``self.acc`` (a split ``val=`` does not
    watch; here the test digits, so that the leak of choosing on them can be measured)."""

    def __init__(self, x, y) -> None:
        self.x, self.y, self.acc = x, y, []

    def on_epoch_end(self, epoch, history, model):
        self.acc.append(accuracy(model, self.x, self.y))


@dataclass
class SelectionLeak:
    """Validation and test accuracy of every candidate (seed, learning rate, epoch) of ``selection_leak``.

    val_acc, test_acc: (seeds, len(lrs), epochs). A choice takes the highest accuracy on one split, the first
    candidate on a tie (smallest learning rate, then earliest epoch); what it reports is that candidate's test
    accuracy.
    """

    lrs: tuple
    val_acc: np.ndarray
    test_acc: np.ndarray

    def reported(self, chosen_on: str, lr: float | None = None) -> np.ndarray:
        """Per seed: the test accuracy of the candidate chosen on "validation" or "test", over epochs and
        learning rates (lr=None) or over the epochs of one learning rate."""
        if chosen_on not in ("validation", "test"):
            raise ValueError(f"chosen_on must be 'validation' or 'test', got {chosen_on!r}.")
        lrs = slice(None) if lr is None else [self.lrs.index(lr)]
        test = self.test_acc[:, lrs].reshape(len(self.test_acc), -1)
        judge = test if chosen_on == "test" else self.val_acc[:, lrs].reshape(len(self.val_acc), -1)
        return test[np.arange(len(test)), judge.argmax(axis=1)]

    def leak(self, lr: float | None = None) -> np.ndarray:
        """Per seed: how much higher the reported test accuracy is when chosen on test (never negative: the
        best test accuracy is at least the test accuracy of any one candidate)."""
        return self.reported("test", lr) - self.reported("validation", lr)


def selection_leak(train, val, test, lrs=(0.01, 0.03, 0.1), epochs: int = 10, seeds: int = 5,
                   hidden: int = 32) -> SelectionLeak:
    """Train a torch 784-hidden-10 MLP (SGD, momentum 0.9, batches of 64) on ``train`` = (x, y) for each seed
    and learning rate, recording the accuracy on ``val`` and on ``test`` after every epoch."""
    val_acc, test_acc = np.zeros((2, seeds, len(lrs), epochs))
    for seed in range(seeds):
        for i, lr in enumerate(lrs):
            torch.manual_seed(seed)
            model = mlp([784, hidden, 10], backend="torch")
            on_test = EpochAccuracy(*test)
            history = fit(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9),
                          train, val=val, epochs=epochs, seed=seed, progress=False, callbacks=[on_test])
            val_acc[seed, i], test_acc[seed, i] = history.val_acc, on_test.acc
    return SelectionLeak(tuple(lrs), val_acc, test_acc)


# ----------------------------------------------------------------------------- the initialisation experiment


def deep_mlp(depth: int = 10, width: int = 256, activation: str = "tanh", init: str = "N(0,1/n)",
             n_in: int = 784, n_out: int = 10, backend: str = "scratch"):
    """Flatten -> [Linear(width) -> act] x depth -> Linear(n_out), weights drawn from ``init``, biases 0.

    init: "N(0,1)" (std 1: saturates), "N(0,1/n)" (std 1/sqrt(fan_in), LeCun / the deck's N(0, 1/N_j)),
    "He" (std sqrt(2/fan_in), for ReLU). backend: "scratch" (float64, drawn after ``scratch.manual_seed``)
    or "torch" (float32, drawn after ``torch.manual_seed``), both through ``models.init_``.
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}.")
    model = mlp([n_in] + [width] * depth + [n_out], activation=activation, backend=backend)
    scheme = {"N(0,1)": ("normal_", {"std": 1.0}),
              "N(0,1/n)": ("kaiming_normal_", {"nonlinearity": "linear"}),       # gain 1: std 1/sqrt(fan_in)
              "He": ("kaiming_normal_", {"nonlinearity": "relu"})}[init]         # gain sqrt(2)
    for _, p in model.named_parameters():
        if len(p.shape) == 1:
            init_(p, "zeros_")
        else:
            init_(p, scheme[0], **scheme[1])
    return model


def plot_layer_stds(runs: dict[str, list[LayerRecord]], title: str | None = None) -> Figure:
    """Std of the activations (left) and of dL/d(activation) (right, log scale) per activation layer, one line
    per run (e.g. per initialisation). Vanishing shows as a line falling to the right (activations) or to the
    left (gradients); saturation as tanh/sigmoid stds stuck at their maximum. Returns the Figure."""
    fig, (ax_a, ax_g) = plt.subplots(1, 2, figsize=(9, 3.2))
    for label, records in runs.items():
        acts = [r for r in records if r.is_activation]
        depth = np.arange(1, len(acts) + 1)
        ax_a.plot(depth, [r.act_std for r in acts], "o-", label=label, ms=3)
        ax_g.semilogy(depth, [max(r.grad_std, 1e-30) for r in acts], "o-", label=label, ms=3)
    ax_a.set(xlabel="activation layer", ylabel="std of outputs", title="activations, forward")
    ax_g.set(xlabel="activation layer", ylabel="std of dL/d output", title="gradients, backward")
    ax_a.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return finish(fig)


def init_records(depth: int = 10, activation: str = "tanh", init: str = "N(0,1/n)", width: int = 128,
                 n: int = 200, seed: int = 0) -> list[LayerRecord]:
    """Records of a fresh ``deep_mlp`` (width inputs, standard normal) on ``n`` random examples."""
    scratch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = deep_mlp(depth, width, activation, init, n_in=width)
    return record_scratch(model, rng.standard_normal((n, width)), rng.integers(0, 10, n), scratch.CrossEntropyLoss())


def explore_init(depth: int = 10, activation: str = "tanh", init: str = "N(0,1/n)", width: int = 128,
                 n: int = 200, seed: int = 0) -> Figure:
    """The widget callback: per-layer stds of a fresh deep network, for all three inits, the chosen one bold."""
    runs = {name: init_records(depth, activation, name, width, n, seed) for name in INITS}
    fig = plot_layer_stds(runs, title=f"{depth} x {activation}: N(0,1), N(0,1/n) and He")
    for ax in fig.axes:
        for line in ax.get_lines():
            line.set_linewidth(3 if line.get_label() == init else 1)
            line.set_alpha(1.0 if line.get_label() == init else 0.4)
    return fig
