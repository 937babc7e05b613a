"""Figures several notebooks share: one image grid (digits, filters, feature maps) and training curves.

    fig = image_grid(maps, titles=[f"map {k}" for k in range(8)], cols=4, symmetric=True)
    fig = show_digits(images, labels, predictions)        # captions "7 → 1", red where the prediction is wrong
    fig = plot_history(history_a, history_b, labels=["a", "b"])

Every function returns its Figure, already closed (``plt.close``), so nothing is drawn twice: a notebook
shows it by leaving it as the cell's last expression, or with ``display(fig)`` inside a loop.
"""
from __future__ import annotations

import numbers
import re
from typing import Optional, Sequence, Union

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .parity import to_numpy

_TITLE_ROOM = 0.4       # inches added above the grid for a figure title


def finish(fig: Figure) -> Figure:
    """Lay the figure out, close it and return it: the notebook (a cell's value, ``display`` or ``interact``)
    then shows it exactly once. Every figure function of the course ends with ``return finish(fig)``."""
    fig.tight_layout()
    plt.close(fig)
    return fig


def animation_html(anim) -> str:
    """A matplotlib animation as HTML (``anim.to_jshtml()``) that fetches nothing from the network.

    matplotlib's player links Font Awesome 4.4 from a CDN for its buttons' icons. JupyterLab and the offline decks
    already carry Font Awesome (ipywidgets ships it), so the link is dropped: with no network it could only fail.
    Show it with ``IPython.display.HTML(animation_html(anim))``.
    """
    return _CDN_LINK.sub("", anim.to_jshtml())


_CDN_LINK = re.compile(r"<link[^>]*href=\"https?://[^\"]*\"[^>]*>\s*")


def image_grid(images: Sequence[np.ndarray], titles: Optional[Sequence[str]] = None, cols: int = 8,
               cmap: str = "gray", symmetric: bool = False, size: Union[float, tuple[float, float]] = 1.2,
               title: Optional[str] = None, vmin: Optional[float] = None, vmax: Optional[float] = None,
               interpolation: Optional[str] = None) -> Figure:
    """N images (a sequence of (H, W) arrays, or an (N, H, W) array) in rows of ``cols`` panels.

    Panel k is images[k], captioned titles[k]; the grid has ceil(N / cols) rows of min(cols, N) panels,
    each ``size`` inches (or (width, height)), with empty panels blank. ``symmetric=True`` draws with a
    red-blue map centred on 0 (positive red, negative blue), each panel scaled to its own largest magnitude
    (filters, feature maps); otherwise ``cmap`` over each panel's own range, or over vmin..vmax for every
    panel when they are given (0..255 for pixels). ``title`` goes above the grid. Returns the Figure (closed).
    """
    n = len(images)
    if n == 0:
        raise ValueError("image_grid: no images to draw (got an empty sequence).")
    if titles is not None and len(titles) != n:
        raise ValueError(f"image_grid: got {len(titles)} titles for {n} images; give one per image.")
    if isinstance(cols, bool) or not isinstance(cols, numbers.Integral) or cols < 1:
        raise ValueError(f"image_grid: cols is the number of panels per row, a whole number >= 1; got {cols!r}.")
    images = [_as_image(k, image) for k, image in enumerate(images)]
    cols = min(cols, n)
    rows = -(-n // cols)
    width, height = (size, size) if np.isscalar(size) else size
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows + (_TITLE_ROOM if title else 0)),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            _draw(ax, images[k], cmap, symmetric, (vmin, vmax), interpolation)
            if titles is not None:
                ax.set_title(titles[k], fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig


def _as_image(k: int, image) -> np.ndarray:
    """images[k] as a float (H, W) array (or (H, W, 3) colour), or an error that says how to get there."""
    image = np.asarray(to_numpy(image), dtype=float)
    if image.ndim == 2 or (image.ndim == 3 and image.shape[-1] in (3, 4)):
        return image
    hint = (" (one channel first: pass x[:, 0] for a batch (N, 1, H, W))" if image.ndim == 3 and image.shape[0] == 1
            else " (a batch of images is (N, H, W))")
    raise ValueError(f"image_grid: images[{k}] has shape {image.shape}; each image must be (H, W){hint}.")


def _draw(ax, image: np.ndarray, cmap: str, symmetric: bool, limits: tuple, interpolation: Optional[str]) -> None:
    if symmetric:
        m = float(np.abs(image).max()) or 1.0
        cmap, limits = "RdBu_r", (-m, m)
    ax.imshow(image, cmap=cmap, vmin=limits[0], vmax=limits[1], interpolation=interpolation)


def show_digits(images: np.ndarray, labels=None, predictions=None, n: int = 16, cols: int = 8,
                title: str | None = None) -> Figure:
    """The first ``n`` digits (N, 28, 28) in a grid (``image_grid``), captioned with their labels, or with
    'label → prediction', red where the prediction is wrong. Returns the Figure (closed)."""
    n = min(n, len(images))
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) < n:
            raise ValueError(f"show_digits: {len(values)} {name} for {n} digits; give one per digit shown "
                             f"(or n={len(values)}).")
    titles = None
    if labels is not None:
        titles = [f"{labels[i]}" + ("" if predictions is None else f" → {predictions[i]}") for i in range(n)]
    fig = image_grid(images[:n], titles, cols=cols, cmap="gray_r", size=(1.2, 1.35), title=title)
    if labels is not None and predictions is not None:
        for ax, label, predicted in zip(fig.axes, labels[:n], predictions[:n]):
            ax.title.set_color("black" if predicted == label else "red")
    return fig


def plot_history(*histories, labels=None, title: str | None = None) -> Figure:
    """Loss and accuracy per epoch for one or more training histories (train solid, validation dashed).

    Each history has train_loss, train_acc, val_loss and val_acc lists (training.History). Returns the
    Figure (closed): two axes, loss and accuracy.
    """
    if not histories:
        raise ValueError("plot_history: no history to draw; pass what fit returned: plot_history(history).")
    labels = labels or [f"run {i}" for i in range(len(histories))]
    if len(labels) != len(histories):
        raise ValueError(f"plot_history: {len(labels)} labels for {len(histories)} histories; give one per history.")
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
    plt.close(fig)
    return fig


__all__ = ["image_grid", "show_digits", "plot_history"]
