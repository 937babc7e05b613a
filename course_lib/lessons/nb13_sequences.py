"""Notebook 13: recurrent networks. Its pictures, parameter counts, gradient measurements and widget callbacks.

The layers are ``scratch.RNN``, ``scratch.LSTM`` and ``scratch.GRU`` (NumPy, backpropagation through time written
out) and their torch twins. This module measures what the notebook shows: how large the gradient that reaches
step 1 from a loss at step T is, for a plain RNN (whose recurrent matrix sets a geometric rate) and an LSTM
(whose forget gate decides), and draws the recurrence unrolled.
"""
from __future__ import annotations

import json
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from .. import data, sequences
from ..notebook import text_table  # noqa: F401  (the notebook calls lesson.text_table)
from ..plots import finish

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}        # blocks of H rows in weight_ih / weight_hh (torch's G)


def unrolled_figure(steps: int = 4) -> Figure:
    """The recurrence folded (one cell with a loop) and unrolled over ``steps`` steps, the same weights at each."""
    fig, ax = plt.subplots(figsize=(2.0 * steps + 2.5, 2.8))
    box = dict(boxstyle="round,pad=0.4", fc="#dbe9f6", ec="C0")
    ax.text(0.6, 1.0, "cell", ha="center", va="center", bbox=box)
    ax.annotate("", xy=(0.85, 1.25), xytext=(0.35, 1.25),
                arrowprops=dict(arrowstyle="->", connectionstyle="arc3,rad=-1.6", color="C3"))
    ax.text(0.6, 1.75, "$W_{hh}$", ha="center", color="C3")
    ax.text(0.6, 0.2, "$x_t$", ha="center")
    ax.annotate("", xy=(0.6, 0.75), xytext=(0.6, 0.35), arrowprops=dict(arrowstyle="->"))
    ax.text(1.25, 1.0, "=", fontsize=18, ha="center", va="center")
    for t in range(steps):
        cx = 3.0 + 2.0 * t
        ax.text(cx, 1.0, "cell", ha="center", va="center", bbox=box)
        ax.text(cx, 0.2, f"$x_{t + 1}$", ha="center")
        ax.annotate("", xy=(cx, 0.75), xytext=(cx, 0.35), arrowprops=dict(arrowstyle="->"))
        ax.text(cx, 1.85, f"$h_{t + 1}$", ha="center")
        ax.annotate("", xy=(cx, 1.7), xytext=(cx, 1.25), arrowprops=dict(arrowstyle="->"))
        start = cx - 1.55 if t else 2.0
        ax.annotate("", xy=(cx - 0.45, 1.0), xytext=(start, 1.0), arrowprops=dict(arrowstyle="->", color="C3"))
        ax.text((start + cx - 0.45) / 2, 1.1, "$W_{hh}$", ha="center", color="C3", fontsize=9)
    ax.text(1.9, 1.0, "$h_0$", ha="right", va="center")
    ax.set(xlim=(0, 3.0 + 2.0 * steps - 1.0), ylim=(0, 2.1))
    ax.axis("off")
    ax.set_title("one cell, the same weights at every step: folded, and unrolled over time")
    return finish(fig)


def parameter_count(kind: str, input_size: int, hidden_size: int, num_layers: int = 1) -> int:
    """G (H (in + H) + 2 H) for the first layer, G (H (H + H) + 2 H) for each above; G = 1, 4, 3 (RNN, LSTM, GRU)."""
    g, h = GATES[kind], hidden_size
    return sum(g * (h * ((input_size if layer == 0 else h) + h) + 2 * h) for layer in range(num_layers))


def torch_layer(kind: str, input_size: int, hidden_size: int, num_layers: int = 1, seed: int = 0,
                **options) -> torch.nn.Module:
    """torch.nn.RNN / LSTM / GRU in float64, seeded."""
    torch.manual_seed(seed)
    return getattr(torch.nn, kind)(input_size, hidden_size, num_layers, **options).double()


def set_spectral_radius(rnn: torch.nn.Module, radius: float) -> torch.nn.Module:
    """Scale the first layer's recurrent matrix W_hh so that its largest |eigenvalue| is ``radius``."""
    with torch.no_grad():
        w = rnn.weight_hh_l0
        w.mul_(radius / torch.linalg.eigvals(w).abs().max())
    return rnn


def step_gradient_norms(layer: torch.nn.Module, length: int, batch: int = 16, seed: int = 0) -> np.ndarray:
    """How much the loss at the last step depends on each input: ||dL/dx_t|| / sqrt(N) for t = 1..length,
    L = the sum of the last step's outputs, x random normal (length, batch, input_size) (given batch first to a
    batch_first layer; float64 unless the layer's weights are float32)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(length, batch, layer.input_size, generator=g, dtype=torch.float64, requires_grad=True)
    dtype = next(layer.parameters()).dtype
    output, _ = layer(x.to(dtype).transpose(0, 1) if layer.batch_first else x.to(dtype))
    (output[:, -1] if layer.batch_first else output[-1]).sum().backward()
    return (x.grad.norm(dim=(1, 2)) / batch ** 0.5).numpy()


def first_step_gradients(layer: torch.nn.Module, lengths: Sequence[int]) -> dict[int, float]:
    """For each sequence length T: the gradient reaching step 1 from a loss at step T (step_gradient_norms[0])."""
    return {int(t): float(step_gradient_norms(layer, t)[0]) for t in lengths}


def geometric_factor(by_length: Mapping[int, float]) -> tuple[float, float]:
    """Fit log g(T) = a + T log r: the factor r the gradient is multiplied by per step, and the fit's R^2."""
    t = np.array(list(by_length), dtype=float)
    y = np.log(np.array(list(by_length.values())))
    slope, intercept = np.polyfit(t, y, 1)
    residual = y - (slope * t + intercept)
    return float(np.exp(slope)), float(1 - residual.var() / y.var())


