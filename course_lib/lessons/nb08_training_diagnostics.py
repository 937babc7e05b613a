"""The experiments and pictures of notebook 08 (training diagnostics).

    from course_lib.lessons import nb08_training_diagnostics as nb08
    nb08.plot_step_losses(logs, labels)                # loss per step of short runs, raw and smoothed
    net = nb08.deep_mlp(depth=10, init="He")           # a deep MLP with one of three initialisations
    nb08.plot_layer_stds({"He": records})              # std of activations and gradients, layer by layer
    nb08.explore_init(depth=10, activation="tanh", init="N(0,1/n)")   # the widget's callback: a Figure
    nb08.sorted_batches(labels)                        # batches of one class after another (no shuffling)
    nb08.softmax_over_all_masks(W, b, x)               # a softmax layer under every dropout mask: the means
    nb08.mask_average(model, x, samples=50)            # softmax averaged over sampled dropout sub-networks
    nb08.illuminate(images, rng); nb08.distort(images, rng); nb08.add_noise(images, rng)   # augmentations
    nb08.precision_recall(y_true, y_pred)              # per-class precision and recall
    leak = nb08.selection_leak(train, val, test)       # choosing epoch and learning rate on test vs on validation

The recording (``StepLog``, ``record_scratch``, ``record_torch``) and the readings are the library's
(``course_lib.diagnostics``); what is here only serves this notebook.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from .. import scratch
from ..diagnostics import LayerRecord, StepLog, record_scratch
from ..models import init_, mlp
from ..plots import finish
from ..training import Batches, Callback, accuracy, fit

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
             n_in: int = 784, n_out: int = 10, backend: str = "scratch", scale: float = 1.0, bias: float = 0.0):
    """Flatten -> [Linear(width) -> act] x depth -> Linear(n_out), weights drawn from ``init`` times ``scale``,
    every bias ``bias`` (0 by default; Zhu [004] suggests a small positive one for ReLU).

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
            init_(p, "constant_", val=bias)
        else:
            init_(p, scheme[0], **scheme[1])
            p.data *= scale
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


# ----------------------------------------------------------------------------- the decks' remaining points


def sorted_batches(labels: np.ndarray, batch_size: int = 64) -> Batches:
    """Batches that walk through the data sorted by label (all 0s, then all 1s, ...), the same every epoch:
    what training without shuffling does when the file happens to be sorted."""
    order = np.argsort(labels, kind="stable")
    return lambda n: [order[i:i + batch_size] for i in range(0, n, batch_size)]


def softmax_over_all_masks(W: np.ndarray, b: np.ndarray, x: np.ndarray, p: float = 0.5):
    """A single softmax layer softmax(W (m * x) / (1 - p) + b) under every one of the 2^D dropout masks m of the
    inputs x (N, D), each weighted by its probability p^(dropped) (1 - p)^(kept).   W (C, D), b (C,).

    Returns (arithmetic mean, normalised geometric mean, weight-scaled net softmax(W x + b)), each (N, C). For a
    softmax layer the geometric mean is exactly the weight-scaled net (Srivastava et al. 2014, section 4):
    log softmax is linear in the mask up to a term that is the same for every class."""
    d = x.shape[1]
    masks = np.array(list(itertools.product([0.0, 1.0], repeat=d)))                     # (2^D, D)
    weights = np.prod(np.where(masks == 1, 1 - p, p), axis=1)                          # their probabilities
    z = np.einsum("md,nd,cd->mnc", masks, x, W) / (1 - p) + b                           # (2^D, N, C)
    top = z.max(-1, keepdims=True)
    log_p = z - top - np.log(np.exp(z - top).sum(-1, keepdims=True))                    # log softmax, stable
    arithmetic = np.einsum("m,mnc->nc", weights, np.exp(log_p))
    geometric = np.exp(np.einsum("m,mnc->nc", weights, log_p))
    scaled = x @ W.T + b
    scaled = np.exp(scaled - scaled.max(1, keepdims=True))
    return arithmetic, geometric / geometric.sum(1, keepdims=True), scaled / scaled.sum(1, keepdims=True)


def mask_average(model: torch.nn.Module, x, samples: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Softmax outputs of ``samples`` random dropout sub-networks of a torch model (train mode, no gradients), each
    with its own masks drawn after ``torch.manual_seed(seed)``: returns (their mean (N, C), each one's
    predicted classes (samples, N)). The model is left in eval mode."""
    torch.manual_seed(seed)
    x = torch.as_tensor(x, dtype=next(model.parameters()).dtype)
    model.train()
    with torch.no_grad():
        probs = torch.stack([F.softmax(model(x), dim=1) for _ in range(samples)])
    model.eval()
    return probs.mean(0).numpy(), probs.argmax(-1).numpy()


def illuminate(images: np.ndarray, rng: np.random.Generator, contrast: float = 0.4, ramp: float = 0.5) -> np.ndarray:
    """Other lighting: pixels (N, H, W) on 0..255 times a gain c (1 + ramp t / 2), clipped to 0..255: a contrast
    factor c uniform in 1 +- contrast, and a light gradient along a random direction (t, the position along it,
    between -sqrt(2) and sqrt(2) on the image)."""
    n, h, w = images.shape
    yy, xx = np.mgrid[-1:1:h * 1j, -1:1:w * 1j]
    angle = rng.uniform(0, 2 * np.pi, n)[:, None, None]
    t = np.cos(angle) * xx + np.sin(angle) * yy
    return np.clip(images * rng.uniform(1 - contrast, 1 + contrast, n)[:, None, None] * (1 + ramp * t / 2), 0, 255)


def distort(images: np.ndarray, rng: np.random.Generator, pixels: float = 1.0, grid: int = 4) -> np.ndarray:
    """A slight elastic distortion: every pixel moves by a smooth random displacement (independent N(0, pixels)
    offsets on a grid x grid lattice, interpolated bicubically over the image), sampled bilinearly."""
    n, h, w = images.shape
    coarse = torch.as_tensor(rng.normal(0, pixels, (n, 2, grid, grid)))
    shift = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True).permute(0, 2, 3, 1)
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h, dtype=torch.float64),
                            torch.linspace(-1, 1, w, dtype=torch.float64), indexing="ij")
    base = torch.stack([xs, ys], -1)[None]                                 # grid_sample wants (x, y) in -1..1
    field = base + shift * torch.tensor([2 / (w - 1), 2 / (h - 1)], dtype=torch.float64)
    out = F.grid_sample(torch.as_tensor(images, dtype=torch.float64)[:, None], field, align_corners=True)
    return out[:, 0].numpy()


def add_noise(images: np.ndarray, rng: np.random.Generator, std: float = 40.0) -> np.ndarray:
    """Sensor noise: independent N(0, std) added to every pixel (0..255), clipped."""
    return np.clip(images + rng.normal(0, std, images.shape), 0, 255)


def precision_recall(y_true: np.ndarray, y_pred: np.ndarray, classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Per class c: precision = #(predicted c and truly c) / #(predicted c), recall = #(... ) / #(truly c).
    (N,), (N,) -> (classes,), (classes,); nan for a class never predicted (precision) or never present (recall)."""
    hits = np.bincount(y_true[y_true == y_pred], minlength=classes).astype(float)
    predicted, present = np.bincount(y_pred, minlength=classes), np.bincount(y_true, minlength=classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return hits / predicted, hits / present
