"""Pictures, small experiments and the widget callback of notebook 06 (pooling).

    from course_lib.lessons import nb06_pooling as pv
    pv.plot_pooling_example(pv.CS231N_EXAMPLE)               # windows, and the max / average / L2 outputs
    pv.plot_pool_gradients(pv.CS231N_EXAMPLE, np.ones((2, 2)))  # where the gradient goes in each kind
    pv.explore_pooling(images, index=0, kind="max", kernel_size=2, stride=2)   # the widget's figure

Everything is NumPy + matplotlib on top of ``course_lib.scratch.functional`` (max_pool2d, avg_pool2d,
lp_pool2d and their backward passes), so tests can call it and the widget callback stays fast.
Shapes: a single map is (H, W); batches are NCHW like torch.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from ..conv_arithmetic import exact_output_size, pool_output_size
from ..plots import finish
from ..scratch import functional as sf

POOL_KINDS: tuple[str, ...] = ("max", "avg", "l2")
POOL_NAMES: dict[str, str] = {"max": "max pooling", "avg": "average pooling", "l2": "L2 pooling"}

# The max-pooling example of CS231n's notes, shown in Zhu [004]: 2x2 windows, stride 2 -> [[6, 8], [3, 4]].
CS231N_EXAMPLE = np.array([[1.0, 1.0, 2.0, 4.0],
                           [5.0, 6.0, 7.0, 8.0],
                           [3.0, 2.0, 1.0, 0.0],
                           [1.0, 2.0, 3.0, 4.0]])

# A 3x3 filter that answers to vertical edges (dark on the left, ink on the right): the widget's feature map.
EDGE_FILTER = np.array([[-1.0, 0.0, 1.0],
                        [-2.0, 0.0, 2.0],
                        [-1.0, 0.0, 1.0]])

_WINDOW_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")


# ---------------------------------------------------------------- numbers


def _check_kind(kind: str) -> None:
    if kind not in POOL_KINDS:
        raise ValueError(f"kind must be one of {POOL_KINDS}, got {kind!r}.")


def pool(x: np.ndarray, kind: str, kernel_size: int, stride: int | None = None) -> np.ndarray:
    """Pool a batch x (N, C, H, W) -> (N, C, H_out, W_out), H_out = floor((H - k)/s) + 1.

    kind "max": the largest value of each window; "avg": the mean; "l2": sqrt of the sum of squares
    (torch's lp_pool2d with norm_type 2).
    """
    _check_kind(kind)
    if kind == "max":
        return sf.max_pool2d(x, kernel_size, stride)
    if kind == "avg":
        return sf.avg_pool2d(x, kernel_size, stride)
    return sf.lp_pool2d(x, 2, kernel_size, stride)


def pool_backward(grad_output: np.ndarray, x: np.ndarray, kind: str, kernel_size: int,
                  stride: int | None = None) -> np.ndarray:
    """dL/dx (N, C, H, W) from dL/dy (N, C, H_out, W_out) for the pooling of ``pool``.

    max: each window's dy goes whole to its (first) maximum; avg: every member gets dy / k^2;
    l2: member x_i gets dy * x_i / y (its share of the window's norm y); a window of zeros (y = 0) gets 0,
    as in torch.
    """
    _check_kind(kind)
    if kind == "max":
        return sf.max_pool2d_backward(grad_output, x, kernel_size, stride)
    if kind == "avg":
        return sf.avg_pool2d_backward(grad_output, x, kernel_size, stride)
    return sf.lp_pool2d_backward(grad_output, x, 2, kernel_size, stride)


def window_coverage(size: int, kernel_size: int, stride: int) -> np.ndarray:
    """How many pooling windows contain each pixel of a (size, size) map: (size, size) ints.

    1 everywhere for 2x2/2 on an even size (windows tile the map); up to 4 for 3x3/2 (windows overlap
    by one row and one column); 0 for pixels that no window reaches (dropped by the floor).
    """
    n_out = pool_output_size(size, kernel_size, stride, floor=True)
    per_axis = np.zeros(size, dtype=int)
    for i in range(n_out):
        per_axis[i * stride:i * stride + kernel_size] += 1
    return np.outer(per_axis, per_axis)


def shift_images(images: np.ndarray, dy: int, dx: int, fill=0) -> np.ndarray:
    """Move every image (..., H, W) down by dy and right by dx pixels (negative: up/left), filling with ``fill``.

    Pixels pushed over the border are lost (no wrap-around), as when a digit is written off-centre.
    """
    images = np.asarray(images)
    h, w = images.shape[-2:]
    if abs(dy) >= h or abs(dx) >= w:
        raise ValueError(f"shift_images: a shift of ({dy}, {dx}) moves a {h}x{w} image out of the frame.")
    out = np.full_like(images, fill)
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def relative_change(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Per example n: ||after_n - before_n|| / ||before_n|| over all axes but the first: (N,) floats.

    0 means the representation did not change at all; 1 means it changed by as much as its own size.
    """
    a = np.asarray(before, dtype=np.float64).reshape(len(before), -1)
    b = np.asarray(after, dtype=np.float64).reshape(len(after), -1)
    if a.shape != b.shape:
        raise ValueError(f"relative_change: shapes differ, {np.shape(before)} vs {np.shape(after)}.")
    norm = np.linalg.norm(a, axis=1)
    return np.linalg.norm(b - a, axis=1) / np.where(norm > 0, norm, 1.0)


def edge_feature_map(image: np.ndarray) -> np.ndarray:
    """A digit (28, 28) uint8 -> ReLU(conv(digit / 255, EDGE_FILTER, padding 1)): (28, 28) float64.

    Pixels are scaled to 0..1 (not standardized) so that the zero padding looks like background.
    """
    x = np.asarray(image, dtype=np.float64)[None, None] / 255.0          # (1, 1, 28, 28)
    return sf.relu(sf.conv2d(x, EDGE_FILTER[None, None], padding=1))[0, 0]


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """counts[t, p] = number of examples of true class t predicted as p: (num_classes, num_classes) ints."""
    counts = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(counts, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return counts


# ---------------------------------------------------------------- drawing helpers


def _draw_grid(ax, values: np.ndarray, x0: float = 0.0, y0: float = 0.0, texts=None, colours=None,
               fontsize: int = 11, bold=None) -> None:
    """Draw a (H, W) grid of unit cells with its top-left corner at (x0, y0); y grows downwards."""
    h, w = values.shape
    for i in range(h):
        for j in range(w):
            face = "white" if colours is None else colours[i][j]
            ax.add_patch(Rectangle((x0 + j, y0 + i), 1, 1, facecolor=face, edgecolor="0.4", lw=0.8))
            text = f"{values[i, j]:g}" if texts is None else texts[i][j]
            weight = "bold" if bold is not None and bold[i, j] else "normal"
            ax.text(x0 + j + 0.5, y0 + i + 0.5, text, ha="center", va="center", fontsize=fontsize, fontweight=weight)


def _finish_grid_axes(ax, width: float, height: float, title: str) -> None:
    ax.set_xlim(-0.3, width + 0.3)
    ax.set_ylim(height + 0.3, -0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=11)


def _window_colour(i: int, j: int, n_cols: int) -> str:
    return _WINDOW_COLOURS[(i * n_cols + j) % len(_WINDOW_COLOURS)]


def _light(colour: str, amount: float = 0.25):
    """The colour mixed with white: amount 1 = the colour itself, 0 = white."""
    from matplotlib.colors import to_rgb

    return tuple(1 - amount * (1 - c) for c in to_rgb(colour))


# ---------------------------------------------------------------- figures


def plot_pooling_example(x: np.ndarray = CS231N_EXAMPLE, kernel_size: int = 2, stride: int | None = None) -> Figure:
    """The input map (H, W) with its pooling windows coloured, and the max, average and L2 outputs.

    The maximum of each window is printed in bold (max pooling keeps only it: "the winner takes it all").
    Windows must not overlap (stride >= kernel_size) so that each cell has one colour.
    """
    x = np.asarray(x, dtype=np.float64)
    stride = kernel_size if stride is None else stride
    if stride < kernel_size:
        raise ValueError("plot_pooling_example colours each window; use stride >= kernel_size (no overlap).")
    batch = x[None, None]
    outputs = {kind: pool(batch, kind, kernel_size, stride)[0, 0] for kind in POOL_KINDS}
    oh, ow = outputs["max"].shape
    colours = [["white"] * x.shape[1] for _ in range(x.shape[0])]
    bold = np.zeros(x.shape, dtype=bool)
    for i in range(oh):
        for j in range(ow):
            rows, cols = slice(i * stride, i * stride + kernel_size), slice(j * stride, j * stride + kernel_size)
            for r in range(rows.start, rows.stop):
                for c in range(cols.start, cols.stop):
                    colours[r][c] = _light(_window_colour(i, j, ow))
            window = x[rows, cols]
            u, v = np.unravel_index(np.argmax(window), window.shape)
            bold[rows.start + u, cols.start + v] = True

    fig, axes = plt.subplots(1, 4, figsize=(12, 3.4), gridspec_kw={"width_ratios": [x.shape[1], ow, ow, ow]})
    _draw_grid(axes[0], x, colours=colours, bold=bold)
    _finish_grid_axes(axes[0], x.shape[1], x.shape[0], f"input {x.shape[0]}x{x.shape[1]}, "
                                                       f"{kernel_size}x{kernel_size} windows, stride {stride}")
    out_colours = [[_light(_window_colour(i, j, ow)) for j in range(ow)] for i in range(oh)]
    for ax, kind in zip(axes[1:], POOL_KINDS):
        texts = [[f"{v:.3g}" for v in row] for row in outputs[kind]]
        _draw_grid(ax, outputs[kind], texts=texts, colours=out_colours)
        _finish_grid_axes(ax, ow, oh, POOL_NAMES[kind])
    return finish(fig)


def plot_pool_gradients(x: np.ndarray = CS231N_EXAMPLE, grad_output: np.ndarray | None = None,
                        kernel_size: int = 2, stride: int | None = None) -> Figure:
    """Where the gradient goes: for max, average and L2 pooling of one map x (H, W) with upstream dy.

    Each panel shows the input cells with x and dL/dx (left; the darker, the larger its share of dy)
    and the output cells with dy (right). Max: an arrow from each output cell to its window's maximum,
    which receives the whole dy; the other cells get 0. Average and L2: an arrow to the middle of the
    window, whose k^2 cells share dy: equally (dy/k^2), or in proportion to x_i (dy * x_i / y).
    Windows must not overlap (stride >= kernel_size).
    """
    x = np.asarray(x, dtype=np.float64)
    stride = kernel_size if stride is None else stride
    if stride < kernel_size:
        raise ValueError("plot_pool_gradients colours each window; use stride >= kernel_size (no overlap).")
    oh = pool_output_size(x.shape[0], kernel_size, stride, floor=True)
    ow = pool_output_size(x.shape[1], kernel_size, stride, floor=True)
    dy = np.ones((oh, ow)) if grad_output is None else np.asarray(grad_output, dtype=np.float64)
    if dy.shape != (oh, ow):
        raise ValueError(f"plot_pool_gradients: grad_output must have the output's shape {(oh, ow)}, got {dy.shape}.")
    right = x.shape[1] + 1.5
    top = (x.shape[0] - oh) / 2
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
    for ax, kind in zip(axes, POOL_KINDS):
        dx = pool_backward(dy[None, None], x[None, None], kind, kernel_size, stride)[0, 0]
        _, where = sf.max_pool2d(x[None, None], kernel_size, stride, return_indices=True)
        texts = [[f"x={x[r, c]:g}\ndx={dx[r, c]:.3g}" for c in range(x.shape[1])] for r in range(x.shape[0])]
        colours = [["white"] * x.shape[1] for _ in range(x.shape[0])]
        for i in range(oh):
            for j in range(ow):
                colour = _window_colour(i, j, ow)
                for u in range(kernel_size):
                    for v in range(kernel_size):
                        r, c = i * stride + u, j * stride + v
                        share = abs(dx[r, c]) / (abs(dy[i, j]) + 1e-12)
                        colours[r][c] = _light(colour, 0.12 + 0.8 * min(1.0, share))
                if kind == "max":
                    u, v = divmod(int(where[0, 0, i, j]), kernel_size)
                    target = (j * stride + v + 0.5, i * stride + u + 0.5)
                else:
                    target = (j * stride + kernel_size / 2, i * stride + kernel_size / 2)
                rad = 0.45 if i < oh / 2 else -0.45
                ax.add_patch(FancyArrowPatch((right + j + 0.5, top + i + 0.5), target, arrowstyle="-|>",
                                             mutation_scale=14, color=colour, lw=2.2, alpha=0.9, zorder=3,
                                             connectionstyle=f"arc3,rad={rad}", shrinkA=4, shrinkB=4))
        _draw_grid(ax, x, texts=texts, colours=colours, fontsize=8)
        _draw_grid(ax, dy, x0=right, y0=top, texts=[[f"dy={v:g}" for v in row] for row in dy],
                   colours=[[_light(_window_colour(i, j, ow), 0.6) for j in range(ow)] for i in range(oh)],
                   fontsize=9)
        _finish_grid_axes(ax, right + ow, x.shape[0], f"{POOL_NAMES[kind]}: dL/dx (left) from dy (right)")
        ax.set_ylim(x.shape[0] + 1.2, -1.4)
    return finish(fig)


def plot_window_overlap(size: int = 9, settings: Sequence[tuple[int, int]] = ((2, 2), (3, 2))) -> Figure:
    """For each (kernel_size, stride): the count of windows covering each pixel of a size x size map,
    with the first two windows of the top row outlined. Overlapping pooling (3x3/2) counts some pixels twice."""
    fig, axes = plt.subplots(1, len(settings), figsize=(4.2 * len(settings), 4.4))
    axes = np.atleast_1d(axes)
    for ax, (k, s) in zip(axes, settings):
        cover = window_coverage(size, k, s)
        ax.imshow(cover, cmap="Blues", vmin=0, vmax=4)
        for r in range(size):
            for c in range(size):
                ax.text(c, r, str(cover[r, c]), ha="center", va="center", fontsize=9,
                        color="white" if cover[r, c] >= 3 else "black")
        for j, colour in zip(range(2), ("#dd8452", "#c44e52")):
            ax.add_patch(Rectangle((j * s - 0.5 + 0.06 * j, -0.5 + 0.06 * j), k - 0.12 * j, k - 0.12 * j,
                                   fill=False, edgecolor=colour, lw=3))
        n_out = pool_output_size(size, k, s, floor=True)
        ax.set_title(f"{k}x{k} windows, stride {s}: {size} -> {n_out}\n"
                     f"pixels in 2+ windows: {(cover >= 2).mean():.0%}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("How many pooling windows contain each pixel", fontsize=11)
    return finish(fig)


def plot_shift_sensitivity(table: Mapping[str, Mapping[str, float]], title: str | None = None) -> Figure:
    """Grouped bars: table[shift label][representation] = mean relative change (lower = more shift-invariant)."""
    shifts = list(table)
    reps = list(next(iter(table.values())))
    width = 0.8 / len(reps)
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for k, rep in enumerate(reps):
        values = [table[s][rep] for s in shifts]
        bars = ax.bar(np.arange(len(shifts)) + (k - (len(reps) - 1) / 2) * width, values, width, label=rep)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(np.arange(len(shifts)), shifts)
    ax.set_ylabel("relative change of the features")
    ax.legend(fontsize=8)
    ax.set_title(title or "How much a small shift of the digit changes the representation", fontsize=11)
    return finish(fig)


def plot_confusion_matrix(counts: np.ndarray,
                          title: str = "confusion matrix (rows: true digit, columns: predicted)") -> Figure:
    """Draw a (C, C) confusion matrix with its counts; the diagonal holds the correct answers."""
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    off = counts.copy()
    np.fill_diagonal(off, 0)
    ax.imshow(off, cmap="Reds")
    for t in range(counts.shape[0]):
        for p in range(counts.shape[1]):
            if counts[t, p]:
                dark = t != p and off.max() > 0 and counts[t, p] > 0.6 * off.max()
                ax.text(p, t, str(counts[t, p]), ha="center", va="center", fontsize=8,
                        color="0.5" if t == p else "white" if dark else "black")
    ax.set(xlabel="predicted", ylabel="true", xticks=range(counts.shape[1]), yticks=range(counts.shape[0]))
    ax.set_title(title, fontsize=10)
    return finish(fig)


# ---------------------------------------------------------------- the widget


def explore_pooling(images: np.ndarray, index: int = 0, kind: str = "max", kernel_size: int = 2,
                    stride: int = 2) -> Figure:
    """The widget's figure: a digit, its edge feature map (28x28) and that map after pooling.

    images: (N, 28, 28) uint8 digits; index picks one. The pooled map has size
    floor((28 - kernel_size)/stride) + 1, shown with its arithmetic in the title.
    """
    _check_kind(kind)
    image = np.asarray(images)[index]
    fmap = edge_feature_map(image)
    pooled = pool(fmap[None, None], kind, kernel_size, stride)[0, 0]
    size = fmap.shape[0]
    exact = exact_output_size(size, kernel_size, stride)
    n_out = pool_output_size(size, kernel_size, stride, floor=True)
    arithmetic = f"({size} - {kernel_size})/{stride} + 1 = {exact:g}"
    if exact != n_out:
        arithmetic += f", floored to {n_out}"
    fig, axes = plt.subplots(1, 3, figsize=(11, 4.3))
    axes[0].imshow(image, cmap="gray_r")
    axes[0].set_title(f"digit #{index}", fontsize=10)
    axes[1].imshow(fmap, cmap="magma")
    axes[1].set_title(f"vertical-edge feature map {size}x{size}", fontsize=10)
    axes[2].imshow(pooled, cmap="magma")
    axes[2].set_title(f"{POOL_NAMES[kind]} {kernel_size}x{kernel_size}, stride {stride}: "
                      f"{n_out}x{n_out}\n{arithmetic}", fontsize=10)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    return finish(fig)


__all__ = [
    "POOL_KINDS", "POOL_NAMES", "CS231N_EXAMPLE", "EDGE_FILTER", "pool", "pool_backward", "window_coverage",
    "shift_images", "relative_change", "edge_feature_map", "confusion_matrix", "plot_pooling_example",
    "plot_pool_gradients", "plot_window_overlap", "plot_shift_sensitivity", "plot_confusion_matrix",
    "explore_pooling",
]