def gradient_figure(curves: Mapping[str, np.ndarray], title: str = "") -> Figure:
    """||dL/dx_t|| against t (log scale), one line per layer: how much of the loss at the last step reaches step t."""
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for label, norms in curves.items():
        ax.semilogy(np.arange(1, len(norms) + 1), np.maximum(norms, 1e-300), label=label)
    ax.set(xlabel="time step t (the loss is at the last step)", ylabel="||dL/dx_t||",
           title=title or "the gradient reaching each step")
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    return finish(fig)


def gradient_view(length: int = 40, radius: float = 1.0, forget_bias: float = 0.0, hidden_size: int = 32) -> Figure:
    """The widget: a tanh RNN with W_hh scaled to spectral radius ``radius`` against an LSTM whose forget gate's
    bias is ``forget_bias`` (``sequences.set_forget_bias``: the gate starts near sigmoid(forget_bias)), both
    untrained, same inputs."""
    rnn = set_spectral_radius(torch_layer("RNN", 8, hidden_size), radius)
    lstm = torch_layer("LSTM", 8, hidden_size)
    sequences.set_forget_bias(lstm, forget_bias)
    curves = {f"RNN, spectral radius {radius:g}": step_gradient_norms(rnn, length),
              f"LSTM, forget gate bias {forget_bias:+g}": step_gradient_norms(lstm, length)}
    first = {k: v[0] for k, v in curves.items()}
    return gradient_figure(curves, "step 1 gets: " + ", ".join(f"{v:.1e}" for v in first.values()))


def global_norm(grads: Sequence[torch.Tensor]) -> float:
    """sqrt of the sum of squares of every gradient entry: the norm clip_grad_norm_ compares with max_norm."""
    return float(torch.sqrt(sum((g ** 2).sum() for g in grads)))


# ------------------------------------------------------------------ the trained networks

CURVES_PATH = data.DATA_DIR / "sequence_curves.json"      # written by data/train_sequence_nets.py


def training_curves() -> dict:
    """The trained networks' curves: rows_* per epoch (train_loss, train_acc, val_acc), adding_* per logged step
    (step, val_mse), reader per epoch."""
    return json.loads(CURVES_PATH.read_text())


def rows_curves_figure(curves: Mapping[str, Mapping[str, Sequence[float]]]) -> Figure:
    """Validation accuracy after each epoch of the three row-by-row readers."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for kind in ("rnn", "lstm", "gru"):
        acc = curves[f"rows_{kind}"]["val_acc"]
        ax.plot(np.arange(1, len(acc) + 1), acc, "o-", label=kind.upper())
    ax.set(xlabel="epoch", ylabel="validation accuracy", title="digits read row by row (28 steps of 28 pixels)",
           ylim=(0, 1))
    ax.legend()
    ax.grid(True, alpha=0.3)
    return finish(fig)


def adding_figure(curves: Mapping[str, Mapping[str, Sequence[float]]], lengths: Sequence[int]) -> Figure:
    """Validation MSE against training step for the RNN and the LSTM at each delay, and the 'answer 1.0' line."""
    fig, axes = plt.subplots(1, len(lengths), figsize=(4 * len(lengths), 3.2), sharey=True)
    for ax, length in zip(axes, lengths):
        for kind in ("rnn", "lstm"):
            c = curves[f"adding_{kind}_{length}"]
            ax.semilogy(c["step"], c["val_mse"], label=kind.upper())
        ax.axhline(data.ADDING_BASELINE_MSE, color="k", linestyle="--", label="answer 1.0 (MSE 1/6)")
        ax.set(title=f"T = {length}", xlabel="training step")
    axes[0].set_ylabel("validation MSE")
    axes[0].legend(fontsize=8)
    return finish(fig)


def adding_mse(model, inputs: np.ndarray, targets: np.ndarray) -> float:
    """Mean squared error of a trained adding_net on (inputs (n, T, 2), targets (n,))."""
    with torch.no_grad():
        predictions = model(torch.as_tensor(inputs)).numpy()
    return float(((predictions - targets) ** 2).mean())


def read_strings(model, strips: np.ndarray, labels: np.ndarray) -> tuple[float, float, np.ndarray]:
    """The reader's digits for strips (n, 1, 28, 28 L): per-digit accuracy, whole-string accuracy, the digits."""
    with torch.no_grad():
        digits = model.predict(torch.as_tensor(strips)).numpy()
    right = digits == labels
    return float(right.mean()), float(right.all(axis=1).mean()), digits


def strings_figure(strips: np.ndarray, labels: np.ndarray, digits: np.ndarray, n: int = 6) -> Figure:
    """Strips with what the reader wrote under each (red where a digit is wrong)."""
    fig, axes = plt.subplots(n, 1, figsize=(5, 1.0 * n))
    for ax, strip, truth, written in zip(axes, strips, labels, digits):
        ax.imshow(strip[0], cmap="gray", vmin=0, vmax=1)
        ok = bool((truth == written).all())
        ax.set_title("read: " + "".join(map(str, written)) + ("" if ok else f"   (true {''.join(map(str, truth))})"),
                     fontsize=9, color="k" if ok else "C3")
        ax.axis("off")
    return finish(fig)
