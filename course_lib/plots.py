"""Figures several notebooks share: digit grids and training curves."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def show_digits(images: np.ndarray, labels=None, predictions=None, n: int = 16, cols: int = 8, title: str | None = None):
    """Draw the first ``n`` images (N, 28, 28) in a grid, captioned with labels (and predictions, red if wrong)."""
    n = min(n, len(images))
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols, 1.35 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray_r")
        if labels is not None:
            text, color = f"{labels[i]}", "black"
            if predictions is not None:
                text += f" → {predictions[i]}"
                color = "black" if predictions[i] == labels[i] else "red"
            ax.set_title(text, fontsize=9, color=color)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(*histories, labels=None, title: str | None = None):
    """Loss and accuracy per epoch for one or more training histories (train solid, validation dashed)."""
    labels = labels or [f"run {i}" for i in range(len(histories))]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
    for h, name in zip(histories, labels):
        epochs = np.arange(1, len(h.train_loss) + 1)
        line, = ax_loss.plot(epochs, h.train_loss, label=f"{name} train")
        ax_acc.plot(epochs, h.train_acc, color=line.get_color(), label=f"{name} train")
        if h.val_loss:
            ax_loss.plot(epochs, h.val_loss, "--", color=line.get_color(), label=f"{name} val")
            ax_acc.plot(epochs, h.val_acc, "--", color=line.get_color(), label=f"{name} val")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    ax_acc.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
